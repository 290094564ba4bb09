//! `cargo xtask migrate-backup-bench [--migrations 500] [--rows 2000] [--runs 5]`:
//! what `migrate --backup auto` adds to a deploy. The generated corpus,
//! then a migration that fills the first 50 tables with `--rows` rows
//! each, then 50 destructive migrations (a column dropped from each, a
//! table truncated every tenth): `migrate` from empty with a backup store
//! configured and `--backup auto`, against the same with `--backup never`,
//! alternating who goes first, medians; and a no-op `migrate` of each.

use crate::bench::{self, fresh_databases, median, ms, psql, time};
use anyhow::{bail, Result};
use std::fmt::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs the comparison and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let (mut migrations, mut rows, mut runs) = (500, 2000, 5);
    for (flag, value) in bench::flag_values(args)? {
        match flag {
            "--migrations" => migrations = value.parse()?,
            "--rows" => rows = value.parse()?,
            "--runs" => runs = value.parse()?,
            _ => bail!(
                "usage: cargo xtask migrate-backup-bench [--migrations N] [--rows N] [--runs N]"
            ),
        }
    }
    let schemactl = bench::build_schemactl()?;
    let (work, cluster, port) = bench::start_cluster("schemactl-migrate-backup-bench-")?;
    let dir = work.path();
    let migrations_dir = dir.join("migrations");
    crate::corpus::generate(&migrations_dir, migrations)?;
    let destructive = destructive_tail(&migrations_dir, migrations, rows)?;
    let key = dir.join("key.txt");
    let recipient = bench::new_backup_key(&schemactl, &key)?;
    std::fs::write(
        dir.join("schemactl.toml"),
        format!("[backup]\nstore = \"store\"\nrecipients = [\"{recipient}\"]\n"),
    )?;
    let admin = cluster.url(port, "postgres");
    let url_of = |name: &str| cluster.url(port, name);
    let psql = psql();
    let mut fresh = fresh_databases(&psql, &admin, "mb", &url_of);
    let migrate = |url: &str, mode: &str| {
        let mut command = Command::new(&schemactl);
        command
            .current_dir(dir)
            .env("DATABASE_URL", url)
            .args(["migrate", "--backup", mode]);
        command
    };
    let (mut auto, mut never) = (Vec::new(), Vec::new());
    let mut last_auto = String::new();
    for run in 0..runs {
        let (a, n) = (fresh()?, fresh()?);
        if run % 2 == 0 {
            auto.push(time(&mut migrate(&a, "auto"))?);
            never.push(time(&mut migrate(&n, "never"))?);
        } else {
            never.push(time(&mut migrate(&n, "never"))?);
            auto.push(time(&mut migrate(&a, "auto"))?);
        }
        last_auto = a;
    }
    let noop = |mode: &str| -> Result<Duration> {
        let samples = (0..20)
            .map(|_| time(&mut migrate(&last_auto, mode)))
            .collect::<Result<Vec<_>>>()?;
        Ok(median(samples))
    };
    let (noop_auto, noop_never) = (noop("auto")?, noop("never")?);
    let stored: u64 = walk_size(&dir.join("store"));
    let _ = cluster.stop(false);
    let (auto, never) = (median(auto), median(never));
    println!(
        "migrate-backup-bench: {} migrations ({destructive} destructive, {rows} rows in each table they touch), {runs} runs, medians",
        migrations + 1 + destructive
    );
    println!(
        "  migrate from empty   --backup auto {:8.1} ms   --backup never {:8.1} ms   ({:.2}x)",
        ms(auto),
        ms(never),
        ms(auto) / ms(never)
    );
    println!(
        "  no-op migrate        --backup auto {:8.1} ms   --backup never {:8.1} ms",
        ms(noop_auto),
        ms(noop_never)
    );
    println!(
        "  store after {runs} runs: {:.1} MB ({} pre-migration backups a run)",
        stored as f64 / 1e6,
        destructive
    );
    Ok(())
}

/// A migration filling the first 50 tables, then one destructive
/// migration for each: the number of destructive migrations.
fn destructive_tail(dir: &Path, after: usize, rows: usize) -> Result<usize> {
    let tables: Vec<usize> = (1..=after).filter(|v| v % 5 == 1).take(50).collect();
    let mut fill = String::new();
    for t in &tables {
        let _ = writeln!(
            fill,
            "INSERT INTO t{t} (name, payload, amount) SELECT 'row ' || g, jsonb_build_object('g', g), g % 1000 FROM generate_series(1, {rows}) g;"
        );
    }
    let mut version = after + 1;
    std::fs::write(dir.join(format!("{version:04}_fill.up.sql")), fill)?;
    std::fs::write(
        dir.join(format!("{version:04}_fill.down.sql")),
        "SELECT 1;\n",
    )?;
    for (n, t) in tables.iter().enumerate() {
        version += 1;
        let (up, down) = if n % 10 == 9 {
            (
                format!("TRUNCATE t{t} CASCADE;\n"),
                "SELECT 1;\n".to_string(),
            )
        } else {
            (
                format!("ALTER TABLE t{t} DROP COLUMN payload;\n"),
                format!("ALTER TABLE t{t} ADD COLUMN payload jsonb NOT NULL DEFAULT '{{}}';\n"),
            )
        };
        std::fs::write(dir.join(format!("{version:04}_destroy_t{t}.up.sql")), up)?;
        std::fs::write(
            dir.join(format!("{version:04}_destroy_t{t}.down.sql")),
            down,
        )?;
    }
    Ok(tables.len())
}

/// The bytes of every file under `dir`.
fn walk_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => walk_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
