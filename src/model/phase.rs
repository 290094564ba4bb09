//! Expand/contract phases: a migration marked `expand` keeps the previous
//! release of the application working (it adds; the old code ignores what
//! is new), a `contract` one removes what only the previous release used
//! and runs once no instance of it is left. Unmarked migrations are neither.

/// The phase a migration declares (`-- schemactl:phase expand|contract`;
/// `-- schemactl:compatible-with-previous` is `expand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Compatible with the previous release of the application.
    Expand,
    /// Breaks the previous release: run only after it is gone.
    Contract,
}

impl Phase {
    /// The word of the directive and of the history's `phase` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Contract => "contract",
        }
    }

    /// The phase a history row records.
    pub fn recorded(text: &str) -> Option<Phase> {
        match text {
            "expand" => Some(Phase::Expand),
            "contract" => Some(Phase::Contract),
            _ => None,
        }
    }
}
