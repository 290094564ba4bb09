//! TLS: every sslmode against a server with `ssl = on` and a test CA, and
//! the errors users get when TLS does not work out.

use crate::support::server::{self, server};
use crate::support::{schemactl, Project, TestDb};
use schemactl::postgres::DatabaseTarget;

async fn uses_tls(url: &str) -> bool {
    let client = DatabaseTarget::parse(url)
        .unwrap()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

fn ca(db: &TestDb) -> String {
    let _ = db;
    server().ca_file.display().to_string()
}

#[tokio::test]
async fn every_sslmode_behaves_as_libpq_documents() {
    let db = server().database().await;
    assert!(!uses_tls(&db.url_with("127.0.0.1", "sslmode=disable")).await);
    assert!(uses_tls(&db.url_with("127.0.0.1", "sslmode=prefer")).await);
    assert!(uses_tls(&db.url_with("127.0.0.1", "sslmode=require")).await);
    let verify_ca = format!("sslmode=verify-ca&sslrootcert={}", ca(&db));
    assert!(
        uses_tls(&db.url_with("127.0.0.1", &verify_ca)).await,
        "verify-ca ignores the host name"
    );
    let verify_full = format!("sslmode=verify-full&sslrootcert={}", ca(&db));
    assert!(uses_tls(&db.url_with("localhost", &verify_full)).await);
}

#[tokio::test]
async fn certificates_that_do_not_verify_are_refused_with_the_reason() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let other_ca = format!(
        "sslmode=verify-ca&sslrootcert={}",
        server().other_ca_file.display()
    );
    let run = schemactl(
        &project,
        &db,
        &[
            "status",
            "--database-url",
            &db.url_with("127.0.0.1", &other_ca),
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains("not signed by the CA in sslrootcert"),
        "{}",
        run.stderr
    );

    let wrong_host = format!("sslmode=verify-full&sslrootcert={}", ca(&db));
    let run = schemactl(
        &project,
        &db,
        &[
            "status",
            "--database-url",
            &db.url_with("127.0.0.1", &wrong_host),
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains("does not name this host"),
        "{}",
        run.stderr
    );

    let missing = db.url_with("localhost", "sslmode=verify-full");
    let mut command = crate::support::cli::command(&project);
    command
        .env("HOME", project.path())
        .env_remove("PGSSLROOTCERT")
        .args(["status", "--database-url", &missing]);
    let run = crate::support::cli::run(command);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("need the CA certificate that signed the server's"),
        "{}",
        run.stderr
    );
    assert!(!db.exists("schema_versions").await);
}

#[tokio::test]
async fn migrate_works_over_verified_tls() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let url = db.url_with(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca(&db)),
    );
    schemactl(&project, &db, &["migrate", "--database-url", &url]).expect_code(0);
    assert_eq!(
        db.scalar::<i64>("SELECT count(*) FROM schema_versions")
            .await,
        3
    );
}

#[tokio::test]
async fn requiring_tls_from_a_server_without_it_fails_clearly() {
    let plain = server::start(false);
    let db = plain.database().await;
    let project = Project::fixture("shop");
    let run = schemactl(
        &project,
        &db,
        &[
            "status",
            "--database-url",
            &db.url_with("127.0.0.1", "sslmode=require"),
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains("the server does not accept TLS"),
        "{}",
        run.stderr
    );
    schemactl(
        &project,
        &db,
        &[
            "status",
            "--database-url",
            &db.url_with("127.0.0.1", "sslmode=prefer"),
        ],
    )
    .expect_code(0);
}

#[tokio::test]
async fn libpq_variables_name_the_target_and_the_password_is_never_printed() {
    let db = crate::support::server().database().await;
    let url = url::Url::parse(&db.url).unwrap();
    let project = crate::support::Project::fixture("shop");
    let port = url.port().unwrap().to_string();
    let mut command = crate::support::cli::command(&project);
    command
        .env("PGHOST", url.host_str().unwrap())
        .env("PGPORT", &port)
        .env("PGUSER", url.username())
        .env("PGPASSWORD", &db.password)
        .env("PGDATABASE", &db.name)
        .env("PGSSLMODE", "disable")
        .args(["migrate"]);
    let run = crate::support::cli::run(command);
    run.expect_code(0);
    assert!(
        run.stdout.contains(&format!(
            "on postgres://postgres:***@127.0.0.1:{port}/{}?sslmode=disable",
            db.name
        )),
        "{}",
        run.stdout
    );
    assert!(db.exists("customers").await);
    // A wrong password from the environment: refused, and still not printed.
    let mut command = crate::support::cli::command(&project);
    command
        .env("PGHOST", url.host_str().unwrap())
        .env("PGPORT", &port)
        .env("PGUSER", url.username())
        .env("PGPASSWORD", format!("{}-wrong", db.password))
        .env("PGDATABASE", &db.name)
        .args(["status"]);
    crate::support::cli::run(command).expect_code(2);
}
