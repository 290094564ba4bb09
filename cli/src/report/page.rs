//! The page: header and summary, the ER diagram, the migration timeline,
//! lint findings per migration, verify verdicts with lock timelines. All
//! styles inline, no script or font fetched from anywhere.

use super::escape::html;
use super::ReportData;
use schemactl::lint::{Finding, Severity};
use schemactl::model::Migration;
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}\
h1{margin:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\
tr[data-migration]{cursor:pointer}.state{padding:0 .5em;border-radius:3px;color:#fff;background:#777}\
.state-applied,.state-baselined,.verdict-ok{background:#3a7}.state-pending{background:#58a}\
.state-failed,.state-modified,.state-missing,.verdict-failed{background:#c33}\
.bar{height:.8em;background:#58a;border-radius:2px;min-width:1px}\
.finding{margin:.4em 0}.severity-error{color:#c33;font-weight:bold}.severity-warning{color:#b70;font-weight:bold}\
.help{color:#555;margin-left:1.5em}.schema{overflow:auto;border:1px solid #ddd;padding:.5em}\
.note{color:#666}svg text{font-family:ui-monospace,monospace;font-size:11px}";

/// The HTML document.
pub fn render(data: &ReportData) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <title>schemactl report: {}</title><style>{STYLE}</style></head><body>\n",
        html(&data.project)
    );
    let groups = FindingGroups::of(data);
    write_header(&mut out, data);
    write_schema(&mut out, data);
    write_timeline(&mut out, data, &groups);
    write_findings(&mut out, data, &groups);
    write_verify(&mut out, data);
    out.push_str(SCRIPT);
    out.push_str("</body></html>\n");
    out
}

/// Clicking a migration in the timeline shows its findings.
const SCRIPT: &str = "<script>\
document.querySelectorAll('tr[data-migration]').forEach(function(row){\
row.addEventListener('click',function(){var t=document.getElementById('findings-'+row.dataset.migration);\
if(t){t.scrollIntoView();}});});\
</script>\n";

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

fn write_header(out: &mut String, data: &ReportData) {
    let database = data
        .status
        .as_ref()
        .map_or("no database given".to_string(), |s| s.database.clone());
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "<header><h1>schemactl report</h1><p>{} · {} · generated {}</p>\
         <p id=\"summary\">{} migrations · {} lint errors, {} warnings{}</p></header>",
        html(&data.project),
        html(&database),
        html(&generated),
        data.migrations.len(),
        count(&data.findings, Severity::Error),
        count(&data.findings, Severity::Warning),
        data.verify.as_ref().map_or(String::new(), |v| format!(
            " · verify: {}",
            if v.failed() {
                "failed"
            } else {
                "every down undoes its up"
            }
        )),
    );
}

fn write_schema(out: &mut String, data: &ReportData) {
    out.push_str("<section id=\"schema\"><h2>Schema</h2>");
    match &data.diagram {
        Some(diagram) => {
            let _ = write!(
                out,
                "<p>{} tables, {} foreign keys (dashed: nullable; the label is the ON DELETE action).</p><div class=\"schema\">{}</div>",
                diagram.table_count(),
                diagram.foreign_key_count(),
                diagram.to_svg()
            );
        }
        None => out.push_str(
            "<p class=\"note\">No database given: pass --database-url (or --dev) for the diagram and the timeline.</p>",
        ),
    }
    out.push_str("</section>\n");
}

/// The findings grouped once: by migration (in `data.migrations`' order),
/// and those of files no migration owns (MongoDB validators).
struct FindingGroups<'a> {
    by_migration: Vec<Vec<&'a Finding>>,
    other: Vec<&'a Finding>,
}

impl<'a> FindingGroups<'a> {
    fn of(data: &'a ReportData) -> Self {
        let mut groups = Self {
            by_migration: vec![Vec::new(); data.migrations.len()],
            other: Vec::new(),
        };
        for finding in &data.findings {
            match data.migrations.iter().position(|m| owns(m, finding)) {
                Some(index) => groups.by_migration[index].push(finding),
                None => groups.other.push(finding),
            }
        }
        groups
    }
}

/// Whether `finding` is in one of the migration's files.
fn owns(migration: &Migration, finding: &Finding) -> bool {
    std::iter::once(&migration.up)
        .chain(migration.down.as_ref())
        .any(|script| script.path == finding.path || script.path.ends_with(&finding.path))
}

fn write_timeline(out: &mut String, data: &ReportData, groups: &FindingGroups) {
    out.push_str("<section id=\"timeline\"><h2>Migrations</h2><table><tr><th>version</th><th>name</th><th>state</th><th>applied</th><th>duration</th><th>findings</th></tr>\n");
    let rows = data.status.as_ref().map(|s| s.migrations.as_slice());
    let longest = rows
        .into_iter()
        .flatten()
        .filter_map(|r| r.execution_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    for (migration, findings) in data.migrations.iter().zip(&groups.by_migration) {
        let row = rows.and_then(|rows| rows.iter().find(|r| r.version == migration.version));
        let state = row.map_or("not checked", |r| r.state.as_str());
        let applied = row
            .and_then(|r| r.applied_at)
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let duration = row
            .and_then(|r| r.execution_ms)
            .map_or(String::new(), |ms| {
                format!(
                    "<div class=\"bar\" style=\"width:{:.0}px\"></div>{ms} ms",
                    (ms as f64 / longest as f64 * 160.0).max(1.0)
                )
            });
        let findings = findings.len();
        let _ = writeln!(
            out,
            "<tr data-migration=\"{label}\"><td>{}</td><td>{}</td><td><span class=\"state state-{state}\">{state}</span></td><td>{}</td><td>{duration}</td><td>{findings}</td></tr>",
            html(&migration.version_text),
            html(&migration.name),
            html(&applied),
            label = html(&migration.label()),
        );
    }
    out.push_str("</table></section>\n");
}

fn write_findings(out: &mut String, data: &ReportData, groups: &FindingGroups) {
    out.push_str("<section id=\"findings\"><h2>Lint findings</h2>");
    if data.findings.is_empty() {
        out.push_str("<p>None.</p>");
    }
    for (migration, findings) in data.migrations.iter().zip(&groups.by_migration) {
        if findings.is_empty() {
            continue;
        }
        let label = migration.label();
        let _ = write!(
            out,
            "<h3 id=\"findings-{}\">{}</h3>",
            html(&label),
            html(&label)
        );
        write_finding_list(out, data, findings);
    }
    if !groups.other.is_empty() {
        out.push_str("<h3>Other files</h3>");
        write_finding_list(out, data, &groups.other);
    }
    out.push_str("</section>\n");
}

fn write_finding_list(out: &mut String, data: &ReportData, findings: &[&Finding]) {
    out.push_str("<ul>");
    for finding in findings {
        let severity = finding.severity.as_str();
        let _ = write!(
            out,
            "<li class=\"finding\"><span class=\"severity-{severity}\">{severity}</span> \
             <a class=\"rule\" href=\"{}\">{}</a> {}:{}:{}: {}<div class=\"help\">{}</div></li>",
            html(&data.rule_url.replace("{rule}", finding.rule)),
            html(finding.rule),
            html(&finding.path.display().to_string()),
            finding.position.line,
            finding.position.column,
            html(&finding.message),
            html(&finding.help),
        );
    }
    out.push_str("</ul>");
}

fn write_verify(out: &mut String, data: &ReportData) {
    let Some(report) = &data.verify else {
        out.push_str("<section id=\"verify\"><h2>Verify</h2><p class=\"note\">Not run: pass --verify for each migration's round trip and its locks.</p></section>\n");
        return;
    };
    out.push_str("<section id=\"verify\"><h2>Verify</h2><table><tr><th>migration</th><th>verdict</th><th>locks taken by the up script</th></tr>\n");
    for result in &report.results {
        let verdict = serde_json::to_value(result)
            .ok()
            .and_then(|v| v["outcome"].as_str().map(str::to_string))
            .unwrap_or_default();
        let class = if result.failed() { "failed" } else { "ok" };
        let timeline = result
            .locks
            .as_ref()
            .and_then(|locks| locks.timeline_svg(&result.label))
            .unwrap_or_else(|| "<span class=\"note\">none on existing tables</span>".into());
        let _ = writeln!(
            out,
            "<tr class=\"verdict\" data-verdict=\"{}\"><td>{}</td><td><span class=\"state verdict-{class}\">{}</span></td><td>{timeline}</td></tr>",
            html(&verdict),
            html(&result.label),
            html(&verdict),
        );
    }
    out.push_str("</table>");
    if let Some(stopped) = &report.stopped {
        let _ = write!(
            out,
            "<p class=\"severity-error\">Stopped at {} ({}): {}</p>",
            html(&stopped.migration),
            html(&stopped.step.to_string()),
            html(&stopped.error)
        );
    }
    out.push_str("</section>\n");
}
