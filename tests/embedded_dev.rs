//! The development default: no URL at all starts a PostgreSQL of schemactl's
//! own under `.schemactl/`, kept between runs.

use crate::support::{cli, Project};

#[test]
fn migrate_without_a_url_uses_the_embedded_server() {
    let project = Project::fixture("shop");
    let run = |args: &[&str]| {
        let mut command = cli::command(&project);
        command.args(args);
        cli::run(command)
    };
    let first = run(&["migrate", "--dev"]);
    first.expect_code(0);
    assert!(
        first
            .stderr
            .contains("creating the embedded development PostgreSQL"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stdout
            .contains("Applied 3 migration(s) on postgres://postgres:***@127.0.0.1:"),
        "{}",
        first.stdout
    );
    assert!(project
        .path()
        .join(".schemactl/postgres/data/PG_VERSION")
        .is_file());
    assert_eq!(
        std::fs::read_to_string(project.path().join(".schemactl/.gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*"),
        "the server's data and password stay out of git"
    );

    let status = run(&["dev", "status"]);
    assert!(
        status
            .stdout
            .starts_with("running: postgres://postgres:***@127.0.0.1:"),
        "{}",
        status.stdout
    );
    assert_eq!(run(&["dev", "stop"]).stdout, "stopped\n");

    let again = run(&["migrate", "--dev"]);
    again.expect_code(0);
    assert!(
        again
            .stderr
            .contains("starting the embedded development PostgreSQL"),
        "{}",
        again.stderr
    );
    assert!(
        again.stdout.starts_with("Nothing to migrate"),
        "{}",
        again.stdout
    );

    run(&["dev", "reset"]).expect_code(0);
    assert!(!project.path().join(".schemactl/postgres").exists());
    assert_eq!(
        run(&["dev", "status"])
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .split(' ')
            .next(),
        Some("not")
    );
}

#[test]
fn without_a_url_or_dev_nothing_is_started_and_the_run_fails() {
    let project = Project::fixture("shop");
    for ci in [Some("true"), None] {
        let mut command = cli::command(&project);
        command.arg("migrate");
        match ci {
            Some(value) => command.env("CI", value),
            None => command.env_remove("CI"),
        };
        // The test's stdin is not a terminal: no development server either way.
        let run = cli::run(command);
        run.expect_code(2);
        assert!(
            run.stderr.contains("no database to work on"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--dev"), "{}", run.stderr);
        assert!(
            !project.path().join(".schemactl").exists(),
            "nothing may be created"
        );
    }
    // The library never starts one on its own either.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut settings = schemactl::config::Settings::default();
    settings.project.migrations_dir = project.migrations();
    let error = runtime
        .block_on(schemactl::Migrator::of_project(&settings).run(
            Default::default(),
            false,
            &mut |_| {},
        ))
        .unwrap_err();
    assert!(matches!(error, schemactl::Error::NoDatabase), "{error}");
}

#[test]
fn input_is_checked_before_the_development_server_is_started() {
    let project = Project::new();
    std::fs::remove_dir(project.migrations()).unwrap();
    let mut command = cli::command(&project);
    command.args(["validate", "--dev"]);
    let run = cli::run(command);
    run.expect_code(2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(
        !project.path().join(".schemactl/postgres").exists(),
        "no server for a command that cannot run"
    );
}

#[test]
fn a_failing_command_stops_the_server_it_started() {
    let project = Project::new();
    project.write("0001_broken.up.sql", "SELECT 1 / 0;\n");
    let mut command = cli::command(&project);
    command.args(["migrate", "--dev"]);
    let run = cli::run(command);
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("starting the embedded development PostgreSQL"),
        "{}",
        run.stderr
    );
    let mut command = cli::command(&project);
    command.args(["dev", "status"]);
    let status = cli::run(command);
    assert!(
        status.stdout.starts_with("not running"),
        "{}",
        status.stdout
    );
    let mut command = cli::command(&project);
    command.args(["dev", "reset"]);
    cli::run(command).expect_code(0);
}
