//! `--metrics-file`: what `migrate`, `rollback` and `backup` leave for
//! node_exporter's textfile collector, read with a Prometheus text-format
//! parser.

use crate::support::{schemactl, server, Project, TestDb};
use openmetrics_parser::{prometheus::parse_prometheus, PrometheusValue};

/// One sample of the metrics file: its family, labels and value.
#[derive(Debug)]
struct Scraped {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// The metrics file, read with a Prometheus text-format parser.
/// The metric families the monitoring page documents (its table).
fn documented_families() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = std::fs::read_to_string(root.join("docs/monitoring.md")).unwrap();
    let row = regex::Regex::new(r"(?m)^\| `(schemactl_[a-z_]+)` \|").unwrap();
    let families: Vec<String> = row.captures_iter(&page).map(|c| c[1].to_string()).collect();
    assert!(
        families.len() >= 15,
        "the monitoring page's table: {families:?}"
    );
    families
}

fn scrape(project: &Project) -> Vec<Scraped> {
    let text =
        std::fs::read_to_string(project.path().join("schemactl.prom")).expect("the metrics file");
    let exposition = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?}: {text}"));
    let documented = documented_families();
    let mut out = Vec::new();
    for (name, family) in &exposition.families {
        assert!(
            documented.contains(name),
            "{name} is written but not on docs/monitoring.md"
        );
        for sample in family.iter_samples() {
            let set = sample.get_labelset().unwrap();
            let labels = ["command", "database", "store", "state"]
                .iter()
                .filter_map(|l| {
                    set.get_label_value(l)
                        .map(|v| (l.to_string(), v.to_string()))
                })
                .collect();
            let value = match &sample.value {
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                PrometheusValue::Counter(c) => c.value.as_f64(),
                _ => f64::NAN,
            };
            out.push(Scraped {
                name: name.clone(),
                labels,
                value,
            });
        }
    }
    out
}

/// The value of `name` whose labels include `with`.
fn value(scrape: &[Scraped], name: &str, with: &[(&str, &str)]) -> Option<f64> {
    scrape
        .iter()
        .find(|s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(l, x)| l == k && x == v))
        })
        .map(|s| s.value)
}

fn metered(project: &Project, db: &TestDb, args: &[&str]) -> crate::support::cli::Run {
    let mut all = vec!["--metrics-file", "schemactl.prom"];
    all.extend_from_slice(args);
    schemactl(project, db, &all)
}

#[tokio::test]
async fn deploys_and_backups_leave_metrics_a_failure_keeps_the_last_success() {
    let db = server().database().await;
    let project = Project::fixture("shop");
    metered(&project, &db, &["migrate", "--to", "2"]).expect_code(0);
    let first = scrape(&project);
    let migrate = [("command", "migrate")];
    assert_eq!(
        value(&first, "schemactl_run_last_success", &migrate),
        Some(1.0)
    );
    assert_eq!(
        value(&first, "schemactl_run_last_migrations", &migrate),
        Some(2.0)
    );
    assert_eq!(value(&first, "schemactl_database_version", &[]), Some(2.0));
    assert_eq!(
        value(&first, "schemactl_pending_migrations", &[]),
        Some(1.0)
    );
    let succeeded = value(
        &first,
        "schemactl_run_last_success_timestamp_seconds",
        &migrate,
    )
    .unwrap();
    let database = first
        .iter()
        .find(|s| s.name == "schemactl_run_last_success")
        .and_then(|s| s.labels.iter().find(|(l, _)| l == "database"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(database, format!("127.0.0.1:{}/{}", db.port, db.name));

    // A failed deploy: success 0, one failure counted, the last success kept.
    project.write(
        "0004_broken.up.sql",
        "ALTER TABLE nowhere ADD COLUMN x int;\n",
    );
    metered(&project, &db, &["migrate"]).expect_code(3);
    let failed = scrape(&project);
    assert_eq!(
        value(&failed, "schemactl_run_last_success", &migrate),
        Some(0.0)
    );
    assert_eq!(
        value(&failed, "schemactl_run_failures_total", &migrate),
        Some(1.0)
    );
    assert_eq!(
        value(
            &failed,
            "schemactl_run_last_success_timestamp_seconds",
            &migrate
        ),
        Some(succeeded)
    );
    metered(&project, &db, &["migrate"]).expect_code(3);
    assert_eq!(
        value(&scrape(&project), "schemactl_run_failures_total", &migrate),
        Some(2.0)
    );
    project.remove("0004_broken.up.sql");

    // A rollback, and a backup, in the same file.
    metered(&project, &db, &["migrate"]).expect_code(0);
    metered(&project, &db, &["rollback"]).expect_code(0);
    metered(
        &project,
        &db,
        &["backup", "create", "--store", "store", "--no-encrypt"],
    )
    .expect_code(0);
    let all = scrape(&project);
    assert_eq!(
        value(
            &all,
            "schemactl_run_last_migrations",
            &[("command", "rollback")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&all, "schemactl_database_version", &[]), Some(2.0));
    assert_eq!(
        value(
            &all,
            "schemactl_run_last_success",
            &[("command", "backup create")]
        ),
        Some(1.0)
    );
    let size = value(&all, "schemactl_backup_last_size_bytes", &[]).unwrap();
    assert!(size > 0.0);
    let made = value(&all, "schemactl_backup_last_success_timestamp_seconds", &[]).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - made).abs() < 120.0, "{made} vs {now}");
    assert_eq!(
        value(&all, "schemactl_run_failures_total", &migrate),
        Some(2.0),
        "kept"
    );
}

#[test]
fn the_dashboard_and_alerts_read_only_metrics_schemactl_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dashboard =
        std::fs::read_to_string(root.join("examples/monitoring/grafana-dashboard.json")).unwrap();
    let parsed: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 6));
    let alerts = std::fs::read_to_string(root.join("examples/monitoring/alerts.yml")).unwrap();
    let name = regex::Regex::new(r"schemactl_[a-z_]+").unwrap();
    let documented = documented_families();
    let mut used = 0;
    for text in [&dashboard, &alerts] {
        for found in name.find_iter(text) {
            used += 1;
            assert!(
                documented.iter().any(|d| d == found.as_str()),
                "{} is not a metric schemactl writes (docs/monitoring.md)",
                found.as_str()
            );
        }
    }
    assert!(used > 8);
}
