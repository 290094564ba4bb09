//! How a migrations directory is to be read: the layout, the naming
//! pattern, and what is an error rather than a warning.

use super::Layout;

/// How a directory is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The layout; detected when `None`.
    pub layout: Option<Layout>,
    /// The project's own naming scheme (with `layout` [`Layout::Custom`]).
    pub(crate) pattern: Option<super::NamePattern>,
    /// A `.sql` file the layout cannot place is an error, not a warning.
    pub strict: bool,
    /// An empty (or missing) directory is expected, not an error.
    pub allow_empty: bool,
    /// golang-migrate's `x-multi-statement` mode: each statement of a file
    /// is sent on its own and commits on its own (only with the
    /// golang-migrate layout).
    pub multi_statement: bool,
}

impl ReadOptions {
    /// Reads files named by the project's own naming scheme, such as
    /// `V{version}.{name}.{direction}.sql` (the text `--layout` and
    /// `layout =` take); the layout becomes [`Layout::Custom`]. An invalid
    /// pattern is an [`crate::Error::InvalidArgument`] saying what is wrong.
    pub fn with_name_pattern(mut self, pattern: &str) -> Result<Self, crate::Error> {
        let parsed = super::NamePattern::parse(pattern)
            .map_err(|message| crate::Error::InvalidArgument(format!("layout: {message}")))?;
        self.layout = Some(Layout::Custom);
        self.pattern = Some(parsed);
        Ok(self)
    }

    /// The layout as `--layout` and `layout =` write it: a layout's name
    /// (`diesel`) or the project's own naming pattern (`V{version}.{name}.sql`);
    /// for any other text, what is wrong with it.
    pub fn with_layout(mut self, text: &str) -> Result<Self, String> {
        if super::NamePattern::looks_like_one(text) {
            self.pattern = Some(super::NamePattern::parse(text)?);
            self.layout = Some(Layout::Custom);
        } else {
            self.layout = Some(text.parse::<Layout>()?);
            self.pattern = None;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_pattern_sets_the_custom_layout_and_a_bad_one_says_why() {
        let options = ReadOptions::default()
            .with_name_pattern("V{version}.{name}.{direction}.sql")
            .unwrap();
        assert_eq!(options.layout, Some(Layout::Custom));
        assert!(options.pattern.is_some());
        let error = ReadOptions::default()
            .with_name_pattern("{name}.sql")
            .unwrap_err();
        assert!(error.to_string().contains("{version}"), "{error}");
    }
}
