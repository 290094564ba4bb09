//! Migration file names.
//!
//! The native form is `<version>_<name>.up.sql` / `<version>_<name>.down.sql`
//! (the golang-migrate and sqlx convention). Flyway and refinery users can
//! keep their files: `V<version>__<name>.sql` is an up script and Flyway's
//! undo form `U<version>__<name>.sql` is its down script.

use super::{Direction, Version, VersionKind};

/// What a migration file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The version.
    pub version: super::Version,
    /// The version as written (with its zero padding).
    pub version_text: String,
    /// The descriptive name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
}

/// How a file in the migrations directory is treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A migration script.
    Migration(ParsedName),
    /// Not a migration (README, `.gitkeep`, …): ignored.
    Ignored,
    /// Looks like a migration but the name cannot be read; the message says
    /// what is wrong and what the name should look like.
    Invalid(String),
}

const EXPECTED: &str = "expected `<version>_<name>.up.sql` or `<version>_<name>.down.sql` \
(for example `0001_create_users.up.sql`), or Flyway/refinery's `V<version>__<name>.sql`";

/// Classifies a file name found in the migrations directory.
pub fn classify(file_name: &str) -> Classified {
    if file_name.starts_with('.') {
        return Classified::Ignored;
    }
    let Some(stem) = strip_suffix_ignore_case(file_name, ".sql") else {
        return Classified::Ignored;
    };
    if let Some(parsed) = parse_flyway(stem) {
        return parsed;
    }
    let (stem, direction) = if let Some(s) = strip_suffix_ignore_case(stem, ".up") {
        (s, Direction::Up)
    } else if let Some(s) = strip_suffix_ignore_case(stem, ".down") {
        (s, Direction::Down)
    } else {
        return Classified::Invalid(format!(
            "the name does not say whether it is an up or a down script; {EXPECTED}"
        ));
    };
    let digits_end = stem
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(stem.len());
    let (version_text, rest) = stem.split_at(digits_end);
    if version_text.is_empty() {
        return Classified::Invalid(format!(
            "the name does not start with a version number; {EXPECTED}"
        ));
    }
    let Some(name) = rest.strip_prefix('_') else {
        return Classified::Invalid(format!(
            "the version must be followed by `_` and a name; {EXPECTED}"
        ));
    };
    build(version_text, name, direction)
}

fn parse_flyway(stem: &str) -> Option<Classified> {
    let direction = match stem.as_bytes().first()? {
        b'V' => Direction::Up,
        b'U' => Direction::Down,
        _ => return None,
    };
    let body = &stem[1..];
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // Flyway: dots (or single underscores) separate the version's parts;
    // two underscores end it. A name that says up or down is not Flyway's.
    let says_direction = [".up", ".down"]
        .iter()
        .any(|suffix| strip_suffix_ignore_case(stem, suffix).is_some());
    if says_direction && !body.contains("__") {
        return None;
    }
    let Some((version_text, name)) = body.split_once("__") else {
        return Some(Classified::Invalid(format!(
            "Flyway/refinery names separate the version and the name with two underscores; {EXPECTED}"
        )));
    };
    if !version_text.contains(['.', '_']) {
        return Some(build(version_text, name, direction));
    }
    let Some(version) = Version::of_kind(version_text, VersionKind::Dotted) else {
        return Some(Classified::Invalid(format!(
            "the version {version_text} is not a dotted number such as 1.2.10; {EXPECTED}"
        )));
    };
    Some(named(version, version_text, name, direction))
}

pub(super) fn build(version_text: &str, name: &str, direction: Direction) -> Classified {
    match Version::whole(version_text) {
        Some(version) if version.is_positive_integer() => {
            named(version, version_text, name, direction)
        }
        Some(_) => Classified::Invalid("the version must be a positive integer (1 or more)".into()),
        None => Classified::Invalid(format!(
            "the version {version_text} is not a whole number; {EXPECTED}"
        )),
    }
}

fn named(version: Version, version_text: &str, name: &str, direction: Direction) -> Classified {
    if name.is_empty() {
        return Classified::Invalid(format!("the name after the version is empty; {EXPECTED}"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        return Classified::Invalid("the name contains control characters or slashes".into());
    }
    Classified::Migration(ParsedName {
        version,
        version_text: version_text.to_string(),
        name: name.to_string(),
        direction,
    })
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let split = text.len().checked_sub(suffix.len())?;
    if !text.is_char_boundary(split) {
        return None;
    }
    let (head, tail) = text.split_at(split);
    tail.eq_ignore_ascii_case(suffix).then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(name: &str) -> ParsedName {
        match classify(name) {
            Classified::Migration(parsed) => parsed,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn reads_native_and_flyway_names() {
        let up = migration("0001_create_users.up.sql");
        assert_eq!(
            (up.version, up.version_text.as_str(), up.name.as_str()),
            (Version::integer(1), "0001", "create_users")
        );
        assert_eq!(up.direction, Direction::Up);
        assert_eq!(
            migration("20261122120000_add_orders.down.sql").version,
            20261122120000
        );
        assert_eq!(
            migration("20261122120000_add_orders.down.sql").direction,
            Direction::Down
        );
        let flyway = migration("V12__add_index.sql");
        assert_eq!(
            (flyway.version, flyway.name.as_str(), flyway.direction),
            (Version::integer(12), "add_index", Direction::Up)
        );
        assert_eq!(migration("U12__add_index.sql").direction, Direction::Down);
    }

    #[test]
    fn ignores_files_that_are_not_sql() {
        for name in ["README.md", ".gitkeep", ".0001_x.up.sql.swp", "notes.txt"] {
            assert_eq!(classify(name), Classified::Ignored, "{name}");
        }
    }

    #[test]
    fn rejects_names_it_cannot_read_with_a_reason() {
        for name in [
            "create_users.up.sql",
            "0001_create_users.sql",
            "0001create_users.up.sql",
            "0000_zero.up.sql",
            "0001_.up.sql",
            "V1_single_underscore.sql",
        ] {
            assert!(
                matches!(classify(name), Classified::Invalid(_)),
                "{name} was accepted"
            );
        }
    }

    #[test]
    fn integer_versions_have_any_length() {
        let Classified::Migration(parsed) = classify("99999999999999999999_big.up.sql") else {
            panic!("a 20-digit version was refused");
        };
        assert_eq!(parsed.version_text, "99999999999999999999");
        assert!(parsed.version > Version::integer(i64::MAX));
    }
}
