//! The first hour of a new user: `diff` on more than nine migrations of
//! every version kind, adopting a non-empty database (with another tool's
//! history or without), `baseline --version` limits, `new` in every layout,
//! fleet reports that keep the reason, and real projects' migrations
//! (`../shared/corpora`) run as they are.

use crate::support::cli;
use crate::support::{schemactl, server, Project, TestDb};
use std::path::Path;

/// Twelve migrations, each needing the one before it (a foreign key to
/// the previous table), named by `file(n)`; `folder` puts each in a diesel
/// folder.
fn chain(project: &Project, names: impl Fn(usize) -> (String, String)) {
    for n in 1..=12 {
        let reference = if n == 1 {
            String::new()
        } else {
            format!(", prev int REFERENCES t{} (id)", n - 1)
        };
        let (up, down) = names(n);
        let up_path = project.migrations().join(&up);
        std::fs::create_dir_all(up_path.parent().unwrap()).unwrap();
        std::fs::write(
            up_path,
            format!("CREATE TABLE t{n} (id int PRIMARY KEY{reference});\n"),
        )
        .unwrap();
        std::fs::write(
            project.migrations().join(&down),
            format!("DROP TABLE t{n};\n"),
        )
        .unwrap();
    }
}

#[tokio::test]
async fn diff_replays_in_version_order_whatever_the_versions_look_like() {
    let admin = server().admin_url();
    type Names = fn(usize) -> (String, String);
    let kinds: [(&str, Names); 4] = [
        ("padded integers", |n| {
            (
                format!("{n:04}_t{n}.up.sql"),
                format!("{n:04}_t{n}.down.sql"),
            )
        }),
        ("golang-migrate integers", |n| {
            (format!("{n}_t{n}.up.sql"), format!("{n}_t{n}.down.sql"))
        }),
        ("flyway dotted", |n| {
            (format!("V1.{n}__t{n}.sql"), format!("U1.{n}__t{n}.sql"))
        }),
        ("diesel", |n| {
            let folder = format!("2026-01-01-0000{n:02}_t{n}");
            (format!("{folder}/up.sql"), format!("{folder}/down.sql"))
        }),
    ];
    for (kind, names) in kinds {
        let db = server().database().await;
        let project = Project::new();
        chain(&project, names);
        schemactl(&project, &db, &["migrate"]).expect_code(0);
        let diff = schemactl(&project, &db, &["diff", "--dev-url", &admin]);
        diff.expect_code(0);
        assert!(
            diff.stdout.starts_with("No drift"),
            "{kind}: {}",
            diff.stdout
        );
    }
    // The same through `fleet diff`, over two databases.
    let project = Project::new();
    chain(&project, |n| {
        (format!("{n}_t{n}.up.sql"), format!("{n}_t{n}.down.sql"))
    });
    let (a, b) = (server().database().await, server().database().await);
    schemactl(&project, &a, &["migrate"]).expect_code(0);
    schemactl(&project, &b, &["migrate"]).expect_code(0);
    let file = project.path().join("targets.txt");
    std::fs::write(&file, format!("{}\n{}\n", a.url, b.url)).unwrap();
    let mut command = cli::command(&project);
    command.args([
        "fleet",
        "diff",
        "--targets",
        file.to_str().unwrap(),
        "--dev-url",
        &admin,
    ]);
    cli::run(command).expect_code(0);
}

#[tokio::test]
async fn a_replay_that_fails_has_its_own_exit_code_and_says_nothing_ran_live() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_t.up.sql", "CREATE TABLE t (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    // The live history says 0001 ran; its file no longer runs anywhere.
    db.client()
        .await
        .batch_execute("UPDATE schema_versions SET checksum = 'x'")
        .await
        .unwrap();
    project.write(
        "0001_t.up.sql",
        "CREATE TABLE t (id int REFERENCES nowhere);\n",
    );
    let diff = schemactl(&project, &db, &["diff", "--dev-url", &server().admin_url()]);
    diff.expect_code(6);
    assert!(
        diff.stderr.contains("nothing ran on the live database")
            && diff.stderr.contains("relation \"nowhere\" does not exist"),
        "{}",
        diff.stderr
    );
}

#[tokio::test]
async fn a_database_with_tables_but_no_history_is_refused_until_adopted() {
    let db = server().database().await;
    db.client()
        .await
        .batch_execute("CREATE TABLE legacy (id int)")
        .await
        .unwrap();
    let project = Project::fixture("shop");
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("already has tables (legacy)")
            && refused.stderr.contains("schemactl baseline --version")
            && refused.stderr.contains("--allow-non-empty"),
        "{}",
        refused.stderr
    );
    assert!(!db.exists("schema_versions").await, "nothing was changed");
    // Programs match the refusal's kind: in JSON, and from the library.
    let json = schemactl(&project, &db, &["migrate", "--format", "json"]);
    json.expect_code(1);
    assert_eq!(
        json.json()["error"]["details"]["refusal"],
        "not-adopted",
        "{}",
        json.stdout
    );
    let error = schemactl::Migrator::new(
        schemactl::source::Directory::new(project.migrations()),
        schemactl::config::RunOptions::default(),
    )
    .connect_with(schemactl::config::ConnectOptions::url(&db.url))
    .run(Default::default(), false, &mut |_| {})
    .await
    .unwrap_err();
    assert!(
        matches!(&error, schemactl::Error::Refused(r) if r.kind == schemactl::refusal::RefusalKind::NotAdopted),
        "{error:?}"
    );
    let status = schemactl(&project, &db, &["status"]);
    status.expect_code(0);
    assert!(
        status.stdout.contains("would refuse to start"),
        "{}",
        status.stdout
    );
    schemactl(&project, &db, &["validate"]).expect_code(1);
    schemactl(&project, &db, &["migrate", "--allow-non-empty"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
}

/// A database diesel migrated: its history table and the tables of the
/// diesel fixture's first two migrations.
async fn migrated_by_diesel(db: &TestDb) {
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY, run_on timestamp NOT NULL DEFAULT now());
             INSERT INTO __diesel_schema_migrations (version) VALUES ('00000000000000'), ('20170923182408');
             CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);",
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn another_tools_history_is_named_and_a_mistaken_first_run_can_be_taken_over() {
    let db = server().database().await;
    migrated_by_diesel(&db).await;
    let project = Project::fixture("layouts/diesel");
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("__diesel_schema_migrations")
            && refused.stderr.contains("baseline --from auto"),
        "{}",
        refused.stderr
    );
    // The mistake of earlier releases: diesel's always-succeeding setup
    // applied and recorded. `baseline --from` replaces that history.
    schemactl(
        &project,
        &db,
        &["migrate", "--allow-non-empty", "--to", "00000000000000"],
    )
    .expect_code(0);
    let adopted = schemactl(&project, &db, &["baseline", "--from", "auto"]);
    adopted.expect_code(0);
    let status = schemactl(&project, &db, &["status", "--format", "json"]).json();
    let baselined = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] == "baselined")
        .count();
    assert_eq!(baselined, 2, "{status:#}");
    // `diff` does not count diesel's history table as drift.
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let diff = schemactl(&project, &db, &["diff", "--dev-url", &server().admin_url()]);
    assert!(
        !diff.stdout.contains("__diesel_schema_migrations"),
        "{}",
        diff.stdout
    );
    // And a history that is wrong as a whole can be emptied, schema kept.
    schemactl(&project, &db, &["repair", "--forget-all"]).expect_code(2);
    let forgot = schemactl(&project, &db, &["repair", "--forget-all", "--yes"]);
    forgot.expect_code(0);
    let rows: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM schema_versions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
    assert!(db.exists("users").await && db.exists("posts").await);
}

#[tokio::test]
async fn baseline_version_is_refused_beyond_the_files_and_on_an_empty_database() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let empty = schemactl(&project, &db, &["baseline", "--version", "2"]);
    empty.expect_code(1);
    assert!(empty.stderr.contains("no tables yet"), "{}", empty.stderr);
    let beyond = schemactl(&project, &db, &["baseline", "--version", "99", "--force"]);
    beyond.expect_code(1);
    assert!(
        beyond.stderr.contains("beyond the newest migration"),
        "{}",
        beyond.stderr
    );
    schemactl(&project, &db, &["baseline", "--version", "2", "--force"]).expect_code(0);
}

/// The layout, version text and the names of what `new` wrote.
fn new_in(project: &Project, db: &TestDb) -> (String, Vec<String>) {
    let before = schemactl(project, db, &["status", "--format", "json"]).json();
    let created = schemactl(project, db, &["new", "add thing", "--format", "json"]);
    created.expect_code(0);
    let files = created.json();
    let after = schemactl(project, db, &["status", "--format", "json"]);
    after.expect_code(0);
    let after = after.json();
    assert_eq!(after["layout"], before["layout"], "new kept the layout");
    let count = |report: &serde_json::Value| report["migrations"].as_array().unwrap().len();
    assert_eq!(count(&after), count(&before) + 1, "{after:#}");
    let newest = after["migrations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(newest["state"], "pending", "{newest:#}");
    let names = ["up", "down"]
        .iter()
        .filter_map(|k| files[*k].as_str())
        .map(|p| {
            let path = Path::new(p);
            let parent = path.parent().and_then(Path::file_name).unwrap();
            match path.file_name().unwrap().to_str().unwrap() {
                "up.sql" | "down.sql" => format!(
                    "{}/{}",
                    parent.to_string_lossy(),
                    path.file_name().unwrap().to_string_lossy()
                ),
                name => name.to_string(),
            }
        })
        .collect();
    (after["layout"].as_str().unwrap().to_string(), names)
}

#[tokio::test]
async fn new_writes_the_next_migration_in_each_layout() {
    let db = server().database().await;
    for layout in [
        "diesel",
        "flyway",
        "dbmate",
        "goose",
        "sqlx",
        "golang-migrate",
    ] {
        let project = Project::fixture(&format!("layouts/{layout}"));
        let (read, names) = new_in(&project, &db);
        assert_eq!(read, layout);
        let ok = match layout {
            "flyway" => names == ["V2.11__add_thing.sql", "U2.11__add_thing.sql"],
            "dbmate" | "goose" => {
                names.len() == 2 && names[0] == names[1] && names[0].ends_with("_add_thing.sql")
            }
            "diesel" => {
                names[0].len() == "2026-12-03-081500_add_thing".len()
                    && names[1].ends_with("_add_thing/down.sql")
            }
            "sqlx" => names[0].ends_with("_add_thing.up.sql"),
            _ => names == ["000004_add_thing.up.sql", "000004_add_thing.down.sql"],
        };
        assert!(ok, "{layout}: {names:?}");
        // The files are placed as the layout's, and `validate` judges the
        // new script as `migrate` would: both refuse a script that still
        // holds only the comment `new` wrote (in a dbmate or goose file
        // too, between its section markers).
        let validate = schemactl(&project, &db, &["validate"]);
        let dry_run = schemactl(&project, &db, &["migrate", "--dry-run"]);
        assert_eq!(
            (
                validate.code,
                validate.stderr.contains("still holds only the comment")
            ),
            (
                dry_run.code,
                dry_run.stderr.contains("still holds only the comment")
            ),
            "{layout}: {}{}",
            validate.stderr,
            dry_run.stderr
        );
        assert_eq!(validate.code, 2, "{layout}: {}", validate.stderr);
        assert!(
            validate.stderr.contains("still holds only the comment"),
            "{layout}: {}",
            validate.stderr
        );
    }
}

/// Three migrations of which the fourth fails on a constraint.
fn failing_fleet_project() -> Project {
    let project = Project::new();
    project
        .write(
            "0001_accounts.up.sql",
            "CREATE TABLE accounts (id int PRIMARY KEY);\nINSERT INTO accounts VALUES (1);\n",
        )
        .write("0001_accounts.down.sql", "DROP TABLE accounts;\n")
        .write(
            "0002_name.up.sql",
            "ALTER TABLE accounts ADD COLUMN name text;\n",
        )
        .write(
            "0002_name.down.sql",
            "ALTER TABLE accounts DROP COLUMN name;\n",
        )
        .write(
            "0003_email.up.sql",
            "ALTER TABLE accounts ADD COLUMN email text;\n",
        )
        .write(
            "0003_email.down.sql",
            "ALTER TABLE accounts DROP COLUMN email;\n",
        );
    project
}

#[tokio::test]
async fn fleet_reports_keep_the_reason_and_the_version_of_failed_targets() {
    let project = failing_fleet_project();
    let (a, b) = (server().database().await, server().database().await);
    let file = project.path().join("targets.txt");
    std::fs::write(&file, format!("{}\n{}\n", a.url, b.url)).unwrap();
    let fleet = |args: &[&str]| {
        let mut command = cli::command(&project);
        command
            .arg("fleet")
            .args(args)
            .args(["--targets", file.to_str().unwrap()]);
        cli::run(command)
    };
    fleet(&["migrate"]).expect_code(0);
    project.write(
        "0004_nonneg.up.sql",
        "ALTER TABLE accounts\n  ADD CONSTRAINT nonneg CHECK (id < 0);\n",
    );
    let failed = fleet(&["migrate", "--max-failures", "0"]);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stdout.contains("is violated by some row")
            && failed.stdout.contains("0004_nonneg.up.sql:1:"),
        "the report keeps the cause and the place:\n{}",
        failed.stdout
    );
    assert!(
        failed.stdout.contains("versions: 3: 2"),
        "{}",
        failed.stdout
    );
    // `fleet status` fails when a target has a problem `status` reports.
    project.remove("0004_nonneg.up.sql");
    schemactl(&project, &a, &["rollback"]).expect_code(0);
    project.remove("0003_email.up.sql");
    project.remove("0003_email.down.sql");
    let status = fleet(&["status"]);
    status.expect_code(1);
    assert!(
        status
            .stdout
            .contains("version 3 is applied but its file is missing")
            || status.stdout.contains("missing"),
        "{}",
        status.stdout
    );
    // The ledger folder keeps itself out of git.
    let ignore = project.path().join(".schemactl/.gitignore");
    assert!(std::fs::read_to_string(ignore)
        .unwrap()
        .lines()
        .any(|l| l == "*"));
}

fn corpus(name: &str) -> Option<Project> {
    let source = crate::support::repository()
        .join("../shared/corpora")
        .join(name);
    if !source.is_dir() {
        eprintln!("skipped: {} is not here", source.display());
        return None;
    }
    let project = Project::new();
    crate::support::copy_tree(&source, &project.migrations());
    Some(project)
}

/// The corpora as they are. Kratos's folder is one of the directories its
/// migrations come from: from `20251105000000000003` on, its files need
/// columns that migrations kept elsewhere add, so it is migrated up to the
/// version before (`--to`), and verify stops there, naming it.
#[tokio::test]
async fn real_projects_run_as_they_are() {
    let admin = server().admin_url();
    for (name, layout, to) in [
        ("kratos", "pop", Some("20240318143139000000")),
        ("atuin", "sqlx", None),
    ] {
        let Some(project) = corpus(name) else {
            continue;
        };
        let db = server().database().await;
        let status = schemactl(&project, &db, &["status", "--format", "json"]);
        status.expect_code(0);
        let status = status.json();
        assert_eq!(status["layout"], layout, "{name}");
        let lint = schemactl(&project, &db, &["lint", "--format", "json"]);
        assert!(lint.code == 0 || lint.code == 1, "{name}: {}", lint.stderr);
        assert!(
            lint.json()["findings"].is_array(),
            "{name}: {}",
            lint.stdout
        );
        let mut migrate = vec!["migrate"];
        migrate.extend(to.iter().flat_map(|v| ["--to", v]));
        // Kratos's 20230920171028 needs the contrib extension btree_gin,
        // which the PostgreSQL 18 build of the test leg does not ship: there
        // the run must stop at that file, say why, and keep what came before.
        let btree_gin = db
            .client()
            .await
            .query_opt(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin'",
                &[],
            )
            .await
            .unwrap()
            .is_some();
        let run = schemactl(&project, &db, &migrate);
        if name == "kratos" && !btree_gin {
            run.expect_code(3);
            assert!(
                run.stderr
                    .contains("20230920171028000000_identity_search_index failed")
                    && run
                        .stderr
                        .contains("extension \"btree_gin\" is not available"),
                "{}",
                run.stderr
            );
        } else {
            run.expect_code(0);
        }
        if to.is_none() {
            schemactl(&project, &db, &["validate", "--fail-on-pending"]).expect_code(0);
        }
        let diff = schemactl(&project, &db, &["diff", "--dev-url", &admin]);
        diff.expect_code(0);
        assert!(
            diff.stdout.starts_with("No drift"),
            "{name}: {}",
            diff.stdout
        );
        let verify = schemactl(
            &project,
            &db,
            &["verify", "--dev-url", &admin, "--format", "json"],
        );
        assert!(
            verify.code == 0 || verify.code == 1,
            "{name}: verify ran ({}):\n{}",
            verify.code,
            verify.stderr
        );
        let results = verify.json()["results"].as_array().map_or(0, Vec::len);
        assert!(results > 10, "{name}: {}", verify.stdout);
        // `new` writes the next migration in the project's own layout.
        let created = schemactl(&project, &db, &["new", "add thing", "--format", "json"]).json();
        let up = created["up"].as_str().unwrap_or_default().to_string();
        let expected = if layout == "pop" {
            "_add_thing.postgres.up.sql"
        } else {
            "_add_thing.sql"
        };
        assert!(up.ends_with(expected), "{name}: {created}");
        let after = schemactl(&project, &db, &["status", "--format", "json"]).json();
        assert_eq!(after["layout"], layout, "{name}");
    }
}

#[tokio::test]
async fn a_missing_password_names_where_it_can_come_from_and_a_loose_pgpass() {
    let db = server().database().await;
    let without = regex::Regex::new(r"://([^:/@]+):[^@]*@")
        .unwrap()
        .replace(&db.url, "://$1@")
        .into_owned();
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(&pgpass, "*:*:*:*:wrong\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let project = Project::fixture("shop");
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &without)
        .env("HOME", home.path())
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .arg("status");
    let run = cli::run(command);
    run.expect_code(2);
    assert!(
        run.stderr.contains("PGPASSWORD")
            && run.stderr.contains(".pgpass")
            && run.stderr.contains("chmod 600"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn verify_in_ci_without_a_dev_url_refuses_instead_of_starting_a_server() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let mut command = cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .env("CI", "true")
        .arg("verify");
    let run = cli::run(command);
    run.expect_code(2);
    assert!(run.stderr.contains("--dev-url"), "{}", run.stderr);
    assert!(!project.path().join(".schemactl").exists());
}

#[tokio::test]
async fn a_hotfix_rollback_says_the_next_migrate_applies_the_file_again() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let run = schemactl(&project, &db, &["rollback"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("the next `schemactl migrate` applies")
            && run
                .stdout
                .contains("again unless the file is fixed or removed"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn schemactl_toml_is_found_from_a_subdirectory() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    std::fs::rename(project.migrations(), project.path().join("db")).unwrap();
    std::fs::write(
        project.path().join("schemactl.toml"),
        "migrations_dir = \"db\"\n",
    )
    .unwrap();
    let below = project.path().join("src/handlers");
    std::fs::create_dir_all(&below).unwrap();
    let mut command = cli::command(&project);
    command
        .current_dir(&below)
        .env("DATABASE_URL", &db.url)
        .args(["status", "--format", "json"]);
    let run = cli::run(command);
    run.expect_code(0);
    assert!(
        !run.json()["migrations"].as_array().unwrap().is_empty(),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn lint_for_github_annotates_files_the_layout_cannot_place() {
    let db = server().database().await;
    let project = Project::fixture("layouts/diesel");
    project.write("seed.sql", "INSERT INTO users DEFAULT VALUES;\n");
    let run = schemactl(&project, &db, &["lint", "--format", "github"]);
    assert!(
        run.stdout
            .contains("::warning file=migrations/seed.sql,title=migrations::"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(!run.stderr.contains("seed.sql"), "{}", run.stderr);
}

#[tokio::test]
async fn exclude_patterns_leave_objects_out_of_diff_and_dump() {
    let admin = server().admin_url();
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE audit_trail (id int PRIMARY KEY, at timestamptz);
             CREATE INDEX audit_trail_at ON audit_trail (at);
             COMMENT ON TABLE audit_trail IS 'kept by a trigger outside the migrations';",
        )
        .await
        .unwrap();
    let drift = schemactl(&project, &db, &["diff", "--dev-url", &admin]);
    drift.expect_code(1);
    assert!(drift.stdout.contains("audit_trail"), "{}", drift.stdout);
    // The table goes with its index, constraint and comment.
    let excluded = schemactl(
        &project,
        &db,
        &["diff", "--dev-url", &admin, "--exclude", "audit_*"],
    );
    excluded.expect_code(0);
    assert!(
        excluded.stdout.starts_with("No drift"),
        "{}",
        excluded.stdout
    );
    // A qualified pattern for another schema leaves it in.
    schemactl(
        &project,
        &db,
        &["diff", "--dev-url", &admin, "--exclude", "archive.audit_*"],
    )
    .expect_code(1);
    // The same from schemactl.toml, for dump too.
    std::fs::write(
        project.path().join("schemactl.toml"),
        "[verify]\nexclude = [\"public.audit_trail\"]\n",
    )
    .unwrap();
    schemactl(&project, &db, &["diff", "--dev-url", &admin]).expect_code(0);
    let dump = schemactl(&project, &db, &["dump"]);
    dump.expect_code(0);
    assert!(
        !dump.stdout.contains("audit_trail") && dump.stdout.contains("table public."),
        "{}",
        dump.stdout
    );
    std::fs::write(
        project.path().join("schemactl.toml"),
        "[verify]\nexclude = [\"\"]\n",
    )
    .unwrap();
    let empty = schemactl(&project, &db, &["dump"]);
    empty.expect_code(2);
    assert!(empty.stderr.contains("exclude"), "{}", empty.stderr);
}
