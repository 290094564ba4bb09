//! A database ahead of its migrations directory: migrations applied whose
//! files are not there, all newer than every file there is. That is what
//! an application rolled back to an older release sees (its image ships
//! the older files); `migrate` then changes nothing and says how to bring
//! the database back, and `check` answers it for a readiness probe. Which
//! histories are ahead is decided in `model::plan`.

use crate::model::version::Version;

/// The migrations the database has beyond the directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Ahead {
    /// The applied migrations newer than every file, oldest first.
    pub newer: Vec<AppliedBeyond>,
    /// The newest migration of the directory (`rollback --to` it brings
    /// the database back); `None` for an empty directory.
    pub newest_file: Option<Version>,
}

/// One applied migration the directory does not have.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct AppliedBeyond {
    /// Its version.
    pub version: Version,
    /// Its name as recorded.
    pub name: String,
}

impl Ahead {
    /// The command that brings the database back to the directory.
    pub fn rollback_command(&self) -> String {
        let to = self
            .newest_file
            .as_ref()
            .map_or_else(|| "0".to_string(), ToString::to_string);
        format!("schemactl rollback --to {to}")
    }
}

impl std::fmt::Display for Ahead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .newer
            .iter()
            .map(|m| format!("{}_{}", m.version, m.name))
            .collect();
        write!(
            f,
            "the database is ahead of these migration files: {} {} applied and not in the migrations directory \
             (an older release of the application, or its newest files were deleted); nothing was changed. \
             To bring the database back to these files: `{}` (it runs the down scripts stored when they were applied)",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            self.rollback_command()
        )
    }
}
