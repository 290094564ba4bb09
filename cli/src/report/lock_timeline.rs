//! One migration's locks as a timeline: a row per table, a column per
//! statement of its up script, each cell the strongest lock held on the
//! table once that statement has run (a transaction keeps its locks until
//! `COMMIT`), red where writes are blocked; `R`/`S` where the statement
//! rewrote or scanned the table.

use super::escape::html;
use schemactl::verify::{MigrationLocks, TableLock};
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

/// The `<svg>`, or `None` when the up script locked no table.
pub fn render(label: &str, locks: &MigrationLocks) -> Option<String> {
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
