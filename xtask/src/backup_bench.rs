//! `cargo xtask backup-bench [--scale N] [--runs N]`: `schemactl backup
//! create` and `backup restore` against plain `pg_dump -Fc` and
//! `pg_restore --single-transaction` (the same format, one job) on a
//! pgbench database (scale 80: about 1 GB of table data), alternating,
//! medians. schemactl's figures include what plain tools do not do: every
//! row hashed in the backup's snapshot for the manifest, zstd and age on
//! the way to the store, and after a restore every row hashed again and
//! compared.

use crate::bench::{self, median, ms, psql, run_quiet, time};
use anyhow::{bail, Context, Result};
use schemactl::devserver::binaries::PgBinaries;
use std::process::Command;
use std::time::Duration;

/// Runs the comparison and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let mut scale = 80;
    let mut runs = 3;
    for (flag, value) in bench::flag_values(args)? {
        match flag {
            "--scale" => scale = value.parse()?,
            "--runs" => runs = value.parse()?,
            _ => bail!("usage: cargo xtask backup-bench [--scale N] [--runs N]"),
        }
    }
    let schemactl = bench::build_schemactl()?;
    // The server's own directory (initdb may be a link from elsewhere),
    // where pgbench, pg_dump and pg_restore are too.
    let bin = PgBinaries::locate()?.program("initdb").canonicalize()?;
    let bin = bin.parent().context("the server programs' directory")?;
    let program = |name: &str| bin.join(name);
    let (work, cluster, port) = bench::start_cluster("schemactl-backup-bench-")?;
    let admin = cluster.url(port, "postgres");
    let source = cluster.url(port, "source");
    run_quiet(
        Command::new(psql())
            .arg(&admin)
            .args(["-qc", "CREATE DATABASE source"]),
    )?;
    eprintln!("xtask: pgbench -i -s {scale} …");
    run_quiet(Command::new(program("pgbench")).args([
        "-i",
        "-q",
        "-s",
        &scale.to_string(),
        &source,
    ]))?;
    let size = Command::new(psql())
        .arg(&source)
        .args(["-tAc", "SELECT pg_size_pretty(sum(pg_relation_size(oid))) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"])
        .output()?;
    let dir = work.path();
    let store = dir.join("store");
    let key = dir.join("key.txt");
    let recipient = bench::new_backup_key(&schemactl, &key)?;
    let mut made = 0;
    let mut fresh = || -> Result<String> {
        made += 1;
        let name = format!("restored{made}");
        run_quiet(
            Command::new(psql())
                .arg(&admin)
                .args(["-qc", &format!("CREATE DATABASE {name}")]),
        )?;
        Ok(cluster.url(port, &name))
    };
    let (mut dump, mut create, mut restore, mut ours) = (vec![], vec![], vec![], vec![]);
    let plain = dir.join("plain.dump");
    for _ in 0..runs {
        dump.push(time(
            Command::new(program("pg_dump"))
                .args(["-Fc", "--dbname", &source, "-f"])
                .arg(&plain),
        )?);
        create.push(time(
            Command::new(&schemactl)
                .args([
                    "backup",
                    "create",
                    "--recipient",
                    &recipient,
                    "--database-url",
                    &source,
                    "--store",
                ])
                .arg(&store),
        )?);
        restore.push(time(
            Command::new(program("pg_restore"))
                .args([
                    "--single-transaction",
                    "--exit-on-error",
                    "--dbname",
                    &fresh()?,
                ])
                .arg(&plain),
        )?);
        ours.push(time(
            Command::new(&schemactl)
                .args([
                    "backup",
                    "restore",
                    "latest",
                    "--database-url",
                    &fresh()?,
                    "--identity",
                ])
                .arg(&key)
                .arg("--store")
                .arg(&store),
        )?);
    }
    let report = |name: &str, peer: &str, ours: Vec<Duration>, theirs: Vec<Duration>| {
        let (ours, theirs) = (median(ours), median(theirs));
        println!(
            "{name:<16} {:>9.0} ms   {peer:<34} {:>9.0} ms   {:.2}×",
            ms(ours),
            ms(theirs),
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    };
    println!(
        "backup-bench: pgbench scale {scale} ({} of table data), {runs} runs, medians",
        String::from_utf8_lossy(&size.stdout).trim()
    );
    report("backup create", "pg_dump -Fc", create, dump);
    report(
        "backup restore",
        "pg_restore --single-transaction",
        ours,
        restore,
    );
    let _ = cluster.stop(false);
    Ok(())
}
