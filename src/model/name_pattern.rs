//! A project's own naming scheme: `layout = "V{version}.{name}.{direction}.sql"`
//! in `schemactl.toml` (or `--layout` with the same text) reads migration
//! files named by a pattern no known tool uses.
//!
//! Placeholders: `{version}` (digits, leading zeros allowed, compared as a
//! whole number), `{name}` (any text), and `{direction}` (`up` or `down`,
//! in any case; without it every file is an up script). Everything else is
//! literal text.

use super::file_name::{build, Classified, ParsedName};
use super::Direction;

/// A configured naming scheme.
#[derive(Debug, Clone)]
pub(crate) struct NamePattern {
    text: String,
    regex: regex::Regex,
    has_direction: bool,
}

impl PartialEq for NamePattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for NamePattern {}

impl NamePattern {
    /// Whether `text` is meant as a pattern rather than a layout's name.
    pub fn looks_like_one(text: &str) -> bool {
        text.contains('{')
    }

    /// Reads a pattern; it needs `{version}` and `{name}` once each, at
    /// most one `{direction}`, and no other placeholder.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut regex = String::from("^");
        let mut counts = [0usize; 3];
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            regex.push_str(&regex::escape(&rest[..open]));
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("`{text}`: a `{{` without its `}}`"))?;
            let placeholder = &rest[open + 1..open + close];
            let (index, group) = match placeholder {
                "version" => (0, r"(?P<version>[0-9]+)"),
                "name" => (1, r"(?P<name>.+?)"),
                "direction" => (2, r"(?P<direction>(?i:up|down))"),
                other => {
                    return Err(format!(
                        "`{text}`: `{{{other}}}` is not a placeholder; use {{version}}, {{name}} and {{direction}}"
                    ))
                }
            };
            counts[index] += 1;
            regex.push_str(group);
            rest = &rest[open + close + 1..];
        }
        regex.push_str(&regex::escape(rest));
        regex.push('$');
        if counts[0] != 1 || counts[1] != 1 || counts[2] > 1 {
            return Err(format!(
                "`{text}`: a naming pattern needs {{version}} and {{name}} once each, and {{direction}} at most once (for example `V{{version}}.{{name}}.{{direction}}.sql`)"
            ));
        }
        if !text.to_ascii_lowercase().ends_with(".sql") {
            return Err(format!(
                "`{text}`: migration files end in `.sql`; end the pattern with it"
            ));
        }
        let regex = regex::Regex::new(&regex).map_err(|e| format!("`{text}`: {e}"))?;
        Ok(Self {
            text: text.to_string(),
            regex,
            has_direction: counts[2] == 1,
        })
    }

    /// A pattern that reads `file_name`, guessed from its shape (a prefix
    /// of letters, the version's digits, a separator, the name, perhaps
    /// `.up`/`.down`), for the hint on a name no layout reads.
    pub fn guess(file_name: &str) -> Option<String> {
        let shape = regex::Regex::new(
            r"^(?P<prefix>[A-Za-z]*)[0-9]+(?P<separator>[._-]+)(?P<name>.+?)(?P<direction>[._-](?i:up|down))?\.(?i:sql)$",
        )
        .ok()?;
        let captures = shape.captures(file_name)?;
        let direction = captures.name("direction").map_or(String::new(), |d| {
            format!("{}{{direction}}", &d.as_str()[..1])
        });
        let guessed = format!(
            "{}{{version}}{}{{name}}{direction}{}",
            &captures["prefix"],
            &captures["separator"],
            &file_name[file_name.len() - 4..]
        );
        let reads = Self::parse(&guessed).ok()?.read(file_name)?.is_ok();
        reads.then_some(guessed)
    }

    /// Whether files say up or down (else every file is an up script).
    pub fn has_direction(&self) -> bool {
        self.has_direction
    }

    /// What `file_name` is under this pattern: `None` when it does not
    /// match; an error when it matches but its version or name cannot be
    /// read.
    pub fn read(&self, file_name: &str) -> Option<Result<ParsedName, String>> {
        let captures = self.regex.captures(file_name)?;
        let direction = match captures.name("direction") {
            Some(word) if word.as_str().eq_ignore_ascii_case("down") => Direction::Down,
            _ => Direction::Up,
        };
        let version = captures.name("version")?.as_str();
        let name = captures.name("name")?.as_str();
        Some(match build(version, name, direction) {
            Classified::Migration(parsed) => Ok(parsed),
            Classified::Invalid(message) => Err(message
                .split("; expected")
                .next()
                .unwrap_or_default()
                .to_string()),
            Classified::Ignored => return None,
        })
    }

    /// The file name of a new script.
    pub fn file_name(&self, version: &str, name: &str, direction: Direction) -> String {
        let word = match direction {
            Direction::Up => "up",
            Direction::Down => "down",
        };
        self.text
            .replace("{version}", version)
            .replace("{name}", name)
            .replace("{direction}", word)
    }
}

impl std::fmt::Display for NamePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Version;

    #[test]
    fn reads_a_projects_own_names_and_writes_them_back() {
        let pattern = NamePattern::parse("V{version}.{name}.{direction}.sql").unwrap();
        let up = pattern
            .read("V0001.Initial_Schema.up.sql")
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                &up.version,
                up.version_text.as_str(),
                up.name.as_str(),
                up.direction
            ),
            (
                &Version::integer(1),
                "0001",
                "Initial_Schema",
                Direction::Up
            )
        );
        let down = pattern
            .read("V0026.add.some.dots.DOWN.sql")
            .unwrap()
            .unwrap();
        assert_eq!(
            (down.name.as_str(), down.direction),
            ("add.some.dots", Direction::Down)
        );
        assert!(pattern.read("0001_x.up.sql").is_none());
        assert!(pattern.read("V0000.zero.up.sql").unwrap().is_err());
        assert_eq!(
            pattern.file_name("0027", "add_thing", Direction::Down),
            "V0027.add_thing.down.sql"
        );
    }

    #[test]
    fn a_pattern_is_guessed_from_a_name_no_layout_reads() {
        assert_eq!(
            NamePattern::guess("V0001.Initial_Schema.up.sql").as_deref(),
            Some("V{version}.{name}.{direction}.sql")
        );
        assert_eq!(
            NamePattern::guess("12-seed-users.sql").as_deref(),
            Some("{version}-{name}.sql")
        );
        assert_eq!(NamePattern::guess("notes.sql"), None);
    }

    #[test]
    fn a_pattern_without_direction_is_up_only() {
        let pattern = NamePattern::parse("{version}-{name}.sql").unwrap();
        assert!(!pattern.has_direction());
        let parsed = pattern.read("12-seed.sql").unwrap().unwrap();
        assert_eq!(
            (parsed.version, parsed.direction),
            (Version::integer(12), Direction::Up)
        );
    }

    #[test]
    fn malformed_patterns_say_what_is_missing() {
        for (text, says) in [
            ("V{version}.sql", "{name}"),
            (
                "{version}_{name}_{when}.sql",
                "`{when}` is not a placeholder",
            ),
            ("{version}_{name", "without its"),
            ("{version}_{name}.txt", "end in `.sql`"),
        ] {
            let error = NamePattern::parse(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
