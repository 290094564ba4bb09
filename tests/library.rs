//! schemactl as a library: migrations compiled into an application with
//! `embed_migrations!` and applied at start-up, agreeing with the CLI.

use crate::support::{schemactl, server, Project};

#[test]
fn embedded_migrations_are_read_as_the_cli_reads_the_directory() {
    let embedded = schemactl::embed_migrations!("tests/fixtures/shop")
        .migrations()
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop");
    let read =
        schemactl::source::MigrationSource::load(&schemactl::source::Directory::new(&dir)).unwrap();
    assert_eq!(embedded.len(), read.len());
    for (a, b) in embedded.iter().zip(&read) {
        assert_eq!(a.label(), b.label());
        assert_eq!(a.up.checksum, b.up.checksum);
        assert_eq!(
            a.down.as_ref().map(|d| &d.checksum),
            b.down.as_ref().map(|d| &d.checksum)
        );
    }
}

#[tokio::test]
async fn an_application_applies_its_embedded_migrations_and_the_cli_agrees() {
    let db = server().database().await;
    let example = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples/embedded_migrations");
    assert!(
        example.is_file(),
        "{} is built by `cargo test`",
        example.display()
    );
    let start = || {
        let output = std::process::Command::new(&example)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let first = start();
    assert!(
        first.starts_with("applied 9 migration(s); now at version 9"),
        "{first}"
    );
    // The CLI, on the repository's own migrations directory, sees the same
    // history with the same checksums, and nothing pending.
    let project = Project::new();
    std::fs::remove_dir(project.migrations()).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let dir = shipped.to_str().unwrap();
    schemactl(
        &project,
        &db,
        &["validate", "--fail-on-pending", "--migrations-dir", dir],
    )
    .expect_code(0);
    let second = start();
    assert!(
        second.starts_with("schema up to date (version 9)"),
        "{second}"
    );
    let events: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'applied'")
        .await;
    assert_eq!(events, 9, "the second start applied nothing");
}
