//! The migration model: what a migrations directory contains, independent of
//! any database.
//!
//! A [`Migration`] is one version with its up script and, optionally, its down
//! script. [`crate::source::Directory`] reads a directory into migrations and rejects a
//! directory that would make a deploy ambiguous (duplicate versions, a down
//! without its up, unparseable names, non-UTF-8, NUL bytes).

pub mod duration;
pub mod history;
pub mod identifier;
pub mod phase;
pub(crate) mod plan;
pub(crate) mod quoted_parts;
pub(crate) mod read_options;
pub mod recipient;
pub mod release;
pub mod retention_policy;
pub mod severity;

pub(crate) mod adoption;
pub mod backfill;
pub(crate) mod checksum;
pub(crate) mod dir_entry;
pub(crate) mod directives;
pub(crate) mod down_difference;
pub mod execution;
pub(crate) mod file_name;
pub(crate) mod layout;
pub mod name_pattern;
pub mod source_problem;
pub(crate) mod statements;
pub(crate) mod text_position;
pub mod version;

use std::path::PathBuf;
use std::sync::OnceLock;

pub use checksum::Checksum;
pub(crate) use directives::Directives;
pub use execution::Execution;
pub use layout::Layout;
pub(crate) use name_pattern::NamePattern;
pub use read_options::ReadOptions;
pub use source_problem::SourceProblem;
pub(crate) use statements::Statement;
pub use text_position::TextPosition;
pub use version::Version;
pub(crate) use version::VersionKind;

/// One migration version: an up script and, when it can be undone, a down script.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version; migrations are ordered by it, as their layout orders.
    pub version: Version,
    /// The version as written in the file name (keeps zero padding for display).
    pub version_text: String,
    /// The descriptive part of the file name.
    pub name: String,
    /// The script that applies the migration.
    pub up: Script,
    /// The script that undoes it, when there is one.
    pub down: Option<Script>,
}

impl Migration {
    /// `0003_add_orders`: how the migration is named in messages.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version_text, self.name)
    }
}

/// One SQL file of a migration, read and checked.
///
/// Its statements are split on first use: `status` and a no-op `migrate`
/// only need checksums, so only scripts that are about to run are tokenised.
#[derive(Debug, Clone)]
pub struct Script {
    /// Where the file is, as given (relative to the working directory when
    /// the migrations directory was given relatively).
    pub path: PathBuf,
    /// The SQL text, with a leading byte-order mark removed.
    pub sql: String,
    /// The checksum of the normalised content.
    pub checksum: Checksum,
    /// The `-- schemactl:` directives of the file's leading comments.
    pub(crate) directives: Directives,
    statements: OnceLock<Result<Vec<Statement>, SourceProblem>>,
    /// It still holds exactly what `schemactl new` wrote: listed by
    /// `status`, refused when it is about to run.
    pub(crate) unwritten: bool,
    /// Its layout's tool sends each file to the server as one message
    /// (golang-migrate): see [`Script::execution`].
    pub(crate) sent_whole: bool,
}

impl Script {
    /// A script read from `path`.
    pub(crate) fn new(
        path: PathBuf,
        sql: String,
        checksum: Checksum,
        directives: Directives,
    ) -> Self {
        Self {
            path,
            sql,
            checksum,
            directives,
            statements: OnceLock::new(),
            unwritten: false,
            sent_whole: false,
        }
    }

    /// The statements of the file, in order, with their positions; an error
    /// when the SQL cannot be tokenised. An empty or comment-only script has
    /// none: it runs as a no-op.
    pub(crate) fn statements(&self) -> Result<&[Statement], SourceProblem> {
        self.statements
            .get_or_init(|| {
                let problem = |position, message: String| SourceProblem {
                    path: self.path.clone(),
                    position,
                    message,
                };
                if self.unwritten {
                    return Err(problem(None, "still holds only the comment `schemactl new` wrote: write the migration's SQL (a script that is meant to be empty needs a comment of its own)".into()));
                }
                let statements = statements::split(&self.sql).map_err(|e| {
                    problem(
                        Some(e.position),
                        format!("cannot split the SQL into statements: {}", e.message),
                    )
                })?;
                Ok(statements)
            })
            .as_deref()
            .map_err(Clone::clone)
    }

    /// The statements and each one's tokens (positions relative to the
    /// statement), tokenised once for both, and cached as [`statements`]
    /// are. `None` when the statements are already known, the script is too
    /// large to keep its tokens, or it cannot be split (ask [`statements`]).
    ///
    /// [`statements`]: Script::statements
    pub(crate) fn statements_and_tokens(
        &self,
    ) -> Option<(&[Statement], Vec<Vec<sqlparser::tokenizer::TokenWithSpan>>)> {
        if self.unwritten || self.statements.get().is_some() {
            return None;
        }
        let (statements, tokens) = statements::split_with_tokens(&self.sql)?.ok()?;
        let _ = self.statements.set(Ok(statements));
        let statements = self.statements.get()?.as_deref().ok()?;
        (statements.len() == tokens.len()).then_some((statements, tokens))
    }

    /// The file name for messages (`migrations/0003_add_orders.up.sql`).
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// What `schemactl new` writes into a new script: a comment only. A script
/// that still holds exactly this was never written, and is refused (other
/// empty or comment-only scripts run as no-ops).
pub(crate) fn template(label: &str, direction: Direction) -> String {
    match direction {
        Direction::Up => format!("-- {label}: what this migration changes, and why.\n"),
        Direction::Down => {
            format!("-- Undoes {label}: restore exactly the schema before it.\n")
        }
    }
}

/// Which way a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Applies the migration.
    Up,
    /// Undoes the migration.
    Down,
}

impl Direction {
    /// What a migration run this way was: "applied", "rolled back".
    pub fn past_tense(self) -> &'static str {
        match self {
            Direction::Up => "applied",
            Direction::Down => "rolled back",
        }
    }
}

/// A file that belongs to a migrations directory, before it is paired up.
#[derive(Debug, Clone)]
pub(crate) struct MigrationFile {
    /// Where the file is.
    pub path: PathBuf,
    /// What its name says.
    pub name: file_name::ParsedName,
}
