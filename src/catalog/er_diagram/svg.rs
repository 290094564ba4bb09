//! The ER diagram as inline SVG: tables as boxes on a grid (key columns
//! first, at most a dozen lines each), foreign keys as arrows from the
//! referencing table to the referenced one, labelled with `ON DELETE`.

use super::{markup as html, Entity, ErDiagram, Relation};
use std::fmt::Write;

const BOX_WIDTH: f64 = 300.0;
const HEADER: f64 = 24.0;
const LINE: f64 = 16.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 60.0;
/// Columns shown per table before "… N more".
const MAX_LINES: usize = 12;

/// One placed box.
struct Placed {
    x: f64,
    y: f64,
    height: f64,
}

impl ErDiagram {
    /// The diagram as an inline `<svg>` element (what `report` puts on its
    /// page): names are escaped, so the element is safe in any HTML.
    pub fn to_svg(&self) -> String {
        draw(self)
    }
}

/// The `<svg>` element.
fn draw(diagram: &ErDiagram) -> String {
    let per_row = (diagram.entities.len() as f64).sqrt().ceil().max(1.0) as usize;
    let mut placed = Vec::with_capacity(diagram.entities.len());
    let mut y = 10.0;
    for row in diagram.entities.chunks(per_row) {
        let height = row.iter().map(box_height).fold(0.0, f64::max);
        for (column, entity) in row.iter().enumerate() {
            let x = 10.0 + column as f64 * (BOX_WIDTH + GAP_X);
            placed.push(Placed {
                x,
                y,
                height: box_height(entity),
            });
        }
        y += height + GAP_Y;
    }
    let width = 20.0 + per_row as f64 * (BOX_WIDTH + GAP_X);
    let mut out = format!(
        r##"<svg id="er-diagram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}" role="img" aria-label="entity-relationship diagram">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
"##
    );
    let index = |name: &str| diagram.entities.iter().position(|e| e.name == name);
    for relation in &diagram.relations {
        let (Some(from), Some(to)) = (index(&relation.from), index(&relation.to)) else {
            continue;
        };
        write_relation(&mut out, &placed[from], &placed[to], relation);
    }
    for (entity, place) in diagram.entities.iter().zip(&placed) {
        write_entity(&mut out, entity, place);
    }
    out.push_str("</svg>");
    out
}

/// A type short enough for its box (`timestamp with time zone` → `timestamptz`).
fn short_type(sql_type: &str) -> String {
    let short = sql_type
        .replace("timestamp with time zone", "timestamptz")
        .replace("timestamp without time zone", "timestamp")
        .replace("character varying", "varchar");
    match short.char_indices().nth(22) {
        Some((cut, _)) => format!("{}…", &short[..cut]),
        None => short,
    }
}

fn box_height(entity: &Entity) -> f64 {
    let lines = entity.columns.len().min(MAX_LINES + 1);
    HEADER + lines as f64 * LINE + 6.0
}

fn write_entity(out: &mut String, entity: &Entity, place: &Placed) {
    let (x, y) = (place.x, place.y);
    let _ = write!(
        out,
        r##"<g class="er-table" data-table="{name}"><rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{h}" rx="4" fill="#fff" stroke="#345"/><rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{HEADER}" rx="4" fill="#345"/><text x="{tx}" y="{ty}" fill="#fff" font-weight="bold">{name}</text>"##,
        name = html(&entity.name),
        h = place.height,
        tx = x + 8.0,
        ty = y + 16.0,
    );
    let mut columns: Vec<_> = entity.columns.iter().collect();
    columns.sort_by_key(|c| (!c.primary_key, !c.foreign_key));
    let hidden = columns.len().saturating_sub(MAX_LINES);
    for (line, column) in columns.iter().take(MAX_LINES).enumerate() {
        let key = match (column.primary_key, column.foreign_key) {
            (true, _) => "PK ",
            (false, true) => "FK ",
            _ => "",
        };
        let _ = write!(
            out,
            r##"<text x="{}" y="{}"><tspan font-weight="{}">{key}{}</tspan> <tspan fill="#667">{}{}</tspan></text>"##,
            x + 8.0,
            y + HEADER + 13.0 + line as f64 * LINE,
            if key.is_empty() { "normal" } else { "bold" },
            html(&column.name),
            html(&short_type(&column.sql_type)),
            if column.not_null { "" } else { "?" },
        );
    }
    if hidden > 0 {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" fill="#667">… {hidden} more</text>"##,
            x + 8.0,
            y + HEADER + 13.0 + MAX_LINES as f64 * LINE,
        );
    }
    out.push_str("</g>\n");
}

/// The arrow between two boxes, from border to border.
fn write_relation(out: &mut String, from: &Placed, to: &Placed, relation: &Relation) {
    let centre = |p: &Placed| (p.x + BOX_WIDTH / 2.0, p.y + p.height / 2.0);
    let (a, b) = (centre(from), centre(to));
    let border = |c: (f64, f64), p: &Placed, toward: (f64, f64)| {
        let (dx, dy) = (toward.0 - c.0, toward.1 - c.1);
        let t = [(BOX_WIDTH / 2.0, dx), (p.height / 2.0, dy)]
            .iter()
            .filter(|(_, d)| d.abs() > f64::EPSILON)
            .map(|(half, d)| half / d.abs())
            .fold(1.0, f64::min);
        (c.0 + dx * t, c.1 + dy * t)
    };
    let (start, end) = if std::ptr::eq(from, to) {
        (
            (a.0 + BOX_WIDTH / 2.0, a.1 - 6.0),
            (a.0 + BOX_WIDTH / 2.0, a.1 + 6.0),
        )
    } else {
        (border(a, from, b), border(b, to, a))
    };
    let _ = writeln!(
        out,
        r##"<g class="er-relation" data-from="{}" data-to="{}"><title>{} ({}) → {} ({}), ON DELETE {}</title><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#555" stroke-dasharray="{}" marker-end="url(#arrow)"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#933">{}</text></g>"##,
        html(&relation.from),
        html(&relation.to),
        html(&relation.from),
        html(&relation.from_columns.join(", ")),
        html(&relation.to),
        html(&relation.to_columns.join(", ")),
        html(&relation.on_delete),
        start.0,
        start.1,
        end.0,
        end.1,
        if relation.required { "none" } else { "4 3" },
        (start.0 + end.0) / 2.0,
        (start.1 + end.1) / 2.0 - 3.0,
        html(&relation.on_delete),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_box_per_table_an_arrow_per_foreign_key_and_names_stay_text() {
        let mut diagram = super::super::sample();
        diagram.entities[1].name = "<script>'x'</script>".into();
        diagram.relations[0].to = diagram.entities[1].name.clone();
        let svg = diagram.to_svg();
        assert!(svg.starts_with("<svg id=\"er-diagram\"") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<g class=\"er-table\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("<g class=\"er-relation\"").count(), 1, "{svg}");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;&apos;x&apos;&lt;/script&gt;"),
            "{svg}"
        );
        assert!(svg.contains("ON DELETE CASCADE"), "{svg}");
    }
}
