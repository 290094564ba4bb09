//! What the command line says, before the file and the defaults are
//! consulted: the flags that stand for `schemactl.toml`'s keys (declared
//! once, on the file's own types), and what only the command line knows.

use super::file_config::FileConfig;
use std::path::PathBuf;

/// What the command line says; `None` leaves the decision to the file or the default.
#[derive(Debug, Default, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Overrides {
    /// Configuration file [default: ./schemactl.toml when present].
    #[arg(long = "config", global = true, value_name = "FILE")]
    pub(crate) config_file: Option<PathBuf>,

    /// The flags that stand for the file's keys, in the file's shape.
    #[command(flatten)]
    pub(crate) written: FileConfig,

    /// Where the database URL came from, for errors: `--database-url` or
    /// `DATABASE_URL` (`None`: the caller does not say).
    #[arg(skip)]
    pub(crate) database_url_source: Option<String>,

    /// Look for `./schemactl.toml` in the working directory (and above it)
    /// when no `config_file` is given.
    #[arg(skip)]
    pub(crate) discover_config_file: bool,

    /// Whether the embedded development server may be used when no database
    /// URL is given (`--dev`, or a terminal outside CI). `None` or `false`:
    /// never, unless `[dev] enabled = true`.
    #[arg(skip)]
    pub(crate) dev_server: Option<bool>,
}
