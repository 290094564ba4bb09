//! `cargo xtask lint-bench`: the linter's figures, no database needed.
//!
//! - `lint` against Squawk (when installed: `pip install squawk-cli`) on the
//!   same up files, on the 500-migration corpus of `bench` and on a
//!   generated project shaped like a long-lived real one (about 1 MB in 340
//!   migrations); the target is schemactl at most 0.6× Squawk's time;
//! - the whole directory (up and down scripts), which Squawk does not read;
//! - the peak memory of linting one 50 MB migration (with `/usr/bin/time`);
//! - deep nesting: one 100 KB statement of each nested shape (parentheses,
//!   `ARRAY[`, `CASE`, sub-selects) on one line; the target is well under
//!   1 s per 100 KB.

use crate::bench::ms;
use crate::{bench, corpus, large_project};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs the lint benchmark and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [flag, n] if flag == "--runs" => n.parse()?,
        [] => 15,
        _ => anyhow::bail!("usage: cargo xtask lint-bench [--runs N]"),
    };
    let schemactl = bench::build_schemactl()?;
    let work = tempfile::Builder::new()
        .prefix("schemactl-lint-bench-")
        .tempdir()?;
    let [corpus_dir, large] = generated_projects(work.path())?;
    let huge = work.path().join("huge");
    large_project::generate_huge(&huge, 50 << 20)?;
    println!("schemactl lint-bench: medians of {runs} runs");
    for (label, dir) in [
        ("500-migration corpus", &corpus_dir),
        ("1 MB project, 340 migrations", &large),
    ] {
        figures(label, &schemactl, dir, work.path(), runs)?;
    }
    let huge_bytes = directory_bytes(&huge)?;
    match peak_memory(&schemactl, &huge)? {
        Some((kib, elapsed)) => println!(
            "  one {:.0} MB migration: peak memory {:.0} MB, {:.1} s",
            huge_bytes as f64 / 1e6,
            kib as f64 / 1024.0,
            elapsed.as_secs_f64()
        ),
        None => println!(
            "  peak memory: not measured (/usr/bin/time is not installed, or gave no figure)"
        ),
    }
    deep_nesting(&schemactl, work.path(), runs)
}

/// The two generated projects the linter is measured on, written under
/// `work`: the 500-migration corpus of `bench`, and the 1 MB project of
/// 340 migrations shaped like a long-lived real one.
pub(crate) fn generated_projects(work: &Path) -> Result<[std::path::PathBuf; 2]> {
    let corpus_dir = work.join("corpus");
    corpus::generate(&corpus_dir, 500)?;
    let large = work.join("large");
    large_project::generate(&large, 340)?;
    Ok([corpus_dir, large])
}

/// One 100 KB statement of each deeply nested shape, each in a directory of
/// its own, timed.
fn deep_nesting(schemactl: &Path, work: &Path, runs: usize) -> Result<()> {
    let shapes: [(&str, &str, &str); 4] = [
        ("parentheses", "(", ")"),
        ("ARRAY[", "ARRAY[", "]"),
        ("CASE", "CASE WHEN true THEN ", " END"),
        ("sub-selects", "(SELECT ", ")"),
    ];
    for (label, open, close) in shapes {
        let depth = 100_000 / (open.len() + close.len());
        let dir = work.join(format!("deep-{}", label.replace(['(', '['], "")));
        std::fs::create_dir_all(&dir)?;
        let sql = format!("SELECT {}1{};\n", open.repeat(depth), close.repeat(depth));
        std::fs::write(dir.join("0001_deep.up.sql"), &sql)?;
        let elapsed = sample(runs.min(5), || {
            bench::time_allowing_findings(
                Command::new(schemactl)
                    .args(["lint", "--format", "json", "--migrations-dir"])
                    .arg(&dir),
            )
        })?;
        println!(
            "  deep nesting, {label} ×{depth} ({} KB on one line): {:.1} ms",
            sql.len() / 1000,
            ms(elapsed)
        );
    }
    Ok(())
}

fn figures(label: &str, schemactl: &Path, dir: &Path, work: &Path, runs: usize) -> Result<()> {
    let ups = work.join(format!(
        "{}-ups",
        dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&ups)?;
    for file in bench::up_files(dir)? {
        std::fs::copy(&file, ups.join(file.file_name().context("file name")?))?;
    }
    let lint = |dir: &Path| {
        let mut command = Command::new(schemactl);
        command.args(["--migrations-dir"]).arg(dir).args([
            "lint",
            "--format",
            "json",
            "--no-baseline",
        ]);
        command
    };
    let whole = sample(runs, || bench::time_allowing_findings(&mut lint(dir)))?;
    let up_only = sample(runs, || bench::time_allowing_findings(&mut lint(&ups)))?;
    println!(
        "  {label} ({:.2} MB)\n    schemactl lint, up files            {:>8.1} ms",
        directory_bytes(dir)? as f64 / 1e6,
        ms(up_only)
    );
    println!(
        "    schemactl lint, up and down         {:>8.1} ms",
        ms(whole)
    );
    match bench::squawk_figure(&ups, runs)? {
        Some(squawk) => println!(
            "    squawk, same up files               {:>8.1} ms   schemactl/squawk {:.2} (target <= 0.6) {}",
            ms(squawk),
            ms(up_only) / ms(squawk),
            bench::verdict(ms(up_only) / ms(squawk) <= 0.6)
        ),
        None => println!("    squawk                              not installed (pip install squawk-cli)"),
    }
    Ok(())
}

/// The peak resident memory (KiB) and time of linting `dir`, by
/// `/usr/bin/time`; `None` where it is not installed.
fn peak_memory(schemactl: &Path, dir: &Path) -> Result<Option<(u64, Duration)>> {
    let mut lint = Command::new(schemactl);
    lint.arg("--migrations-dir")
        .arg(dir)
        .args(["lint", "--format", "json", "--no-baseline"]);
    let started = std::time::Instant::now();
    let kib = bench::peak_memory_kib(&lint);
    Ok(kib.map(|kib| (kib, started.elapsed())))
}

fn sample(runs: usize, mut one: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let samples: Vec<Duration> = (0..runs).map(|_| one()).collect::<Result<_>>()?;
    Ok(bench::median(samples))
}

fn directory_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}
