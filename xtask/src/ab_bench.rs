//! `cargo xtask ab-bench --baseline BINARY [--candidate BINARY] [--rounds N] [--verify]`:
//! two schemactl binaries on the same machine in the same run, alternating
//! which goes first in every round, so that a refactoring can show "no
//! measurable change" (or a change) without the drift of a shared 2-core
//! machine between two separate runs deciding the verdict.
//!
//! Each round gives each binary the same work on its own fresh database:
//! apply the generated corpus from empty, a no-op `migrate`, `status`,
//! `rollback --steps 50`, and `lint` of the directory; with `--verify`,
//! `verify` of the corpus on the same server too (each binary with its
//! default number of workers: what a user who upgrades gets). The figures are
//! medians per binary and the ratio candidate / baseline; a ratio inside
//! the spread of the two binaries' own rounds is noise.

use crate::bench::{build_schemactl, median, ms, psql, run_quiet, start_cluster, time};
use crate::corpus;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Options {
    baseline: PathBuf,
    candidate: Option<PathBuf>,
    rounds: usize,
    migrations: usize,
    /// Also `verify` (each binary with its default number of workers).
    verify: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        baseline: PathBuf::new(),
        candidate: None,
        rounds: 9,
        migrations: 500,
        verify: false,
    };
    let args: Vec<String> = args
        .iter()
        .filter(|arg| {
            let verify = *arg == "--verify";
            options.verify |= verify;
            !verify
        })
        .cloned()
        .collect();
    for (flag, value) in crate::bench::flag_values(&args)? {
        match flag {
            "--baseline" => options.baseline = PathBuf::from(value),
            "--candidate" => options.candidate = Some(PathBuf::from(value)),
            "--rounds" => options.rounds = value.parse()?,
            "--migrations" => options.migrations = value.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    if options.baseline.as_os_str().is_empty() {
        bail!("give the binary to compare with: --baseline PATH (e.g. a release build of main)");
    }
    Ok(options)
}

/// The cases, in the order each round runs them (`verify` last, with
/// `--verify`).
const CASES: [&str; 6] = [
    "apply from empty",
    "migrate, nothing pending",
    "status",
    "rollback --steps 50",
    "lint",
    "verify (default workers)",
];

/// Runs the comparison and prints one line per case.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let candidate = match &options.candidate {
        Some(path) => path.clone(),
        None => build_schemactl()?,
    };
    let binaries = [options.baseline.clone(), candidate];
    let (work, cluster, port) = start_cluster("schemactl-ab-bench-")?;
    let migrations = work.path().join("migrations");
    corpus::generate(&migrations, options.migrations)?;
    let admin = cluster.url(port, "postgres");
    let cases = if options.verify {
        CASES.len()
    } else {
        CASES.len() - 1
    };
    let mut samples = vec![vec![Vec::new(); cases]; 2];
    let mut database = 0;
    let result = (|| -> Result<()> {
        for round in 0..options.rounds {
            // Who goes first alternates, so that neither gets the warmer cache.
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                database += 1;
                let name = format!("ab{database}");
                run_quiet(
                    Command::new(psql())
                        .arg(&admin)
                        .args(["-qc", &format!("CREATE DATABASE {name}")]),
                )?;
                let url = cluster.url(port, &name);
                let verify_on = options.verify.then_some(admin.as_str());
                let figures = one_round(&binaries[which], &migrations, &url, verify_on)?;
                for (case, figure) in figures.into_iter().enumerate() {
                    samples[which][case].push(figure);
                }
            }
        }
        Ok(())
    })();
    let _ = cluster.stop(false);
    result?;
    print(&options, &binaries, samples);
    Ok(())
}

/// One binary's figures of one round, in the order of [`CASES`].
fn one_round(
    schemactl: &Path,
    migrations: &Path,
    url: &str,
    verify_on: Option<&str>,
) -> Result<Vec<Duration>> {
    let cli = |args: &[&str]| {
        let mut command = Command::new(schemactl);
        command
            .env("DATABASE_URL", url)
            .arg("--migrations-dir")
            .arg(migrations)
            .args(args);
        command
    };
    let apply = time(&mut cli(&["migrate"]))?;
    let noop = time(&mut cli(&["migrate"]))?;
    let status = time(&mut cli(&["status"]))?;
    let rollback = time(&mut cli(&["rollback", "--steps", "50"]))?;
    let lint = crate::bench::time_allowing_findings(&mut cli(&["lint", "--format", "json"]))?;
    let mut figures = vec![apply, noop, status, rollback, lint];
    if let Some(dev) = verify_on {
        figures.push(time(&mut cli(&["verify", "--dev-url", dev]))?);
    }
    Ok(figures)
}

fn print(options: &Options, binaries: &[PathBuf; 2], samples: Vec<Vec<Vec<Duration>>>) {
    println!(
        "A/B, {} rounds alternating who goes first, {} generated migrations:",
        options.rounds, options.migrations
    );
    println!("  baseline  {}", binaries[0].display());
    println!("  candidate {}", binaries[1].display());
    println!(
        "  {:<26} {:>12} {:>12} {:>7}",
        "case", "baseline", "candidate", "ratio"
    );
    for (case, name) in CASES.iter().enumerate().take(samples[0].len()) {
        let baseline = ms(median(samples[0][case].clone()));
        let candidate = ms(median(samples[1][case].clone()));
        println!(
            "  {:<26} {:>9.1} ms {:>9.1} ms {:>6.2}x",
            name,
            baseline,
            candidate,
            candidate / baseline
        );
    }
}
