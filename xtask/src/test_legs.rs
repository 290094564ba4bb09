//! `cargo xtask test` without arguments: every test binary is built first
//! (the PostgreSQL-only build, then the default one), the doc tests run,
//! and then the three legs run **in parallel**, each test binary started
//! directly (a `cargo test` holds the build directory's lock while its tests
//! run, so three of them would run one after another):
//!
//! - `postgres-15`: every unit and integration test of the workspace on the
//!   system's PostgreSQL (Debian's 15);
//! - `postgres-18`: the integration tests that talk to a server, on
//!   PostgreSQL 18 with pgvector (not the TLS ones: that build has no TLS;
//!   not the server-free modules, which run in `postgres-15`);
//! - `postgresql-only`: the build without the `mongodb` feature, its unit
//!   tests and the integration modules whose code the feature changes
//!   ([`POSTGRES_ONLY_MODULES`]).
//!
//! Each leg's output goes to `target/xtask-test/<leg>.log` and is printed
//! whole when the leg ends, with its time.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// What the PostgreSQL-only build runs of the integration suite: the
/// modules whose code paths the `mongodb` feature changes (the CLI's verbs
/// and configuration, `deploy`, the library facade, the shipped schema,
/// bad input and its corpus, the reliability tests with their MongoDB
/// parts left out). The rest runs the same code in both builds.
pub const POSTGRES_ONLY_MODULES: &[&str] = &[
    "agentic_schema::",
    "bad_corpus::",
    "bad_input::",
    "library::",
    "reliability::",
    "runner::",
    "walkthrough::",
];

/// Integration modules that need no server: run once, in `postgres-15`.
const SERVER_FREE_MODULES: &[&str] = &["architecture::", "fuzz::"];

/// One test executable cargo built.
struct TestBinary {
    /// `lib`, `bin` or `test`, and the target's name.
    kind: String,
    name: String,
    executable: PathBuf,
    /// The package's directory: cargo runs tests from there.
    package_dir: PathBuf,
}

/// Builds the test binaries of `cargo test <args> --no-run` and lists them.
fn build(args: &[&str]) -> Result<Vec<TestBinary>> {
    let output = Command::new(env!("CARGO"))
        .args([
            "test",
            "--locked",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        bail!("cargo test --no-run {} failed", args.join(" "));
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(executable), true) = (
            message["executable"].as_str(),
            message["profile"]["test"].as_bool() == Some(true),
        ) else {
            continue;
        };
        let manifest = message["manifest_path"].as_str().context("manifest_path")?;
        binaries.push(TestBinary {
            kind: message["target"]["kind"][0]
                .as_str()
                .unwrap_or_default()
                .into(),
            name: message["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .into(),
            executable: executable.into(),
            package_dir: Path::new(manifest).parent().context("package")?.into(),
        });
    }
    Ok(binaries)
}

/// The `schemactl` binary and examples the PostgreSQL-only build just
/// placed in `target/debug`, copied to `target/xtask-test/postgres-only`
/// before the default build replaces them.
fn keep_postgres_only_programs(root: &Path) -> Result<PathBuf> {
    let kept = root.join("target/xtask-test/postgres-only");
    std::fs::create_dir_all(kept.join("examples"))?;
    std::fs::copy(root.join("target/debug/schemactl"), kept.join("schemactl"))?;
    for entry in std::fs::read_dir(root.join("target/debug/examples"))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .context("example")?
            .to_string_lossy()
            .into_owned();
        let is_program = path.is_file() && !name.contains('-') && !name.contains('.');
        if is_program {
            std::fs::copy(&path, kept.join("examples").join(&name))?;
        }
    }
    Ok(kept)
}

/// A leg: the test binaries it runs, one after another, with their
/// arguments and environment.
struct Leg {
    name: &'static str,
    runs: Vec<Command>,
}

impl Leg {
    /// Starts the leg on a thread; the result says whether every run passed.
    fn spawn(self, logs: &Path) -> Result<std::thread::JoinHandle<Result<bool>>> {
        let log_path = logs.join(format!("{}.log", self.name));
        let log = std::fs::File::create(&log_path)?;
        Ok(std::thread::spawn(move || {
            let started = Instant::now();
            let mut passed = true;
            for mut run in self.runs {
                let status = run
                    .stdout(log.try_clone()?)
                    .stderr(log.try_clone()?)
                    .status()?;
                passed &= status.success();
            }
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            println!(
                "\n==== xtask: leg {} {} in {:.0} s ({}) ====\n{text}",
                self.name,
                if passed { "passed" } else { "FAILED" },
                started.elapsed().as_secs_f64(),
                log_path.display()
            );
            Ok(passed)
        }))
    }
}

/// The integration test binary of a build.
fn integration(binaries: &[TestBinary]) -> Result<&TestBinary> {
    binaries
        .iter()
        .find(|b| b.kind == "test" && b.name == "integration")
        .context("the integration test binary was not built")
}

fn run_binary(binary: &TestBinary, args: &[&str]) -> Command {
    let mut command = Command::new(&binary.executable);
    command.current_dir(&binary.package_dir).args(args);
    command
}

fn doc_tests(args: &[&str]) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["test", "--locked", "--doc"])
        .args(args)
        .status()?;
    if !status.success() {
        bail!("the doc tests failed ({})", args.join(" "));
    }
    Ok(())
}

/// Builds, runs the doc tests, then the three legs in parallel.
pub fn run(secantusd: Option<PathBuf>, pg18_bindir: &Path) -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let started = Instant::now();
    // No target selection: `cargo test` then builds the examples as the
    // programs the library tests run (`--examples` would build them as tests).
    let postgres_only = build(&[
        "--package",
        "schemactl",
        "--package",
        "schemactl-cli",
        "--no-default-features",
    ])?;
    let kept = keep_postgres_only_programs(&root)?;
    let workspace = build(&["--workspace"])?;
    doc_tests(&["--package", "schemactl", "--no-default-features"])?;
    doc_tests(&["--workspace"])?;
    eprintln!(
        "xtask: built and doc-tested in {:.0} s; the legs run in parallel",
        started.elapsed().as_secs_f64()
    );

    let mut first = Leg {
        name: "postgres-15",
        runs: Vec::new(),
    };
    for binary in &workspace {
        let mut command = run_binary(binary, &[]);
        if let Some(path) = &secantusd {
            command.env("SCHEMACTL_TEST_SECANTUSD", path);
        }
        first.runs.push(command);
    }
    let mut skips = vec!["--skip", "tls::"];
    for module in SERVER_FREE_MODULES {
        skips.extend(["--skip", module]);
    }
    let mut eighteen = run_binary(integration(&workspace)?, &skips);
    eighteen
        .env("SCHEMACTL_PG_BINDIR", pg18_bindir)
        .env("SCHEMACTL_TEST_EXPECT_PGVECTOR", "1");
    if let Some(path) = &secantusd {
        eighteen.env("SCHEMACTL_TEST_SECANTUSD", path);
    }
    let second = Leg {
        name: "postgres-18",
        runs: vec![eighteen],
    };
    let mut third = Leg {
        name: "postgresql-only",
        runs: Vec::new(),
    };
    for binary in postgres_only.iter().filter(|b| b.kind != "test") {
        third.runs.push(run_binary(binary, &[]));
    }
    let mut only = run_binary(integration(&postgres_only)?, POSTGRES_ONLY_MODULES);
    only.env("SCHEMACTL_TEST_BINARY", kept.join("schemactl"))
        .env("SCHEMACTL_TEST_EXAMPLES", kept.join("examples"));
    third.runs.push(only);

    let logs = root.join("target/xtask-test");
    let handles = [first, second, third]
        .into_iter()
        .map(|leg| leg.spawn(&logs))
        .collect::<Result<Vec<_>>>()?;
    let mut failed = 0;
    for handle in handles {
        let passed = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a leg panicked"))??;
        failed += usize::from(!passed);
    }
    eprintln!(
        "xtask: test done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        bail!("{failed} of 3 test legs failed (their logs are above)");
    }
    Ok(())
}
