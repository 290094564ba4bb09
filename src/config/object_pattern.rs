//! `--exclude` patterns: objects left out of `dump`, `diff` and `verify`
//! (applied by `Snapshot::excluding`).
//!
//! A pattern is a glob (`*`, `?`) over an object's name: `audit_*` matches
//! objects of that name in any schema, `partman.*` every object of schema
//! `partman`, `public.audit_log` one table. What belongs to a matched table
//! (its columns' defaults, constraints, indexes, triggers, policies,
//! comments, owner and privileges) goes with it.

use wildmatch::WildMatch;

/// One `--exclude` pattern.
#[derive(Debug, Clone)]
pub struct ObjectPattern {
    text: String,
    glob: WildMatch,
    qualified: bool,
}

impl ObjectPattern {
    /// Reads a pattern; an empty one is refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty pattern would match nothing: write a name such as `audit_*` or `partman.*`".into());
        }
        Ok(Self {
            text: text.to_string(),
            glob: WildMatch::new(text),
            qualified: text.contains('.'),
        })
    }

    /// Whether the pattern takes the whole schema `schema` along
    /// (`partman.*`).
    pub(crate) fn matches_schema(&self, schema: &str) -> bool {
        self.qualified && self.glob.matches(&format!("{schema}."))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the schema-qualified name `schema.name` matches.
    pub(crate) fn matches(&self, schema: &str, name: &str) -> bool {
        if self.qualified {
            self.glob.matches(&format!("{schema}.{name}"))
        } else {
            self.glob.matches(name)
        }
    }
}

impl std::fmt::Display for ObjectPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_and_plain_patterns() {
        let plain = ObjectPattern::parse("audit_*").unwrap();
        assert!(plain.matches("public", "audit_log") && plain.matches("archive", "audit_x"));
        assert!(!plain.matches_schema("audit_x"));
        let schema = ObjectPattern::parse("partman.*").unwrap();
        assert!(schema.matches_schema("partman") && !schema.matches("public", "partman"));
        assert!(ObjectPattern::parse(" ").is_err());
    }
}
