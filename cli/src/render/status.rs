//! The `status` table, and the INVALID indexes `status` and `validate` name.

use schemactl::postgres::InvalidIndex;
use schemactl::runner::State;
use schemactl::runner::StatusReport;
use std::fmt::Write;

/// The `status` table.
pub fn status(report: &StatusReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Database  {}\nHistory   {}\nLayout    {}\n",
        report.database, report.history, report.layout
    );
    if report.migrations.is_empty() {
        let _ = writeln!(out, "No migrations.");
        out.push_str(&invalid_indexes(&report.invalid_indexes, "  - "));
        return out;
    }
    let header = [
        "VERSION",
        "NAME",
        "STATE",
        "APPLIED AT (UTC)",
        "DURATION",
        "APPLIED BY",
    ];
    let rows: Vec<[String; 6]> = report
        .migrations
        .iter()
        .map(|row| {
            [
                row.version_text.clone(),
                match &row.recorded_name {
                    Some(recorded) => format!("{} (recorded as {recorded})", row.name),
                    None => row.name.clone(),
                },
                row.state.as_str().to_string(),
                row.applied_at
                    .map(|t| {
                        let t = t.to_offset(time::UtcOffset::UTC);
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                            t.year(),
                            u8::from(t.month()),
                            t.day(),
                            t.hour(),
                            t.minute(),
                            t.second()
                        )
                    })
                    .unwrap_or_default(),
                row.execution_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
                row.applied_by.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
        }
        text.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    let counts: Vec<String> = [
        State::Applied,
        State::Baselined,
        State::Pending,
        State::Modified,
        State::Missing,
        State::Failed,
        State::Running,
    ]
    .into_iter()
    .filter_map(|state| {
        let n = report.count(state);
        (n > 0).then(|| format!("{n} {}", state.as_str()))
    })
    .collect();
    let _ = writeln!(out, "\n{}.", counts.join(", "));
    out.push_str(&recovery_points(report));
    out.push_str(&backfills_part_way(report));
    if !report.problems.is_empty() {
        let _ = writeln!(out, "\n`schemactl migrate` would refuse to run:");
        for problem in &report.problems {
            let _ = writeln!(out, "  - {}", problem.to_string().replace('\n', "\n    "));
        }
    }
    if let Some(unadopted) = &report.unadopted {
        let _ = writeln!(
            out,
            "\n`schemactl migrate` would refuse to start: {}.",
            unadopted.advice()
        );
    }
    if !report.invalid_indexes.is_empty() {
        let _ = writeln!(out, "\nInvalid indexes:");
        out.push_str(&invalid_indexes(&report.invalid_indexes, "  - "));
    }
    out
}

/// The indexes left INVALID, each with the statement that drops it.
pub(super) fn invalid_indexes(indexes: &[InvalidIndex], bullet: &str) -> String {
    let mut out = String::new();
    for index in indexes {
        let _ = writeln!(
            out,
            "{bullet}index {} on {} is INVALID (a CREATE INDEX CONCURRENTLY failed or was interrupted): queries do not use it, \
             writes still pay for it, and CREATE INDEX IF NOT EXISTS skips it; drop it with `{}` and build it again",
            index.index,
            index.table,
            index.drop_statement()
        );
    }
    out
}

/// Pending backfills an earlier run left part-way, and where the next
/// `migrate` resumes.
fn backfills_part_way(report: &StatusReport) -> String {
    let mut out = String::new();
    for row in &report.migrations {
        let Some(mark) = &row.backfill_progress else {
            continue;
        };
        if out.is_empty() {
            out.push_str("\nBackfills part-way (`schemactl migrate` resumes them):\n");
        }
        let _ = writeln!(
            out,
            "  {}_{}  {} batches committed, {} rows changed; resumes after key {}",
            row.version_text, row.name, mark.batch, mark.rows, mark.after
        );
    }
    out
}

/// The migrations a point-in-time recovery can stop before (their restore
/// points) and whose destroyed data `rollback --restore-data` puts back.
fn recovery_points(report: &StatusReport) -> String {
    let mut out = String::new();
    for row in &report.migrations {
        let mut points = Vec::new();
        if let Some(name) = &row.restore_point {
            points.push(format!("restore point {name}"));
        }
        if let Some(id) = &row.data_backup {
            points.push(format!("data backup {id}"));
        }
        if !points.is_empty() {
            if out.is_empty() {
                out.push_str("\nRecovery points:\n");
            }
            let _ = writeln!(
                out,
                "  {}_{}  {}",
                row.version_text,
                row.name,
                points.join(", ")
            );
        }
    }
    out
}
