//! `baseline --from <tool>`: a database another tool migrated is adopted
//! from that tool's own history table, after which `migrate` applies only
//! what the tool had not. Each table is created with exactly the DDL of the
//! tool's source (cited per case) and filled as the tool fills it; the
//! schema the tool made is made by applying the same files (with a
//! throwaway schemactl history that is then dropped).

use crate::support::{schemactl, server, Project, TestDb};

struct Case {
    layout: &'static str,
    tool: &'static str,
    /// The version the tool got to (`migrate --to`).
    applied_to: &'static str,
    /// The tool's table, as its source creates it, and its rows.
    ddl: &'static str,
    /// Versions schemactl must record after the import.
    imported: &'static [i64],
    /// Versions `migrate` must apply afterwards.
    left: usize,
}

const CASES: &[Case] = &[
    Case {
        layout: "sqlx",
        tool: "sqlx",
        applied_to: "20240101000000",
        // sqlx-postgres/src/migrate.rs, ensure_migrations_table.
        ddl: "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
                  version BIGINT PRIMARY KEY,
                  description TEXT NOT NULL,
                  installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
                  success BOOLEAN NOT NULL,
                  checksum BYTEA NOT NULL,
                  execution_time BIGINT NOT NULL
              );
              INSERT INTO _sqlx_migrations VALUES
                  (20240101000000, 'create settings', '2024-01-01 10:00:00+00', true, '\\x0102', 12);",
        imported: &[20240101000000],
        left: 1,
    },
    Case {
        layout: "diesel",
        tool: "diesel",
        applied_to: "20170923182408",
        // diesel_migrations/src/migration/setup_migration_table.sql.
        ddl: "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
                  version VARCHAR(50) PRIMARY KEY NOT NULL,
                  run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
              );
              INSERT INTO __diesel_schema_migrations VALUES
                  ('00000000000000', '2017-09-23 18:24:00'),
                  ('20170923182408', '2017-09-23 18:25:00');",
        imported: &[0, 20170923182408],
        left: 2,
    },
    Case {
        layout: "golang-migrate",
        tool: "golang-migrate",
        applied_to: "2",
        // database/postgres/postgres.go, ensureVersionTable.
        ddl: "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null);
              INSERT INTO schema_migrations VALUES (2, false);",
        imported: &[1, 2],
        left: 1,
    },
    Case {
        layout: "dbmate",
        tool: "dbmate",
        applied_to: "20240102120000",
        // pkg/driver/postgres/postgres.go, CreateMigrationsTable.
        ddl: "create table if not exists schema_migrations (version varchar(128) primary key);
              insert into schema_migrations (version) values ('20240101120000'), ('20240102120000');",
        imported: &[20240101120000, 20240102120000],
        left: 1,
    },
    Case {
        layout: "goose",
        tool: "goose",
        applied_to: "2",
        // internal/dialect/dialectquery/postgres.go, CreateTable; version 0
        // is goose's own first row; 3 was applied and rolled back.
        ddl: "CREATE TABLE goose_db_version (
                  id serial NOT NULL,
                  version_id bigint NOT NULL,
                  is_applied boolean NOT NULL,
                  tstamp timestamp NULL default now(),
                  PRIMARY KEY(id)
              );
              INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false);",
        imported: &[1, 2],
        left: 1,
    },
    Case {
        layout: "flyway",
        tool: "flyway",
        applied_to: "1",
        // flyway-database-postgresql, createMetaDataTable.sql; a repeatable
        // row has no version.
        ddl: r#"CREATE TABLE "flyway_schema_history" (
                  "installed_rank" INT NOT NULL,
                  "version" VARCHAR(50),
                  "description" VARCHAR(200) NOT NULL,
                  "type" VARCHAR(20) NOT NULL,
                  "script" VARCHAR(1000) NOT NULL,
                  "checksum" INTEGER,
                  "installed_by" VARCHAR(100) NOT NULL,
                  "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
                  "execution_time" INTEGER NOT NULL,
                  "success" BOOLEAN NOT NULL
              );
              ALTER TABLE "flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
              INSERT INTO "flyway_schema_history" VALUES
                  (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 12345, 'app', '2024-02-01 09:00:00', 10, true),
                  (2, NULL, 'user names', 'SQL', 'R__user_names.sql', 999, 'app', '2024-02-01 09:00:01', 3, true);"#,
        imported: &[1],
        // 2, 2.9 and 2.10 (Flyway's dotted versions, in Flyway's order),
        // then the repeatable, whose Flyway checksum cannot be compared.
        left: 4,
    },
];

async fn adopt(case: &Case, db: &TestDb, project: &Project) {
    // What the tool did to the schema: the same files, applied.
    let staged = schemactl(
        project,
        db,
        &[
            "migrate",
            "--to",
            case.applied_to,
            "--history-table",
            "staging",
        ],
    );
    assert_eq!(staged.code, 0, "{}: {}", case.tool, staged.stderr);
    let client = db.client().await;
    client
        .batch_execute("DROP TABLE staging, staging_events")
        .await
        .unwrap();
    client.batch_execute(case.ddl).await.unwrap();
    if case.tool == "sqlx" {
        // sqlx's checksum: SHA-384 of the file's bytes.
        let file = project
            .migrations()
            .join("20240101000000_create_settings.sql");
        client
            .execute(
                "UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 20240101000000",
                &[&sqlx_checksum(&file)],
            )
            .await
            .unwrap();
    }
    if case.tool == "flyway" {
        let file = project.migrations().join("V1__create_users.sql");
        client
            .execute(
                "UPDATE flyway_schema_history SET checksum = $1 WHERE version = '1'",
                &[&flyway_checksum(&file)],
            )
            .await
            .unwrap();
    }
}

/// Flyway's checksum as its `ChecksumCalculator` computes it, written out
/// here bit by bit (java.util.zip.CRC32, polynomial 0xEDB88320) so that the
/// test does not lean on the code it tests: the CRC of every line without
/// its line end, as a signed 32-bit integer.
fn flyway_checksum(file: &std::path::Path) -> i32 {
    let text = std::fs::read_to_string(file).unwrap();
    let mut crc = !0u32;
    for line in text.lines() {
        for byte in line.trim_start_matches('\u{feff}').bytes() {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc as i32
}

fn sqlx_checksum(file: &std::path::Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha384::digest(std::fs::read(file).unwrap()).to_vec()
}

#[tokio::test]
async fn each_tools_history_is_imported_and_migrate_applies_only_the_rest() {
    for case in CASES {
        let db = server().database().await;
        let project = Project::fixture(&format!("layouts/{}", case.layout));
        adopt(case, &db, &project).await;
        let what = case.tool;

        let dry = schemactl(&project, &db, &["baseline", "--from", "auto", "--dry-run"]);
        assert_eq!(dry.code, 0, "{what}: {}", dry.stderr);
        assert!(
            dry.stdout.contains("nothing was changed"),
            "{what}: {}",
            dry.stdout
        );
        assert!(
            !db.exists("schema_versions").await,
            "{what}: the dry run wrote"
        );

        let run = schemactl(&project, &db, &["baseline", "--from", case.tool]);
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
        let recorded: Vec<i64> = db
            .client()
            .await
            .query(
                "SELECT version::bigint FROM schema_versions ORDER BY version::bigint",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(recorded, case.imported, "{what}");

        let migrate = schemactl(&project, &db, &["migrate", "--format", "json"]);
        assert_eq!(migrate.code, 0, "{what}: {}", migrate.stderr);
        let report: serde_json::Value = serde_json::from_str(&migrate.stdout).unwrap();
        assert_eq!(
            report["executed"].as_array().map(Vec::len),
            Some(case.left),
            "{what}: {}",
            migrate.stdout
        );
    }
}

#[tokio::test]
async fn imports_keep_the_tools_time_and_checksum_and_leave_its_table_alone() {
    let db = server().database().await;
    let project = Project::fixture("layouts/sqlx");
    adopt(&CASES[0], &db, &project).await;
    schemactl(&project, &db, &["baseline", "--from", "sqlx"]).expect_code(0);
    let applied_at: String = db
        .scalar("SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM schema_versions")
        .await;
    assert_eq!(applied_at, "2024-01-01 10:00");
    let detail: String = db
        .scalar("SELECT detail FROM schema_versions_events WHERE event = 'baselined'")
        .await;
    let file = project
        .migrations()
        .join("20240101000000_create_settings.sql");
    let recorded: String = sqlx_checksum(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        detail.contains(&format!("sqlx checksum {recorded}")),
        "{detail}"
    );
    let untouched: i64 = db.scalar("SELECT count(*) FROM _sqlx_migrations").await;
    assert_eq!(untouched, 1);
}

#[tokio::test]
async fn a_file_edited_since_its_tool_applied_it_is_not_imported() {
    let flyway = CASES.iter().find(|c| c.tool == "flyway").unwrap();
    for (case, file, how) in [
        (&CASES[0], "20240101000000_create_settings.sql", "SHA-384"),
        (flyway, "V1__create_users.sql", "CRC-32"),
    ] {
        let db = server().database().await;
        let project = Project::fixture(&format!("layouts/{}", case.layout));
        adopt(case, &db, &project).await;
        let path = project.migrations().join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        // A line ending more: sqlx's checksum sees it, Flyway's does not
        // (it checksums lines, not line ends), so Flyway would run on.
        std::fs::write(&path, format!("{original}\n")).unwrap();
        let run = schemactl(
            &project,
            &db,
            &["baseline", "--from", case.tool, "--dry-run"],
        );
        if case.tool == "flyway" {
            run.expect_code(0);
        } else {
            run.expect_code(1);
        }
        // A changed word: both tools refuse it.
        std::fs::write(
            &path,
            original.replacen("CREATE TABLE", "CREATE UNLOGGED TABLE", 1),
        )
        .unwrap();
        let run = schemactl(&project, &db, &["baseline", "--from", case.tool]);
        run.expect_code(1);
        assert!(
            run.stderr
                .contains(&format!("{} applied version", case.tool))
                && run.stderr.contains(how)
                && run.stderr.contains(file),
            "{}: {}",
            case.tool,
            run.stderr
        );
        assert!(!db.exists("schema_versions").await, "nothing was recorded");
    }
}

#[tokio::test]
async fn a_flyway_repeatable_is_imported_only_while_flyway_would_not_run_it_again() {
    let flyway = CASES.iter().find(|c| c.tool == "flyway").unwrap();
    for (checksum_of_the_file, runs_again) in [(true, false), (false, true)] {
        let db = server().database().await;
        let project = Project::fixture("layouts/flyway");
        adopt(flyway, &db, &project).await;
        let file = project.migrations().join("R__app_release.sql");
        let checksum = if checksum_of_the_file {
            flyway_checksum(&file)
        } else {
            flyway_checksum(&file) ^ 1
        };
        // An older run of it, then the latest, which Flyway compares with.
        db.client()
            .await
            .execute(
                "INSERT INTO flyway_schema_history VALUES \
                 (3, NULL, 'app release', 'SQL', 'R__app_release.sql', 7, 'app', '2024-02-01 09:00:02', 1, true), \
                 (4, NULL, 'app release', 'SQL', 'R__app_release.sql', $1, 'app', '2024-02-01 09:00:03', 1, true)",
                &[&checksum],
            )
            .await
            .unwrap();
        schemactl(&project, &db, &["baseline", "--from", "flyway"]).expect_code(0);
        let imported: i64 = db
            .scalar("SELECT count(*) FROM schema_versions WHERE version = 'R__app_release'")
            .await;
        assert_eq!(
            imported,
            i64::from(!runs_again),
            "checksum of the file: {checksum_of_the_file}"
        );
        schemactl(&project, &db, &["migrate"]).expect_code(0);
        let ran: bool = db
            .scalar("SELECT to_regprocedure('app_release()') IS NOT NULL")
            .await;
        assert_eq!(
            ran, runs_again,
            "checksum of the file: {checksum_of_the_file}"
        );
    }
}

#[tokio::test]
async fn what_cannot_be_imported_is_refused_with_the_fix() {
    let db = server().database().await;
    let project = Project::fixture("layouts/golang-migrate");
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null);
             INSERT INTO schema_migrations VALUES (2, true);",
        )
        .await
        .unwrap();
    let dirty = schemactl(&project, &db, &["baseline", "--from", "golang-migrate"]);
    dirty.expect_code(1);
    assert!(
        dirty.stderr.contains("dirty at version 2") && dirty.stderr.contains("migrate force"),
        "{}",
        dirty.stderr
    );
    // golang-migrate's -1 is "nothing applied": nothing is baselined.
    client
        .batch_execute("UPDATE schema_migrations SET version = -1, dirty = false")
        .await
        .unwrap();
    let nothing = schemactl(
        &project,
        &db,
        &["baseline", "--from", "golang-migrate", "--format", "json"],
    );
    assert!(
        !nothing.output().contains("was at version 1"),
        "{}",
        nothing.output()
    );
    let recorded: i64 = if db.exists("schema_versions").await {
        db.scalar("SELECT count(*) FROM schema_versions").await
    } else {
        0
    };
    assert_eq!(recorded, 0, "{}", nothing.output());
    // A NULL dirty flag is read as dirty, not a panic.
    client
        .batch_execute(
            "ALTER TABLE schema_migrations ALTER COLUMN dirty DROP NOT NULL;
             UPDATE schema_migrations SET version = 2, dirty = NULL",
        )
        .await
        .unwrap();
    let null = schemactl(&project, &db, &["baseline", "--from", "golang-migrate"]);
    null.expect_code(1);
    assert!(
        null.stderr.contains("dirty at version 2"),
        "{}",
        null.stderr
    );
    // Two rows: golang-migrate never writes that.
    client
        .batch_execute("UPDATE schema_migrations SET dirty = false; INSERT INTO schema_migrations VALUES (3, false)")
        .await
        .unwrap();
    let two = schemactl(&project, &db, &["baseline", "--from", "golang-migrate"]);
    two.expect_code(1);
    assert!(
        two.stderr.contains("2 rows") && two.stderr.contains("exactly one"),
        "{}",
        two.stderr
    );
    client
        .batch_execute("DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (7, false); DROP TABLE IF EXISTS schema_versions CASCADE; DROP TABLE IF EXISTS schema_versions_events")
        .await
        .unwrap();
    let unknown = schemactl(&project, &db, &["baseline", "--from", "auto"]);
    unknown.expect_code(1);
    assert!(
        unknown
            .stderr
            .contains("version 7 but the migrations directory has no file for it"),
        "{}",
        unknown.stderr
    );
    assert!(!db.exists("schema_versions").await);
    client
        .batch_execute("CREATE TABLE goose_db_version (id serial, version_id bigint, is_applied boolean, tstamp timestamp)")
        .await
        .unwrap();
    let several = schemactl(&project, &db, &["baseline", "--from", "auto"]);
    several.expect_code(1);
    assert!(
        several.stderr.contains("--from <tool>"),
        "{}",
        several.stderr
    );
}
