//! How a migrations directory is to be read: the layout, the naming
//! pattern, and what is an error rather than a warning.

use super::Layout;

/// How a directory is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The layout; detected when `None`.
    pub layout: Option<Layout>,
    /// The project's own naming scheme (with `layout` [`Layout::Custom`]).
    pub pattern: Option<super::NamePattern>,
    /// A `.sql` file the layout cannot place is an error, not a warning.
    pub strict: bool,
    /// An empty (or missing) directory is expected, not an error.
    pub allow_empty: bool,
    /// golang-migrate's `x-multi-statement` mode: each statement of a file
    /// is sent on its own and commits on its own (only with the
    /// golang-migrate layout).
    pub multi_statement: bool,
}
