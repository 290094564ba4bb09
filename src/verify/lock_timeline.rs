//! One migration's locks as a timeline: a row per table, a column per
//! statement of its up script, each cell the strongest lock held on the
//! table once that statement has run (a transaction keeps its locks until
//! `COMMIT`), red where writes are blocked; `R`/`S` where the statement
//! rewrote or scanned the table. `report --verify` puts it on its page.

use super::report::MigrationLocks;
use crate::postgres::lock_trace::TableLock;
use quick_xml::escape::escape as html;
use std::collections::BTreeMap;
use std::fmt::Write;

const CELL: f64 = 26.0;
const LABEL: f64 = 190.0;
const ROW: f64 = 20.0;

/// Red when the mode blocks writes (`ShareLock` and above), amber for
/// `ShareUpdateExclusiveLock`, green below.
fn colour(lock: &TableLock) -> &'static str {
    if lock.blocks_writes() {
        "#d9534f"
    } else if lock.mode == "ShareUpdateExclusiveLock" {
        "#f0ad4e"
    } else {
        "#5cb85c"
    }
}

impl MigrationLocks {
    /// The up script's locks as an `<svg>` timeline (for migration `label`),
    /// or `None` when it locked no table. Names and statements are escaped,
    /// so the element is safe in any HTML.
    pub fn timeline_svg(&self, label: &str) -> Option<String> {
        let locks = self;
        let mut tables: Vec<(String, bool)> = Vec::new();
        for lock in locks.up.iter().flat_map(|s| &s.locks) {
            if !tables.iter().any(|(t, _)| *t == lock.table) {
                tables.push((lock.table.clone(), lock.pre_existing));
            }
        }
        if tables.is_empty() {
            return None;
        }
        tables.sort_by_key(|(_, pre_existing)| !pre_existing);
        let width = LABEL + locks.up.len() as f64 * CELL + 10.0;
        let height = 22.0 + tables.len() as f64 * ROW;
        let mut out = format!(
            r##"<svg class="lock-timeline" data-migration="{}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">"##,
            html(label)
        );
        for (index, statement) in locks.up.iter().enumerate() {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="14" font-size="10" text-anchor="middle">{}<title>line {}: {}</title></text>"##,
                LABEL + index as f64 * CELL + CELL / 2.0,
                index + 1,
                statement.line,
                html(&statement.statement),
            );
        }
        let mut held: BTreeMap<&str, &TableLock> = BTreeMap::new();
        let mut cells = String::new();
        for (index, statement) in locks.up.iter().enumerate() {
            for lock in &statement.locks {
                let stronger = held
                    .get(lock.table.as_str())
                    .is_none_or(|strongest| lock.is_stronger_than(strongest));
                if stronger {
                    held.insert(&lock.table, lock);
                }
            }
            for (row, (table, _)) in tables.iter().enumerate() {
                let Some(&strongest) = held.get(table.as_str()) else {
                    continue;
                };
                let mark = if statement.rewritten.contains(table) {
                    "R"
                } else if statement.scanned.contains(table) {
                    "S"
                } else {
                    ""
                };
                let (x, y) = (LABEL + index as f64 * CELL, 20.0 + row as f64 * ROW);
                let _ = write!(
                    cells,
                    r##"<g class="lock"><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#fff">{mark}</text><title>{}: {} after statement {}</title></g>"##,
                    colour(strongest),
                    x + CELL / 2.0,
                    y + 13.0,
                    html(table),
                    html(&strongest.mode),
                    index + 1,
                    w = CELL - 2.0,
                    h = ROW - 3.0,
                );
            }
        }
        for (row, (table, pre_existing)) in tables.iter().enumerate() {
            let _ = write!(
                out,
                r##"<text x="4" y="{:.1}" font-size="12">{}{}</text>"##,
                33.0 + row as f64 * ROW,
                html(table),
                if *pre_existing { "" } else { " (new)" },
            );
        }
        out.push_str(&cells);
        out.push_str("</svg>");
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::lock_trace::StatementTrace;

    fn statement(line: usize, text: &str, locks: &[(&str, &str, bool)]) -> StatementTrace {
        StatementTrace {
            line,
            statement: text.to_string(),
            locks: locks
                .iter()
                .map(|(table, mode, pre_existing)| TableLock {
                    table: table.to_string(),
                    mode: mode.to_string(),
                    pre_existing: *pre_existing,
                })
                .collect(),
            rewritten: Vec::new(),
            scanned: Vec::new(),
            observed: false,
        }
    }

    #[test]
    fn a_row_per_table_the_strongest_lock_kept_and_names_escaped() {
        let mut rewrite = statement(
            2,
            "ALTER TABLE \"<orders>\" ALTER COLUMN id TYPE bigint",
            &[("public.<orders>", "AccessExclusiveLock", true)],
        );
        rewrite.rewritten.push("public.<orders>".to_string());
        let locks = MigrationLocks {
            up: vec![
                statement(
                    1,
                    "CREATE TABLE t (id int)",
                    &[("public.t", "ShareUpdateExclusiveLock", false)],
                ),
                rewrite,
                statement(3, "SELECT 1", &[("public.<orders>", "RowShareLock", true)]),
            ],
            ..MigrationLocks::default()
        };
        let svg = locks.timeline_svg("0002_<x>").unwrap();
        assert!(
            svg.starts_with("<svg class=\"lock-timeline\" data-migration=\"0002_&lt;x&gt;\""),
            "{svg}"
        );
        assert!(!svg.contains("<orders>"), "names are escaped: {svg}");
        // The table that existed before comes first; the new one is marked.
        let orders = svg.find(">public.&lt;orders&gt;</text>").unwrap();
        let new = svg.find(">public.t (new)</text>").unwrap();
        assert!(orders < new, "{svg}");
        // Statement 3 takes a weaker lock: the cell keeps the exclusive one.
        assert!(
            svg.contains("public.&lt;orders&gt;: AccessExclusiveLock after statement 3"),
            "{svg}"
        );
        assert!(svg.contains(">R</text>"), "the rewrite is marked: {svg}");
        assert!(svg.contains("#d9534f") && svg.contains("#f0ad4e"), "{svg}");
    }

    #[test]
    fn no_table_locked_no_timeline() {
        let locks = MigrationLocks {
            up: vec![statement(1, "SELECT 1", &[])],
            ..MigrationLocks::default()
        };
        assert_eq!(locks.timeline_svg("0001_a"), None);
    }
}
