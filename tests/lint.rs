//! `schemactl lint` end to end: exit codes, every output format, colour,
//! configuration, `--since`, and the shipped migrations passing.

use crate::support::cli::{command, run};
use crate::support::Project;
use std::process::Command;

/// Makes the project a git repository whose one commit holds every file.
fn commit_everything(project: &Project) {
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &["commit", "-qm", "base"],
    ] {
        let out = Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .current_dir(project.path())
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn lint(project: &Project, args: &[&str]) -> crate::support::Run {
    let mut cmd = command(project);
    cmd.arg("lint").args(args);
    run(cmd)
}

#[test]
fn text_output_points_at_each_finding_and_fails_on_errors() {
    let project = Project::fixture("lint_bad");
    let run = lint(&project, &[]);
    run.expect_code(1);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when not on a terminal"
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn colour_follows_the_terminal_conventions() {
    let project = Project::fixture("lint_bad");
    let mut forced = command(&project);
    forced.env("CLICOLOR_FORCE", "1").arg("lint");
    assert!(run(forced).stdout.contains("\x1b[1;31merror"));
    let mut plain = command(&project);
    plain.env("NO_COLOR", "1").arg("lint");
    assert!(!run(plain).stdout.contains('\x1b'));
    // --color wins over the environment, both ways.
    assert!(lint(&project, &["--color", "always"])
        .stdout
        .contains("\x1b[1;31merror"));
    let mut never = command(&project);
    never
        .env("CLICOLOR_FORCE", "1")
        .args(["lint", "--color", "never"]);
    assert!(!run(never).stdout.contains('\x1b'));
}

#[test]
fn json_and_github_formats() {
    let project = Project::fixture("lint_bad");
    let json = lint(&project, &["--format", "json"]);
    json.expect_code(1);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("lint JSON");
    assert_eq!(value["errors"], 4);
    assert_eq!(
        value["findings"][0]["rule"],
        "prefer-bigint-or-identity-key"
    );
    assert_eq!(value["findings"][0]["position"]["line"], 2);
    insta::assert_snapshot!("lint_json", json.stdout);
    let github = lint(&project, &["--format", "github"]);
    github.expect_code(1);
    insta::assert_snapshot!(github.stdout);
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let project = Project::fixture("lint_bad");
    let sarif = lint(&project, &["--format", "sarif"]);
    sarif.expect_code(1);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF JSON");
    let schema_path = crate::support::repository().join("tests/fixtures/sarif-schema-2.1.0.json");
    // The published schema has a stray `]` in its `language` patterns, which
    // the regex engine (rightly) rejects; use the pattern it means.
    let text = std::fs::read_to_string(schema_path).unwrap().replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    insta::assert_snapshot!(
        "lint_sarif",
        sarif.stdout.replace(schemactl::VERSION, "[version]")
    );
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "migrations/0001_accounts.up.sql"
    );
    // A log that breaks the schema is caught, so the check above can fail.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn gitlab_output_is_a_code_quality_report() {
    let project = Project::fixture("lint_bad");
    let run = lint(&project, &["--format", "gitlab"]);
    run.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("Code Quality JSON");
    let schema_path =
        crate::support::repository().join("tests/fixtures/gitlab-code-quality-schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("Code Quality schema");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let issues = report.as_array().unwrap();
    assert_eq!(issues.len(), 6, "the findings of the SARIF test");
    assert_eq!(
        issues[0]["location"]["path"],
        "migrations/0001_accounts.up.sql"
    );
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(
        fingerprints.len(),
        issues.len(),
        "each issue has its own fingerprint"
    );
    // A report that breaks the format is caught, so the check above can fail.
    let mut broken = report.clone();
    broken[0]["severity"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn warnings_pass_unless_denied_and_severities_are_configurable() {
    let project = Project::new();
    project
        .write(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, code char(2));\n",
        )
        .write("0001_t.down.sql", "DROP TABLE t;\n");
    lint(&project, &[]).expect_code(0);
    lint(&project, &["--deny-warnings"]).expect_code(1);
    let config = project.path().join("schemactl.toml");
    std::fs::write(&config, "[lint]\ndeny_warnings = true\n").unwrap();
    lint(&project, &[]).expect_code(1);
    std::fs::write(
        &config,
        "[lint]\ndeny_warnings = true\n[lint.rules]\nchar-type = \"off\"\n",
    )
    .unwrap();
    let quiet = lint(&project, &["--deny-warnings"]);
    quiet.expect_code(0);
    assert_eq!(quiet.stdout, "no findings\n");
    std::fs::write(&config, "[lint.rules]\nchar-typ = \"off\"\n").unwrap();
    let bad = lint(&project, &[]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("`char-typ` is not a rule id"),
        "{}",
        bad.stderr
    );
}

#[test]
fn since_lints_only_new_migrations_and_refuses_edits_to_existing_ones() {
    let project = Project::fixture("lint_bad");
    commit_everything(&project);
    project
        .write(
            "0003_notes.up.sql",
            "ALTER TABLE payments ADD COLUMN note char(10);\n",
        )
        .write(
            "0003_notes.down.sql",
            "ALTER TABLE payments DROP COLUMN note;\n",
        );
    let run = lint(&project, &["--since", "HEAD"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("warning[char-type]") && !run.stdout.contains("0001_accounts"),
        "{}",
        run.stdout
    );

    project.write("0001_accounts.down.sql", "DROP TABLE accounts CASCADE;\n");
    let run = lint(&project, &["--since", "HEAD"]);
    run.expect_code(1);
    assert!(run.stdout.contains("error[changed-existing-migration]: migrations/0001_accounts.down.sql existed at HEAD and was edited"), "{}", run.stdout);
    // The finding points at the first changed line and names the real command.
    project.write(
        "0001_accounts.up.sql",
        "CREATE TABLE accounts (\n    id serial PRIMARY KEY,\n    email varchar NOT NULL,\n    created_at timestamp NOT NULL DEFAULT now()\n);\n",
    );
    let run = lint(&project, &["--since", "HEAD", "--format", "json"]);
    run.expect_code(1);
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let edited = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("0001_accounts.up.sql")
        })
        .expect("a finding for the edited up file");
    assert_eq!(edited["position"]["line"], 3, "{edited}");
    assert!(
        edited["help"]
            .as_str()
            .unwrap()
            .contains("`git checkout HEAD -- migrations/0001_accounts.up.sql`"),
        "{edited}"
    );
    let unknown = lint(&project, &["--since", "no-such-rev"]);
    unknown.expect_code(2);
    assert!(
        unknown.stderr.contains("fatal: ") && unknown.stderr.contains("fetch-depth: 0"),
        "git's message and the fix: {}",
        unknown.stderr
    );
}

#[test]
fn since_keeps_a_baseline_of_the_files_it_did_not_lint() {
    // A project with accepted findings in its old migrations lints a
    // branch: entries of files the run did not look at are neither stale
    // nor dropped by --write-baseline.
    let project = Project::new();
    project
        .write(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, code char(2), at timestamp);\n",
        )
        .write("0001_t.down.sql", "DROP TABLE t;\n");
    lint(&project, &["--write-baseline"]).expect_code(0);
    commit_everything(&project);
    project
        .write(
            "0002_u.up.sql",
            "CREATE TABLE u (id bigint PRIMARY KEY, c char(3));\n",
        )
        .write("0002_u.down.sql", "DROP TABLE u;\n");
    let run = lint(&project, &["--since", "HEAD"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("warning[char-type]") && !run.stdout.contains("no longer match"),
        "{}",
        run.stdout
    );
    let written = lint(
        &project,
        &["--since", "HEAD", "--write-baseline", "--format", "json"],
    );
    written.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&written.stdout).unwrap();
    assert_eq!(
        (report["baselined"].as_u64(), report["kept"].as_u64()),
        (Some(1), Some(2)),
        "{report}"
    );
    // Every finding of both files is accepted now: the whole project is quiet.
    let all = lint(&project, &[]);
    all.expect_code(0);
    assert_eq!(
        all.stdout.lines().next(),
        Some("no findings"),
        "{}",
        all.stdout
    );
    // Without --since, a stale entry is still reported.
    project.write(
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY, code text, at timestamp);\n",
    );
    let stale = lint(&project, &[]);
    assert!(stale.stdout.contains("no longer match"), "{}", stale.stdout);
}

#[test]
fn annotations_name_paths_from_the_repository_root_in_a_monorepo() {
    let repo = tempfile::tempdir().unwrap();
    let service = repo.path().join("services/billing");
    std::fs::create_dir_all(service.join("migrations")).unwrap();
    std::fs::write(
        service.join("migrations/0001_t.up.sql"),
        "CREATE TABLE t (id bigint PRIMARY KEY, code char(3));\n",
    )
    .unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(repo.path())
        .status()
        .unwrap();
    assert!(git.success());
    for format in ["github", "sarif"] {
        let mut cmd = Command::new(crate::support::schemactl_binary());
        cmd.current_dir(&service)
            .env_remove("DATABASE_URL")
            .args(["lint", "--format", format]);
        let out = run(cmd);
        assert!(
            out.stdout
                .contains("services/billing/migrations/0001_t.up.sql"),
            "{format}: {}",
            out.stdout
        );
    }
}

#[test]
fn mongodb_validators_are_linted() {
    let project = Project::new();
    project
        .write("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n")
        .write("0001_t.down.sql", "DROP TABLE t;\n");
    std::fs::create_dir_all(project.path().join("schemas/app")).unwrap();
    std::fs::write(
        project.path().join("schemas/app/users.json"),
        "{\n  \"validator\": {\n    \"$jsonSchema\": {\n      \"bsonType\": \"object\",\n      \"required\": [\"email\"],\n      \"properties\": {\n        \"name\": { \"bsonType\": \"string\", \"format\": \"email\" }\n      }\n    }\n  },\n  \"validationAction\": \"warn\"\n}\n",
    )
    .unwrap();
    let run = lint(&project, &[]);
    run.expect_code(1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn the_shipped_migrations_pass_lint_without_errors() {
    let root = crate::support::repository();
    let mut cmd = Command::new(crate::support::schemactl_binary());
    cmd.current_dir(root)
        .env_remove("DATABASE_URL")
        .args(["lint", "--format", "json"]);
    let run = run(cmd);
    run.expect_code(0);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["errors"], 0, "{}", run.stdout);
}

#[test]
fn a_baseline_switches_lint_on_for_a_project_with_history() {
    let project = Project::new();
    project
        .write(
            "0001_t.up.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY, at timestamp);\nCREATE TABLE v (id bigint PRIMARY KEY, code char(2));\n",
        )
        .write("0001_t.down.sql", "DROP TABLE v;\nDROP TABLE t;\n");
    lint(&project, &["--deny-warnings"]).expect_code(1);

    let written = lint(&project, &["--write-baseline"]);
    written.expect_code(0);
    assert!(
        written.stdout.contains("Wrote 2 finding(s)"),
        "{}",
        written.output()
    );
    let file = project.path().join("schemactl-lint-baseline.json");
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(recorded["findings"].as_array().unwrap().len(), 2);

    // The history passes; the summary says what was hidden.
    let quiet = lint(&project, &["--deny-warnings"]);
    quiet.expect_code(0);
    assert!(
        quiet.stdout.contains("2 accepted finding(s) not shown"),
        "{}",
        quiet.output()
    );

    // A new migration's findings are reported; an edit above the old
    // statement does not unbaseline it; a fixed finding is named as stale.
    project
        .write(
            "0001_t.up.sql",
            "-- reviewed in 2026\nCREATE TABLE t (id bigint PRIMARY KEY, at timestamp);\nCREATE TABLE v (id bigint PRIMARY KEY, code text);\n",
        )
        .write("0002_u.up.sql", "CREATE TABLE u (id bigint PRIMARY KEY, seen timestamp);\n")
        .write("0002_u.down.sql", "DROP TABLE u;\n");
    let json = lint(&project, &["--format", "json", "--deny-warnings"]);
    json.expect_code(1);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rules: Vec<(&str, &str)> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [("timestamp-without-time-zone", "migrations/0002_u.up.sql")],
        "{}",
        json.stdout
    );
    assert_eq!(value["baselined"], 1);
    assert_eq!(value["stale_baseline"][0]["rule"], "char-type");
    let text = lint(&project, &[]);
    assert!(
        text.stdout.contains("1 baseline entry no longer match"),
        "{}",
        text.output()
    );

    // --no-baseline shows everything; a missing --baseline file is an error.
    let all = lint(&project, &["--no-baseline", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(value["findings"].as_array().unwrap().len(), 2);
    lint(&project, &["--baseline", "nowhere.json"]).expect_code(2);
}

#[test]
fn findings_carry_real_table_sizes_and_small_tables_can_pass() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(crate::support::server().database());
    let project = Project::new();
    project
        .write(
            "0001_tables.up.sql",
            "CREATE TABLE big (id bigint PRIMARY KEY, n int);\nCREATE TABLE small (id bigint PRIMARY KEY, n int);\n",
        )
        .write("0001_tables.down.sql", "DROP TABLE small;\nDROP TABLE big;\n");
    crate::support::schemactl(&project, &db, &["migrate"]).expect_code(0);
    runtime.block_on(async {
        let client = db.client().await;
        client
            .batch_execute(
                "INSERT INTO big SELECT g, g FROM generate_series(1, 50000) g;\n\
                 INSERT INTO small VALUES (1, 1);\nANALYZE big;\nANALYZE small;",
            )
            .await
            .unwrap();
    });
    project
        .write(
            "0002_indexes.up.sql",
            "CREATE INDEX big_n ON big (n);\nCREATE INDEX small_n ON small (n);\n",
        )
        .write(
            "0002_indexes.down.sql",
            "DROP INDEX small_n;\nDROP INDEX big_n;\n",
        );

    let mut cmd = command(&project);
    cmd.args(["--database-url", &db.url, "lint", "--format", "json"]);
    let sized = run(cmd);
    let value: serde_json::Value = serde_json::from_str(&sized.stdout).unwrap();
    let findings = value["findings"].as_array().unwrap();
    let first = &findings[0];
    assert_eq!(
        first["table"], "big",
        "the biggest table ranks first: {}",
        sized.stdout
    );
    assert_eq!(first["table_size"]["rows"], 50000);
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("[big: 50 k rows"),
        "{first}"
    );

    // DATABASE_URL alone does not make lint connect; --table-sizes does.
    let mut plain = command(&project);
    plain
        .env("DATABASE_URL", &db.url)
        .args(["lint", "--format", "json"]);
    let plain = run(plain);
    let value: serde_json::Value = serde_json::from_str(&plain.stdout)
        .unwrap_or_else(|e| panic!("lint JSON: {e}\n{}", plain.output()));
    let findings = value["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["table"] == "big")
            && findings.iter().all(|f| f.get("table_size").is_none()),
        "{}",
        plain.stdout
    );

    let mut threshold = command(&project);
    threshold.env("DATABASE_URL", &db.url).args([
        "lint",
        "--table-sizes",
        "--min-table-rows",
        "1000",
        "--format",
        "json",
    ]);
    let filtered = run(threshold);
    let value: serde_json::Value = serde_json::from_str(&filtered.stdout).unwrap();
    let tables: Vec<&str> = value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["table"].as_str())
        .collect();
    assert!(
        tables.contains(&"big") && !tables.contains(&"small"),
        "{}",
        filtered.stdout
    );
    assert_eq!(value["below_min_table_rows"], 1);
}

#[test]
fn fix_edits_only_migrations_added_since_the_revision() {
    let project = Project::new();
    let old = "CREATE TABLE t (id bigint PRIMARY KEY, n int, at timestamp);\n";
    project
        .write("0001_t.up.sql", old)
        .write("0001_t.down.sql", "DROP TABLE t;\n");
    commit_everything(&project);
    project
        .write(
            "0002_seen.up.sql",
            "ALTER TABLE t ADD COLUMN seen timestamp(3);\n",
        )
        .write("0002_seen.down.sql", "ALTER TABLE t DROP COLUMN seen;\n")
        .write("0003_n.up.sql", "CREATE INDEX t_n ON t (n);\n")
        .write("0003_n.down.sql", "DROP INDEX t_n;\n");

    // Without --since, only a dry run is allowed.
    lint(&project, &["--fix"]).expect_code(2);
    let dry = lint(&project, &["--fix", "--dry-run", "--since", "HEAD"]);
    dry.expect_code(0);
    assert!(
        dry.stdout
            .contains("+ALTER TABLE t ADD COLUMN seen timestamptz(3);"),
        "{}",
        dry.output()
    );
    assert!(
        dry.stdout
            .contains("+CREATE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);"),
        "{}",
        dry.output()
    );
    assert!(
        !dry.stdout.contains("0001_t.up.sql"),
        "an old migration is never fixed: {}",
        dry.output()
    );
    let unchanged = std::fs::read_to_string(project.migrations().join("0002_seen.up.sql")).unwrap();
    assert!(
        unchanged.contains("timestamp(3)"),
        "--dry-run changed a file"
    );

    let fixed = lint(&project, &["--fix", "--since", "HEAD", "--deny-warnings"]);
    assert!(
        fixed.stderr.contains("fixed 2 finding(s) in 2 file(s)"),
        "{}",
        fixed.output()
    );
    fixed.expect_code(0);
    let read = |name: &str| std::fs::read_to_string(project.migrations().join(name)).unwrap();
    assert_eq!(
        read("0002_seen.up.sql"),
        "ALTER TABLE t ADD COLUMN seen timestamptz(3);\n"
    );
    assert_eq!(
        read("0003_n.up.sql"),
        "-- schemactl:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_n ON t (n);\n"
    );
    assert_eq!(read("0001_t.up.sql"), old);
}

#[test]
fn fix_never_writes_through_a_link_to_a_migration_that_existed_at_the_revision() {
    let project = Project::new();
    let old = "CREATE TABLE t (id bigint PRIMARY KEY, at timestamp);\n";
    project
        .write("0001_t.up.sql", old)
        .write("0001_t.down.sql", "DROP TABLE t;\n");
    commit_everything(&project);
    // A new "migration" that is a link to the applied one.
    std::os::unix::fs::symlink(
        "0001_t.up.sql",
        project.migrations().join("0002_alias.up.sql"),
    )
    .unwrap();
    project.write("0002_alias.down.sql", "SELECT 1;\n");
    let _ = lint(&project, &["--fix", "--since", "HEAD"]);
    assert_eq!(
        std::fs::read_to_string(project.migrations().join("0001_t.up.sql")).unwrap(),
        old,
        "the applied migration was changed through the link"
    );
}

#[tokio::test]
async fn each_version_fixture_runs_on_the_servers_it_is_for() {
    // The parse-coverage fixtures are PostgreSQL, not guesses: each runs,
    // statement by statement, on every test server of its version or newer
    // (PostgreSQL 15 runs 13–15, PostgreSQL 18 all of them).
    let probe = crate::support::server::server().database().await;
    let number: String = probe.scalar("SHOW server_version_num").await;
    let major: u32 = number.parse::<u32>().unwrap() / 10000;
    let fixtures = [
        (13, include_str!("fixtures/lint/postgres13_syntax.sql")),
        (14, include_str!("fixtures/lint/postgres14_syntax.sql")),
        (15, include_str!("fixtures/lint/postgres15_syntax.sql")),
        (16, include_str!("fixtures/lint/postgres16_syntax.sql")),
        (17, include_str!("fixtures/lint/postgres17_syntax.sql")),
        (18, include_str!("fixtures/lint/postgres18_syntax.sql")),
    ];
    let mut ran = 0;
    for (version, sql) in fixtures.into_iter().filter(|(v, _)| *v <= major) {
        let db = crate::support::server::server().database().await;
        let client = db.client().await;
        for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
            client.simple_query(statement).await.unwrap_or_else(|e| {
                panic!("PostgreSQL {major} rejects the {version} fixture's {statement}: {e}")
            });
        }
        ran += 1;
    }
    assert!(ran >= 3, "no fixture ran on PostgreSQL {major}");
}

/// The `entry` commands of `.pre-commit-hooks.yaml`.
fn pre_commit_entries() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(crate::support::repository().join(".pre-commit-hooks.yaml"))
        .unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .map(|entry| entry.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_github_action_and_the_pre_commit_hooks_run_lint_as_they_say() {
    let bad = Project::fixture("lint_bad");
    let action = |project: &Project, fail_on_findings: &str| {
        let mut command =
            std::process::Command::new(crate::support::repository().join("ci/action-lint.sh"));
        command
            .current_dir(project.path())
            .env("SCHEMACTL", crate::support::schemactl_binary())
            .env("INPUT_SARIF_FILE", "out.sarif")
            .env("INPUT_FAIL_ON_FINDINGS", fail_on_findings)
            .env_remove("DATABASE_URL");
        crate::support::cli::run(command)
    };
    let failed = action(&bad, "true");
    failed.expect_code(1);
    assert!(
        failed
            .stdout
            .contains("::error file=migrations/0002_payments.up.sql,line=2,col=1,title=fk-column-not-indexed::"),
        "annotations on the diff:\n{}",
        failed.stdout
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bad.path().join("out.sarif")).unwrap())
            .unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(6)
    );
    action(&bad, "false").expect_code(0);
    let clean = Project::new();
    clean.write("0001_t.up.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n");
    clean.write("0001_t.down.sql", "DROP TABLE t;\n");
    action(&clean, "true").expect_code(0);
    verify_step(&clean);

    // Each hook's entry, as pre-commit runs it (no file names): findings fail.
    let entries = pre_commit_entries();
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        assert_eq!(entry[0], "schemactl");
        let run_in = |project: &Project| {
            let mut command = crate::support::cli::command(project);
            command.args(&entry[1..]);
            crate::support::cli::run(command)
        };
        run_in(&bad).expect_code(1);
        run_in(&clean).expect_code(0);
    }
}

/// The action's optional verify step, against the test server as its
/// service container: a clean project passes, a down that does not undo
/// its up fails with verify's code, and a missing URL is an error.
fn verify_step(clean: &Project) {
    let verify = |project: &Project, url: &str| {
        let mut command =
            std::process::Command::new(crate::support::repository().join("ci/action-verify.sh"));
        command
            .current_dir(project.path())
            .env("SCHEMACTL", crate::support::schemactl_binary())
            .env("INPUT_VERIFY_DEV_URL", url)
            .env_remove("DATABASE_URL");
        crate::support::cli::run(command)
    };
    let admin = crate::support::server().admin_url();
    let passed = verify(clean, &admin);
    passed.expect_code(0);
    let lossy = Project::new();
    lossy.write(
        "0001_t.up.sql",
        "CREATE TABLE t (id bigint PRIMARY KEY);\nCREATE TABLE u (id bigint PRIMARY KEY);\n",
    );
    lossy.write("0001_t.down.sql", "DROP TABLE t;\n");
    let failed = verify(&lossy, &admin);
    failed.expect_code(1);
    assert!(failed.stdout.contains("0001_t"), "{}", failed.stdout);
    verify(clean, "").expect_code(2);
}
