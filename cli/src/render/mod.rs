//! What the commands print for people (JSON is the report types' own
//! `Serialize`): one file per report, the shared helpers here.

mod backup;
mod diff;
mod fleet;
mod mongo;
mod run;
mod status;
mod validate;
mod verify;

pub use backup::{backup_created, backup_list, backup_restored, prune};
pub use diff::diff;
pub use fleet::fleet;
pub use mongo::{mongo_changes, mongo_status, mongo_verify};
pub use run::run_report;
pub use status::status;
pub use validate::validate;
pub use verify::verify;

/// A duration in milliseconds as shown to people.
pub fn duration(ms: i64) -> String {
    match ms {
        0 => "<1 ms".to_string(),
        ms if ms < 10_000 => format!("{ms} ms"),
        ms => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

/// `line` cut at blanks into pieces of at most `width` characters (a
/// word longer than that stays whole); continuation pieces keep the line's
/// indentation plus two.
pub(super) fn wrap(line: &str, width: usize) -> Vec<String> {
    if line.chars().count() <= width || line.contains(" | ") {
        return vec![line.to_string()];
    }
    let indent = line.len() - line.trim_start().len();
    let continuation = " ".repeat(indent + 2);
    let mut pieces = Vec::new();
    let mut current = line[..indent].to_string();
    for word in line.split_whitespace() {
        let start = current.trim().is_empty();
        if !start && current.chars().count() + 1 + word.chars().count() > width {
            pieces.push(std::mem::replace(&mut current, continuation.clone()));
        }
        if !current.trim().is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    pieces.push(current);
    pieces
}
