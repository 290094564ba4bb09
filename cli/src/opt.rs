//! The command line, as clap derive types. The `///` comments are the
//! `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use schemactl::model::Version;
use std::path::PathBuf;

/// Migrations and schema governance for PostgreSQL (and MongoDB validators).
///
/// Applies numbered SQL migrations under an advisory lock, each in its own
/// transaction, and records every change (checksum, who, when, how long) in
/// a history table. Edited, missing or failed migrations stop a run with the
/// exact fix.
///
/// The database comes from --database-url, DATABASE_URL, the PG* variables or
/// schemactl.toml; without one, a command refuses unless --dev asks for
/// schemactl's own development PostgreSQL under .schemactl/ (see `schemactl
/// dev`). With MONGODB_URI, the same verbs also manage the validators and
/// indexes in schemas/.
///
/// Exit codes: 0 ok; 1 a check found problems (history differs from the
/// files, or a command refused to run); 2 error (arguments, configuration,
/// files, connection); 3 a migration failed while it ran; 4 the migration
/// lock was not free in time; 5 a migration gave up waiting for table
/// locks (safe to retry); 6 `diff` could not replay the migrations.
/// `--version`: the release, the commit it was built from and that
/// commit's date.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SCHEMACTL_COMMIT"),
    ", ",
    env!("SCHEMACTL_COMMIT_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "schemactl", version, long_version = LONG_VERSION, max_term_width = 100)]
pub struct Opt {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// When to colour the output: auto (a terminal, unless NO_COLOR), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,

    /// After migrate, rollback, fleet and backup: write the run's metrics to
    /// this file in Prometheus text format, for node_exporter's textfile
    /// collector (updated in place, replaced atomically).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "SCHEMACTL_METRICS_FILE"
    )]
    pub metrics_file: Option<PathBuf>,

    /// Without a database URL, use schemactl's own development PostgreSQL (under
    /// .schemactl/, started when needed). Without --dev that happens only on a
    /// terminal and when CI is not set; a deploy without its URL fails instead.
    #[arg(long, global = true)]
    pub dev: bool,

    /// The flags that override `schemactl.toml` (declared once, in the
    /// library's `config::Overrides`).
    #[command(flatten)]
    pub overrides: crate::config::Overrides,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs: one JSON document on stdout (errors too).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations in version order.
    ///
    /// Takes the migration lock, refuses when the history disagrees with the
    /// files (edited, missing, failed or out-of-order migrations), then runs
    /// each pending migration in its own transaction together with its
    /// history row.
    Migrate(MigrateArgs),
    /// Undo applied migrations with their down scripts, newest first.
    ///
    /// Refuses up front, changing nothing, when a needed down script is
    /// missing or changed since its migration was applied.
    Rollback(RollbackArgs),
    /// Show every migration: applied, pending, modified, missing or failed.
    Status {
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Whether the database suits the application that ships these
    /// migrations: exit 0 when current, 7 when ahead, 1 when behind.
    ///
    /// Changes nothing. For an init container or a readiness probe: an
    /// application rolled back to an older release sees "ahead" and the
    /// `rollback --to` that brings the database back.
    Check {
        /// The application's migrations directory (default: the configured one).
        #[arg(long, value_name = "DIR")]
        app_migrations: Option<PathBuf>,
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Declare a release of the application live or retired (contract
    /// migrations wait while another release is live), or list them.
    Release {
        /// What to do.
        #[command(subcommand)]
        action: ReleaseAction,
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t, global = true)]
        format: Format,
    },
    /// Check that the files match the history; exit 1 on any disagreement.
    ///
    /// Changes nothing. Use it as a deploy gate before `migrate`, or after it
    /// with --fail-on-pending.
    Validate(ValidateArgs),
    /// Record migrations as applied without running them, to adopt an existing database.
    ///
    /// Either every migration up to --version, or exactly those another tool
    /// recorded in its history table (--from sqlx | diesel | golang-migrate |
    /// dbmate | goose | flyway | refinery | auto), keeping when it applied them
    /// and its checksum; its table is only read. Every imported version needs
    /// its file. Refused when the history is not empty.
    #[command(group = clap::ArgGroup::new("source").required(true))]
    Baseline(BaselineArgs),
    /// Fix the history after a failure or a cosmetic edit; every repair is logged.
    #[command(group = clap::ArgGroup::new("action").required(true))]
    Repair(RepairArgs),
    /// Check the migrations for dangerous, destructive or incomplete changes (no database needed).
    ///
    /// Exit 0 when no finding fails the run (warnings pass unless
    /// --deny-warnings), 1 when findings fail it, 2 on usage or I/O errors.
    Lint(LintArgs),
    /// Print the database's schema, normalised and stable (for diffs and reviews),
    /// or as an entity-relationship diagram (mermaid, dot).
    Dump {
        /// Output: text for people, json for programs (errors are JSON too),
        /// mermaid (an erDiagram for Markdown) or dot (Graphviz).
        #[arg(long, value_enum, default_value_t)]
        format: DumpFormat,
    },
    /// Write one self-contained HTML page about the migrations: the ER
    /// diagram and migration timeline of the database (when one is given),
    /// lint findings per migration, and with --verify each migration's
    /// round trip and lock timeline.
    Report(ReportArgs),
    /// Prove on a scratch database that every down script undoes its up script.
    ///
    /// For each migration: apply up, apply down, compare the schema with the one
    /// before (catalog to catalog), apply up again, compare with the first up.
    /// Exit 1 when any migration fails. DATABASE_URL is never touched.
    Verify(VerifyArgs),
    /// Show schema drift; exit 1 when there is any.
    ///
    /// Without URLs: the live database against the schema its applied
    /// migrations should have produced (replayed on a scratch database).
    /// With two URLs: the first database against the second.
    Diff {
        /// Two databases to compare, or none.
        #[arg(value_name = "URL", num_args = 0..=2)]
        urls: Vec<String>,
        /// Output: text for people, json for programs.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Run migrate, status, validate, rollback or diff over a fleet of
    /// tenant databases, or of tenant schemas in one database.
    ///
    /// Targets: --targets FILE, --targets-query SQL (on --control-url) or
    /// --targets-command CMD list connection strings; --tenant-schemas FILE or
    /// --tenant-schemas-query SQL list schemas of the database at
    /// --database-url (schema-per-tenant: each tenant's migrations run with its
    /// schema first on search_path and its own history table in it). Or
    /// `[fleet]` in schemactl.toml. Every run writes a ledger and prints its
    /// run id; `--resume RUN` goes on with it. Exit 1 when any target failed
    /// or was not run.
    Fleet {
        #[command(flatten)]
        args: FleetArgs,
        #[command(subcommand)]
        action: FleetAction,
    },
    /// Create the next numbered up/down migration pair.
    New {
        /// What the migration does, e.g. "add orders table".
        name: String,
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// For example: `schemactl completions bash > ~/.local/share/bash-completion/completions/schemactl`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or with DIR write one page per command there
    /// (schemactl.1, schemactl-migrate.1, …); `cargo xtask man` writes them to target/man.
    #[command(hide = true)]
    Man {
        /// Write every page into this directory instead.
        dir: Option<PathBuf>,
    },
    /// Write the book's generated pages into DIR (the book's source, `docs/`):
    /// the CLI reference, the configuration reference and its JSON Schema,
    /// and the lint rule index; `cargo xtask docs` runs it.
    #[command(hide = true)]
    Reference {
        /// The book's source directory.
        dir: PathBuf,
    },
    /// Backups of the database: create, list, verify (restore-tested),
    /// restore and prune; encrypted with age, checked by sha256.
    ///
    /// The store is a directory (--store, or `[backup] store`); backups are
    /// encrypted to `[backup] recipients` (or --recipient); reading one
    /// takes --identity FILE (or SCHEMACTL_BACKUP_IDENTITY).
    Backup {
        #[command(subcommand)]
        action: BackupAction,
        /// The backup store: a directory, file:///path, s3://bucket/prefix,
        /// az://container/prefix or gs://bucket/prefix (credentials from each
        /// cloud's standard environment) [default: `[backup] store`].
        #[arg(long, global = true, value_name = "STORE")]
        store: Option<String>,
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t, global = true)]
        format: Format,
    },
    /// Manage the embedded development PostgreSQL.
    Dev {
        #[command(subcommand)]
        action: DevAction,
        /// Output: text for people, json for programs (errors are JSON too).
        #[arg(long, value_enum, default_value_t, global = true)]
        format: Format,
    },
}

/// `schemactl report`'s options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The page to write (replaced whole when it exists).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// Also verify every migration on a scratch database (--dev-url, or the
    /// development server) and show its verdict and the locks it took.
    #[arg(long)]
    pub verify: bool,
    /// Where a finding's rule page is; `{rule}` is replaced by the rule id.
    #[arg(
        long,
        value_name = "URL",
        default_value = schemactl::lint::RuleDescription::PAGE_URL
    )]
    pub rule_url: String,
}

/// What `dump` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DumpFormat {
    /// The normalised schema, one object per block.
    #[default]
    Text,
    /// The normalised schema as JSON.
    Json,
    /// An entity-relationship diagram in Mermaid (`erDiagram`).
    Mermaid,
    /// An entity-relationship diagram in Graphviz's DOT.
    Dot,
}

/// The arguments of `schemactl migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Apply only up to and including this version.
    #[arg(long, value_name = "VERSION", value_parser = version_arg)]
    pub to: Option<Version>,
    /// Print the plan and the SQL, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Start on a database that has tables (or another tool's history) but no
    /// schemactl history, instead of refusing and naming `baseline`.
    #[arg(long)]
    pub allow_non_empty: bool,
    /// MongoDB: allow dropping or rebuilding indexes that changed or left the files.
    #[arg(long)]
    pub allow_destructive: bool,
    /// MongoDB: apply a validator even though existing documents break it.
    #[arg(long)]
    pub allow_violations: bool,
    /// MongoDB: apply the files over collections somebody changed by hand.
    #[arg(long)]
    pub overwrite_drift: bool,
    /// Backups around the migrations, into the backup store (--store or
    /// `[backup] store`): auto keeps the rows and columns each migration
    /// destroys (for `rollback --restore-data`); always also takes a full
    /// backup first; never takes none. Without a store, auto takes none.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub backup: String,
    /// `expand`: apply up to the first `-- schemactl:phase contract`
    /// migration; `contract`: apply everything (contract migrations wait
    /// while a release other than --release is marked live).
    #[arg(long, value_name = "PHASE", value_parser = ["expand", "contract"])]
    pub phase: Option<String>,
    /// The release deploying: marked live, it does not hold back its own
    /// contract migrations.
    #[arg(long, value_name = "LABEL")]
    pub release: Option<String>,
    /// The migrations directory of the previous release of the
    /// application (the oldest one that may still run): contract
    /// migrations it does not ship wait.
    #[arg(long, value_name = "DIR")]
    pub previous_app_migrations: Option<PathBuf>,
    /// The backup store: a directory, s3://bucket/prefix, az://container/prefix or gs://bucket/prefix [default: `[backup] store`].
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    #[command(flatten)]
    pub backfill: BackfillArgs,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// How `-- schemactl:backfill` migrations run their batches.
#[derive(Debug, Args, Default)]
pub struct BackfillArgs {
    /// Keys per batch of a backfill whose directive names no batch-size
    /// [default: 10000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,
    /// A pause after each batch of a backfill, leaving the server room
    /// [default: none].
    #[arg(long, value_name = "DURATION", value_parser = schemactl::model::duration::parse)]
    pub batch_sleep: Option<std::time::Duration>,
    /// A streaming replica: before each batch, a backfill waits while it
    /// lags more than --max-replication-lag.
    #[arg(long, value_name = "URL")]
    pub replica_url: Option<String>,
    /// How far the replica may lag behind before a backfill waits
    /// [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = schemactl::model::duration::parse, requires = "replica_url")]
    pub max_replication_lag: Option<std::time::Duration>,
}

/// The arguments of `schemactl rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Undo this many migrations [default: 1].
    #[arg(long, value_name = "N", conflicts_with = "to", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,
    /// Undo every migration newer than this version (0 undoes all).
    #[arg(long, value_name = "VERSION", value_parser = version_arg)]
    pub to: Option<Version>,
    /// Print the plan and the SQL, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the down files even where they differ from the down scripts
    /// applied with their migrations (stored in the history).
    #[arg(long, visible_alias = "use-file-down")]
    pub accept_changed_down: bool,
    /// MongoDB instead: restore the previously recorded spec of this collection (database.collection).
    #[arg(long, value_name = "DB.COLLECTION", conflicts_with_all = ["steps", "to", "mongodb_last_run"])]
    pub collection: Option<String>,
    /// MongoDB instead: restore every collection the latest run changed.
    #[arg(long, conflicts_with_all = ["steps", "to"])]
    pub mongodb_last_run: bool,
    /// MongoDB: allow dropping a collection that did not exist before the rolled-back run.
    #[arg(long)]
    pub allow_destructive: bool,
    /// Put back the data each rolled-back migration destroyed, from the
    /// backup `migrate --backup auto` kept, in the down script's transaction.
    #[arg(long)]
    pub restore_data: bool,
    /// The backup store: a directory, s3://bucket/prefix, az://container/prefix or gs://bucket/prefix [default: `[backup] store`].
    #[arg(long, value_name = "STORE", requires = "restore_data")]
    pub store: Option<String>,
    #[command(flatten)]
    pub key: IdentityArg,
    #[command(flatten)]
    pub backfill: BackfillArgs,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// What `schemactl release` does.
#[derive(Debug, Subcommand)]
pub enum ReleaseAction {
    /// Instances of this release may be running.
    MarkLive {
        /// The release's label (an image tag, a version).
        label: String,
    },
    /// No instance of this release runs any more.
    MarkRetired {
        /// The release's label.
        label: String,
    },
    /// Every release declared, live or retired.
    List,
}

/// The arguments of `schemactl validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pending migrations are a failure too.
    #[arg(long)]
    pub fail_on_pending: bool,
    /// Do not count pending migrations older than the newest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The arguments of `schemactl baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The newest migration the database already has.
    #[arg(long, value_name = "VERSION", group = "source", value_parser = version_arg)]
    pub version: Option<Version>,
    /// With --version: baseline even a database that has no tables.
    #[arg(long, requires = "version")]
    pub force: bool,
    /// Import what another tool recorded as applied: sqlx, diesel, golang-migrate,
    /// dbmate, goose, flyway, refinery, or auto (the one whose table is here).
    #[arg(long, value_name = "TOOL", group = "source")]
    pub from: Option<String>,
    /// Same as `--from refinery`.
    #[arg(long, group = "source")]
    pub from_refinery: bool,
    /// The other tool's history table [default: the tool's own name for it].
    #[arg(long, value_name = "NAME", alias = "refinery-table")]
    pub table: Option<String>,
    /// Show what would be recorded; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The arguments of `schemactl repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Delete the failed row of VERSION after undoing its partial changes by hand;
    /// the next `migrate` runs it again.
    #[arg(
        long,
        value_name = "VERSION",
        group = "action",
        allow_negative_numbers = true,
        value_parser = history_version_arg
    )]
    pub remove_failed: Option<Version>,
    /// Mark the failed VERSION applied after completing its statements by hand.
    #[arg(
        long,
        value_name = "VERSION",
        group = "action",
        allow_negative_numbers = true,
        value_parser = history_version_arg
    )]
    pub mark_applied: Option<Version>,
    /// Record the current checksums of VERSION after a cosmetic edit of its files.
    #[arg(
        long,
        value_name = "VERSION",
        group = "action",
        allow_negative_numbers = true,
        value_parser = history_version_arg
    )]
    pub accept_checksum: Option<Version>,
    /// Remove the record of VERSION whose file was deleted on purpose.
    #[arg(
        long,
        value_name = "VERSION",
        group = "action",
        allow_negative_numbers = true,
        value_parser = history_version_arg
    )]
    pub forget: Option<Version>,
    /// Empty schemactl's history (every row; the schema is untouched), to adopt the
    /// database again with `baseline`. Needs --yes.
    #[arg(long, group = "action", requires = "yes")]
    pub forget_all: bool,
    /// Confirm --forget-all.
    #[arg(long)]
    pub yes: bool,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The arguments of `schemactl lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Lint only migrations added since this git revision, and report any
    /// edit to a migration that existed there (the pre-merge use).
    #[arg(long, value_name = "GIT_REV")]
    pub since: Option<String>,
    /// `--deny-warnings`, which stands for `[lint] deny_warnings`.
    #[command(flatten)]
    pub table: crate::config::LintConfig,
    /// text (with source excerpts; colour on a terminal unless NO_COLOR), json, sarif, github.
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
    /// Record today's findings as accepted in FILE (default
    /// schemactl-lint-baseline.json), so that later runs report only new
    /// ones: the way to switch lint on for a project with history.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = schemactl::lint::baseline::Baseline::DEFAULT_FILE, conflicts_with = "no_baseline")]
    pub write_baseline: Option<PathBuf>,
    /// The baseline to read [default: schemactl-lint-baseline.json, when it exists].
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    pub baseline: Option<PathBuf>,
    /// Report every finding, whatever the baseline accepted.
    #[arg(long)]
    pub no_baseline: bool,
    /// Read each table's size and row estimate from the database (the
    /// catalog's statistics, no data) into the findings about it, and
    /// rank findings by table size. Implied by an explicit --database-url.
    #[arg(long)]
    pub table_sizes: bool,
    /// With table sizes: let findings on tables with fewer rows than this
    /// pass.
    #[arg(long, value_name = "ROWS")]
    pub min_table_rows: Option<i64>,
    /// Fix the mechanical findings (timestamp → timestamptz; CONCURRENTLY
    /// and the no-transaction directive for a file of index builds) in
    /// the migrations added since --since, never in older ones.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the fixes as a diff and change nothing.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
}

/// The arguments of `schemactl verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Apply older migrations plainly and verify from this version on
    /// (the CI use: verify what a branch adds).
    #[arg(long, value_name = "VERSION", value_parser = version_arg)]
    pub from: Option<Version>,
    /// Check rows too: before each up, give every empty table a few
    /// generated rows; after its down, compare the rows of the tables
    /// that existed before it. Each migration is then reversible, lossy
    /// (schema restored, rows lost) or irreversible.
    #[arg(long)]
    pub data: bool,
    /// Trace the locks each statement takes on the scratch database
    /// (always on with --format json): the strongest lock of each up on
    /// each table that existed before it, rewrites and full-table scans.
    #[arg(long)]
    pub locks: bool,
    /// Workers, each on its own scratch database (default: one per CPU, at
    /// most 8). The report is the same with any number; projects whose
    /// scripts change roles, tablespaces or databases use one.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Also list definitions that came back formatted differently (not
    /// failures).
    #[arg(long, short)]
    pub verbose: bool,
    /// Output: text for people, json for programs.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Options of every `fleet` verb.
#[derive(Debug, Args)]
#[command(next_help_heading = "Fleet options")]
pub struct FleetArgs {
    /// The flags that stand for `[fleet]`'s keys (declared once, on the
    /// file's table).
    #[command(flatten)]
    pub table: crate::config::FleetConfig,
    /// The global `--allow-empty`, copied here: an empty target list is
    /// expected.
    #[arg(skip)]
    pub allow_empty_list: bool,
    /// Tenant lists: accept this system schema (public, information_schema,
    /// pg_*) as a tenant; repeat for several. Refused otherwise.
    #[arg(long, global = true, value_name = "SCHEMA")]
    pub allow_system_schema: Vec<String>,
    /// Go on with run RUN (its id is printed when it starts): targets it
    /// finished are re-checked against the files, failed and unfinished ones
    /// run again; a changed target list is refused.
    #[arg(long, global = true, value_name = "RUN")]
    pub resume: Option<String>,
    /// Cover only this process's share of the targets, e.g. 0/4 (a stable
    /// split by target name). In a Kubernetes Indexed Job, JOB_COMPLETION_INDEX
    /// with SCHEMACTL_SHARD_COUNT does the same.
    #[arg(
        long,
        global = true,
        env = "SCHEMACTL_SHARD",
        value_name = "INDEX/COUNT"
    )]
    pub shard: Option<String>,
    /// Output: text for people, json for programs (errors are JSON too).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub format: Format,
}

/// The verb a fleet run applies to every target.
#[derive(Debug, Subcommand)]
pub enum FleetAction {
    /// Apply pending migrations on every target.
    Migrate {
        /// Apply only up to and including this version.
        #[arg(long, value_name = "VERSION", value_parser = version_arg)]
        to: Option<Version>,
        /// Report what would be applied on each target; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply pending migrations older than the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
        /// Start on targets that have tables (or another tool's history) but no
        /// schemactl history, instead of failing them and naming `baseline`.
        #[arg(long)]
        allow_non_empty: bool,
        /// `expand`: apply up to the first `-- schemactl:phase contract`
        /// migration; `contract`: apply everything (contract migrations
        /// wait while a release other than --release is marked live).
        #[arg(long, value_name = "PHASE", value_parser = ["expand", "contract"])]
        phase: Option<String>,
        /// The release deploying: marked live, it does not hold back its
        /// own contract migrations.
        #[arg(long, value_name = "LABEL")]
        release: Option<String>,
        #[command(flatten)]
        backfill: BackfillArgs,
    },
    /// Each target's version, pending migrations and problems.
    Status {
        /// Do not count pending migrations older than the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
    },
    /// Check files against each target's history; a disagreement fails the target.
    Validate {
        /// Pending migrations fail a target too.
        #[arg(long)]
        fail_on_pending: bool,
        /// Do not count pending migrations older than the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
    },
    /// Undo migrations on every target.
    Rollback {
        /// Undo this many migrations on each target [default: 1]; the version
        /// each target goes back to is fixed when it starts (and kept for --resume).
        #[arg(long, value_name = "N", conflicts_with = "to", value_parser = clap::value_parser!(u32).range(1..))]
        steps: Option<u32>,
        /// Undo every migration newer than this version (0 undoes all).
        #[arg(long, value_name = "VERSION", value_parser = version_arg)]
        to: Option<Version>,
        /// Report what would run on each target; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run the down files even where they differ from the down scripts
        /// applied with their migrations (stored in the history).
        #[arg(long, visible_alias = "use-file-down")]
        accept_changed_down: bool,
    },
    /// Each target's drift from the schema its applied migrations give
    /// (replayed once per distinct history on the dev server).
    Diff,
}

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LintFormat {
    /// Source excerpts with a caret under each finding.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
    /// A GitLab Code Quality report (`artifacts: reports: codequality:`).
    Gitlab,
}

#[derive(Debug, Subcommand)]
pub enum DevAction {
    /// Say where it keeps its data and whether it runs.
    Status,
    /// Create it on first use and start it (it keeps running in the background).
    Start,
    /// Print its URL (started when it is not running), for psql or DATABASE_URL.
    Url {
        /// Print the password in the URL (it is kept in .schemactl/, mode 0600).
        #[arg(long)]
        show_password: bool,
    },
    /// Stop it (the data stays).
    Stop,
    /// Stop it and delete its data.
    Reset,
}

/// A version given on the command line: an integer (`7`), a dotted Flyway
/// version (`1.2.10`), or a diesel version (`2017-09-23-182408` or
/// `20170923182408`).
fn version_arg(text: &str) -> Result<Version, String> {
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return Err("a version is a number such as 7, 1.2.10 or 20170923182408".into());
    }
    if text.starts_with('-') && text[1..].chars().all(|c| c.is_ascii_digit()) {
        return Err("a version is not negative".into());
    }
    // Every layout's versions are numbers, with Flyway's `.`/`_` and
    // diesel's `-` between their parts.
    let numeric = text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !numeric {
        return Err(format!(
            "`{text}` is not a version: a version is a number such as 7, 1.2.10, 20170923182408 or 2019-02-26-002946"
        ));
    }
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    Ok(Version::parse(&digits))
}

/// A version as the history may hold it: negative versions, which a
/// corrupted history can contain, are accepted, so that they can be repaired.
fn history_version_arg(text: &str) -> Result<Version, String> {
    match text.trim().strip_prefix('-') {
        Some(rest) if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) => {
            Ok(Version::parse(text.trim()))
        }
        // Whatever text another tool's history holds can be named too.
        _ if !text.trim().is_empty() && !text.trim().contains(char::is_whitespace) => {
            Ok(version_arg(text).unwrap_or_else(|_| Version::parse(text.trim())))
        }
        _ => version_arg(text),
    }
}

/// What `schemactl backup` does.
#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Write a new age identity (private key, mode 0600) to FILE and print
    /// its public key, the recipient to encrypt backups to.
    Keygen {
        /// Where to write the identity; an existing file is never replaced.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Back up the PostgreSQL database (`pg_dump`, one snapshot), compressed
    /// and encrypted, into the store; the manifest is written last.
    Create {
        /// Encrypt to this age recipient (age1…); repeat for several
        /// [default: `[backup] recipients`].
        #[arg(long, value_name = "RECIPIENT")]
        recipient: Vec<String>,
        /// Write the backup unencrypted (never the default).
        #[arg(long)]
        no_encrypt: bool,
    },
    /// The store's backups, oldest first.
    List,
    /// Restore a backup into a scratch database on the dev server (--dev-url
    /// or --dev) and compare files, schema and every table's rows with its
    /// manifest; prints the restore time. Exit 1 on any difference.
    Verify {
        /// The backup's id, or `latest`.
        backup: String,
        #[command(flatten)]
        key: IdentityArg,
    },
    /// Restore a backup into the database named by --database-url, which
    /// must be empty (or --clean).
    Restore {
        /// The backup's id, or `latest`.
        backup: String,
        #[command(flatten)]
        key: IdentityArg,
        /// Drop the backup's objects in the target first (pg_restore --clean --if-exists).
        #[arg(long)]
        clean: bool,
        /// Leave owners and privileges out, for a server without the source's roles.
        #[arg(long)]
        no_owner: bool,
        /// Allow the target to be the deploy database (DATABASE_URL or
        /// `[postgres] url`), which is otherwise refused.
        #[arg(long)]
        overwrite_deploy_database: bool,
    },
    /// Write a backup's files decrypted into DIR: postgres.dump (for
    /// pg_restore), schema.json, and mongodb/<db>/<collection>.bson and
    /// .metadata.json (mongodump's layout, for mongorestore).
    Export {
        /// The backup's id, or `latest`.
        backup: String,
        #[command(flatten)]
        key: IdentityArg,
        /// A new or empty directory.
        #[arg(long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Delete the backups the retention policy does not keep
    /// (grandfather-father-son; `[backup] keep_*` or the flags).
    Prune {
        /// Keep the newest N backups.
        #[arg(long, value_name = "N")]
        keep_last: Option<u32>,
        /// Keep the newest backup of each of the last N days.
        #[arg(long, value_name = "N")]
        keep_daily: Option<u32>,
        /// Keep the newest backup of each of the last N ISO weeks.
        #[arg(long, value_name = "N")]
        keep_weekly: Option<u32>,
        /// Keep the newest backup of each of the last N months.
        #[arg(long, value_name = "N")]
        keep_monthly: Option<u32>,
        /// Say what would be kept and deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Prune pre-migration backups (what `rollback --restore-data`
        /// reads) by the same policy too; without it they are all kept.
        #[arg(long)]
        force: bool,
    },
}

/// The key that reads an encrypted backup.
#[derive(Debug, Args)]
pub struct IdentityArg {
    /// The age identity file (from `backup keygen` or age-keygen).
    #[arg(long, env = "SCHEMACTL_BACKUP_IDENTITY", value_name = "FILE")]
    pub identity: Option<PathBuf>,
}
