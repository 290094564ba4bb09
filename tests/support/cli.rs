//! Running the real `schemactl` binary. Every run checks that the test
//! server's password appears nowhere in what it printed.

use super::server::PASSWORD_PREFIX;
use super::{Project, TestDb};
use std::process::{Command, Output};

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions that do not care which.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Its standard output read as JSON; panics with both streams when it is not.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// Panics with the output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `schemactl` in `project` against `db` with `args`.
pub fn schemactl(project: &Project, db: &TestDb, args: &[&str]) -> Run {
    let mut command = Command::new(crate::support::schemactl_binary());
    command
        .current_dir(project.path())
        .env("DATABASE_URL", &db.url)
        .args(args);
    run(command)
}

/// Runs `schemactl` with an explicit environment (no DATABASE_URL unless given).
pub fn run(mut command: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run schemactl");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(
        !run.output().contains(PASSWORD_PREFIX),
        "a password leaked into the output:\n{}",
        run.output()
    );
    assert!(
        !run.output().contains("panicked"),
        "schemactl panicked:\n{}",
        run.output()
    );
    run
}

/// A `schemactl` command with no database configured, in `project`.
pub fn command(project: &Project) -> Command {
    let mut command = Command::new(crate::support::schemactl_binary());
    command
        .current_dir(project.path())
        .env_remove("DATABASE_URL");
    command
}

/// Starts `count` runs of `make()` at the same moment and waits for all of them.
pub fn concurrently(count: usize, make: impl Fn() -> Command) -> Vec<Run> {
    let handles: Vec<_> = (0..count)
        .map(|_| {
            let command = make();
            std::thread::spawn(move || run(command))
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a run thread panicked"))
        .collect()
}
