//! `cargo xtask fuzz [--seconds N]`: runs the property-based fuzz targets of
//! `tests/fuzz.rs` (file names, checksums, statement splitting, the linter,
//! validator specs) in rounds of fresh random cases until the time is up,
//! and reports how many inputs were tried.

use anyhow::{bail, Context, Result};
use std::process::Command;
use std::time::{Duration, Instant};

const TARGETS: u64 = 5;
const CASES_PER_ROUND: u64 = 20_000;

/// Runs the fuzz targets for the given time.
pub fn run(args: &[String]) -> Result<()> {
    let seconds: u64 = match args {
        [flag, value] if flag == "--seconds" => {
            value.parse().context("--seconds takes a number")?
        }
        [] => 600,
        _ => bail!("usage: cargo xtask fuzz [--seconds N]"),
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        let output = Command::new(env!("CARGO"))
            .args([
                "test",
                "--release",
                "--quiet",
                "--test",
                "integration",
                "fuzz::",
            ])
            .env("PROPTEST_CASES", CASES_PER_ROUND.to_string())
            .output()?;
        if !output.status.success() {
            bail!(
                "a fuzz target failed after {rounds} clean rounds:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        rounds += 1;
    }
    let executions = rounds * CASES_PER_ROUND * TARGETS;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "fuzz: {rounds} rounds, {executions} executions over {TARGETS} targets in {elapsed:.0} s ({:.0}/s), no failure",
        executions as f64 / elapsed
    );
    Ok(())
}
