//! Build script: rebuilds when a migration the integration tests embed is
//! added (see `schemactl::build`), and records the commit and the build
//! date that `schemactl --version` prints.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=../tests/fixtures/shop");
    // The commit: from git when building in a checkout (rebuilt when HEAD
    // moves), else from SCHEMACTL_COMMIT (a packaged source), else unknown.
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    println!("cargo:rerun-if-env-changed=SCHEMACTL_COMMIT");
    let commit = std::env::var("SCHEMACTL_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]));
    let date = git(&["log", "-1", "--format=%cs"]);
    println!(
        "cargo:rustc-env=SCHEMACTL_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=SCHEMACTL_COMMIT_DATE={}",
        date.as_deref().unwrap_or("unknown")
    );
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|text| !text.is_empty())
}
