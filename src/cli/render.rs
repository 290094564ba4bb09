//! What the commands print: short text for people, JSON for programs.

use schemactl::catalog::{DataClass, DifferenceKind};
use schemactl::mongo::report::{
    CollectionState, CollectionStatus, CollectionVerification, MongoReport,
};
use schemactl::postgres::InvalidIndex;
use schemactl::runner::verbs::status::{StatusReport, Validation};
use schemactl::runner::RunReport;
use schemactl::runner::State;
use schemactl::verify::diff::DiffReport;
use schemactl::verify::round_trips::{Outcome, VerifyReport};
use std::fmt::Write;

/// The text of a `migrate` or `rollback` report.
pub fn run_report(report: &RunReport, verb_done: &str, nothing: &str) -> String {
    let mut out = String::new();
    let at = report.current_version.as_ref().map_or_else(
        || "no migration applied".to_string(),
        |v| format!("at version {v}"),
    );
    if report.dry_run {
        let _ = writeln!(
            out,
            "Dry run on {} ({}): {} script(s) would run; nothing was changed.",
            report.database,
            report.history,
            report.planned.len()
        );
        for script in &report.planned {
            let mode = script.execution.describe();
            let _ = writeln!(
                out,
                "\n-- {} ({}, {mode}, lock_timeout {}, statement_timeout {})\n{}",
                script.label,
                script.path,
                script.lock_timeout,
                script.statement_timeout,
                script.sql.trim_end()
            );
        }
        return out;
    }
    if report.executed.is_empty() {
        let _ = writeln!(
            out,
            "{nothing}: {} is {at} ({}).",
            report.database, report.history
        );
    } else {
        let _ = writeln!(
            out,
            "{verb_done} {} migration(s) on {} in {} ms; now {at}.",
            report.executed.len(),
            report.database,
            report.total_ms
        );
    }
    out
}

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
                row.name.clone(),
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
    ]
    .into_iter()
    .filter_map(|state| {
        let n = report.count(state);
        (n > 0).then(|| format!("{n} {}", state.as_str()))
    })
    .collect();
    let _ = writeln!(out, "\n{}.", counts.join(", "));
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
fn invalid_indexes(indexes: &[InvalidIndex], bullet: &str) -> String {
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

/// The verdict of `validate`.
pub fn validate(validation: &Validation, fail_on_pending: bool) -> String {
    let (report, ok) = (&validation.report, validation.ok);
    let mut out = String::new();
    let pending = report.pending();
    for problem in &report.problems {
        let _ = writeln!(out, "- {}", problem.to_string().replace('\n', "\n  "));
    }
    out.push_str(&invalid_indexes(&report.invalid_indexes, "- "));
    if fail_on_pending && !pending.is_empty() {
        let _ = writeln!(
            out,
            "- pending migrations (run `schemactl migrate`): {}",
            pending.join(", ")
        );
    }
    let applied = report.count(State::Applied) + report.count(State::Baselined);
    if ok {
        let _ = writeln!(
            out,
            "OK: files and history agree on {} ({applied} applied, {} pending).",
            report.database,
            pending.len()
        );
    } else {
        let _ = writeln!(
            out,
            "validate failed on {} ({}).",
            report.database, report.history
        );
    }
    out
}

/// A duration in milliseconds as shown to people.
pub fn duration(ms: i64) -> String {
    match ms {
        0 => "<1 ms".to_string(),
        ms if ms < 10_000 => format!("{ms} ms"),
        ms => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

/// The `verify` report.
pub fn verify(report: &VerifyReport, verbose: bool, colour: bool) -> String {
    let mut out = String::new();
    let paint = |code: &'static str| if colour { code } else { "" };
    let _ = writeln!(
        out,
        "Verified on a scratch database ({}, dropped afterwards){}:",
        report.scratch,
        if report.applied_plainly > 0 {
            format!(
                "; {} older migration(s) applied without checks",
                report.applied_plainly
            )
        } else {
            String::new()
        }
    );
    for result in &report.results {
        verify_result(&mut out, result, verbose, colour);
    }
    for table in &report.unfillable {
        let _ = writeln!(
            out,
            "note: no rows could be generated for {}: {} (its rows are not checked)",
            table.table, table.reason
        );
    }
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(
            out,
            "{}STOPPED{} at {} ({}): {}",
            paint("\x1b[1;31m"),
            paint("\x1b[0m"),
            stopped.migration,
            stopped.step,
            stopped.error
        );
        if !stopped.not_verified.is_empty() {
            let _ = writeln!(
                out,
                "     not verified: {}. Fix {} and run verify again.",
                stopped.not_verified.join(", "),
                stopped.migration
            );
        }
    }
    let failed = report.results.iter().filter(|r| r.failed()).count();
    let not_verified = report.stopped.as_ref().map_or(0, |s| s.not_verified.len());
    let _ = writeln!(
        out,
        "{} migration(s) verified in {}: {} ok, {} failed{}.",
        report.results.len(),
        duration(report.total_ms),
        report.results.len() - failed,
        failed,
        if not_verified > 0 {
            format!(", {not_verified} not verified")
        } else {
            String::new()
        }
    );
    if report.data {
        let count = |class| {
            report
                .results
                .iter()
                .filter(|r| r.data.as_ref().is_some_and(|d| d.class == class))
                .count()
        };
        let _ = writeln!(
            out,
            "Data: {} reversible, {} lossy, {} irreversible.",
            count(DataClass::Reversible),
            count(DataClass::Lossy),
            count(DataClass::Irreversible)
        );
    }
    out
}

/// How one migration's verdict is tagged, and what follows its label.
fn verify_outcome(outcome: &Outcome, colour: bool) -> (&'static str, String) {
    match outcome {
        Outcome::Ok => ("ok  ", String::new()),
        Outcome::NoDown => (
            "skip",
            ": no down script; applied its up and went on".to_string(),
        ),
        // On the scratch database: where and why, no advice about a
        // live history.
        Outcome::UpFailed { failure } => (
            "FAIL",
            format!(": the up script failed\n{}", failure.on_scratch()),
        ),
        Outcome::DownFailed { failure } => (
            "FAIL",
            format!(": the down script failed\n{}", failure.on_scratch()),
        ),
        Outcome::DownDoesNotRestore { differences, diff } => (
            "FAIL",
            format!(
                ": the down script does not restore the schema\n{}\n{}",
                list(differences),
                diff_text(diff, colour)
            ),
        ),
        Outcome::ReapplyFailed { failure } => (
            "FAIL",
            format!(
                ": the up script cannot be applied again after its down\n{}",
                failure.on_scratch()
            ),
        ),
        Outcome::ReapplyDiffers { differences, diff } => (
            "FAIL",
            format!(
                ": applied again after its down, the up script gives another schema\n{}\n{}",
                list(differences),
                diff_text(diff, colour)
            ),
        ),
    }
}

/// One migration's lines of the `verify` report.
fn verify_result(
    out: &mut String,
    result: &schemactl::verify::round_trips::MigrationResult,
    verbose: bool,
    colour: bool,
) {
    let paint = |code: &'static str| if colour { code } else { "" };
    let (tag, what) = verify_outcome(&result.outcome, colour);
    let code = if tag == "FAIL" {
        "\x1b[1;31m"
    } else if tag == "skip" {
        "\x1b[33m"
    } else {
        "\x1b[32m"
    };
    let data = match &result.data {
        Some(verdict) => format!(" [data: {}]", data_class(verdict.class)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{tag}{} {}{data}{}",
        paint(code),
        paint("\x1b[0m"),
        result.label,
        what.replace('\n', "\n     ")
    );
    for warning in &result.warnings {
        let why = match warning.kind {
            DifferenceKind::VolatileLiteral => "a timestamp such as 'now' is frozen when the object is created; set --volatile-literal error to fail on it",
            _ => "a dropped column re-added at the end; set --column-order error to fail on it",
        };
        let _ = writeln!(out, "     warning: {warning} ({why})");
    }
    if verbose {
        for note in &result.formatting {
            let _ = writeln!(out, "     ok: {note} (token by token)");
        }
    }
    if let Some(verdict) = result.data.as_ref().filter(|v| v.class == DataClass::Lossy) {
        for table in &verdict.tables {
            let _ = writeln!(
                out,
                "     rows of {} not restored: {} before the up, {} after the down{}",
                table.table,
                table.rows_before,
                table.rows_after,
                if table.columns.is_empty() {
                    String::new()
                } else {
                    format!("; values differ in {}", table.columns.join(", "))
                }
            );
        }
    }
    for table in result.locks.iter().flat_map(|l| &l.tables) {
        let what = match (table.rewritten, table.scanned) {
            (true, _) => " (rewrote the table)",
            (false, true) => " (scanned the whole table under it)",
            (false, false) => "",
        };
        let (tag, code) = if table.blocks_writes() {
            ("warning: lock", "\x1b[33m")
        } else {
            ("lock", "")
        };
        let _ = writeln!(
            out,
            "     {}{tag}{}: {} on {} at {}{what}",
            paint(code),
            paint(if code.is_empty() { "" } else { "\x1b[0m" }),
            table.mode,
            table.table,
            table.statement
        );
    }
    if result.rebuilt {
        let _ = writeln!(
            out,
            "     the scratch database was rebuilt from the up scripts so that the next migration starts clean"
        );
    }
}

/// The `diff` report.
pub fn diff(report: &DiffReport, colour: bool) -> String {
    let mut out = String::new();
    if report.differences.is_empty() && report.warnings.is_empty() {
        let _ = writeln!(
            out,
            "No drift: {} matches {}.",
            report.actual, report.expected
        );
        return out;
    }
    if report.differences.is_empty() {
        let _ = writeln!(
            out,
            "No drift besides the warnings below: {} matches {}.",
            report.actual, report.expected
        );
    } else {
        let _ = writeln!(
            out,
            "Drift: {} differs from {}:",
            report.actual, report.expected
        );
    }
    let _ = writeln!(out, "{}", list(&report.differences));
    for warning in &report.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    for note in &report.formatting {
        let _ = writeln!(out, "  note: {note} (not drift)");
    }
    out.push_str(&diff_text(&report.diff, colour));
    out
}

fn data_class(class: DataClass) -> &'static str {
    match class {
        DataClass::Reversible => "reversible",
        DataClass::Lossy => "lossy",
        DataClass::Irreversible => "irreversible",
    }
}

fn list(differences: &[schemactl::catalog::Difference]) -> String {
    differences
        .iter()
        .map(|d| format!("  - {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn diff_text(diff: &str, colour: bool) -> String {
    if colour {
        schemactl::catalog::colour_diff(diff)
    } else {
        diff.to_string()
    }
}

/// The MongoDB part of `migrate` or `rollback`.
pub fn mongo_changes(report: Option<&MongoReport>, dry_run: bool) -> String {
    let Some(report) = report else {
        return String::new();
    };
    let mut out = String::new();
    if report.changes.is_empty() {
        let _ = writeln!(
            out,
            "MongoDB ({}): every collection is in sync.",
            report.server
        );
        return out;
    }
    let verb = if dry_run { "would change" } else { "changed" };
    let _ = writeln!(
        out,
        "MongoDB ({}): {verb} {} collection(s):",
        report.server,
        report.changes.len()
    );
    for change in &report.changes {
        let version = change
            .version
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{version}", change.collection);
        if let Some(v) = &change.violations {
            let _ = writeln!(
                out,
                "    {} existing document(s) break the new validator (e.g. _id {})",
                v.count, v.sample_id
            );
        }
        for step in &change.steps {
            let _ = writeln!(out, "    - {}", step.description);
            if dry_run {
                let _ = writeln!(out, "      {}", step.command);
            }
        }
    }
    out
}

/// The MongoDB part of `status`.
pub fn mongo_status(collections: Option<&[CollectionStatus]>) -> String {
    let Some(collections) = collections else {
        return "\nMongoDB: not configured (set MONGODB_URI or --mongodb-uri to manage schemas/).\n".into();
    };
    let mut out = String::from("\nMongoDB collections:\n");
    if collections.is_empty() {
        out.push_str("  no specs under schemas/\n");
    }
    for c in collections {
        let state = match c.state {
            CollectionState::InSync => "in sync",
            CollectionState::Pending => "pending",
            CollectionState::Drifted => "DRIFTED (changed by hand)",
        };
        let version = c
            .version
            .map(|v| format!(", version {v}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {:<40} {state}{version}", c.collection);
        if let Some(diff) = &c.diff {
            for line in diff.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}

/// The MongoDB part of `verify`.
pub fn mongo_verify(collections: Option<&[CollectionVerification]>) -> String {
    let Some(collections) = collections else {
        return String::new();
    };
    let mut out = String::from("MongoDB specs (applied and rolled back on a scratch database):\n");
    for c in collections {
        match &c.problem {
            None => {
                let _ = writeln!(out, "ok   {}", c.collection);
            }
            Some(problem) => {
                let _ = writeln!(
                    out,
                    "FAIL {}: {}",
                    c.collection,
                    problem.replace('\n', "\n     ")
                );
            }
        }
    }
    out
}

/// `line` cut at blanks into pieces of at most `width` characters (a
/// word longer than that stays whole); continuation pieces keep the line's
/// indentation plus two.
fn wrap(line: &str, width: usize) -> Vec<String> {
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

/// The `fleet` report: one line per target, then the totals.
pub fn fleet(report: &schemactl::fleet::FleetReport) -> String {
    use schemactl::fleet::TargetState;
    let width = report
        .targets
        .iter()
        .map(|t| t.target.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = String::new();
    let what = if report.verb == "rollback" {
        "ROLLED BACK"
    } else {
        "APPLIED"
    };
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>11}  {:<16}  {:>8}  ERROR",
        "TARGET", "STATE", what, "VERSION", "TIME"
    );
    for target in &report.targets {
        let mut error_lines = target.error.as_deref().unwrap_or("").lines();
        let error = error_lines.next().unwrap_or("");
        let time = match target.state {
            TargetState::Done | TargetState::Failed => duration(target.duration_ms),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:>11}  {:<16}  {:>8}  {error}",
            target.target,
            target.state.as_str(),
            target.applied,
            target.version.as_deref().unwrap_or("-"),
            time
        );
        // The rest of the error's first paragraph (where, the server's
        // message, the fix), beneath the row.
        for line in error_lines.take_while(|l| !l.trim().is_empty()) {
            for piece in wrap(line, 100) {
                let _ = writeln!(out, "    {piece}");
            }
        }
        if let Some(note) = &target.note {
            let _ = writeln!(out, "    note: {note}");
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\nfleet {} run {}{}: {} target(s): {} done, {} failed, {} not run, {} skipped; {} migration(s) {} in {}.",
        report.verb,
        report.run,
        report.shard.as_deref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
        s.total,
        s.done,
        s.failed,
        s.not_run,
        s.skipped,
        s.migrations,
        match (report.verb.as_str(), report.dry_run) {
            (_, true) => "would run",
            ("rollback", false) => "rolled back",
            _ => "applied",
        },
        duration(report.total_ms)
    );
    if !report.versions.is_empty() {
        let versions: Vec<String> = report
            .versions
            .iter()
            .map(|(version, count)| format!("{version}: {count}"))
            .collect();
        let _ = writeln!(out, "versions: {}", versions.join(", "));
    }
    if report.interrupted {
        let _ = writeln!(
            out,
            "Interrupted: the targets that were running finished; the {} not run start with `--resume {}`.",
            s.not_run, report.run
        );
    }
    if s.failed > 0 || s.not_run > 0 {
        let _ = writeln!(
            out,
            "The errors above are each target's own; fix them and go on with `schemactl fleet {} --resume {}` (finished targets are re-checked against the files and skipped when up to date). Ledger: {}",
            report.verb, report.run, report.ledger
        );
    }
    out
}
