//! A problem with one file of a migrations directory, named with its place.

use super::text_position::TextPosition;
use std::fmt;
use std::path::PathBuf;

/// Something wrong with one file of a migrations directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    /// The file.
    pub path: PathBuf,
    /// Where in the file, when the problem is inside it.
    pub position: Option<TextPosition>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
