//! What schemactl records must be what happened: the hostile inputs of
//! issue 10, each against the real server. A migration is never recorded as
//! applied when it was not (or the reverse), odd history tables and closed
//! pipes never panic, and no password is printed (every run checks that).

use crate::support::cli::{command, run};
use crate::support::{schemactl, server, stable, Project};
use std::process::{Command, Stdio};

/// A database whose sessions read `'…\'…'` as PostgreSQL did before 9.1
/// (`standard_conforming_strings = off`), so that its lexing differs from
/// schemactl's: the way a script can end its transaction unrecognised.
async fn nonstandard_strings_database() -> crate::support::TestDb {
    let db = server().database().await;
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    db.client()
        .await
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" SET standard_conforming_strings = off; \
             ALTER DATABASE \"{name}\" SET escape_string_warning = off"
        ))
        .await
        .unwrap();
    db
}

/// A line that schemactl reads as one string and PostgreSQL (with
/// `standard_conforming_strings = off`) as `SELECT …; COMMIT; <then>`.
fn hidden_commit(then: &str) -> String {
    format!("SELECT 'a\\', ' ; COMMIT ; {then} -- '\n;\n")
}

#[tokio::test]
async fn a_script_that_ends_its_own_transaction_is_reported_partially_applied_and_recorded_failed()
{
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_sneaky.up.sql",
        format!(
            "CREATE TABLE before_end (id int);\n{}CREATE TABLE after_all (id int);\n",
            hidden_commit("CREATE TABLE after_end (id int)")
        ),
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(run.stderr.contains("PARTIALLY APPLIED"), "{}", run.stderr);
    assert!(!run.stderr.contains("rolled back"), "{}", run.stderr);
    assert!(
        run.stderr.contains("schemactl repair --mark-applied 1"),
        "{}",
        run.stderr
    );
    // What the server committed is there, and the history says it failed.
    for table in ["before_end", "after_end", "after_all"] {
        assert!(db.exists(table).await, "{table}");
    }
    let success: bool = db
        .scalar("SELECT success FROM schema_versions WHERE version = '1'")
        .await;
    assert!(!success);
    let refused = schemactl(&project, &db, &["migrate"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("failed or was interrupted"),
        "{}",
        refused.stderr
    );
    schemactl(&project, &db, &["repair", "--mark-applied", "1"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
}

/// What the server says became of the transaction that committed the
/// history row of `version`, if any, and whether a failed row is there.
async fn recorded_success(db: &crate::support::TestDb, version: &str) -> Option<bool> {
    db.client()
        .await
        .query_opt(
            "SELECT success FROM schema_versions WHERE version = $1",
            &[&version],
        )
        .await
        .unwrap()
        .map(|row| row.get(0))
}

#[tokio::test]
async fn a_hidden_commit_then_a_hidden_begin_is_partially_applied_not_rolled_back() {
    // Hidden by a lexing difference (the database reads strings the old way).
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_sneaky.up.sql",
        format!(
            "CREATE TABLE first_half (id int);\n{}CREATE TABLE second_half (id int);\n",
            hidden_commit("BEGIN")
        ),
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("PARTIALLY APPLIED")
            && run.stderr.contains("the script committed the transaction")
            && !run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    // The server committed the first half and rolled back the second.
    assert!(db.exists("first_half").await);
    assert!(!db.exists("second_half").await);
    assert_eq!(recorded_success(&db, "1").await, Some(false));

    // Hidden by the splitter's own `BEGIN ATOMIC` counting: `begin atomic`
    // here is a column and its alias, and `end` an alias.
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_atomic.up.sql",
        "CREATE TABLE first_half (id int);\n\
         SELECT begin atomic FROM (SELECT 1 AS begin) x; COMMIT; CREATE TABLE between_both (id int); BEGIN; SELECT 1 AS end;\n\
         CREATE TABLE second_half (id int);\n",
    );
    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(3);
    assert!(
        run.stdout.contains("\"partially-applied\"") || run.stderr.contains("PARTIALLY APPLIED"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    // PostgreSQL ran what followed the COMMIT in the rest of that message
    // as one implicit block, which the BEGIN made the new transaction.
    assert!(db.exists("first_half").await);
    assert!(!db.exists("between_both").await && !db.exists("second_half").await);
    assert_eq!(recorded_success(&db, "1").await, Some(false));
    // The next run stops at the failed row instead of applying it again.
    schemactl(&project, &db, &["migrate"]).expect_code(1);
}

#[tokio::test]
async fn comments_and_pg_settings_do_not_hide_transaction_control_or_lexing_changes() {
    let db = server().database().await;
    for (name, sql) in [
        (
            "0001_prepare.up.sql",
            "CREATE TABLE p (id int);\nPREPARE/**/TRANSACTION 'x';\n",
        ),
        (
            "0001_settings.up.sql",
            "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings';\n",
        ),
        // What breaks schemactl's own session: its prepared history
        // statements, or its migration lock.
        (
            "0001_discard.up.sql",
            "-- schemactl:no-transaction\nCREATE TABLE p (id int);\nDISCARD ALL;\n",
        ),
        (
            "0001_deallocate.up.sql",
            "CREATE TABLE p (id int);\nDEALLOCATE ALL;\n",
        ),
        (
            "0001_unlock.up.sql",
            "CREATE TABLE p (id int);\nSELECT pg_advisory_unlock_all();\n",
        ),
    ] {
        let project = Project::new();
        project.write(name, sql);
        let run = schemactl(&project, &db, &["migrate"]);
        run.expect_code(2);
        assert!(run.stderr.contains(name), "{}", run.stderr);
    }
    assert!(!db.exists("p").await && !db.exists("schema_versions").await);
}

#[tokio::test]
async fn a_down_script_that_ends_its_own_transaction_keeps_its_history_row_marked_failed() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write("0001_t.up.sql", "CREATE TABLE t (id int);\n");
    project.write(
        "0001_t.down.sql",
        hidden_commit("DROP TABLE t").replace("SELECT", "SELECT 1, "),
    );
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let run = schemactl(&project, &db, &["rollback"]);
    run.expect_code(3);
    assert!(run.stderr.contains("PARTIALLY APPLIED"), "{}", run.stderr);
    assert!(
        !db.exists("t").await,
        "the down script's DROP was committed"
    );
    let success: bool = db
        .scalar("SELECT success FROM schema_versions WHERE version = '1'")
        .await;
    assert!(!success, "the row must say the rollback did not complete");
}

#[tokio::test]
async fn statements_that_end_a_transaction_or_change_lexing_are_refused_before_anything_runs() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_ok.up.sql", "CREATE TABLE ok (id int);\n");
    project.write(
        "0002_prepared.up.sql",
        "CREATE TABLE p (id int);\nPREPARE TRANSACTION 'x';\n",
    );
    project.write(
        "0003_lexing.up.sql",
        "SET standard_conforming_strings = off;\nSELECT 'a\\';\n",
    );
    project.write(
        "0004_rollback.up.sql",
        "CREATE TABLE r (id int);\nROLLBACK /* TO */;\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    insta::assert_snapshot!(stable(&run.stderr));
    assert!(!db.exists("ok").await, "nothing may run");
    assert!(!db.exists("schema_versions").await);
}

#[tokio::test]
async fn a_nul_byte_is_refused_up_front_in_up_and_down_scripts() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    project.write(
        "0001_a.down.sql",
        b"DROP TABLE a;\nSELECT 'x\0';\n".as_slice(),
    );
    project.write(
        "0002_b.up.sql",
        b"CREATE TABLE b (id int);\nSELECT '\0';\n".as_slice(),
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("0001_a.down.sql:2:10: the file contains a NUL byte"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("0002_b.up.sql:2:9: the file contains a NUL byte"),
        "{}",
        run.stderr
    );
    assert!(!db.exists("a").await);
}

/// For generated scripts with a fault at a random statement, the history
/// says applied if and only if every statement's effect is present.
/// The fault a case of the property test injects before one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// A statement that fails.
    Error,
    /// A hidden `COMMIT`, the rest of the script in autocommit.
    HiddenCommit,
    /// A hidden `COMMIT` then a hidden `BEGIN`: the rest in a new block.
    HiddenCommitThenBegin,
    /// A hidden `ROLLBACK`, one statement in autocommit, a hidden `BEGIN`.
    HiddenRollbackThenBegin,
    /// `DISCARD ALL`: refused before anything runs.
    DiscardAll,
    /// `DISCARD ALL` hidden from the splitter: PostgreSQL refuses it in a
    /// transaction block.
    HiddenDiscardAll,
    /// `DEALLOCATE ALL` hidden from the splitter: it would drop statements
    /// schemactl prepared for the history write.
    HiddenDeallocateAll,
    /// `pg_advisory_unlock_all()` hidden from the splitter: the run loses
    /// its migration lock.
    HiddenUnlockAll,
}

impl Fault {
    const ALL: [Fault; 9] = [
        Fault::None,
        Fault::Error,
        Fault::HiddenCommit,
        Fault::HiddenCommitThenBegin,
        Fault::HiddenRollbackThenBegin,
        Fault::DiscardAll,
        Fault::HiddenDiscardAll,
        Fault::HiddenDeallocateAll,
        Fault::HiddenUnlockAll,
    ];

    fn sql(self, case: usize) -> String {
        match self {
            Fault::None => String::new(),
            Fault::Error => "SELECT 1 / 0;\n".into(),
            Fault::HiddenCommit => hidden_commit("SELECT 1"),
            Fault::HiddenCommitThenBegin => hidden_commit("BEGIN"),
            Fault::HiddenRollbackThenBegin => format!(
                "{}CREATE TABLE c{case}_autocommit (id int);\n{}",
                hidden("ROLLBACK"),
                hidden("BEGIN")
            ),
            Fault::DiscardAll => "DISCARD ALL;\n".into(),
            Fault::HiddenDiscardAll => hidden("DISCARD ALL"),
            Fault::HiddenDeallocateAll => hidden("DEALLOCATE ALL"),
            Fault::HiddenUnlockAll => hidden("SELECT pg_advisory_unlock_all()"),
        }
    }

    /// What the server does with the migration's own transaction.
    fn fate(self) -> Option<&'static str> {
        match self {
            Fault::HiddenCommit | Fault::HiddenCommitThenBegin => Some("committed"),
            Fault::HiddenRollbackThenBegin => Some("aborted"),
            _ => None,
        }
    }
}

#[tokio::test]
async fn faults_at_random_statements_never_make_the_history_lie() {
    let db = nonstandard_strings_database().await;
    let mut seed: u64 = 0x5eed_2026;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for case in 0..36 {
        let project = Project::new();
        let statements = 2 + next(5) as usize;
        let fault_at = next(statements as u64) as usize;
        let fault = Fault::ALL[case % Fault::ALL.len()];
        let mut sql = String::new();
        for i in 0..statements {
            if i == fault_at {
                sql.push_str(&fault.sql(case));
            }
            sql.push_str(&format!("CREATE TABLE c{case}_{i} (id int);\n"));
        }
        project.write(&format!("{:04}_case.up.sql", case + 1), &sql);
        // One migration per case, each in a fresh project against the same
        // database: earlier cases' rows are removed first.
        let client = db.client().await;
        let _ = client
            .batch_execute("DELETE FROM schema_versions; DELETE FROM schema_versions_events")
            .await;
        let run = schemactl(
            &project,
            &db,
            &["migrate", "--allow-non-empty", "--format", "json"],
        );
        let mut present = 0;
        for i in 0..statements {
            if db.exists(&format!("c{case}_{i}")).await {
                present += 1;
            }
        }
        let autocommitted = db.exists(&format!("c{case}_autocommit")).await;
        let recorded: Option<bool> = client
            .query_opt("SELECT success FROM schema_versions", &[])
            .await
            .unwrap()
            .map(|row| row.get(0));
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
        let details = &report["error"]["details"];
        let outcome = details["outcome"].as_str();
        let all = present == statements;
        let context = format!(
            "case {case} ({fault:?} at {fault_at} of {statements}): recorded {recorded:?}, {present} of {statements} tables, outcome {outcome:?}\n{}",
            run.output()
        );
        // The history and the report agree with the catalog, always.
        if recorded == Some(true) {
            assert!(all, "recorded as applied but not all applied: {context}");
        }
        if recorded.is_none() {
            assert!(
                present == 0 && !autocommitted,
                "changes with no history row: {context}"
            );
        }
        if outcome == Some("rolled-back") {
            assert!(
                present == 0 && !autocommitted && recorded.is_none(),
                "{context}"
            );
        }
        // And the report's account of the transaction is the server's.
        assert_eq!(
            details["own_transaction"].as_str(),
            fault.fate(),
            "{context}"
        );
        match fault {
            Fault::None => assert!(all && recorded == Some(true), "{context}"),
            Fault::DiscardAll => assert!(
                run.code == 2 && present == 0 && recorded.is_none(),
                "refused before anything runs: {context}"
            ),
            Fault::Error | Fault::HiddenDiscardAll => {
                assert!(
                    outcome == Some("rolled-back") && recorded.is_none(),
                    "{context}"
                )
            }
            // The transaction-level lock keeps the migration exclusive to
            // its end: applied and recorded.
            Fault::HiddenUnlockAll => assert!(all && recorded == Some(true), "{context}"),
            // schemactl's own statements survive it: applied and recorded.
            Fault::HiddenDeallocateAll => assert!(all && recorded == Some(true), "{context}"),
            // The script ended the transaction: the history says the
            // migration failed (schemactl cannot know what it meant).
            _ => assert!(
                outcome == Some("partially-applied") && recorded == Some(false),
                "{context}"
            ),
        }
    }
}

#[tokio::test]
async fn a_history_table_of_other_types_is_not_taken_for_schemactls() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE schema_versions (version int PRIMARY KEY, name text, checksum text, down_checksum text, \
             applied_at timestamp, applied_by text, execution_ms bigint, success boolean, baselined boolean, \
             schemactl_version text, error text)",
        )
        .await
        .unwrap();
    for args in [&["migrate"][..], &["status"], &["rollback"]] {
        let run = schemactl(&project, &db, args);
        run.expect_code(2);
        insta::assert_snapshot!(format!("other_types_{}", args[0]), stable(&run.stderr));
    }
    assert!(!db.exists("customers").await, "nothing may be applied");
}

#[tokio::test]
async fn nulls_duplicates_and_negative_versions_in_the_history_are_named_with_a_fix_that_works() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate", "--to", "1"]).expect_code(0);
    let client = db.client().await;
    // The real table has NOT NULL: drop it to play a hand-made table.
    client
        .batch_execute(
            "ALTER TABLE schema_versions ALTER COLUMN checksum DROP NOT NULL, ALTER COLUMN success DROP NOT NULL, DROP CONSTRAINT schema_versions_pkey; \
             UPDATE schema_versions SET checksum = NULL, success = NULL WHERE version = '1'",
        )
        .await
        .unwrap();
    for args in [&["status"][..], &["migrate"], &["rollback"]] {
        let run = schemactl(&project, &db, args);
        run.expect_code(1);
        assert!(
            run.stderr.contains("version 1 has no checksum (NULL)"),
            "{args:?}: {}",
            run.stderr
        );
    }
    client
        .batch_execute(
            "UPDATE schema_versions SET checksum = 'x', success = true; \
             INSERT INTO schema_versions SELECT * FROM schema_versions",
        )
        .await
        .unwrap();
    let run = schemactl(&project, &db, &["status"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("version 1 is recorded more than once"),
        "{}",
        run.stderr
    );

    // A negative version: the guidance must parse as printed.
    client
        .batch_execute(
            "DELETE FROM schema_versions; ALTER TABLE schema_versions ADD PRIMARY KEY (version); \
             INSERT INTO schema_versions (version, name, checksum, applied_by, success, schemactl_version) \
             VALUES (-7, 'from_elsewhere', 'x', 'someone', true, '0')",
        )
        .await
        .unwrap();
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(1);
    let fix = run
        .stderr
        .split('`')
        .find(|part| part.starts_with("schemactl repair"))
        .unwrap_or_else(|| panic!("no repair command in {}", run.stderr))
        .to_string();
    assert_eq!(fix, "schemactl repair --forget=-7");
    let args: Vec<&str> = fix.split_whitespace().skip(1).collect();
    schemactl(&project, &db, &args).expect_code(0);
    // Migration 1 is in the database already: adopt it, then carry on.
    schemactl(&project, &db, &["baseline", "--version", "1"]).expect_code(0);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
}

#[tokio::test]
async fn out_of_range_numbers_are_refused_before_anything_runs() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let run = schemactl(&project, &db, &["rollback", "--to=-5"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--to"), "{}", run.stderr);
    let applied: i64 = db.scalar("SELECT count(*) FROM schema_versions").await;
    assert_eq!(applied, 3, "nothing may be rolled back");

    let late = Project::new();
    late.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    late.write(
        "0002_b.up.sql",
        "-- schemactl:lock-timeout 30d\nCREATE TABLE b (id int);\n",
    );
    let fresh = server().database().await;
    let run = schemactl(&late, &fresh, &["migrate"]);
    run.expect_code(2);
    assert!(run.stderr.contains("0002_b.up.sql:1:1"), "{}", run.stderr);
    assert!(run.stderr.contains("maximum timeout"), "{}", run.stderr);
    assert!(
        !fresh.exists("a").await,
        "the directory is checked before anything runs"
    );

    let full = Project::new();
    full.write(&format!("{}_last.up.sql", i64::MAX), "SELECT 1;\n");
    // Versions have any length: the one after i64::MAX is one more.
    let run = schemactl(&full, &fresh, &["new", "more"]);
    run.expect_code(0);
    assert!(
        full.migrations()
            .join("9223372036854775808_more.up.sql")
            .exists(),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn set_role_in_one_migration_does_not_carry_over_to_the_next() {
    let db = server().database().await;
    let role = format!("owner_{}", std::process::id());
    db.client()
        .await
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role} SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ))
        .await
        .unwrap();
    let project = Project::new();
    project.write(
        "0001_as_other.up.sql",
        format!("SET ROLE {role};\nCREATE TABLE first (id int);\n"),
    );
    project.write("0002_plain.up.sql", "CREATE TABLE second (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let owner = |table: &'static str| {
        format!("SELECT tableowner::text FROM pg_tables WHERE tablename = '{table}'")
    };
    let first: String = db.scalar(&owner("first")).await;
    let second: String = db.scalar(&owner("second")).await;
    assert_eq!(first, role);
    assert_eq!(
        second, "postgres",
        "the role leaked into the next migration"
    );
    let applied_by: String = db
        .scalar("SELECT applied_by FROM schema_versions WHERE version = '2'")
        .await;
    assert!(applied_by.starts_with("postgres@"), "{applied_by}");
}

#[tokio::test]
async fn an_invalid_index_is_shown_by_status_validate_dump_and_diff_and_blocks_mark_applied() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_table.up.sql",
        "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1), (1);\n",
    );
    project.write(
        "0002_unique.up.sql",
        "-- schemactl:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_x ON t (x);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(run.stderr.contains("INVALID"), "{}", run.stderr);
    let status = schemactl(&project, &db, &["status"]);
    assert!(
        status
            .stdout
            .contains("index public.t_x on public.t is INVALID"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("DROP INDEX CONCURRENTLY public.t_x;"),
        "{}",
        status.stdout
    );
    schemactl(&project, &db, &["validate"]).expect_code(1);
    let dump = schemactl(&project, &db, &["dump"]);
    assert!(dump.stdout.contains("INVALID"), "{}", dump.stdout);
    let refused = schemactl(&project, &db, &["repair", "--mark-applied", "2"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("INVALID indexes"),
        "{}",
        refused.stderr
    );
    // The documented way out: drop it, fix the data, run again.
    let client = db.client().await;
    client
        .batch_execute("DROP INDEX CONCURRENTLY t_x")
        .await
        .unwrap();
    client
        .batch_execute("DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)")
        .await
        .unwrap();
    schemactl(&project, &db, &["repair", "--remove-failed", "2"]).expect_code(0);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    schemactl(&project, &db, &["validate"]).expect_code(0);
    let valid: bool = db
        .scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_x'::regclass")
        .await;
    assert!(valid);
}

#[tokio::test]
async fn fifos_directories_and_outside_links_in_the_migrations_directory_are_refused_by_name() {
    let db = server().database().await;
    let project = Project::new();
    project.write("0001_a.up.sql", "CREATE TABLE a (id int);\n");
    let fifo = project.migrations().join("0002_pipe.up.sql");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let harmless_fifo = project.migrations().join("notes");
    assert!(Command::new("mkfifo")
        .arg(&harmless_fifo)
        .status()
        .unwrap()
        .success());
    std::fs::create_dir(project.migrations().join("0003_dir.up.sql")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.sql"), "SECRET CONTENT\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.sql"),
        project.migrations().join("0004_link.up.sql"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        project.migrations().join("0001_a.up.sql"),
        project.migrations().join("0005_alias.up.sql"),
    )
    .unwrap();
    for args in [&["migrate"][..], &["lint"]] {
        let run = schemactl(&project, &db, args);
        run.expect_code(2);
        let out = run.output();
        assert!(out.contains("0002_pipe.up.sql: is a FIFO"), "{out}");
        assert!(
            out.contains("0003_dir.up.sql: is a directory named like a migration"),
            "{out}"
        );
        assert!(
            out.contains("0004_link.up.sql: is a symbolic link to a file outside"),
            "{out}"
        );
        assert!(!out.contains("SECRET CONTENT"), "{out}");
        assert!(!out.contains("notes"), "{out}");
        assert!(
            !out.contains("0005_alias"),
            "a link inside the directory is fine: {out}"
        );
    }
}

#[tokio::test]
async fn key_value_connection_strings_with_spaces_never_print_their_password() {
    let project = Project::fixture("shop");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let password = format!("{}kv", crate::support::server::PASSWORD_PREFIX);
    for url in [
        format!("host=127.0.0.1 port={closed} user=app password = {password} dbname=x"),
        format!("host=127.0.0.1 port={closed} user=app password= '{password} x' dbname=x"),
        format!("host = 127.0.0.1 port = {closed} user = app password ={password}"),
    ] {
        for format in ["text", "json"] {
            let mut cmd = command(&project);
            cmd.env("DATABASE_URL", &url)
                .args(["status", "--format", format]);
            let run = run(cmd);
            run.expect_code(2);
            assert!(run.output().contains("127.0.0.1"), "{}", run.output());
        }
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_with_the_target_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts connections and says nothing, like a wrong service would.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    });
    let project = Project::fixture("shop");
    let mut cmd = command(&project);
    cmd.env(
        "DATABASE_URL",
        format!("postgres://app:pw@127.0.0.1:{port}/app?sslmode=disable"),
    )
    .args(["status", "--connect-timeout", "1s"]);
    let run = run(cmd);
    run.expect_code(2);
    insta::assert_snapshot!(stable(&run.stderr));
}

#[tokio::test]
async fn every_command_prints_its_error_once_and_as_json_when_asked() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    let bad = "postgres://app:pw@127.0.0.1:1/app?sslmode=disable";
    for args in [
        &["migrate", "--format", "json"][..],
        &["rollback", "--format", "json"],
        &["status", "--format", "json"],
        &["validate", "--format", "json"],
        &["baseline", "--version", "1", "--format", "json"],
        &["repair", "--forget", "1", "--format", "json"],
        &["dump", "--format", "json"],
        &["diff", "--format", "json", bad, bad],
    ] {
        let mut cmd = command(&project);
        cmd.env("DATABASE_URL", bad).args(args);
        let run = run(cmd);
        run.expect_code(2);
        assert_eq!(run.stderr, "", "{args:?}: the error goes to stdout only");
        let value: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", run.stdout));
        assert_eq!(value["error"]["exit_code"], 2, "{args:?}");
        assert!(value["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect"));
    }
    // A usage error, in JSON too.
    let run = schemactl(&project, &db, &["rollback", "--to=-5", "--format", "json"]);
    run.expect_code(2);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(value["error"]["message"].as_str().unwrap().contains("--to"));
    // A flag's error names the flag, not a configuration file that is not there.
    let run = schemactl(&project, &db, &["status", "--lock-timeout", "30"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--lock-timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("no unit"), "{}", run.stderr);
    assert!(!run.stderr.contains("schemactl.toml"), "{}", run.stderr);
    let run = schemactl(&project, &db, &["status", "--lock-wait", "30"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--lock-wait"), "{}", run.stderr);
}

#[tokio::test]
async fn a_closed_stdout_ends_the_run_quietly_with_its_own_exit_code() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    for args in [&["dump"][..], &["lint"], &["status"]] {
        let code = schemactl(&project, &db, args).code;
        let mut child = Command::new(crate::support::schemactl_binary())
            .current_dir(project.path())
            .env("DATABASE_URL", &db.url)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// A rollback of three migrations whose down script fails at the first, a
/// middle or the last step: the report says exactly which were rolled back,
/// which failed (still applied and recorded), and which were not reached.
#[tokio::test]
async fn a_failed_multi_step_rollback_reports_what_really_happened() {
    for (failing, rolled_back, not_reached) in [
        (3, vec![], vec!["0002_b", "0001_a"]),
        (2, vec!["0003_c"], vec!["0001_a"]),
        (1, vec!["0003_c", "0002_b"], vec![]),
    ] {
        let db = server().database().await;
        let project = Project::new();
        for (version, name) in [(1, "a"), (2, "b"), (3, "c")] {
            project.write(
                &format!("000{version}_{name}.up.sql"),
                format!("CREATE TABLE {name} (id int);\n"),
            );
            let down = if version == failing {
                format!("DROP TABLE {name};\nSELECT 1 / 0;\n")
            } else {
                format!("DROP TABLE {name};\n")
            };
            project.write(&format!("000{version}_{name}.down.sql"), down);
        }
        schemactl(&project, &db, &["migrate"]).expect_code(0);
        let run = schemactl(
            &project,
            &db,
            &["rollback", "--to", "0", "--format", "json"],
        );
        run.expect_code(3);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let details = &report["error"]["details"];
        let labels = |key: &str| -> Vec<String> {
            details[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            labels("rolled_back_before"),
            rolled_back,
            "failing {failing}"
        );
        assert_eq!(labels("not_reached"), not_reached, "failing {failing}");
        assert_eq!(labels("applied_before"), Vec::<String>::new());
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
            .map(|row| row.get(0))
            .collect();
        let expected: Vec<i64> = (1..=failing).collect();
        assert_eq!(
            recorded, expected,
            "the failing one and those not reached stay recorded"
        );
        let text = schemactl(&project, &db, &["rollback", "--to", "0"]);
        text.expect_code(3);
        assert!(
            text.stderr
                .contains("still applied, and still recorded as applied"),
            "{}",
            text.stderr
        );
        assert!(!text.stderr.contains("stay applied"), "{}", text.stderr);
        if !not_reached.is_empty() {
            assert!(
                text.stderr.contains(&format!(
                    "not reached (still applied): {}",
                    not_reached.join(", ")
                )),
                "{}",
                text.stderr
            );
        }
    }
}

#[tokio::test]
async fn a_no_transaction_script_that_leaves_a_transaction_open_is_not_applied() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_open.up.sql",
        "-- schemactl:no-transaction\nCREATE TABLE done_before (id int);\nBEGIN;\nCREATE TABLE left_open (id int);\n",
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("left a transaction open"),
        "{}",
        run.stderr
    );
    assert!(db.exists("done_before").await && !db.exists("left_open").await);
    assert_eq!(recorded_success(&db, "1").await, Some(false));
    // The next run stops at it instead of going on.
    schemactl(&project, &db, &["migrate"]).expect_code(1);
}

/// A line that schemactl reads as one string and PostgreSQL (with
/// `standard_conforming_strings = off`) as `SELECT …; <then>`.
fn hidden(then: &str) -> String {
    format!("SELECT 'a\\', ' ; {then} -- '\n;\n")
}

#[tokio::test]
async fn a_hidden_rollback_then_autocommit_then_a_hidden_begin_is_not_reported_rolled_back() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_sneaky.up.sql",
        format!(
            "CREATE TABLE first_half (id int);\n{}CREATE TABLE in_autocommit (id int);\n{}CREATE TABLE second_half (id int);\n",
            hidden("ROLLBACK"),
            hidden("BEGIN")
        ),
    );
    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(3);
    // The server: the first half rolled back, the middle committed on its
    // own, the second half rolled back with the block the script opened.
    assert!(!db.exists("first_half").await);
    assert!(db.exists("in_autocommit").await);
    assert!(!db.exists("second_half").await);
    let report = run.json();
    let details = &report["error"]["details"];
    assert_eq!(details["outcome"], "partially-applied", "{report:#}");
    assert_eq!(details["own_transaction"], "aborted", "{report:#}");
    // The first line says what the server says: the first half is undone.
    let first_line = report["error"]["message"]
        .as_str()
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        first_line.contains("rolled back the transaction schemactl opened")
            && first_line.contains("before that point is undone"),
        "{first_line}"
    );
    assert_eq!(recorded_success(&db, "1").await, Some(false));
}

#[tokio::test]
async fn a_no_transaction_script_that_drops_the_lock_or_the_prepared_statements_is_told_apart() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    // Dropping every prepared statement costs schemactl nothing.
    project.write(
        "0001_deallocate.up.sql",
        format!(
            "-- schemactl:no-transaction\nCREATE TABLE one (id int);\n{}",
            hidden("DEALLOCATE ALL")
        ),
    );
    project.write("0002_next.up.sql", "CREATE TABLE two (id int);\n");
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    assert_eq!(recorded_success(&db, "1").await, Some(true));
    assert_eq!(recorded_success(&db, "2").await, Some(true));
    // Dropping the migration lock is a failure, named, never "applied".
    project.write(
        "0003_unlock.up.sql",
        format!(
            "-- schemactl:no-transaction\nCREATE TABLE three (id int);\n{}",
            hidden("SELECT pg_advisory_unlock_all()")
        ),
    );
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("lost the migration lock"),
        "{}",
        run.stderr
    );
    assert!(db.exists("three").await);
    assert_eq!(recorded_success(&db, "3").await, Some(false));
}

#[tokio::test]
async fn a_run_whose_lock_was_released_by_a_script_stops_once_another_run_takes_it() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_unlock.up.sql",
        format!(
            "CREATE TABLE one (id int);\n{}SELECT pg_sleep(1.5);\n",
            hidden("SELECT pg_advisory_unlock_all()")
        ),
    );
    project.write("0002_next.up.sql", "CREATE TABLE two (id int);\n");
    let history = schemactl::postgres::HistoryTable::new(
        schemactl::model::identifier::Identifier::parse("public").unwrap(),
        schemactl::model::identifier::Identifier::parse("schema_versions").unwrap(),
    )
    .unwrap();
    let key = history.lock_key();
    let mut command = crate::support::cli::command(&project);
    command
        .env("DATABASE_URL", &db.url)
        .arg("migrate")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    // Another run (this session) asks for the lock while 0001 runs: it gets
    // it when 0001 commits, since the script released the run's own.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let other = db.client().await;
    other
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .await
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("lost the migration lock"), "{stderr}");
    assert_eq!(recorded_success(&db, "1").await, Some(true));
    assert!(!db.exists("two").await, "nothing ran without the lock");
}

#[tokio::test]
async fn a_run_whose_lock_was_released_by_a_script_says_so_at_its_end() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_unlock.up.sql",
        format!(
            "CREATE TABLE one (id int);\n{}",
            hidden("SELECT pg_advisory_unlock_all()")
        ),
    );
    project.write("0002_next.up.sql", "CREATE TABLE two (id int);\n");
    // Nobody else wanted the lock: both ran, each under its transaction's
    // lock, and the run tells that its own was gone.
    let run = schemactl(&project, &db, &["migrate"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("no longer held the migration lock at its end"),
        "{}",
        run.stderr
    );
    assert!(db.exists("two").await);
    let quiet = schemactl(&project, &db, &["migrate"]);
    quiet.expect_code(0);
    assert!(!quiet.stderr.contains("migration lock"), "{}", quiet.stderr);
}

/// The failure report's labels under `key` (`applied_before`, `not_reached`).
fn failure_labels(report: &serde_json::Value, key: &str) -> Vec<String> {
    report["error"]["details"][key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {report:#}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The versions recorded in the history, applied or failed.
async fn recorded_versions(db: &crate::support::TestDb) -> Vec<(String, bool)> {
    db.client()
        .await
        .query(
            "SELECT version, success FROM schema_versions ORDER BY version::bigint",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Migrations run back to back, each sent behind the previous one's
/// COMMIT: one that follows a migration whose COMMIT fails (a deferred
/// foreign key) must not be committed, recorded, or reported as run.
#[tokio::test]
async fn a_migration_sent_behind_a_commit_that_fails_is_never_committed() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_parent.up.sql",
        "CREATE TABLE parent (id int PRIMARY KEY);\n",
    );
    project.write(
        "0002_orphan.up.sql",
        "CREATE TABLE child (parent int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n\
         INSERT INTO child VALUES (7);\n",
    );
    project.write("0003_after.up.sql", "CREATE TABLE after_orphan (id int);\n");
    project.write("0004_later.up.sql", "CREATE TABLE later (id int);\n");
    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(failure_labels(&report, "applied_before"), ["0001_parent"]);
    assert_eq!(
        failure_labels(&report, "not_reached"),
        ["0003_after", "0004_later"]
    );
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("COMMIT")),
        "{report:#}"
    );
    assert!(db.exists("parent").await);
    for table in ["child", "after_orphan", "later"] {
        assert!(!db.exists(table).await, "{table} must not exist");
    }
    assert_eq!(recorded_versions(&db).await, [("1".to_string(), true)]);
    // Nothing of the withdrawn runs is in the event log either.
    let events: i64 = db
        .scalar("SELECT count(*) FROM schema_versions_events WHERE version IN ('3', '4')")
        .await;
    assert_eq!(events, 0);
}

/// The server decides, not schemactl's reading of the script: a migration
/// whose script ended its own transaction (so its transaction id reads
/// committed) still stops the one sent behind it.
#[tokio::test]
async fn a_migration_sent_behind_one_that_ended_its_own_transaction_is_never_committed() {
    let db = nonstandard_strings_database().await;
    let project = Project::new();
    project.write(
        "0001_sneaky.up.sql",
        format!(
            "CREATE TABLE before_end (id int);\n{}",
            hidden_commit("CREATE TABLE after_end (id int)")
        ),
    );
    project.write("0002_next.up.sql", "CREATE TABLE next_one (id int);\n");
    let run = schemactl(&project, &db, &["migrate", "--format", "json"]);
    run.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["error"]["details"]["outcome"], "partially-applied",
        "{report:#}"
    );
    assert_eq!(failure_labels(&report, "not_reached"), ["0002_next"]);
    assert!(db.exists("before_end").await && db.exists("after_end").await);
    assert!(
        !db.exists("next_one").await,
        "the next migration must not run"
    );
    assert_eq!(recorded_versions(&db).await, [("1".to_string(), false)]);
}
