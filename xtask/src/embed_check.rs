//! `cargo xtask embed-check`: an application embedding its migrations with
//! `schemactl::embed_migrations!`, built for real, shows that
//!
//! - with a build script (`cargo:rerun-if-changed=migrations`), adding a
//!   migration file makes `cargo build` rebuild it, and the new binary
//!   applies the new migration;
//! - without one, the macro's warning names the fix at compile time (and
//!   the stale binary, rebuilt by nothing, applies nothing new: the reason
//!   for the warning).
//!
//! The two applications are written under `target/embed-check/` (never
//! committed), depend on this checkout's schemactl by path with the
//! workspace's `Cargo.lock`, and share one target directory. The first
//! run compiles their dependency tree (a few minutes on 2 cores).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN: &str = r#"use tokio_postgres::NoTls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    match schemactl::embed_migrations!("migrations").run(&client).await {
        Ok(report) => {
            println!("applied {}", report.executed.len());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
"#;

/// What the macro's warning says when the crate has no build script.
const WARNING: &str = "this crate has no build script";

/// Runs the check and prints what it saw.
pub fn run() -> Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the xtask crate is in the repository")?
        .to_path_buf();
    let root = repo.join("target/embed-check");
    let (_work, cluster, port) = crate::bench::start_cluster("schemactl-embed-check-")?;
    let result = check(&repo, &root, &|name| {
        create_database(&cluster.url(port, "postgres"), name)?;
        Ok(cluster.url(port, name))
    });
    let _ = cluster.stop(false);
    result
}

fn check(repo: &Path, root: &Path, database: &dyn Fn(&str) -> Result<String>) -> Result<()> {
    let with = write_app(repo, root, "with-build-script", true)?;
    let url = database("with_build_script")?;
    expect_build(root, &with, false)?;
    expect_applied(root, &with, &url, 1)?;
    add_migration(&with, 2)?;
    expect_build(root, &with, false)?;
    expect_applied(root, &with, &url, 1)?;
    println!("embed-check: with a build script, an added migration is compiled in and applied");

    let without = write_app(repo, root, "without-build-script", false)?;
    let url = database("without_build_script")?;
    expect_build(root, &without, true)?;
    expect_applied(root, &without, &url, 1)?;
    add_migration(&without, 2)?;
    let rebuilt = cargo_build(root, &without)?;
    expect_applied(root, &without, &url, 0)?;
    println!(
        "embed-check: without one, the build warns (`{WARNING}`), and after adding a file cargo {} and the binary applied nothing new",
        if rebuilt.contains("Compiling") { "recompiled" } else { "did not recompile" }
    );
    Ok(())
}

/// Writes a fresh application at `root/name` with one migration.
fn write_app(repo: &Path, root: &Path, name: &str, build_script: bool) -> Result<PathBuf> {
    let dir = root.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("migrations"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\nschemactl = {{ path = {:?}, default-features = false }}\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\ntokio-postgres = \"0.7\"\n",
            repo.display().to_string()
        ),
    )?;
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    std::fs::write(dir.join("src/main.rs"), MAIN)?;
    if build_script {
        std::fs::write(
            dir.join("build.rs"),
            "fn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n}\n",
        )?;
    }
    add_migration(&dir, 1)?;
    Ok(dir)
}

fn add_migration(app: &Path, n: u32) -> Result<()> {
    let migrations = app.join("migrations");
    std::fs::write(
        migrations.join(format!("{n:04}_t{n}.up.sql")),
        format!("CREATE TABLE t{n} (id int PRIMARY KEY);\n"),
    )?;
    std::fs::write(
        migrations.join(format!("{n:04}_t{n}.down.sql")),
        format!("DROP TABLE t{n};\n"),
    )?;
    Ok(())
}

/// `cargo build` of `app`; its stderr.
fn cargo_build(root: &Path, app: &Path) -> Result<String> {
    let output = Command::new(env!("CARGO"))
        .arg("build")
        .arg("--manifest-path")
        .arg(app.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("CARGO_TERM_COLOR")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        bail!("building {} failed:\n{stderr}", app.display());
    }
    Ok(stderr)
}

fn expect_build(root: &Path, app: &Path, warned: bool) -> Result<()> {
    let stderr = cargo_build(root, app)?;
    if stderr.contains(WARNING) != warned {
        bail!(
            "{}: the build {} warn about the build script:\n{stderr}",
            app.display(),
            if warned { "did not" } else { "did" }
        );
    }
    Ok(())
}

fn expect_applied(root: &Path, app: &Path, url: &str, count: usize) -> Result<()> {
    let name = app.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let output = Command::new(root.join("target/debug").join(name))
        .current_dir(app)
        .env("DATABASE_URL", url)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || stdout.trim() != format!("applied {count}") {
        bail!(
            "{name}: expected `applied {count}`, got {stdout:?} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn create_database(admin: &str, name: &str) -> Result<()> {
    let status = Command::new(crate::bench::psql())
        .arg(admin)
        .args(["-qXc", &format!("CREATE DATABASE {name}")])
        .status()?;
    if !status.success() {
        bail!("CREATE DATABASE {name} failed");
    }
    Ok(())
}
