//! Build script: rebuilds when a migration the integration tests embed is
//! added (see `schemactl::build`), records the commit and the build date
//! that `schemactl --version` prints, and packs the binary's relative
//! relocations when the linker and the C library can.

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
    if linker_packs_relative_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the default linker, building for this machine, packs relative
/// relocations (`-z pack-relative-relocs`: GNU ld 2.38+, lld, mold, with a
/// glibc of 2.36 or later). A position-independent binary's ~50,000
/// pointers are then described in a few KB instead of a 1.2 MB table that
/// the dynamic loader reads on every start of every command. Tried on a
/// one-line C program with warnings fatal, so that a linker which only
/// warns about the option is not given it.
fn linker_packs_relative_relocations() -> bool {
    let var = |name: &str| std::env::var(name).ok();
    let native_gnu_linux = var("TARGET") == var("HOST")
        && var("CARGO_CFG_TARGET_OS").as_deref() == Some("linux")
        && var("CARGO_CFG_TARGET_ENV").as_deref() == Some("gnu");
    // A configured linker (mold, lld through clang…) is the user's choice.
    if !native_gnu_linux || var("RUSTC_LINKER").is_some() {
        return false;
    }
    let Some(out_dir) = var("OUT_DIR").map(std::path::PathBuf::from) else {
        return false;
    };
    let source = out_dir.join("relr_probe.c");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    Command::new("cc")
        .arg(&source)
        .arg("-o")
        .arg(out_dir.join("relr_probe"))
        .args(["-Wl,-z,pack-relative-relocs", "-Wl,--fatal-warnings"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|text| !text.is_empty())
}
