//! schemactl as a library: migrations compiled into an application with
//! `embed_migrations!` and applied at start-up, agreeing with the CLI.

use crate::support::{example, schemactl, server, Project};

#[test]
fn embedded_migrations_are_read_as_the_cli_reads_the_directory() {
    let embedded = schemactl::embed_migrations!("../tests/fixtures/shop")
        .migrations()
        .unwrap();
    let dir = crate::support::repository().join("tests/fixtures/shop");
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
    let example = example("embedded_migrations");
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
        first.starts_with("applied 10 migration(s); now at version 10"),
        "{first}"
    );
    // The CLI, on the repository's own migrations directory, sees the same
    // history with the same checksums, and nothing pending.
    let project = Project::new();
    std::fs::remove_dir(project.migrations()).unwrap();
    let shipped = crate::support::repository().join("migrations");
    let dir = shipped.to_str().unwrap();
    schemactl(
        &project,
        &db,
        &["validate", "--fail-on-pending", "--migrations-dir", dir],
    )
    .expect_code(0);
    let second = start();
    assert!(
        second.starts_with("schema up to date (version 10)"),
        "{second}"
    );
    let events: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE event = 'applied'")
        .await;
    assert_eq!(events, 10, "the second start applied nothing");
}

#[tokio::test]
async fn an_application_migrates_on_a_spawned_task() {
    // The example compiles only while the migration's future is `Send`.
    let db = server().database().await;
    let example = example("spawned_migrator");
    let output = std::process::Command::new(&example)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", example.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success()
            && stdout.starts_with("migrated on a spawned task: 10 applied; now at version 10"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db.exists("schema_versions").await);
}

#[tokio::test]
async fn a_migrator_runs_any_source_on_the_applications_connection() {
    use schemactl::config::RunOptions;
    use schemactl::runner::{MigrateOptions, RollbackTarget, State};
    use schemactl::source::InMemory;
    use schemactl::Migrator;
    let db = server().database().await;
    let client = db.client().await;
    let source = InMemory::new("generated")
        .with_file(
            "0001_tenant.up.sql",
            "CREATE TABLE tenant (id bigint PRIMARY KEY);",
        )
        .with_file("0001_tenant.down.sql", "DROP TABLE tenant;")
        .with_file(
            "0002_tenant_name.up.sql",
            "ALTER TABLE tenant ADD COLUMN name text;",
        )
        .with_file(
            "0002_tenant_name.down.sql",
            "ALTER TABLE tenant DROP COLUMN name;",
        );
    let migrator = Migrator::new(source, RunOptions::default()).on(&client);
    let before = migrator.status(false, &mut |_| {}).await.unwrap();
    assert_eq!(before.count(State::Pending), 2);
    assert!(!db.exists("schema_versions").await, "status only reads");
    let mut heard = Vec::new();
    let report = migrator
        .run(MigrateOptions::default(), false, &mut |notice| {
            heard.push(format!("{notice:?}"))
        })
        .await
        .unwrap();
    assert_eq!(report.executed.len(), 2);
    assert_eq!(report.current_version, Some(2.into()));
    assert!(
        heard.iter().any(|n| n.contains("0002_tenant_name")),
        "{heard:?}"
    );
    let validation = migrator.validate(true, false, &mut |_| {}).await.unwrap();
    assert!(validation.ok, "{:?}", validation.report.problems);
    let undone = migrator
        .undo(RollbackTarget::Steps(1), false, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(undone.executed[0].label, "0002_tenant_name");
    assert_eq!(undone.current_version, Some(1.into()));
    let columns: i64 = db
        .scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'tenant'")
        .await;
    assert_eq!(columns, 1, "the down ran");
}

#[tokio::test]
async fn a_verifier_round_trips_any_source_and_counts_its_progress_in_migrations() {
    use schemactl::runner::notice::Notice;
    use schemactl::source::InMemory;
    let db = server().database().await;
    let source = InMemory::new("generated")
        .with_file("0001_a.up.sql", "CREATE TABLE a (id bigint PRIMARY KEY);")
        .with_file("0001_a.down.sql", "DROP TABLE a;")
        .with_file("0002_b.up.sql", "ALTER TABLE a ADD COLUMN b text;")
        .with_file("0002_b.down.sql", "ALTER TABLE a DROP COLUMN b;");
    let mut settings = schemactl::config::Settings::defaults().unwrap();
    settings.verify.dev_url = Some(db.url.clone());
    let verifier = schemactl::verify::Verifier::new(source, settings).with_jobs(1);
    let mut progress = Vec::new();
    let report = verifier
        .verify(None, &mut |notice| {
            if let Notice::Progress {
                task,
                done,
                total,
                bytes,
            } = notice
            {
                progress.push((task.to_string(), done, total, bytes));
            }
        })
        .await
        .unwrap();
    assert!(!report.failed(), "{report:?}");
    assert_eq!(report.results.len(), 2);
    let verifying = |done| ("verifying".to_string(), done, Some(2), false);
    assert_eq!(progress, vec![verifying(1), verifying(2)]);
}

#[tokio::test]
async fn an_application_sets_timeouts_as_checked_values_never_as_text_read_as_zero() {
    use schemactl::config::{RunOptions, ServerTimeout};
    use schemactl::runner::MigrateOptions;
    use schemactl::source::InMemory;
    use schemactl::Migrator;
    // "30" (no unit) was once kept as text and run as no limit at all.
    let refused = "30".parse::<ServerTimeout>().unwrap_err();
    assert!(refused.contains("no unit"), "{refused}");
    assert!(
        "30d".parse::<ServerTimeout>().is_err(),
        "beyond the server's range"
    );
    let db = server().database().await;
    let client = db.client().await;
    let mut options = RunOptions::default();
    options.execution.lock_timeout =
        ServerTimeout::from_duration(std::time::Duration::from_secs(30)).unwrap();
    options.execution.statement_timeout = "2min".parse().unwrap();
    let source = InMemory::new("generated").with_file(
        "0001_seen.up.sql",
        "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lock_timeout, \
         current_setting('statement_timeout') AS statement_timeout;",
    );
    Migrator::new(source, options)
        .on(&client)
        .run(MigrateOptions::default(), false, &mut |_| {})
        .await
        .unwrap();
    let seen: String = db
        .scalar("SELECT lock_timeout || ' ' || statement_timeout FROM seen")
        .await;
    assert_eq!(seen, "30s 2min");
}

#[tokio::test]
async fn embedded_migrations_connect_by_url_and_a_broken_source_changes_nothing() {
    let db = server().database().await;
    let report = schemactl::embed_migrations!("../tests/fixtures/shop")
        .run_url(&db.url)
        .await
        .unwrap();
    assert!(!report.executed.is_empty());
    assert!(
        !report.database.contains(&db.password),
        "the password is never shown: {}",
        report.database
    );
    let again = schemactl::embed_migrations!("../tests/fixtures/shop")
        .run_url(&db.url)
        .await
        .unwrap();
    assert!(again.executed.is_empty());

    let fresh = server().database().await;
    let broken = schemactl::source::InMemory::new("broken")
        .with_file("0001_ok.up.sql", "CREATE TABLE ok (id int);")
        .with_file("0001_again.up.sql", "CREATE TABLE again (id int);");
    let error = schemactl::Migrator::new(broken, schemactl::config::RunOptions::default())
        .connect_with(schemactl::config::ConnectOptions::url(&fresh.url))
        .run(Default::default(), false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("0001"),
        "a duplicate version is named: {error}"
    );
    assert!(!fresh.exists("ok").await && !fresh.exists("schema_versions").await);
}

/// Every future of the library's facade can run on a spawned task: checked
/// by the compiler (this function is never called).
#[allow(dead_code, clippy::too_many_arguments)]
fn the_facades_futures_are_send(
    migrator: &schemactl::Migrator<'_>,
    verifier: &schemactl::verify::Verifier,
    embedded: schemactl::source::embedded::EmbeddedMigrations,
    client: &tokio_postgres::Client,
    settings: &schemactl::config::Settings,
    options: &schemactl::config::RunOptions,
    baseline: &schemactl::runner::BaselineSource,
    repair: schemactl::runner::Repair,
    mongodb: schemactl::mongo::report::MongoOptions,
) {
    fn send<T: Send>(_: T) {}
    let notify = &mut |_: schemactl::runner::notice::Notice| {};
    send(migrator.run(Default::default(), false, notify));
    send(migrator.undo(
        schemactl::runner::RollbackTarget::Steps(1),
        false,
        false,
        notify,
    ));
    send(migrator.status(false, notify));
    send(migrator.validate(false, false, notify));
    send(migrator.baseline(baseline, false, notify));
    send(migrator.repair(repair, notify));
    send(embedded.run(client));
    send(embedded.run_with(client, options, notify));
    send(embedded.run_url(""));
    send(verifier.verify(None, notify));
    let deployment = schemactl::deploy::Deployment::of(settings);
    send(deployment.migrate(Default::default(), mongodb, None, notify));
    send(deployment.status(notify));
    send(deployment.verify_mongodb());
}
