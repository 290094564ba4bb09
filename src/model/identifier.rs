//! SQL identifiers that come from configuration (the history schema and table
//! names). They are validated when read, so that they can be quoted safely
//! and never need escaping beyond the double quotes.

use std::fmt;

/// A validated PostgreSQL identifier: a letter or underscore followed by
/// letters, digits or underscores, at most 63 bytes (PostgreSQL's limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier(String);

impl Identifier {
    /// Validates `name`, returning a message that says what is wrong.
    pub fn parse(name: &str) -> Result<Self, String> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !first_ok || !rest_ok {
            return Err(format!(
                "`{name}` is not a valid identifier: use letters, digits and underscores, starting with a letter or underscore"
            ));
        }
        if name.len() > 63 {
            return Err(format!(
                "`{name}` is longer than PostgreSQL's 63-byte identifier limit"
            ));
        }
        Ok(Self(name.to_string()))
    }

    /// A name written in schemactl's own source, known to be valid.
    pub(crate) fn trusted(name: &'static str) -> Self {
        debug_assert!(Self::parse(name).is_ok(), "{name}");
        Self(name.to_string())
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name quoted for use in SQL text.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Identifier;

    #[test]
    fn accepts_plain_names_and_rejects_anything_that_would_need_escaping() {
        assert_eq!(
            Identifier::parse("schema_versions").unwrap().quoted(),
            "\"schema_versions\""
        );
        assert!(Identifier::parse("_x1").is_ok());
        for bad in ["", "1abc", "a-b", "a\"b", "a b", "é", &"x".repeat(64)] {
            assert!(Identifier::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
