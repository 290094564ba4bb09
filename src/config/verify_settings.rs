//! [`VerifySettings`]: where `verify` and `diff` make scratch databases, and
//! how they judge the differences they find.

use super::ObjectPattern;
use std::collections::BTreeSet;

/// What `verify`, `diff` and `dump` need besides the runner's options.
#[derive(Debug, Clone, Default)]
pub struct VerifySettings {
    /// The server for scratch databases; `None`: the embedded one (when
    /// the connection options allow it).
    pub dev_url: Option<String>,
    /// How reordered columns are treated.
    pub column_order: DifferencePolicy,
    /// How definitions that differ only in timestamp literals are treated.
    pub volatile_literal: DifferencePolicy,
    /// What is left out of the comparison.
    pub ignore: BTreeSet<Ignored>,
    /// Objects `dump`, `diff` and `verify` leave out (besides the history
    /// tables of schemactl and of the tools it adopts from).
    pub exclude: Vec<ObjectPattern>,
    /// The MongoDB server `verify` may create scratch databases on.
    pub mongodb_dev_uri: Option<String>,
}

/// How `verify` and `diff` treat a tolerable class of difference: a table
/// whose columns only changed order, a definition that differs only in a
/// timestamp literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DifferencePolicy {
    /// A failure.
    Error,
    /// Reported, not a failure.
    #[default]
    Warning,
    /// Not reported.
    Ignore,
}

/// A part of the schema that `verify` and `diff` can leave out, for teams
/// that do not manage it in their migrations.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ignored {
    /// Grants, revokes and default privileges.
    Privileges,
    /// Who owns each object.
    Ownership,
}

impl std::str::FromStr for Ignored {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "privileges" => Ok(Self::Privileges),
            "ownership" => Ok(Self::Ownership),
            other => Err(format!("`{other}` is not privileges or ownership")),
        }
    }
}

impl std::str::FromStr for DifferencePolicy {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "error" => Ok(Self::Error),
            "warning" => Ok(Self::Warning),
            "ignore" => Ok(Self::Ignore),
            other => Err(format!("`{other}` is not error, warning or ignore")),
        }
    }
}
