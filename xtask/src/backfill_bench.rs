//! `cargo xtask backfill-bench [--rows 1000000] [--batch-size 10000] [--runs 3]`:
//! what a `-- schemactl:backfill` migration costs and what it spares the
//! application, against the same `UPDATE` as a plain migration. A table of
//! `--rows` rows; while `migrate` runs, a second session (the
//! application) updates random single rows in a loop, each its own
//! transaction, and reports its slowest one: the plain `UPDATE` holds
//! every row's lock until it commits, a backfill one batch's. Medians of
//! `--runs`, alternating who goes first.

use crate::bench::{self, fresh_databases, median, ms, psql, run_quiet};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one `migrate` of the update did.
struct Sample {
    /// The whole `migrate`.
    total: Duration,
    /// The application's slowest single-row update meanwhile.
    slowest_app_write: Duration,
    /// The longest transaction the update held its locks in (a batch, or
    /// the whole statement).
    longest_hold: Duration,
}

/// Runs the comparison and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let (mut rows, mut batch_size, mut runs) = (1_000_000u64, 10_000u64, 3usize);
    for (flag, value) in bench::flag_values(args)? {
        match flag {
            "--rows" => rows = value.parse()?,
            "--batch-size" => batch_size = value.parse()?,
            "--runs" => runs = value.parse()?,
            _ => bail!("usage: cargo xtask backfill-bench [--rows N] [--batch-size N] [--runs N]"),
        }
    }
    let schemactl = bench::build_schemactl()?;
    let (work, cluster, port) = bench::start_cluster("schemactl-backfill-bench-")?;
    let admin = cluster.url(port, "postgres");
    let url_of = |name: &str| cluster.url(port, name);
    let psql = psql();
    let mut fresh = fresh_databases(&psql, &admin, "bf", &url_of);
    let update = "UPDATE accounts SET cents = balance * 100 WHERE cents IS NULL;";
    let plain = project(work.path(), "plain", rows, update)?;
    let batched = project(
        work.path(),
        "batched",
        rows,
        &format!("-- schemactl:backfill batch-size {batch_size}\n{update}"),
    )?;
    let (mut plain_samples, mut batched_samples) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let order = if run % 2 == 0 {
            [&plain, &batched]
        } else {
            [&batched, &plain]
        };
        for dir in order {
            let url = fresh()?;
            run_quiet(
                Command::new(&schemactl)
                    .current_dir(dir)
                    .env("DATABASE_URL", &url)
                    .args(["migrate", "--to", "1"]),
            )?;
            let sample = measure(&schemactl, &psql, dir, &url, rows)?;
            if dir == &plain {
                plain_samples.push(sample);
            } else {
                batched_samples.push(sample);
            }
        }
    }
    let _ = cluster.stop(false);
    let figure = |samples: &[Sample], pick: fn(&Sample) -> Duration| {
        ms(median(samples.iter().map(pick).collect()))
    };
    println!(
        "backfill-bench: UPDATE of {rows} rows, {runs} runs, medians (PostgreSQL, this machine)"
    );
    println!("                               plain UPDATE   backfill (batches of {batch_size})");
    for (name, pick) in [
        (
            "migrate, whole",
            (|s: &Sample| s.total) as fn(&Sample) -> Duration,
        ),
        ("longest lock hold", |s: &Sample| s.longest_hold),
        ("slowest app write meanwhile", |s: &Sample| {
            s.slowest_app_write
        }),
    ] {
        println!(
            "  {name:<28} {:>10.0} ms   {:>10.0} ms",
            figure(&plain_samples, pick),
            figure(&batched_samples, pick)
        );
    }
    Ok(())
}

/// A project of two migrations: the table with `rows` rows, then `update`.
fn project(work: &Path, name: &str, rows: u64, update: &str) -> Result<std::path::PathBuf> {
    let dir = work.join(name);
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations)?;
    std::fs::write(
        migrations.join("0001_accounts.up.sql"),
        format!(
            "CREATE TABLE accounts (id bigint PRIMARY KEY, balance int NOT NULL, cents bigint, probe int NOT NULL DEFAULT 0);\n\
             INSERT INTO accounts (id, balance) SELECT g, g % 1000 FROM generate_series(1, {rows}) g;\n\
             ANALYZE accounts;\n"
        ),
    )?;
    std::fs::write(migrations.join("0002_cents.up.sql"), format!("{update}\n"))?;
    Ok(dir)
}

/// `migrate` of the update, with the application's writes running beside it.
fn measure(schemactl: &Path, psql: &Path, dir: &Path, url: &str, rows: u64) -> Result<Sample> {
    run_quiet(
        Command::new(psql)
            .arg(url)
            .args(["-qc", "CREATE TABLE bench_done (done bool)"]),
    )?;
    let probe_sql = format!(
        "DO $$ DECLARE t0 timestamptz; worst interval := '0'; target bigint; BEGIN
           LOOP
             target := 1 + (random() * ({rows} - 1))::bigint;
             t0 := clock_timestamp();
             UPDATE accounts SET probe = probe + 1 WHERE id = target;
             worst := greatest(worst, clock_timestamp() - t0);
             COMMIT;
             EXIT WHEN EXISTS (SELECT 1 FROM bench_done);
             PERFORM pg_sleep(0.005);
           END LOOP;
           RAISE NOTICE 'worst %', extract(epoch FROM worst);
         END $$;"
    );
    let probe = Command::new(psql)
        .arg(url)
        .args(["-qc", &probe_sql])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let output = Command::new(schemactl)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .args(["migrate", "--format", "json"])
        .output()?;
    let total = started.elapsed();
    run_quiet(
        Command::new(psql)
            .arg(url)
            .args(["-qc", "INSERT INTO bench_done VALUES (true)"]),
    )?;
    let probed = probe.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let probe_text = String::from_utf8_lossy(&probed.stderr);
    let worst: f64 = probe_text
        .lines()
        .find_map(|l| l.split("worst ").nth(1))
        .and_then(|w| w.trim().parse().ok())
        .with_context(|| format!("the application probe said: {probe_text}"))?;
    Ok(Sample {
        total,
        slowest_app_write: Duration::from_secs_f64(worst),
        longest_hold: longest_hold(&output.stdout, &output.stderr)?,
    })
}

/// The longest transaction the update held: a backfill's longest batch
/// (its last JSON progress line), or the plain migration's whole run.
fn longest_hold(stdout: &[u8], stderr: &[u8]) -> Result<Duration> {
    let progress = String::from_utf8_lossy(stderr)
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("backfill").cloned());
    if let Some(last) = progress {
        return Ok(Duration::from_millis(
            last["longest_batch_ms"].as_u64().unwrap_or(0),
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(stdout)?;
    let ms = report["executed"]
        .as_array()
        .and_then(|e| e.last())
        .and_then(|e| e["execution_ms"].as_u64())
        .unwrap_or(0);
    Ok(Duration::from_millis(ms))
}
