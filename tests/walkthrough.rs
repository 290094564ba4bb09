//! The first hour of a new user, end to end, as one walk: the README's
//! main command on the shipped schema and what a user runs right after it
//! (`status`, `diff`, `lint`, `new`, `migrate`, a hotfix `rollback`), then
//! adopting a diesel project and a golang-migrate project with their own
//! history tables, `verify`, lint in CI and a small fleet. Each step checks
//! its exit code and the line a user reads.

use crate::support::cli::{self, Run};
use crate::support::{copy_tree, schemactl, server, Project, TestDb};

#[track_caller]
fn says(run: &Run, code: i32, text: &str) {
    run.expect_code(code);
    assert!(
        run.output().contains(text),
        "expected {text:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test]
async fn the_first_hour_end_to_end() {
    readme_quick_start_then_the_next_steps().await;
    adopting_a_diesel_project().await;
    adopting_a_golang_migrate_project().await;
    verify_lint_in_ci_and_a_small_fleet().await;
}

/// `cargo run --release -- migrate --dev` with `DATABASE_URL` set, then
/// what a user tries next on the shipped schema.
async fn readme_quick_start_then_the_next_steps() {
    let admin = server().admin_url();
    let db = server().database().await;
    let project = Project::new();
    copy_tree(
        &crate::support::repository().join("migrations"),
        &project.migrations(),
    );
    says(
        &schemactl(&project, &db, &["migrate", "--dev"]),
        0,
        "now at version 10",
    );
    says(
        &schemactl(&project, &db, &["migrate"]),
        0,
        "Nothing to migrate",
    );
    schemactl(&project, &db, &["status"]).expect_code(0);
    says(
        &schemactl(&project, &db, &["diff", "--dev-url", &admin]),
        0,
        "No drift",
    );
    says(&schemactl(&project, &db, &["lint"]), 0, "");
    let created = schemactl(&project, &db, &["new", "add agent notes"]);
    says(&created, 0, "0011_add_agent_notes.up.sql");
    project
        .write(
            "0011_add_agent_notes.up.sql",
            "CREATE TABLE agent_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);\n",
        )
        .write("0011_add_agent_notes.down.sql", "DROP TABLE agent_notes;\n");
    schemactl(&project, &db, &["lint"]).expect_code(0);
    says(
        &schemactl(&project, &db, &["migrate"]),
        0,
        "now at version 11",
    );
    says(
        &schemactl(&project, &db, &["rollback"]),
        0,
        "the next `schemactl migrate` applies 0011_add_agent_notes again",
    );
    assert!(!db.exists("agent_notes").await);
}

/// Runs each script of `files` (paths under the project's migrations) on
/// `db`, as the other tool did.
async fn applied_by_another_tool(db: &TestDb, project: &Project, files: &[&str], history: &str) {
    let client = db.client().await;
    for file in files {
        let sql = std::fs::read_to_string(project.migrations().join(file)).unwrap();
        client.batch_execute(&sql).await.unwrap();
    }
    client.batch_execute(history).await.unwrap();
}

async fn adopting_a_diesel_project() {
    let admin = server().admin_url();
    let db = server().database().await;
    let project = Project::fixture("layouts/diesel");
    applied_by_another_tool(
        &db,
        &project,
        &[
            "00000000000000_diesel_initial_setup/up.sql",
            "2017-09-23-182408_create_users/up.sql",
        ],
        "CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY, run_on timestamp NOT NULL DEFAULT now());
         INSERT INTO __diesel_schema_migrations (version) VALUES ('00000000000000'), ('20170923182408');",
    )
    .await;
    says(
        &schemactl(&project, &db, &["migrate"]),
        1,
        "baseline --from auto",
    );
    says(
        &schemactl(&project, &db, &["baseline", "--from", "auto"]),
        0,
        "2",
    );
    says(&schemactl(&project, &db, &["migrate"]), 0, "applied");
    says(
        &schemactl(&project, &db, &["diff", "--dev-url", &admin]),
        0,
        "No drift",
    );
    schemactl(&project, &db, &["validate"]).expect_code(0);
}

async fn adopting_a_golang_migrate_project() {
    let admin = server().admin_url();
    let db = server().database().await;
    let project = Project::fixture("layouts/golang-migrate");
    applied_by_another_tool(
        &db,
        &project,
        &["000001_create_users.up.sql", "000002_add_email.up.sql"],
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (2, false);",
    )
    .await;
    says(
        &schemactl(&project, &db, &["migrate"]),
        1,
        "schema_migrations",
    );
    schemactl(&project, &db, &["baseline", "--from", "auto"]).expect_code(0);
    says(
        &schemactl(&project, &db, &["migrate"]),
        0,
        "applied 000003_seed_admin",
    );
    says(
        &schemactl(&project, &db, &["diff", "--dev-url", &admin]),
        0,
        "No drift",
    );
    let admins: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM users WHERE name = 'admin'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(admins, 1, "the seed ran once, the adopted migrations none");
}

async fn verify_lint_in_ci_and_a_small_fleet() {
    let admin = server().admin_url();
    let db = server().database().await;
    let shop = Project::fixture("shop");
    says(
        &schemactl(&shop, &db, &["verify", "--dev-url", &admin]),
        0,
        "ok",
    );
    let bad = Project::fixture("lint_bad");
    let mut lint = cli::command(&bad);
    lint.args(["lint", "--format", "github"]).env("CI", "true");
    says(&cli::run(lint), 1, "::error");
    let tenants = shop.path().join("tenants.txt");
    std::fs::write(&tenants, "tenant_a\ntenant_b\ntenant_c\n").unwrap();
    let tenants = tenants.display().to_string();
    let fleet = |verb: &str| {
        let mut command = cli::command(&shop);
        command
            .env("DATABASE_URL", &db.url)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SCHEMACTL_SHARD")
            .args(["fleet", verb, "--tenant-schemas", &tenants]);
        cli::run(command)
    };
    says(&fleet("migrate"), 0, "3 done, 0 failed");
    says(&fleet("status"), 0, "versions: 3: 3");
}
