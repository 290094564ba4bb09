//! The metrics file: what it holds is read back, this run's samples
//! replace or add to it, and the result replaces the file in one rename.

use super::{Kind, Sample, Update};
use schemactl::Error;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// One family as it will be written.
struct Family {
    help: String,
    kind: Kind,
    /// Samples by their rendered labels.
    samples: BTreeMap<String, f64>,
}

/// Applies `samples` to the metrics file at `path` (created when missing)
/// and replaces it atomically.
pub fn update_file(path: &Path, samples: &[Sample]) -> Result<(), Error> {
    let fail = |what: &str, e: std::io::Error| {
        Error::InvalidArgument(format!(
            "--metrics-file {}: cannot {what}: {e}",
            path.display()
        ))
    };
    let mut families = match std::fs::read_to_string(path) {
        Ok(text) => read(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(fail("read it", e)),
    };
    for sample in samples {
        let family = families
            .entry(sample.name.to_string())
            .or_insert_with(|| Family {
                help: sample.help.to_string(),
                kind: sample.kind,
                samples: BTreeMap::new(),
            });
        family.help = sample.help.to_string();
        family.kind = sample.kind;
        let labels = render_labels(sample.labels.iter().map(|(k, v)| (*k, v.as_str())));
        let value = family.samples.entry(labels).or_insert(0.0);
        match sample.update {
            Update::Set(v) => *value = v,
            Update::Add(v) => *value += v,
        }
    }
    let text = render(&families);
    let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&temporary, text).map_err(|e| fail("write it", e))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        fail("replace it", e)
    })
}

/// The families of an existing file, as [`render`] wrote them: `# HELP`,
/// `# TYPE`, then `name{labels} value` lines, the labels kept as written
/// (so that their escapes survive). Lines of another shape are dropped:
/// it is schemactl's own file.
fn read(text: &str) -> BTreeMap<String, Family> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            entry(&mut families, name).help = help.replace("\\n", "\n").replace("\\\\", "\\");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            entry(&mut families, name).kind = if kind == "counter" {
                Kind::Counter
            } else {
                Kind::Gauge
            };
        } else if let Some((series, value)) = line.rsplit_once(' ') {
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.find('{') {
                Some(open) => (&series[..open], &series[open..]),
                None => (series, ""),
            };
            entry(&mut families, name)
                .samples
                .insert(labels.to_string(), value);
        }
    }
    families
}

fn entry<'f>(families: &'f mut BTreeMap<String, Family>, name: &str) -> &'f mut Family {
    families.entry(name.to_string()).or_insert_with(|| Family {
        help: String::new(),
        kind: Kind::Gauge,
        samples: BTreeMap::new(),
    })
}

/// `{a="x",b="y"}`, names sorted, values escaped as the format says.
fn render_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut labels: Vec<(&str, &str)> = labels.collect();
    labels.sort_unstable();
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(name, value)| {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn render(families: &BTreeMap<String, Family>) -> String {
    let mut out = String::new();
    for (name, family) in families {
        let help = family.help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {}", family.kind.as_str());
        for (labels, value) in &family.samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_replaces_its_samples_adds_to_counters_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.prom");
        let labels = [("command", "backup create"), ("database", "app \"main\"")];
        update_file(
            &path,
            &[
                Sample::gauge("schemactl_run_last_success", "ok?", &labels, 1.0),
                Sample::gauge(
                    "schemactl_backup_last_success_timestamp_seconds",
                    "when",
                    &[("database", "app")],
                    100.0,
                ),
            ],
        )
        .unwrap();
        update_file(
            &path,
            &[
                Sample::gauge("schemactl_run_last_success", "ok?", &labels, 0.0),
                Sample::counter("schemactl_run_failures_total", "failures", &labels, 1.0),
            ],
        )
        .unwrap();
        update_file(
            &path,
            &[Sample::counter(
                "schemactl_run_failures_total",
                "failures",
                &labels,
                1.0,
            )],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let exposition = openmetrics_parser::prometheus::parse_prometheus(&text)
            .unwrap_or_else(|e| panic!("{e:?}: {text}"));
        let value = |name: &str| {
            let family = exposition
                .families
                .get(name)
                .unwrap_or_else(|| panic!("{name} missing from\n{text}"));
            let sample = family.iter_samples().next().unwrap();
            match &sample.value {
                openmetrics_parser::PrometheusValue::Gauge(n) => ("gauge", n.as_f64()),
                openmetrics_parser::PrometheusValue::Counter(c) => ("counter", c.value.as_f64()),
                _ => ("other", f64::NAN),
            }
        };
        assert_eq!(value("schemactl_run_last_success"), ("gauge", 0.0));
        assert_eq!(value("schemactl_run_failures_total"), ("counter", 2.0));
        assert_eq!(
            value("schemactl_backup_last_success_timestamp_seconds"),
            ("gauge", 100.0),
            "a run that does not set it keeps it"
        );
        assert!(text.contains("database=\"app \\\"main\\\"\""), "{text}");
        assert!(!dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .path()
            .to_string_lossy()
            .contains(".tmp.")));
    }
}
