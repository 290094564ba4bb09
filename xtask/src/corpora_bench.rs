//! `cargo xtask corpora-bench [--runs N]`: schemactl on real projects'
//! migrations (`../shared/corpora`: Ory Kratos in the pop layout, atuin in
//! sqlx's), against what their users run today on the same files:
//!
//! - `migrate` from empty against psql applying the same up scripts, each
//!   in its own transaction (the `autocommit` ones outside one), as pop and
//!   sqlx do; then a no-op `migrate` and `status`;
//! - `lint` against Squawk (when installed) on the same up scripts.
//!
//! A corpus that is not there is skipped. Kratos runs up to
//! `20240318143139000000` (a later file needs a column none of its files
//! adds), as in the tests.

use crate::bench::{self, median, ms, psql};
use anyhow::{bail, Result};
use schemactl::source::{Directory, MigrationSource};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The corpora: name, and the version to stop at.
const CORPORA: &[(&str, Option<&str>)] =
    &[("kratos", Some("20240318143139000000")), ("atuin", None)];

/// Runs the comparison and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [flag, n] if flag == "--runs" => n.parse()?,
        [] => 5,
        _ => bail!("usage: cargo xtask corpora-bench [--runs N]"),
    };
    let shared = bench::shared_corpora();
    let schemactl = bench::build_schemactl()?;
    let (work, cluster, port) = bench::start_cluster("schemactl-corpora-bench-")?;
    let mut database = 0;
    let mut fresh = || -> Result<String> {
        database += 1;
        let name = format!("corpus{database}");
        bench::run_quiet(
            Command::new(psql())
                .arg(cluster.url(port, "postgres"))
                .args(["-qXc", &format!("CREATE DATABASE {name}")]),
        )?;
        Ok(cluster.url(port, &name))
    };
    println!("schemactl corpora-bench: real projects' migrations, medians of {runs} runs");
    let mut result = Ok(());
    for (name, to) in CORPORA {
        let dir = shared.join(name);
        if !dir.is_dir() {
            println!("  {name}: not found at {} (skipped)", dir.display());
            continue;
        }
        result = figures(name, &dir, *to, &schemactl, work.path(), runs, &mut fresh);
        if result.is_err() {
            break;
        }
    }
    let _ = cluster.stop(false);
    result
}

/// The up scripts schemactl runs for `dir` up to `to`, with whether each
/// runs outside a transaction.
fn up_scripts(dir: &Path, to: Option<&str>) -> Result<Vec<(PathBuf, bool)>> {
    let loaded = Directory::new(dir).read()?;
    let to = to.and_then(schemactl::model::Version::whole);
    Ok(loaded
        .migrations
        .iter()
        .filter(|m| to.as_ref().is_none_or(|to| m.version <= *to))
        .map(|m| {
            let outside = matches!(m.up.execution(), schemactl::model::Execution::NoTransaction);
            (m.up.path.clone(), outside)
        })
        .collect())
}

fn figures(
    name: &str,
    dir: &Path,
    to: Option<&str>,
    schemactl: &Path,
    work: &Path,
    runs: usize,
    fresh: &mut dyn FnMut() -> Result<String>,
) -> Result<()> {
    let scripts = up_scripts(dir, to)?;
    let script = work.join(format!("{name}-psql.sql"));
    let mut text = String::new();
    for (path, no_transaction) in &scripts {
        if *no_transaction {
            text.push_str(&format!("\\i {}\n", path.display()));
        } else {
            text.push_str(&format!("BEGIN;\n\\i {}\nCOMMIT;\n", path.display()));
        }
    }
    std::fs::write(&script, text)?;
    let cli = |url: &str, args: &[&str]| {
        let mut command = Command::new(schemactl);
        // Away from this repository, whose `schemas/` (the shipped MongoDB
        // validators) `lint` would check too: only the corpus is measured.
        command
            .current_dir(work)
            .env("DATABASE_URL", url)
            .arg("--migrations-dir")
            .arg(dir)
            .args(args);
        if let Some(to) = to {
            if args == ["migrate"] {
                command.args(["--to", to]);
            }
        }
        command
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let (a, b) = (fresh()?, fresh()?);
        let psql_run = |url: &str| {
            bench::time(
                Command::new(psql())
                    .arg(url)
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
                    .arg(&script),
            )
        };
        if run % 2 == 0 {
            ours.push(bench::time(&mut cli(&a, &["migrate"]))?);
            theirs.push(psql_run(&b)?);
        } else {
            theirs.push(psql_run(&b)?);
            ours.push(bench::time(&mut cli(&a, &["migrate"]))?);
        }
    }
    let url = fresh()?;
    bench::run_quiet(&mut cli(&url, &["migrate"]))?;
    let repeat = runs.max(10);
    let sample = |args: &[&str]| -> Result<Duration> {
        Ok(median(
            (0..repeat)
                .map(|_| bench::time(&mut cli(&url, args)))
                .collect::<Result<_>>()?,
        ))
    };
    let (noop, status) = (sample(&["migrate"])?, sample(&["status"])?);
    let lint = median(
        (0..repeat)
            .map(|_| {
                bench::time_allowing_findings(&mut cli(
                    &url,
                    &["lint", "--format", "json", "--no-baseline"],
                ))
            })
            .collect::<Result<_>>()?,
    );
    let files: Vec<PathBuf> = scripts.iter().map(|(p, _)| p.clone()).collect();
    let squawk = bench::squawk_on_files(&files, repeat)?;
    let lint_memory =
        bench::peak_memory_kib(&cli(&url, &["lint", "--format", "json", "--no-baseline"]));
    let squawk_memory = bench::squawk_peak_memory(&files);
    let (ours, theirs) = (median(ours), median(theirs));
    println!("  {name}: {} migrations", scripts.len());
    println!("    migrate from empty                {:>9.1} ms", ms(ours));
    println!(
        "    psql, same up files, one tx each  {:>9.1} ms   schemactl/psql {:.2}",
        ms(theirs),
        ms(ours) / ms(theirs)
    );
    println!("    migrate, nothing pending          {:>9.1} ms", ms(noop));
    println!(
        "    status                            {:>9.1} ms",
        ms(status)
    );
    println!("    lint (whole directory)            {:>9.1} ms", ms(lint));
    match squawk {
        Some(squawk) => println!(
            "    squawk, the same up files         {:>9.1} ms   schemactl/squawk {:.2}",
            ms(squawk),
            ms(lint) / ms(squawk)
        ),
        None => {
            println!("    squawk                            not installed (pip install squawk-cli)")
        }
    }
    if let (Some(ours), Some(theirs)) = (lint_memory, squawk_memory) {
        println!(
            "    peak memory, lint / squawk        {:>6} / {} KiB   schemactl/squawk {:.2}",
            ours,
            theirs,
            ours as f64 / theirs as f64
        );
    }
    Ok(())
}
