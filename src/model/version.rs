//! Migration versions, ordered as the tool that wrote them orders them:
//! integers (schemactl, sqlx, golang-migrate, dbmate, goose), dotted
//! numbers (Flyway: `1.2.10` after `1.2.9`, `1.0` equal to `1`), or digit
//! strings compared as text (diesel, whose versions are its folder names
//! without dashes). The text is what the history records.

use std::cmp::Ordering;
use std::fmt;

/// How a version is ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Integer(i64),
    /// A whole number beyond `i64` (pop's 20-digit versions): its digits
    /// without leading zeros, ordered by length then text.
    Wide(String),
    Dotted(Vec<u64>),
    Lexical,
    /// Flyway's repeatable migrations: after every versioned one, by name.
    Repeatable,
}

/// How a layout orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionKind {
    /// Whole numbers.
    Integer,
    /// Dot-separated numbers (Flyway).
    Dotted,
    /// Text order (diesel).
    Lexical,
}

/// A migration version.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    key: Key,
}

impl Version {
    /// An integer version.
    pub fn integer(value: i64) -> Self {
        Self {
            text: value.to_string(),
            key: Key::Integer(value),
        }
    }

    /// A file name's whole-number version, written as the history records
    /// it: without leading zeros (`0007` → `7`), of any length; `None` when
    /// `digits` is not all digits.
    pub fn whole(digits: &str) -> Option<Self> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        Self::of_kind(
            if trimmed.is_empty() { "0" } else { trimmed },
            VersionKind::Integer,
        )
    }

    /// A version of `kind` from its text; `None` when the text is not one.
    pub(crate) fn of_kind(text: &str, kind: VersionKind) -> Option<Self> {
        let text = text.trim();
        match kind {
            // The text is kept as written (a diesel version read back from
            // the history, `00000000000000`, is still that text).
            VersionKind::Integer => match text.parse() {
                Ok(value) => Some(Self {
                    text: text.to_string(),
                    key: Key::Integer(value),
                }),
                Err(_) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(Self {
                        text: text.to_string(),
                        key: Key::Wide(text.trim_start_matches('0').to_string()),
                    })
                }
                Err(_) => None,
            },
            VersionKind::Dotted => {
                let canonical = text.replace('_', ".");
                let parts: Option<Vec<u64>> =
                    canonical.split('.').map(|p| p.parse().ok()).collect();
                parts.filter(|p| !p.is_empty()).map(|parts| Self {
                    text: canonical,
                    key: Key::Dotted(parts),
                })
            }
            VersionKind::Lexical => (!text.is_empty()).then(|| Self {
                text: text.to_string(),
                key: Key::Lexical,
            }),
        }
    }

    /// A Flyway repeatable migration's place (`R__<name>`): after every
    /// versioned migration, repeatables ordered by name.
    pub fn repeatable(name: &str) -> Self {
        Self {
            text: format!("R__{name}"),
            key: Key::Repeatable,
        }
    }

    /// Whether this is a repeatable migration's place.
    pub fn is_repeatable(&self) -> bool {
        self.key == Key::Repeatable
    }

    /// A version read from a history table or a flag: an integer when it
    /// is one, dotted when it has dots, a repeatable's `R__<name>`, else text.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("R__") {
            return Self::repeatable(name);
        }
        Self::of_kind(text, VersionKind::Integer)
            .or_else(|| {
                text.contains(['.', '_'])
                    .then(|| Self::of_kind(text, VersionKind::Dotted))
                    .flatten()
            })
            .unwrap_or_else(|| Self {
                text: text.to_string(),
                key: Key::Lexical,
            })
    }

    /// The same version, ordered as `kind` orders (a version read from the
    /// history, compared with a layout's files).
    pub(crate) fn with_kind(&self, kind: VersionKind) -> Self {
        if self.is_repeatable() {
            return self.clone();
        }
        Self::of_kind(&self.text, kind).unwrap_or_else(|| self.clone())
    }

    /// The text the history records.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The integer, for integer versions.
    pub fn as_integer(&self) -> Option<i64> {
        match self.key {
            Key::Integer(value) => Some(value),
            _ => None,
        }
    }

    fn dotted(&self) -> Option<Vec<u64>> {
        match &self.key {
            Key::Integer(value) => u64::try_from(*value).ok().map(|v| vec![v]),
            Key::Dotted(parts) => Some(parts.clone()),
            Key::Wide(_) | Key::Lexical | Key::Repeatable => None,
        }
    }

    /// Whether it is a whole number above zero (what a migration file's
    /// integer version must be).
    pub fn is_positive_integer(&self) -> bool {
        match &self.key {
            Key::Integer(value) => *value > 0,
            Key::Wide(_) => true,
            _ => false,
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.key, &other.key) {
            (Key::Integer(a), Key::Integer(b)) => a.cmp(b),
            (Key::Repeatable, Key::Repeatable) => self.text.cmp(&other.text),
            (Key::Repeatable, _) => Ordering::Greater,
            (_, Key::Repeatable) => Ordering::Less,
            (Key::Lexical, _) | (_, Key::Lexical) => self.text.cmp(&other.text),
            (Key::Wide(a), Key::Wide(b)) => (a.len(), a).cmp(&(b.len(), b)),
            (Key::Wide(_), _) => Ordering::Greater,
            (_, Key::Wide(_)) => Ordering::Less,
            _ => match (self.dotted(), other.dotted()) {
                (Some(a), Some(b)) => {
                    let len = a.len().max(b.len());
                    let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
                    (0..len)
                        .map(|i| part(&a, i).cmp(&part(&b, i)))
                        .find(|o| o.is_ne())
                        .unwrap_or(Ordering::Equal)
                }
                // A negative integer (a corrupt history row) before any
                // dotted version.
                _ => self.as_integer().cmp(&other.as_integer()),
            },
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialEq<i64> for Version {
    fn eq(&self, other: &i64) -> bool {
        self.as_integer() == Some(*other)
    }
}

/// Version 0.
impl Default for Version {
    fn default() -> Self {
        Self::integer(0)
    }
}

impl From<i64> for Version {
    fn from(value: i64) -> Self {
        Self::integer(value)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Integer versions are JSON numbers (as they always were); others are
/// strings.
/// A version is written as an integer when it is one (`3`), else as its
/// text (`"2.1"`, `"20240101120000"` stays an integer).
impl schemars::JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A migration version: an integer, or the file's version text when it is not one",
            "type": ["integer", "string"]
        })
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.key {
            Key::Integer(value) => serializer.serialize_i64(value),
            _ => serializer.serialize_str(&self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dotted(text: &str) -> Version {
        Version::of_kind(text, VersionKind::Dotted).unwrap()
    }

    #[test]
    fn each_kind_orders_as_its_tool() {
        assert!(Version::integer(9) < Version::integer(10));
        assert!(dotted("1.2.9") < dotted("1.2.10"));
        assert_eq!(dotted("1.0"), dotted("1"));
        assert_eq!(dotted("1_1").as_str(), "1.1");
        let lexical = |t| Version::of_kind(t, VersionKind::Lexical).unwrap();
        // diesel: an older, longer version sorts by text, not by size.
        assert!(lexical("2017092318240800") < lexical("20180101000000"));
        assert!(Version::integer(2017092318240800) > Version::integer(20180101000000));
    }

    #[test]
    fn history_text_is_compared_as_the_layout_orders() {
        let recorded = Version::parse("20180101000000");
        assert_eq!(recorded.as_integer(), Some(20180101000000));
        let as_diesel = recorded.with_kind(VersionKind::Lexical);
        assert!(as_diesel > Version::of_kind("2017092318240800", VersionKind::Lexical).unwrap());
        assert_eq!(Version::parse("1.2.10"), dotted("1.2.10"));
        assert_eq!(Version::parse("3"), dotted("3"));
        assert_eq!(Version::parse("-7").as_integer(), Some(-7));
    }

    #[test]
    fn repeatables_come_after_every_version_by_name() {
        let r = Version::repeatable("views");
        assert!(r > Version::integer(i64::MAX) && r > dotted("99.9"));
        assert!(Version::repeatable("a") < r);
        assert!(Version::parse("R__views").is_repeatable());
        assert_eq!(Version::parse("R__views"), r);
    }

    #[test]
    fn file_versions_are_recorded_without_padding() {
        assert_eq!(Version::whole("0007").unwrap().as_str(), "7");
        assert_eq!(Version::whole("0000").unwrap().as_integer(), Some(0));
        assert_eq!(
            Version::whole("00020150100000001000000").unwrap().as_str(),
            "20150100000001000000"
        );
        assert!(Version::whole("1.2").is_none());
    }

    #[test]
    fn integers_have_any_length() {
        let pop = Version::parse("20260703000000000000");
        assert!(pop.is_positive_integer() && pop.as_integer().is_none());
        assert!(pop > Version::integer(i64::MAX));
        assert!(Version::parse("20150100000001000000") < pop);
        assert_eq!(
            Version::parse("020150100000001000000"),
            Version::parse("20150100000001000000")
        );
        assert_eq!(
            serde_json::to_string(&pop).unwrap(),
            "\"20260703000000000000\""
        );
    }

    #[test]
    fn integers_stay_json_numbers() {
        assert_eq!(serde_json::to_string(&Version::integer(3)).unwrap(), "3");
        assert_eq!(serde_json::to_string(&dotted("1.2")).unwrap(), "\"1.2\"");
    }
}
