//! The test harness: one real PostgreSQL server per test binary (started on
//! first use in a temporary directory, on a random loopback port, with TLS),
//! a fresh database per test, and helpers to run the `schemactl` binary.

#[cfg(feature = "azure")]
pub mod azure;
#[cfg(any(feature = "mongodb", feature = "s3"))]
pub mod background;
pub mod certificates;
pub mod cli;
#[cfg(feature = "gcs")]
pub mod gcs;
#[cfg(feature = "mongodb")]
pub mod mongo;
#[cfg(any(feature = "azure", feature = "gcs"))]
pub mod object_cycle;
pub mod pgbouncer;
#[cfg(feature = "s3")]
pub mod s3;
pub mod server;

pub use cli::{schemactl, Run};
pub use server::{server, TestDb};

use std::path::{Path, PathBuf};

/// The `schemactl` binary under test: the one cargo built for this test
/// binary, or `SCHEMACTL_TEST_BINARY` (`cargo xtask test` passes the
/// PostgreSQL-only build's own copy, since both builds share `target/`).
pub fn schemactl_binary() -> PathBuf {
    std::env::var_os("SCHEMACTL_TEST_BINARY")
        .map_or_else(|| env!("CARGO_BIN_EXE_schemactl").into(), PathBuf::from)
}

/// A program the tests need: the path in the variable `variable`, else
/// Debian's `default`; a clear failure (naming `package`, which `cargo
/// xtask test` installs) when it is not there.
pub fn debian_program(variable: &str, default: &str, package: &str, for_what: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{for_what} need {package}: `apt-get install {package}` (cargo xtask test does), or {variable}"
    );
    path
}

/// The repository's root (the integration suite belongs to the `cli`
/// package, one folder below it).
pub fn repository() -> &'static Path {
    let cli_package = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli_package.parent().unwrap_or(cli_package)
}

/// An example program: built by `cargo test` beside the test binary, or in
/// `SCHEMACTL_TEST_EXAMPLES` (as [`schemactl_binary`]).
pub fn example(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("SCHEMACTL_TEST_EXAMPLES") {
        return PathBuf::from(dir).join(name);
    }
    std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
        .join(name)
}

/// A project directory for one test, with a `migrations/` folder.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty project.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("schemactl-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("migrations")).expect("migrations dir");
        Self { dir }
    }

    /// A project holding a copy of `tests/fixtures/<name>/migrations`.
    pub fn fixture(name: &str) -> Self {
        let project = Self::new();
        let source = repository().join("tests/fixtures").join(name);
        copy_tree(&source, &project.migrations());
        project
    }

    /// The project directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Its migrations directory.
    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Writes a migration file.
    pub fn write(&self, file_name: &str, content: impl AsRef<[u8]>) -> &Self {
        std::fs::write(self.migrations().join(file_name), content).expect("write migration");
        self
    }

    /// Deletes a migration file.
    pub fn remove(&self, file_name: &str) {
        std::fs::remove_file(self.migrations().join(file_name)).expect("remove migration");
    }
}

/// Replaces what changes from run to run (ports, database names, times,
/// durations, process ids, temp paths) so that output can be snapshot-tested.
pub fn stable(text: &str) -> String {
    let rules: [(&str, &str); 11] = [
        // The test legs run PostgreSQL 15 and 18.
        (
            r"= server: PostgreSQL [^\n]*",
            "= server: PostgreSQL [version]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"localhost:\d+", "localhost:[port]"),
        (r"/t\d+_\d+", "/[db]"),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[time]"),
        (r"(<1|\d+(\.\d)?) (ms|s)\b", "[duration]"),
        // A table pads the duration column to its widest value, which
        // varies from run to run.
        (r"\[duration\] {2,}", "[duration]  "),
        (r"pid \d+", "pid [pid]"),
        (
            r"pg_terminate_backend\(\d+\)",
            "pg_terminate_backend([pid])",
        ),
        (r"/tmp/schemactl-test-[^/\s]+/", "[project]/"),
        (r"schemactl_scratch_\d+_\d+", "schemactl_scratch_[n]"),
    ];
    let mut out = text.to_string();
    for (pattern, replacement) in rules {
        out = regex::Regex::new(pattern)
            .expect("filter")
            .replace_all(&out, replacement)
            .into_owned();
    }
    out
}

/// Copies the files and folders of `from` into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create fixture folder");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy fixture");
        }
    }
}
