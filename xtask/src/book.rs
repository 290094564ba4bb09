//! `cargo xtask docs` writes the book's generated pages (CLI and
//! configuration references, the rule index) into `docs/`; `cargo xtask
//! book` builds the book with mdBook into `target/book` and checks every
//! link and anchor in it with LinkChecker, installing both (pinned) when
//! they are missing.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// mdBook, installed with `cargo install` into `target/tools`.
const MDBOOK_VERSION: &str = "0.5.4";
/// LinkChecker, installed with pip into `target/docs-venv`.
const LINKCHECKER: &str = "linkchecker==10.6.0";

/// The debug `schemactl`, built when a source is newer than it.
pub fn fresh_binary() -> Result<PathBuf> {
    let binary = PathBuf::from("target/debug/schemactl");
    if !crate::binary_is_fresh("target/debug/schemactl")? {
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--package",
                "schemactl-cli",
                "--bin",
                "schemactl",
            ])
            .status()?;
        if !built.success() {
            bail!("cargo build failed");
        }
    }
    Ok(binary)
}

/// `cargo xtask docs`.
pub fn write_generated_pages() -> Result<()> {
    let status = Command::new(fresh_binary()?)
        .args(["reference", "docs"])
        .status()?;
    if !status.success() {
        bail!("schemactl reference failed");
    }
    println!("wrote docs/reference/cli.md, docs/reference/config.md, docs/reference/schemactl.toml.schema.json and docs/lint/rules.md");
    Ok(())
}

/// `cargo xtask book`.
pub fn build_and_check() -> Result<()> {
    let mdbook = ensure_mdbook()?;
    let linkchecker = ensure_linkchecker()?;
    let out = Path::new("target/book");
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    run(
        Command::new(&mdbook).args(["build", "docs"]),
        "mdbook build",
    )?;
    // LinkChecker run as root drops to `nobody`, who must read the book.
    run(
        Command::new("chmod").args(["-R", "a+rX", "target/book"]),
        "chmod",
    )?;
    let pages = std::fs::read_dir(out)?.count();
    run(
        Command::new(&linkchecker).args([
            "--config",
            "ci/linkcheckerrc",
            "--no-status",
            "target/book/index.html",
        ]),
        "the book's link check",
    )?;
    println!("book: built into target/book ({pages} entries), every link and anchor resolves");
    Ok(())
}

/// Runs `command`; an error naming `what` when it fails.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// `mdbook` of the pinned version: on `PATH`, else installed into `target/tools`.
fn ensure_mdbook() -> Result<PathBuf> {
    let expected = format!("mdbook v{MDBOOK_VERSION}");
    let version_of = |program: &Path| {
        Command::new(program)
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let on_path = PathBuf::from("mdbook");
    if version_of(&on_path).as_deref() == Some(expected.as_str()) {
        return Ok(on_path);
    }
    let local = PathBuf::from("target/tools/bin/mdbook");
    if version_of(&local).as_deref() != Some(expected.as_str()) {
        eprintln!("xtask: installing mdbook {MDBOOK_VERSION} into target/tools");
        run(
            Command::new(env!("CARGO")).args([
                "install",
                "--quiet",
                "--locked",
                "mdbook",
                "--version",
                MDBOOK_VERSION,
                "--root",
                "target/tools",
            ]),
            "cargo install mdbook",
        )?;
    }
    Ok(local)
}

/// `linkchecker` of the pinned version, in `target/docs-venv`.
fn ensure_linkchecker() -> Result<PathBuf> {
    let venv = Path::new("target/docs-venv");
    let program = venv.join("bin/linkchecker");
    if !program.exists() {
        eprintln!("xtask: installing {LINKCHECKER} into {}", venv.display());
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("xtask: installing python3-venv");
            run(
                Command::new("apt-get")
                    .args(["install", "-y", "python3-venv"])
                    .env("DEBIAN_FRONTEND", "noninteractive"),
                "apt-get install python3-venv",
            )?;
            run(
                Command::new("python3").args(["-m", "venv"]).arg(venv),
                "python3 -m venv",
            )?;
        }
        run(
            Command::new(venv.join("bin/pip")).args(["install", "--quiet", LINKCHECKER]),
            "pip install linkchecker",
        )?;
    }
    Ok(program)
}
