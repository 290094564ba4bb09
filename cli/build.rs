//! Build script: rebuilds when a migration the integration tests embed is
//! added (see `schemactl::build`), records the commit and the build date
//! that `schemactl --version` prints, packs the binary's relative
//! relocations when the linker and the C library can, and in release
//! builds strips the binary and lays out the code every start and `lint`
//! run together (`symbol-order.txt`, `cargo xtask symbol-order`).

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
    if std::env::var("PROFILE").as_deref() == Ok("release")
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        release_layout();
    }
}

/// Release builds for Linux: the symbols are stripped here rather than by the
/// profile's `strip`, which is part of every crate's metadata hash and so
/// of every function's symbol name: `cargo xtask symbol-order` builds with
/// `SCHEMACTL_KEEP_SYMBOLS=1` and must see the names the release build
/// links. The code listed in `symbol-order.txt` (what starting the command
/// and `lint` execute) is placed together when the linker rustc uses takes
/// an ordering file (lld, rustc's default on x86-64 Linux since 1.90): the
/// kernel maps 64 KB around each code page a process touches, so code
/// scattered over the binary's 18 MB made `lint` resident in 9 MB of it.
fn release_layout() {
    println!("cargo:rerun-if-env-changed=SCHEMACTL_KEEP_SYMBOLS");
    let keep_symbols = std::env::var_os("SCHEMACTL_KEEP_SYMBOLS").is_some();
    println!(
        "cargo:rustc-link-arg-bins=-Wl,{}",
        if keep_symbols {
            "--strip-debug"
        } else {
            "--strip-all"
        }
    );
    let order =
        std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("symbol-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    let args = [
        format!("-Wl,--symbol-ordering-file={}", order.display()),
        "-Wl,--no-warn-symbol-ordering".to_string(),
    ];
    if order.is_file() && rustc_links_with(&args) {
        for arg in args {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// Whether rustc, with this build's target, flags and linker, links an
/// empty program when given `link_args`.
fn rustc_links_with(link_args: &[String]) -> bool {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(out_dir), Some(target)) = (var("OUT_DIR"), var("TARGET")) else {
        return false;
    };
    let out_dir = std::path::PathBuf::from(out_dir);
    let source = out_dir.join("link_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let mut rustc = Command::new(var("RUSTC").unwrap_or_else(|| "rustc".into()));
    rustc
        .arg(&source)
        .args(["--target", &target, "-o"])
        .arg(out_dir.join("link_probe"));
    if let Some(flags) = var("CARGO_ENCODED_RUSTFLAGS") {
        rustc.args(flags.split('\u{1f}').filter(|flag| !flag.is_empty()));
    }
    if let Some(linker) = var("RUSTC_LINKER") {
        rustc.arg(format!("-Clinker={linker}"));
    }
    for arg in link_args {
        rustc.arg(format!("-Clink-arg={arg}"));
    }
    rustc.output().is_ok_and(|output| output.status.success())
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
