//! The MongoDB parts of `migrate`, `rollback`, `status` and `verify`.

use schemactl::mongo::report::{
    CollectionState, CollectionStatus, CollectionVerification, MongoReport,
};
use std::fmt::Write;

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
