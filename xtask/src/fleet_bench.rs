//! `cargo xtask fleet-bench` (and the end of `cargo xtask bench`): how
//! fast `schemactl fleet migrate` brings N tenant schemas (default 1,000)
//! through M migrations each (default 20, from the generated corpus),
//! against the same work done by a shell loop of single `schemactl
//! migrate` runs (one process per tenant, its schema first on the
//! search_path and its history in it), and the effect of `--concurrency`.
//! Each measurement starts from a fresh database.

use crate::bench::{build_schemactl, run_quiet, start_cluster, time};
use crate::corpus;
use anyhow::{bail, Result};
use schemactl::devserver::cluster::Cluster;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

struct Options {
    schemas: usize,
    migrations: usize,
    concurrency: Vec<usize>,
    loop_schemas: usize,
}

fn parse(args: &[String]) -> Result<Options> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let mut options = Options {
        schemas: 1000,
        migrations: 20,
        concurrency: vec![1, 2, 4, cpus * 4, 16],
        loop_schemas: 1000,
    };
    for (flag, value) in crate::bench::flag_values(args)? {
        match flag {
            "--schemas" => options.schemas = value.parse()?,
            "--migrations" => options.migrations = value.parse()?,
            "--loop-schemas" => options.loop_schemas = value.parse()?,
            "--concurrency" => {
                options.concurrency = value.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            other => bail!("unknown option {other}"),
        }
    }
    options.concurrency.sort_unstable();
    options.concurrency.dedup();
    Ok(options)
}

/// Runs the fleet benchmark and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let schemactl = build_schemactl()?;
    let (work, cluster, port) = start_cluster("schemactl-fleet-bench-")?;
    let result = measure(&options, &schemactl, &cluster, port, work.path());
    let _ = cluster.stop(false);
    result
}

fn measure(
    options: &Options,
    schemactl: &Path,
    cluster: &Cluster,
    port: u16,
    work: &Path,
) -> Result<()> {
    let migrations = work.join("migrations");
    corpus::generate(&migrations, options.migrations)?;
    let names: Vec<String> = (0..options.schemas)
        .map(|i| format!("tenant_{i:05}"))
        .collect();
    let list = work.join("tenants.txt");
    std::fs::write(&list, names.join("\n") + "\n")?;
    let admin = cluster.url(port, "postgres");
    let mut database = 0;
    let mut fresh = || -> Result<String> {
        database += 1;
        let name = format!("fleet{database}");
        let client = postgres_client(&admin)?;
        client(&format!("CREATE DATABASE {name}"))?;
        Ok(cluster.url(port, &name))
    };
    let total = (options.schemas * options.migrations) as f64;
    println!(
        "fleet: {} tenant schemas x {} migrations = {} migrations per run (PostgreSQL with fsync off, as the test server)",
        options.schemas, options.migrations, total
    );
    let mut fleet_rates = Vec::new();
    for &concurrency in &options.concurrency {
        let url = fresh()?;
        let fleet = || {
            let mut command = Command::new(schemactl);
            command
                .env("DATABASE_URL", &url)
                .arg("--migrations-dir")
                .arg(&migrations)
                .args(["fleet", "migrate", "--tenant-schemas"])
                .arg(&list)
                .arg("--ledger-dir")
                .arg(work.join("ledgers"))
                .args(["--concurrency", &concurrency.to_string()]);
            command
        };
        let elapsed = time(&mut fleet())?;
        let rate = total / elapsed.as_secs_f64();
        // The same run again: every tenant is up to date (what most fleet
        // runs are), one round trip each.
        let again = time(&mut fleet())?;
        println!(
            "  fleet migrate --concurrency {concurrency:<3}        {:>7.1} s  {:>7.0} migrations/s; again, all up to date: {:>5.2} s  {:>6.0} tenants/s",
            elapsed.as_secs_f64(),
            rate,
            again.as_secs_f64(),
            options.schemas as f64 / again.as_secs_f64()
        );
        fleet_rates.push(rate);
    }
    fresh()?;
    let looped = options.loop_schemas.min(options.schemas);
    let started = Instant::now();
    for name in names.iter().take(looped) {
        // What a hand-written loop does: the tenant's schema first on the
        // search_path (libpq's `options`), its history table in it.
        let tenant_url = format!(
            "host=127.0.0.1 port={port} user=postgres password=bench-password dbname=fleet{database} sslmode=disable options='-c search_path={name},public'",
            database = options.concurrency.len() + 1
        );
        run_quiet(
            Command::new(schemactl)
                .env("DATABASE_URL", &tenant_url)
                .arg("--migrations-dir")
                .arg(&migrations)
                .args(["--history-schema", name, "migrate"]),
        )?;
    }
    let elapsed = started.elapsed();
    let loop_rate = (looped * options.migrations) as f64 / elapsed.as_secs_f64();
    println!(
        "  shell loop of `schemactl migrate` ({looped} schemas) {:>7.1} s  {:>7.0} migrations/s",
        elapsed.as_secs_f64(),
        loop_rate
    );
    let best = fleet_rates.iter().copied().fold(0.0, f64::max);
    println!(
        "  best fleet rate: {best:.0} migrations/s, {:.1}x the shell loop (a published figure for the same shape of work: about 300 migrations/s)",
        best / loop_rate
    );
    Ok(())
}

/// A tiny synchronous SQL runner for the set-up (one statement per call).
fn postgres_client(url: &str) -> Result<impl Fn(&str) -> Result<()>> {
    let url = url.to_string();
    let psql = schemactl::devserver::binaries::PgBinaries::locate()?.program("psql");
    let psql = if psql.is_file() {
        psql
    } else {
        std::path::PathBuf::from("psql")
    };
    Ok(move |sql: &str| run_quiet(Command::new(&psql).arg(&url).args(["-qc", sql])))
}
