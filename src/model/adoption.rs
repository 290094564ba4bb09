//! Databases schemactl has not adopted yet: what makes one not new
//! ([`Unadopted`]), the other migration tools whose history tables it
//! reads ([`Tool`]) and what they recorded ([`Recorded`]). Plain data: the
//! PostgreSQL driver finds and reads them; the runner decides.

use crate::model::Version;
use std::fmt;
use std::str::FromStr;

/// What makes a database without schemactl history not new.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Unadopted {
    /// Another tool's history table is here.
    ForeignHistory(ForeignHistory),
    /// Tables (or views) exist where the migrations would create theirs.
    NonEmpty {
        /// A few of them (schema-qualified where not on the search path).
        tables: Vec<String>,
        /// How many there are.
        count: i64,
    },
}

impl Unadopted {
    /// What to tell the user: what was found, and the commands that adopt it.
    pub fn advice(&self) -> String {
        match self {
            Unadopted::ForeignHistory(foreign) => foreign.advice(),
            Unadopted::NonEmpty { tables, count } => {
                let more = if *count > tables.len() as i64 {
                    format!(" and {} more", *count - tables.len() as i64)
                } else {
                    String::new()
                };
                format!(
                    "this database has no schemactl history but already has tables ({}{more}): its schema was made some other way. \
                     Record the migrations it already has with `schemactl baseline --version <V>` (the newest one its schema matches; \
                     `--dry-run` shows what it records), or, if the migrations are meant to run on top of these tables, \
                     pass --allow-non-empty (or set `[postgres] allow_non_empty = true`)",
                    tables.join(", ")
                )
            }
        }
    }
}

/// Another tool's history table found in the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ForeignHistory {
    /// The tool.
    pub tool: &'static str,
    /// The table, as found on the search path.
    pub table: &'static str,
}

impl ForeignHistory {
    /// What to tell the user.
    pub fn advice(&self) -> String {
        let adopt =
            "`schemactl baseline --from auto` (add `--dry-run` to see what it records first)";
        format!(
            "this database has {}'s history table {} but no schemactl history: its migrations are probably applied already. \
             Adopt them with {adopt}, then run `schemactl migrate`",
            self.tool, self.table
        )
    }
}

/// A tool whose history schemactl imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// sqlx-cli / `sqlx::migrate!`.
    Sqlx,
    /// diesel_cli / `diesel_migrations`.
    Diesel,
    /// golang-migrate.
    GolangMigrate,
    /// dbmate.
    Dbmate,
    /// goose.
    Goose,
    /// Flyway.
    Flyway,
    /// refinery.
    Refinery,
    /// gobuffalo/pop (`soda`, Ory's `migrate sql`).
    Pop,
}

impl Tool {
    /// Every tool, in the order `--from auto` looks for their tables.
    pub const ALL: [Tool; 8] = [
        Tool::Sqlx,
        Tool::Diesel,
        Tool::Pop,
        Tool::Goose,
        Tool::Flyway,
        Tool::Refinery,
        Tool::GolangMigrate,
        Tool::Dbmate,
    ];

    /// The name `--from` takes.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Flyway => "flyway",
            Tool::Refinery => "refinery",
            Tool::Pop => "pop",
        }
    }

    /// The tool's default history table.
    pub fn default_table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Flyway => "flyway_schema_history",
            Tool::Refinery => "refinery_schema_history",
            Tool::Pop => "schema_migration",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tool {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "migrate" | "golang_migrate" => "golang-migrate",
            other => other,
        };
        Tool::ALL
            .into_iter()
            .find(|t| t.name() == wanted)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a tool schemactl imports; use one of: auto, {}",
                    Tool::ALL.map(Tool::name).join(", ")
                )
            })
    }
}

/// What a tool's table says was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// These versions, each with what the tool kept of it.
    Versions(Vec<ForeignRow>),
    /// Everything up to and including this version (golang-migrate keeps
    /// only its current version); plus rows after a Flyway baseline.
    UpTo(Version, Vec<ForeignRow>),
}

/// One version another tool applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRow {
    /// The version, as schemactl orders it.
    pub version: Version,
    /// The name (or description) the tool recorded, when it records one.
    pub name: Option<String>,
    /// When the tool applied it, as the server prints a timestamp.
    pub applied_at: Option<String>,
    /// The tool's own checksum, when it keeps one.
    pub checksum: Option<String>,
}
