//! `cargo xtask symbol-order`: write `cli/symbol-order.txt`, the functions
//! that starting `schemactl` and `lint` execute, which the release link
//! places together (see `cli/build.rs`).
//!
//! The kernel maps 64 KB of the binary around every code page a process
//! touches; spread over 18 MB of machine code, what `lint` executes made
//! 9 MB of the binary resident. Listed first, the same code fills a few
//! dozen 64 KB windows. The list is taken with valgrind's callgrind, which
//! records every function executed (a sampling profiler misses the ones
//! that run once, and each of those would cost a window of its own), from
//! a release build that keeps its symbols (`SCHEMACTL_KEEP_SYMBOLS=1`,
//! which changes the link only, so the names are the release build's).
//! Names the binary no longer has are ignored by the linker, so a stale
//! list costs memory, never correctness; run this again after large
//! changes or a toolchain update.

use crate::{bench, lint_bench};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds, records the workloads, writes `cli/symbol-order.txt`, and
/// rebuilds the release binary as it ships.
pub fn run() -> Result<()> {
    let binary = build_release(true)?;
    let work = tempfile::Builder::new()
        .prefix("schemactl-symbol-order-")
        .tempdir()?;
    let mut projects = lint_bench::generated_projects(work.path())?.to_vec();
    projects.extend(real_projects());
    let mut workloads: Vec<Vec<String>> = ["--version", "--help", "lint --help"]
        .iter()
        .map(|args| args.split(' ').map(str::to_string).collect())
        .collect();
    for project in &projects {
        workloads.push(vec![
            "--migrations-dir".into(),
            project.display().to_string(),
            "lint".into(),
            "--format".into(),
            "json".into(),
            "--no-baseline".into(),
        ]);
        workloads.push(vec![
            "--migrations-dir".into(),
            project.display().to_string(),
            "lint".into(),
            "--no-baseline".into(),
        ]);
    }
    let mut executed = BTreeSet::new();
    for (i, args) in workloads.iter().enumerate() {
        let out = work.path().join(format!("callgrind.{i}"));
        record(&binary, args, &out)?;
        executed.extend(executed_functions(&std::fs::read_to_string(&out)?));
    }
    let defined = defined_functions(&binary)?;
    let listed: Vec<&String> = executed.iter().filter(|f| defined.contains(*f)).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .join("cli/symbol-order.txt");
    let mut text = String::new();
    for name in &listed {
        text.push_str(name);
        text.push('\n');
    }
    std::fs::write(&path, text)?;
    println!(
        "{}: {} functions executed by {} runs",
        path.display(),
        listed.len(),
        workloads.len()
    );
    build_release(false)?;
    Ok(())
}

/// The real projects of `../shared/corpora`, when present.
fn real_projects() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(bench::shared_corpora()) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The release binary, built with or without its symbols.
fn build_release(keep_symbols: bool) -> Result<PathBuf> {
    let mut cargo = bench::release_build();
    if keep_symbols {
        cargo.env("SCHEMACTL_KEEP_SYMBOLS", "1");
    } else {
        cargo.env_remove("SCHEMACTL_KEEP_SYMBOLS");
    }
    bench::build_schemactl_with(&mut cargo)
}

/// Runs `binary args` under callgrind, writing its profile to `out`.
fn record(binary: &Path, args: &[String], out: &Path) -> Result<()> {
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--demangle=no", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(binary)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .context("running valgrind (apt-get install valgrind)")?;
    // Lint exits 1 with findings; anything above is a failure.
    if status.code().is_none_or(|code| code > 1) {
        bail!("schemactl {} failed under valgrind", args.join(" "));
    }
    Ok(())
}

/// The (mangled) names of the functions a callgrind profile saw run: each
/// `fn=` and `cfn=` line names one the first time its id appears; a
/// recursion level's `'N` suffix is dropped.
fn executed_functions(profile: &str) -> BTreeSet<String> {
    profile
        .lines()
        .filter_map(|line| {
            line.strip_prefix("fn=")
                .or_else(|| line.strip_prefix("cfn="))
        })
        .filter_map(|rest| rest.split_once(") ").map(|(_, name)| name))
        .map(|name| name.split('\'').next().unwrap_or(name).to_string())
        .collect()
}

/// The functions the binary's symbol table defines.
fn defined_functions(binary: &Path) -> Result<BTreeSet<String>> {
    let output = Command::new("nm")
        .args(["--defined-only"])
        .arg(binary)
        .output()
        .context("running nm (apt-get install binutils)")?;
    if !output.status.success() {
        bail!("nm {} failed", binary.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_address, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            matches!(kind, "t" | "T" | "w" | "W").then(|| name.to_string())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::executed_functions;

    #[test]
    fn a_profile_names_each_function_once_without_its_recursion_level() {
        let profile = "fn=(1) _ZN3foo3bar17h0123456789abcdefE\ncalls=1 0\ncfn=(2) _RNvCs1_4core5write'2\nfn=(1)\ncfn=(3) main\n";
        let names: Vec<String> = executed_functions(profile).into_iter().collect();
        assert_eq!(
            names,
            [
                "_RNvCs1_4core5write",
                "_ZN3foo3bar17h0123456789abcdefE",
                "main"
            ]
        );
    }
}
