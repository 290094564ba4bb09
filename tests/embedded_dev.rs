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
    let first = run(&["migrate"]);
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

    let status = run(&["dev", "status"]);
    assert!(
        status
            .stdout
            .starts_with("running: postgres://postgres:***@127.0.0.1:"),
        "{}",
        status.stdout
    );
    assert_eq!(run(&["dev", "stop"]).stdout, "stopped\n");

    let again = run(&["migrate"]);
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
