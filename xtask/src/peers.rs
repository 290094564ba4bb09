//! `cargo xtask peers [--migrations N] [--rounds N]` (and the end of `cargo
//! xtask bench`): schemactl side by side with sqlx-cli and refinery_cli on
//! the same generated corpus and server, in interleaved rounds, with the
//! issue's targets:
//! - `migrate` with nothing pending ≤ 0.6× refinery's;
//! - rolling back 50 ≤ 0.9× `sqlx migrate revert --target-version`;
//! - applying the corpus ≤ 1.05× psql applying it in one transaction.
//!
//! The peers are installed here, pinned, into `target/peers` (`cargo
//! install --locked`), as the tests install their servers; without the
//! network they are skipped with a message.

use crate::bench::{build_schemactl, median, ms, psql, start_cluster, time, verdict};
use crate::corpus;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The peers, pinned: crate, version, features, binary.
const REFINERY: (&str, &str, &str, &str) = ("refinery_cli", "0.10.0", "postgresql", "refinery");
const SQLX: (&str, &str, &str, &str) = ("sqlx-cli", "0.9.0", "postgres,rustls", "sqlx");

/// `cargo xtask peers`.
pub fn run(args: &[String]) -> Result<()> {
    let (mut migrations, mut rounds) = (500, 11);
    for (flag, value) in crate::bench::flag_values(args)? {
        match flag {
            "--migrations" => migrations = value.parse()?,
            "--rounds" => rounds = value.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    let schemactl = build_schemactl()?;
    let (work, cluster, port) = start_cluster("schemactl-peers-")?;
    let dir = work.path().join("migrations");
    corpus::generate(&dir, migrations)?;
    let admin = cluster.url(port, "postgres");
    let database = |name: &str| cluster.url(port, name);
    let result = compare(migrations, rounds, &schemactl, &admin, &database, &dir);
    let _ = cluster.stop(false);
    result
}

/// The installed peer's program, installing it first when missing; `None`
/// (with a message) when it cannot be installed.
fn peer(spec: (&str, &str, &str, &str)) -> Option<PathBuf> {
    let (krate, version, features, binary) = spec;
    let root = crate::bench::target_dir().ok()?.join("peers");
    let program = root.join("bin").join(binary);
    if program.is_file() {
        return Some(program);
    }
    eprintln!(
        "installing {krate} {version} into {} (once)…",
        root.display()
    );
    let build = root.with_file_name("peers-build");
    let status = Command::new(env!("CARGO"))
        .args(["install", "--quiet", "--locked", "--no-default-features"])
        .args(["--features", features, "--version", version, "--root"])
        .arg(&root)
        .arg(krate)
        .env("CARGO_TARGET_DIR", &build)
        .status();
    if status.is_ok_and(|s| s.success()) && program.is_file() {
        Some(program)
    } else {
        println!("  {krate} {version}: not installed (no network?); skipped");
        None
    }
}

/// The corpus's up files as refinery names them (`V1__name.sql`).
fn refinery_copy(migrations: &Path) -> Result<PathBuf> {
    let dir = migrations.with_file_name("refinery");
    std::fs::create_dir_all(&dir)?;
    for file in crate::bench::up_files(migrations)? {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name")?;
        let (version, rest) = name.split_once('_').context("corpus file name")?;
        let title = rest.trim_end_matches(".up.sql");
        let version: u64 = version.parse()?;
        std::fs::copy(&file, dir.join(format!("V{version}__{title}.sql")))?;
    }
    Ok(dir)
}

/// One tool's timings, each a list of samples.
#[derive(Default)]
struct Samples {
    apply: Vec<Duration>,
    noop: Vec<Duration>,
    rollback: Vec<Duration>,
}

/// Measures the three tools on `migrations` (a corpus of `count`), each
/// on fresh databases of the server `admin` reaches.
pub(crate) fn compare(
    count: usize,
    rounds: usize,
    schemactl: &Path,
    admin: &str,
    database: &dyn Fn(&str) -> String,
    migrations: &Path,
) -> Result<()> {
    let (refinery, sqlx) = (peer(REFINERY), peer(SQLX));
    let refinery_dir = refinery_copy(migrations)?;
    let psql = psql();
    let one_transaction = crate::bench::psql_script(migrations, true)?;
    let mut fresh = crate::bench::fresh_databases(&psql, admin, "peers", database);
    let target = count.saturating_sub(50).to_string();
    let (mut ours, mut theirs_refinery, mut theirs_sqlx) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut floor = Vec::new();
    for _ in 0..rounds {
        // psql, everything in one transaction: the floor.
        let url = fresh()?;
        floor.push(time(
            Command::new(&psql)
                .arg(&url)
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
                .arg(&one_transaction),
        )?);
        // schemactl.
        let url = fresh()?;
        let ours_cli = |args: &[&str]| {
            let mut command = Command::new(schemactl);
            command
                .env("DATABASE_URL", &url)
                .arg("--migrations-dir")
                .arg(migrations)
                .args(args);
            command
        };
        ours.apply.push(time(&mut ours_cli(&["migrate"]))?);
        ours.noop.push(time(&mut ours_cli(&["migrate"]))?);
        ours.rollback
            .push(time(&mut ours_cli(&["rollback", "--steps", "50"]))?);
        if let Some(refinery) = &refinery {
            let url = fresh()?;
            let cli = || {
                let mut command = Command::new(refinery);
                command
                    .env("DATABASE_URL", &url)
                    .args(["migrate", "-e", "DATABASE_URL", "-p"])
                    .arg(&refinery_dir);
                command
            };
            theirs_refinery.apply.push(time(&mut cli())?);
            theirs_refinery.noop.push(time(&mut cli())?);
        }
        if let Some(sqlx) = &sqlx {
            let url = fresh()?;
            let cli = |args: &[&str]| {
                let mut command = Command::new(sqlx);
                command
                    .args(["migrate"])
                    .args(args)
                    .arg("--source")
                    .arg(migrations)
                    .args(["--database-url", &url, "--no-dotenv"]);
                command
            };
            theirs_sqlx.apply.push(time(&mut cli(&["run"]))?);
            theirs_sqlx.noop.push(time(&mut cli(&["run"]))?);
            theirs_sqlx
                .rollback
                .push(time(&mut cli(&["revert", "--target-version", &target]))?);
        }
    }
    report(
        count,
        rounds,
        &ours,
        &theirs_refinery,
        &theirs_sqlx,
        median(floor),
    );
    Ok(())
}

fn report(
    count: usize,
    rounds: usize,
    ours: &Samples,
    refinery: &Samples,
    sqlx: &Samples,
    floor: Duration,
) {
    let m = |samples: &[Duration]| (!samples.is_empty()).then(|| median(samples.to_vec()));
    println!("schemactl vs peers: {count} migrations, medians of {rounds} interleaved rounds");
    let line =
        |what: &str, ours: Option<Duration>, refinery: Option<Duration>, sqlx: Option<Duration>| {
            let show = |d: Option<Duration>| {
                d.map_or_else(|| "–".to_string(), |d| format!("{:.1} ms", ms(d)))
            };
            println!(
                "  {what:<28} schemactl {:>10}   refinery {:>10}   sqlx {:>10}",
                show(ours),
                show(refinery),
                show(sqlx)
            );
        };
    line(
        "apply all from empty",
        m(&ours.apply),
        m(&refinery.apply),
        m(&sqlx.apply),
    );
    line(
        "migrate, nothing pending",
        m(&ours.noop),
        m(&refinery.noop),
        m(&sqlx.noop),
    );
    line("roll back 50", m(&ours.rollback), None, m(&sqlx.rollback));
    let ratio = |a: Option<Duration>, b: Option<Duration>| Some(ms(a?) / ms(b?));
    if let Some(apply) = ratio(m(&ours.apply), Some(floor)) {
        println!(
            "  apply / psql one transaction ({:.1} ms): {apply:.2} (target ≤ 1.05: {})",
            ms(floor),
            verdict(apply <= 1.05)
        );
    }
    if let Some(noop) = ratio(m(&ours.noop), m(&refinery.noop)) {
        println!(
            "  no-op / refinery: {noop:.2} (target ≤ 0.6: {})",
            verdict(noop <= 0.6)
        );
    }
    if let Some(noop) = ratio(m(&ours.noop), m(&sqlx.noop)) {
        println!("  no-op / sqlx: {noop:.2}");
    }
    if let Some(rollback) = ratio(m(&ours.rollback), m(&sqlx.rollback)) {
        println!(
            "  rollback 50 / sqlx: {rollback:.2} (target ≤ 0.9: {})",
            verdict(rollback <= 0.9)
        );
    }
}
