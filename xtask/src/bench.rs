//! `cargo xtask bench`: the runner's figures against a local PostgreSQL
//! (started here with schemactl's own embedded cluster code), compared with
//! psql applying the same files.
//!
//! Measured, each as the median of several runs:
//! - `migrate` applying the whole corpus to an empty database;
//! - psql applying the same up files in one session, each in its own
//!   transaction (`BEGIN; \i file; COMMIT;`);
//! - `migrate` when everything is applied (the deploy-pipeline no-op);
//! - `status`;
//! - `rollback --steps 50`;
//! - `lint` of the whole directory, and Squawk on the same up files when
//!   it is installed (`pip install squawk-cli`);
//! - `migrate --dry-run` of a migration that is one 1 MB line;
//! - then sqlx-cli and refinery_cli side by side ([`crate::peers`]).

use crate::corpus;
use anyhow::{bail, Context, Result};
use schemactl::devserver::binaries::PgBinaries;
use schemactl::devserver::cluster::{free_port, Cluster, ClusterOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    migrations: usize,
    runs: usize,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        migrations: 500,
        runs: 5,
    };
    for (flag, value) in flag_values(args)? {
        match flag {
            "--migrations" => options.migrations = value.parse()?,
            "--runs" => options.runs = value.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(options)
}

/// `--flag value` pairs, in order; a flag without its value is an error.
pub(crate) fn flag_values(args: &[String]) -> Result<Vec<(&str, &str)>> {
    let mut pairs = Vec::new();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = iter
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        pairs.push((flag.as_str(), value.as_str()));
    }
    Ok(pairs)
}

/// Runs the benchmark and prints its figures.
pub fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let schemactl = build_schemactl()?;
    let (work, cluster, port) = start_cluster("schemactl-bench-")?;
    let migrations = work.path().join("migrations");
    corpus::generate(&migrations, options.migrations)?;
    let result = measure(&options, &schemactl, &cluster, port, &migrations).and_then(|()| {
        crate::peers::compare(
            options.migrations,
            options.runs,
            &schemactl,
            &cluster.url(port, "postgres"),
            &|name| cluster.url(port, name),
            &migrations,
        )
    });
    let _ = cluster.stop(false);
    result
}

fn measure(
    options: &Options,
    schemactl: &Path,
    cluster: &Cluster,
    port: u16,
    migrations: &Path,
) -> Result<()> {
    let psql = psql();
    let admin = cluster.url(port, "postgres");
    let url_of = |name: &str| cluster.url(port, name);
    let mut fresh = fresh_databases(&psql, &admin, "bench", &url_of);
    let cli = |url: &str, args: &[&str]| {
        let mut command = Command::new(schemactl);
        command
            .env("DATABASE_URL", url)
            .arg("--migrations-dir")
            .arg(migrations)
            .args(args);
        command
    };

    let mut apply = Vec::new();
    let mut psql_apply = Vec::new();
    let script = psql_script(migrations, false)?;
    for run in 0..options.runs {
        // Both get a fresh database each time; who goes first alternates, so
        // that the state a CREATE DATABASE leaves behind favours neither.
        let (first, second) = (fresh()?, fresh()?);
        let (ours, theirs) = if run % 2 == 0 {
            (&first, &second)
        } else {
            (&second, &first)
        };
        let psql_run = || {
            time(
                Command::new(&psql)
                    .arg(theirs)
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
                    .arg(&script),
            )
        };
        if run % 2 == 0 {
            apply.push(time(&mut cli(ours, &["migrate"]))?);
            psql_apply.push(psql_run()?);
        } else {
            psql_apply.push(psql_run()?);
            apply.push(time(&mut cli(ours, &["migrate"]))?);
        }
    }
    let url = fresh()?;
    run_quiet(&mut cli(&url, &["migrate"]))?;
    let noop_runs = options.runs.max(20);
    let noop: Vec<Duration> = (0..noop_runs)
        .map(|_| time(&mut cli(&url, &["migrate"])))
        .collect::<Result<_>>()?;
    let status: Vec<Duration> = (0..noop_runs)
        .map(|_| time(&mut cli(&url, &["status"])))
        .collect::<Result<_>>()?;
    let mut rollback = Vec::new();
    for _ in 0..options.runs {
        rollback.push(time(&mut cli(&url, &["rollback", "--steps", "50"]))?);
        run_quiet(&mut cli(&url, &["migrate"]))?;
    }

    let lint_runs = options.runs.max(20);
    let lint: Vec<Duration> = (0..lint_runs)
        .map(|_| time_allowing_findings(&mut cli(&url, &["lint", "--format", "json"])))
        .collect::<Result<_>>()?;
    let squawk = squawk_figure(migrations, lint_runs)?;
    let (recent_ms, recent_plan) = recent_messages_figure(&psql, &fresh()?, schemactl)?;
    let verify = time(&mut cli(&url, &["verify", "--dev-url", &admin]))?;
    let verify_data = time(&mut cli(&url, &["verify", "--dev-url", &admin, "--data"]))?;
    let verify_locks = time(&mut cli(&url, &["verify", "--dev-url", &admin, "--locks"]))?;
    let pg_dump = PgBinaries::locate()?.program("pg_dump");
    let pg_dump = if pg_dump.is_file() {
        pg_dump
    } else {
        PathBuf::from("pg_dump")
    };
    let dumps: Vec<Duration> = (0..5)
        .map(|_| time(Command::new(&pg_dump).args(["--schema-only", &url])))
        .collect::<Result<_>>()?;

    let work = migrations.parent().unwrap_or(migrations);
    let long_line = long_line_figure(work, schemactl, &fresh()?, options.runs)?;

    let (apply, psql_apply) = (median(apply), median(psql_apply));
    let (noop, status, rollback) = (median(noop), median(status), median(rollback));
    let ratio = apply.as_secs_f64() / psql_apply.as_secs_f64();
    println!(
        "schemactl bench: {} migrations, medians of {} runs (no-op and status: {noop_runs} runs)",
        options.migrations, options.runs
    );
    println!(
        "  migrate, all applied from empty     {:>9.1} ms",
        ms(apply)
    );
    println!(
        "  psql, same files, one tx each       {:>9.1} ms",
        ms(psql_apply)
    );
    println!(
        "  ratio schemactl / psql              {:>9.3}   (target <= 1.05) {}",
        ratio,
        verdict(ratio <= 1.05)
    );
    println!(
        "  migrate, nothing pending (no-op)    {:>9.1} ms (target <= 8 ms) {}",
        ms(noop),
        verdict(ms(noop) <= 8.0)
    );
    println!(
        "  status                              {:>9.1} ms (target <= 8 ms) {}",
        ms(status),
        verdict(ms(status) <= 8.0)
    );
    println!(
        "  rollback --steps 50                 {:>9.1} ms",
        ms(rollback)
    );
    let lint = median(lint);
    println!(
        "  lint (whole directory)              {:>9.1} ms (target <= 50 ms) {}",
        ms(lint),
        verdict(ms(lint) <= 50.0)
    );
    println!(
        "  verify, {} migrations (3 snapshots each) {:>9.1} s  (target <= 30 s) {}",
        options.migrations,
        verify.as_secs_f64(),
        verdict(verify.as_secs_f64() <= 30.0)
    );
    println!(
        "  verify --data (rows checked too)    {:>9.1} s",
        verify_data.as_secs_f64()
    );
    println!(
        "  verify --locks (locks traced)       {:>9.1} s",
        verify_locks.as_secs_f64()
    );
    println!("  one pg_dump --schema-only of the result {:>7.1} ms (x3 per migration for a pg_dump-based verify)", ms(median(dumps)));
    println!(
        "  50 most recent of 10,000 messages    {:>9.2} ms (target <= 100 ms) {}  [{}]",
        recent_ms,
        verdict(recent_ms <= 100.0),
        recent_plan
    );
    println!(
        "  migrate --dry-run, one 1 MB line    {:>9.1} ms (target <= 1000 ms) {}",
        ms(long_line),
        verdict(ms(long_line) <= 1000.0)
    );
    match squawk {
        Some(squawk) => println!(
            "  squawk, same up files               {:>9.1} ms",
            ms(squawk)
        ),
        None => {
            println!("  squawk                              not installed (pip install squawk-cli)")
        }
    }
    Ok(())
}

/// The shipped schema with 10,000 messages in one session (and as many in
/// another): the median execution time of the session's 50 most recent
/// messages, and the index the plan uses.
fn recent_messages_figure(psql: &Path, url: &str, schemactl: &Path) -> Result<(f64, String)> {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .join("migrations");
    run_quiet(
        Command::new(schemactl)
            .env("DATABASE_URL", url)
            .arg("--migrations-dir")
            .arg(&shipped)
            .arg("migrate"),
    )?;
    let setup = "INSERT INTO users (email, display_name) VALUES ('bench@example.com', 'b');
        INSERT INTO agents (name, persona_type) VALUES ('bench', 'developer');
        INSERT INTO agent_sessions (agent_id, user_id) SELECT a.id, u.id FROM agents a, users u;
        INSERT INTO agent_sessions (agent_id, user_id) SELECT a.id, u.id FROM agents a, users u;
        INSERT INTO conversation_history (session_id, role, content, created_at)
        SELECT s.id, 'user', repeat('message ', 20) || i, now() - i * interval '1 second'
        FROM generate_series(1, 10000) i, agent_sessions s;
        ANALYZE conversation_history;";
    run_quiet(Command::new(psql).arg(url).args([
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        setup,
    ]))?;
    let query = "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM conversation_history
        WHERE session_id = (SELECT min(id) FROM agent_sessions) ORDER BY created_at DESC LIMIT 50";
    let mut times = Vec::new();
    let mut plan_text = String::new();
    for _ in 0..21 {
        let output = Command::new(psql)
            .arg(url)
            .args(["-X", "-A", "-t", "-c", query])
            .output()?;
        let plan: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("EXPLAIN output")?;
        times.push(plan[0]["Execution Time"].as_f64().unwrap_or(f64::MAX));
        plan_text = plan.to_string();
    }
    times.sort_by(f64::total_cmp);
    let index = plan_text
        .split("\"Index Name\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|name| name.starts_with("conversation_history"))
        .unwrap_or("NO INDEX USED on conversation_history")
        .to_string();
    Ok((times[times.len() / 2], index))
}

/// The same files through Squawk, when it is installed (`pip install squawk-cli`).
pub(crate) fn squawk_figure(migrations: &Path, runs: usize) -> Result<Option<Duration>> {
    squawk_on_files(&up_files(migrations)?, runs)
}

/// Squawk's median time on `files`, when it is installed.
pub(crate) fn squawk_on_files(files: &[PathBuf], runs: usize) -> Result<Option<Duration>> {
    let Some(squawk) = squawk_program() else {
        return Ok(None);
    };
    // Its JSON reporter, as schemactl's side writes JSON too.
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            time_allowing_findings(
                Command::new(&squawk)
                    .args(["--reporter", "json"])
                    .args(files),
            )
        })
        .collect::<Result<_>>()?;
    Ok(Some(median(samples)))
}

/// Squawk's peak resident memory (KiB) on `files`, with its JSON reporter.
pub(crate) fn squawk_peak_memory(files: &[PathBuf]) -> Option<u64> {
    let squawk = squawk_program()?;
    let mut command = Command::new(&squawk);
    command.args(["--reporter", "json"]).args(files);
    peak_memory_kib(&command)
}

/// The peak resident memory (KiB) of `command`, measured by GNU time
/// (`/usr/bin/time -f %M`); `None` where it is not installed or gives no
/// figure.
pub(crate) fn peak_memory_kib(command: &Command) -> Option<u64> {
    let mut time = Command::new("/usr/bin/time");
    if let Some(dir) = command.get_current_dir() {
        time.current_dir(dir);
    }
    let output = time
        .args(["-f", "peak-kib %M"])
        .arg(command.get_program())
        .args(command.get_args())
        .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .find_map(|line| line.strip_prefix("peak-kib ")?.trim().parse().ok())
}

/// Squawk's own binary: `SQUAWK`, else the one pyenv's shim would run (the
/// shim is a shell script that adds about 25 ms to every call, which would
/// flatter schemactl), else `squawk` on the PATH; `None` when none runs.
pub(crate) fn squawk_program() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SQUAWK").map(PathBuf::from),
        Command::new("pyenv")
            .args(["which", "squawk"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())),
        Some(PathBuf::from("squawk")),
    ];
    candidates.into_iter().flatten().find(|program| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

pub(crate) fn up_files(migrations: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrations)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    Ok(files)
}

/// `migrate --dry-run` of one migration that is a single 1 MB line (one
/// INSERT of 40,000 rows): reading, splitting and printing it. Splitting
/// used to be quadratic in the length of a line.
fn long_line_figure(work: &Path, schemactl: &Path, url: &str, runs: usize) -> Result<Duration> {
    let project = work.join("long-line");
    std::fs::create_dir_all(project.join("migrations"))?;
    let rows: Vec<String> = (0..40_000)
        .map(|i| format!("({i}, 'row {i:05}', E'it''s')"))
        .collect();
    let sql = format!(
        "INSERT INTO t (id, name, note) VALUES {};\n",
        rows.join(", ")
    );
    std::fs::write(project.join("migrations/0001_long.up.sql"), sql)?;
    (0..runs.max(3))
        .map(|_| {
            time(
                Command::new(schemactl)
                    .current_dir(&project)
                    .env("DATABASE_URL", url)
                    .args(["migrate", "--dry-run"]),
            )
        })
        .collect::<Result<Vec<_>>>()
        .map(median)
}

/// Times a linter, which exits 1 when it has findings.
pub(crate) fn time_allowing_findings(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    if !matches!(output.status.code(), Some(0 | 1)) {
        bail!(
            "{:?} failed: {}",
            command,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(started.elapsed())
}

/// A psql script applying the up files of `migrations`, each in its own
/// transaction, or all in one (`one_transaction`: the floor of applying).
pub(crate) fn psql_script(migrations: &Path, one_transaction: bool) -> Result<PathBuf> {
    let includes = up_files(migrations)?
        .into_iter()
        .map(|file| format!("\\i {}\n", file.display()));
    let (script, name) = if one_transaction {
        let body: String = includes.collect();
        (
            format!("BEGIN;\n{body}COMMIT;\n"),
            "psql-one-transaction.sql",
        )
    } else {
        let body = includes.map(|include| format!("BEGIN;\n{include}COMMIT;\n"));
        (body.collect(), "psql-apply.sql")
    };
    let path = migrations.with_file_name(name);
    std::fs::write(&path, script)?;
    Ok(path)
}

/// psql: the server installation's, else the one on the PATH.
pub(crate) fn psql() -> PathBuf {
    PgBinaries::locate()
        .map(|b| b.program("psql"))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// A work directory and a local server in it (fsync off, as the tests'),
/// started on a free port.
pub(crate) fn start_cluster(prefix: &str) -> Result<(tempfile::TempDir, Cluster, u16)> {
    let work = tempfile::Builder::new().prefix(prefix).tempdir()?;
    std::fs::set_permissions(
        work.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let cluster = Cluster::init(
        &work.path().join("cluster"),
        "bench-password",
        &ClusterOptions::default(),
    )?;
    let port = free_port()?;
    cluster.start(port)?;
    Ok((work, cluster, port))
}

pub(crate) fn build_schemactl() -> Result<PathBuf> {
    build_schemactl_with(&mut release_build())
}

/// `cargo build --release` of the `schemactl` binary, to adjust before
/// [`build_schemactl_with`].
pub(crate) fn release_build() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args([
        "build",
        "--release",
        "--quiet",
        "--package",
        "schemactl-cli",
        "--bin",
        "schemactl",
    ]);
    cargo
}

/// Runs `cargo` (a [`release_build`]) and returns the binary it built.
pub(crate) fn build_schemactl_with(cargo: &mut Command) -> Result<PathBuf> {
    if !cargo.status()?.success() {
        bail!("building schemactl failed");
    }
    Ok(target_dir()?.join("release").join("schemactl"))
}

/// Real projects' migrations, beside the repository (`../shared/corpora`).
pub(crate) fn shared_corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora")
}

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `target/`).
pub(crate) fn target_dir() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?;
    Ok(std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from))
}

/// Makes fresh databases on the server `admin` reaches, named `prefix1`,
/// `prefix2`…, each time it is called; gives the URL `url_of` its name.
pub(crate) fn fresh_databases<'a>(
    psql: &'a Path,
    admin: &'a str,
    prefix: &'a str,
    url_of: &'a dyn Fn(&str) -> String,
) -> impl FnMut() -> Result<String> + 'a {
    let mut made = 0;
    move || {
        made += 1;
        let name = format!("{prefix}{made}");
        run_quiet(
            Command::new(psql)
                .arg(admin)
                .args(["-qc", &format!("CREATE DATABASE {name}")]),
        )?;
        Ok(url_of(&name))
    }
}

/// A new backup identity in `key` (`backup keygen`): its recipient.
pub(crate) fn new_backup_key(schemactl: &Path, key: &Path) -> Result<String> {
    let keygen = Command::new(schemactl)
        .args(["backup", "keygen", "--format", "json", "--output"])
        .arg(key)
        .output()?;
    let made: serde_json::Value = serde_json::from_slice(&keygen.stdout)?;
    Ok(made["recipient"].as_str().unwrap_or_default().to_string())
}

pub(crate) fn time(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    run_quiet(command)?;
    Ok(started.elapsed())
}

pub(crate) fn run_quiet(command: &mut Command) -> Result<()> {
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    if !output.status.success() {
        bail!(
            "{:?} failed: {}",
            command,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

pub(crate) fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub(crate) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}
