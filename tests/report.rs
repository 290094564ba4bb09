//! `schemactl report --html` and `dump --format mermaid` in a real headless
//! browser (Debian's `chromium`; `cargo xtask test` installs it, and the
//! pinned mermaid bundle from the npm registry): the page loads without a
//! single console message, the diagram has a box per table, a finding
//! links to its rule's page, and mermaid draws every table of the dump.

use crate::support::{schemactl, server, Project};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser: `SCHEMACTL_TEST_CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    crate::support::debian_program(
        "SCHEMACTL_TEST_CHROMIUM",
        "/usr/bin/chromium",
        "chromium",
        "the browser tests",
    )
}

/// Loads `page` headless, lets its scripts run, and returns the final DOM
/// and every console message the page printed.
fn load(page: &Path, screenshot: Option<&Path>) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
    ]);
    command.arg(format!("--user-data-dir={}", profile.path().display()));
    match screenshot {
        Some(file) => command
            .arg(format!("--screenshot={}", file.display()))
            .arg("--window-size=1280,1400"),
        None => command.arg("--dump-dom"),
    };
    let output = command
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "chromium: {output:?}");
    let console = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    )
}

/// Three tables, two foreign keys, one without `ON DELETE` (a finding).
fn shop(project: &Project) {
    project.write(
        "0001_shop.up.sql",
        "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE);\n\
         CREATE INDEX orders_customer_id_idx ON orders (customer_id);\n",
    );
    project.write(
        "0001_shop.down.sql",
        "DROP TABLE orders;\nDROP TABLE customers;\n",
    );
    project.write(
        "0002_lines.up.sql",
        "CREATE TABLE order_lines (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));\n\
         CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);\n\
         ALTER TABLE customers ADD COLUMN email text;\n",
    );
    project.write(
        "0002_lines.down.sql",
        "ALTER TABLE customers DROP COLUMN email;\nDROP TABLE order_lines;\n",
    );
}

#[tokio::test]
async fn the_report_loads_without_console_messages_draws_every_table_and_links_findings() {
    let db = server().database().await;
    let project = Project::new();
    shop(&project);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let page = project.path().join("report.html");
    let admin = server().admin_url();
    let run = schemactl(
        &project,
        &db,
        &[
            "report",
            "--verify",
            "--dev-url",
            &admin,
            "--html",
            page.to_str().unwrap(),
        ],
    );
    run.expect_code(0);
    assert!(run.stderr.contains("3 tables"), "{}", run.stderr);

    let (dom, console) = load(&page, None);
    assert!(
        console.is_empty(),
        "the page printed to the console: {console:#?}"
    );
    assert_eq!(
        dom.matches("class=\"er-table\"").count(),
        3,
        "a box per table"
    );
    assert_eq!(dom.matches("class=\"er-relation\"").count(), 2);
    let rule = "fk-missing-on-delete";
    let link = format!("docs/lint/rules/{rule}.md\"");
    assert!(dom.contains(&link), "a finding links to its rule's page");
    assert!(crate::support::repository()
        .join(format!("docs/lint/rules/{rule}.md"))
        .exists());
    assert!(
        dom.contains("id=\"findings-0002_lines\""),
        "findings grouped by migration"
    );
    assert_eq!(
        dom.matches("data-verdict=\"ok\"").count(),
        2,
        "both round trips pass"
    );
    // 0002 locks customers (existing) for its ALTER: its lock timeline.
    assert!(
        dom.contains("data-migration=\"0002_lines\" xmlns"),
        "a lock timeline"
    );
    assert!(dom.contains("customers: AccessExclusiveLock"), "{dom}");

    let shot = std::env::temp_dir().join(format!("schemactl-report-{}.png", std::process::id()));
    load(&page, Some(&shot));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot"
    );
    let _ = std::fs::remove_file(shot);
}

/// The mermaid bundle: `SCHEMACTL_TEST_MERMAID`, else where `cargo xtask
/// test` unpacks it.
fn mermaid() -> PathBuf {
    let path = std::env::var_os("SCHEMACTL_TEST_MERMAID").map_or_else(
        || crate::support::repository().join("target/mermaid/package/dist/mermaid.min.js"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "the mermaid check needs {} (cargo xtask test installs it)",
        path.display()
    );
    path
}

#[tokio::test]
async fn mermaid_draws_every_table_of_dump_format_mermaid() {
    let db = server().database().await;
    let project = Project::new();
    shop(&project);
    schemactl(&project, &db, &["migrate"]).expect_code(0);
    let diagram = schemactl(&project, &db, &["dump", "--format", "mermaid"]);
    diagram.expect_code(0);
    let text = diagram.stdout.replace('&', "&amp;").replace('<', "&lt;");
    std::fs::copy(mermaid(), project.path().join("mermaid.min.js")).unwrap();
    let page = project.path().join("mermaid.html");
    std::fs::write(
        &page,
        format!(
            "<!doctype html><html><body><pre class=\"mermaid\">{text}</pre>\
             <script src=\"mermaid.min.js\"></script><script>\
             mermaid.initialize({{startOnLoad: false}});\
             mermaid.run().then(function () {{ document.body.dataset.drawn = 'yes'; }},\
             function (e) {{ document.body.dataset.drawn = 'failed: ' + e; }});\
             </script></body></html>"
        ),
    )
    .unwrap();
    let (dom, console) = load(&page, None);
    assert!(
        dom.contains("data-drawn=\"yes\""),
        "mermaid did not draw:\n{dom}"
    );
    assert!(console.is_empty(), "{console:#?}");
    for table in ["customers", "orders", "order_lines"] {
        assert!(
            dom.contains(&format!("-entity-{table}-")),
            "no entity for {table}"
        );
    }
    assert_eq!(
        dom.matches("<g class=\"node default\"").count(),
        3,
        "a node per table"
    );
    assert!(dom.contains("<svg"), "an SVG");
}
