//! The book (`docs/`): its generated pages are what the code generates
//! now, every page is in its table of contents, every TOML example is a
//! valid `schemactl.toml`, and the README stays short.

use crate::support::{repository, schemactl, schemactl_binary, server, Project};
use std::path::{Path, PathBuf};

/// The pages `schemactl reference` writes, relative to `docs/`.
const GENERATED: &[&str] = &[
    "reference/cli.md",
    "reference/config.md",
    "reference/schemactl.toml.schema.json",
    "lint/rules.md",
    "reference/json/migrate.schema.json",
    "reference/json/rollback.schema.json",
    "reference/json/baseline.schema.json",
    "reference/json/check.schema.json",
    "reference/json/status.schema.json",
    "reference/json/validate.schema.json",
    "reference/json/verify.schema.json",
    "reference/json/diff.schema.json",
    "reference/json/dump.schema.json",
    "reference/json/lint.schema.json",
    "reference/json/fleet.schema.json",
    "reference/json/backup-list.schema.json",
    "reference/json/backup-create.schema.json",
    "reference/json/error.schema.json",
];

/// `stdout` must be valid against `docs/reference/json/<name>.schema.json`.
#[track_caller]
fn conforms(name: &str, stdout: &str) {
    let path = docs().join(format!("reference/json/{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let document: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{stdout}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{stdout}");
}

#[tokio::test]
async fn every_json_document_conforms_to_its_published_schema() {
    let db = server().database().await;
    let project = Project::new();
    project.write(
        "0001_orders.up.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES orders (id));\n",
    );
    project.write("0001_orders.down.sql", "DROP TABLE orders;\n");
    project.write(
        "0002_notes.up.sql",
        "ALTER TABLE orders ADD COLUMN notes text;\n",
    );
    project.write(
        "0002_notes.down.sql",
        "ALTER TABLE orders DROP COLUMN notes;\n",
    );
    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        schemactl(&project, &db, &all)
    };
    conforms("validate", &json(&["validate"]).stdout);
    conforms("migrate", &json(&["migrate", "--dry-run"]).stdout);
    conforms("migrate", &json(&["migrate"]).expect_code(0).stdout);
    conforms("status", &json(&["status"]).expect_code(0).stdout);
    conforms("check", &json(&["check"]).expect_code(0).stdout);
    conforms("validate", &json(&["validate"]).expect_code(0).stdout);
    conforms("dump", &json(&["dump"]).expect_code(0).stdout);
    let lint = json(&["lint"]);
    assert!(
        lint.stdout.contains("fk-column-not-indexed"),
        "{}",
        lint.stdout
    );
    conforms("lint", &lint.stdout);
    let admin = server().admin_url();
    conforms(
        "diff",
        &json(&["diff", "--dev-url", &admin]).expect_code(0).stdout,
    );
    conforms("verify", &json(&["verify", "--dev-url", &admin]).stdout);
    conforms(
        "rollback",
        &json(&["rollback", "--steps", "1"]).expect_code(0).stdout,
    );
    let refused = json(&["repair", "--forget", "99"]);
    assert_ne!(refused.code, 0);
    conforms("error", &refused.stdout);
    let store = tempfile::tempdir().unwrap();
    let store = store.path().to_str().unwrap();
    let created = json(&["backup", "create", "--store", store, "--no-encrypt"]);
    conforms("backup-create", &created.expect_code(0).stdout);
    let listed = json(&["backup", "list", "--store", store]);
    conforms("backup-list", &listed.expect_code(0).stdout);
    let targets = project.path().join("targets.txt");
    std::fs::write(&targets, &db.url).unwrap();
    let fleet = json(&["fleet", "status", "--targets", targets.to_str().unwrap()]);
    conforms("fleet", &fleet.expect_code(0).stdout);
}

fn docs() -> PathBuf {
    repository().join("docs")
}

/// Every Markdown page under `dir`, relative to `docs/`.
fn pages(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pages(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            let relative = path.strip_prefix(docs()).unwrap();
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn the_generated_pages_are_what_the_code_generates() {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(schemactl_binary())
        .arg("reference")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    for page in GENERATED {
        let fresh = std::fs::read_to_string(out.path().join(page)).unwrap();
        let committed = std::fs::read_to_string(docs().join(page)).unwrap_or_default();
        assert!(
            fresh == committed,
            "docs/{page} is stale: run `cargo xtask docs` and commit the result"
        );
    }
}

#[test]
fn every_page_is_in_the_table_of_contents() {
    let summary = std::fs::read_to_string(docs().join("SUMMARY.md")).unwrap();
    let mut all = Vec::new();
    pages(&docs(), &mut all);
    assert!(all.len() > 60, "{} pages", all.len());
    for page in all.iter().filter(|p| *p != "SUMMARY.md") {
        assert!(
            summary.contains(&format!("]({page})")),
            "docs/{page} is not listed in docs/SUMMARY.md (mdBook would not build it)"
        );
    }
}

#[test]
fn every_toml_example_in_the_book_is_a_valid_configuration() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(docs().join("reference/schemactl.toml.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut all = Vec::new();
    pages(&docs(), &mut all);
    let mut checked = 0;
    for page in &all {
        let text = std::fs::read_to_string(docs().join(page)).unwrap();
        for block in text.split("```toml\n").skip(1) {
            let block = block.split("```").next().unwrap();
            let value: toml::Value =
                toml::from_str(block).unwrap_or_else(|e| panic!("docs/{page}: {e}\n{block}"));
            let json = serde_json::to_value(value).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "docs/{page}:\n{block}\n{errors:?}");
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} TOML examples");
    // The schema refuses what schemactl refuses: an unknown key.
    let wrong = serde_json::json!({"postgres": {"lock_timout": "5s"}});
    assert!(!validator.is_valid(&wrong));
}

#[test]
fn the_readme_is_short_and_its_links_lead_somewhere() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the detail belongs in docs/"
    );
    let mut links = 0;
    for target in readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
    {
        if target.starts_with("http") {
            continue;
        }
        let file = target.split('#').next().unwrap();
        assert!(
            repository().join(file).exists(),
            "README.md links to {target}, which does not exist"
        );
        links += 1;
    }
    assert!(links > 20, "{links} links");
}

#[test]
fn the_exit_codes_page_lists_every_exit_code_once() {
    let page = std::fs::read_to_string(docs().join("exit-codes.md")).unwrap();
    let documented: Vec<i32> = page
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|rest| rest.split(" |").next()?.trim().parse().ok())
        .collect();
    let codes: Vec<i32> = schemactl::ExitCode::ALL
        .iter()
        .map(|code| code.code())
        .collect();
    assert_eq!(documented, codes, "docs/exit-codes.md's table");
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    for code in &codes {
        assert!(
            readme.contains(&format!("| {code} |")),
            "the README's exit-code table misses {code}"
        );
    }
}
