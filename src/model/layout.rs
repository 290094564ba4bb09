//! Migration layouts: the ways other tools lay out a migrations directory,
//! read as they are. Detected from the directory (or named with `--layout`):
//!
//! | layout | files |
//! |---|---|
//! | `schemactl` | `<v>_<name>.up.sql` + `<v>_<name>.down.sql`, paired by version and name |
//! | `sqlx` | the same, and simple `<v>_<name>.sql` (up only) |
//! | `golang-migrate` | `<v>_<name>.up.sql` / `.down.sql`, paired by version (names may differ) |
//! | `diesel` | `<version>_<name>/up.sql` + `down.sql` (+ `metadata.toml`) |
//! | `dbmate` | one `<v>_<name>.sql` with `-- migrate:up` / `-- migrate:down` sections |
//! | `goose` | one `<v>_<name>.sql` with `-- +goose Up` / `-- +goose Down` sections |
//! | `flyway` | `V<v>__<name>.sql` (up), `U<v>__<name>.sql` (undo); refinery too |

use std::fmt;
use std::str::FromStr;

/// A migrations directory layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// schemactl's own: `<v>_<name>.up.sql` / `.down.sql`.
    Schemactl,
    /// sqlx: reversible pairs, or simple `<v>_<name>.sql` up-only files.
    Sqlx,
    /// golang-migrate: up/down pairs matched by version alone.
    GolangMigrate,
    /// diesel: one folder per migration.
    Diesel,
    /// dbmate: one file with `-- migrate:up` / `-- migrate:down`.
    Dbmate,
    /// goose (SQL migrations): one file with `-- +goose Up` / `-- +goose Down`.
    Goose,
    /// Flyway and refinery: `V<v>__<name>.sql`, Flyway's `U<v>__<name>.sql`.
    Flyway,
    /// gobuffalo/pop (Ory's projects): `<v>_<name>.postgres.up.sql`, other
    /// dialects' files beside them, `.autocommit.` outside a transaction.
    Pop,
    /// The project's own naming scheme, given as a pattern to
    /// `--layout` or `layout =`, such as `V{version}.{name}.{direction}.sql`;
    /// never detected.
    Custom,
}

impl Layout {
    /// Every layout, in the order detection reports them.
    pub const ALL: [Layout; 8] = [
        Layout::Schemactl,
        Layout::Sqlx,
        Layout::GolangMigrate,
        Layout::Diesel,
        Layout::Dbmate,
        Layout::Goose,
        Layout::Flyway,
        Layout::Pop,
    ];

    /// The name used by `--layout` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Schemactl => "schemactl",
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Diesel => "diesel",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
            Layout::Flyway => "flyway",
            Layout::Pop => "pop",
            Layout::Custom => "custom",
        }
    }

    /// What this layout's files look like, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Layout::Schemactl => "`<version>_<name>.up.sql` and `<version>_<name>.down.sql`",
            Layout::Sqlx => "`<version>_<name>.up.sql` / `.down.sql`, or `<version>_<name>.sql`",
            Layout::GolangMigrate => "`<version>_<name>.up.sql` and `<version>_<name>.down.sql`",
            Layout::Diesel => "folders `<version>_<name>/` holding `up.sql` and `down.sql`",
            Layout::Dbmate => {
                "`<version>_<name>.sql` with `-- migrate:up` and `-- migrate:down` sections"
            }
            Layout::Goose => {
                "`<version>_<name>.sql` with `-- +goose Up` and `-- +goose Down` sections"
            }
            Layout::Flyway => "`V<version>__<name>.sql` (and `U<version>__<name>.sql` undo files)",
            Layout::Pop => {
                "`<version>_<name>.postgres.up.sql` / `.down.sql` (`.postgres.autocommit.up.sql` outside a transaction)"
            }
            Layout::Custom => "names that match the configured naming pattern",
        }
    }

    /// How the layout's tool orders versions.
    pub(crate) fn version_kind(self) -> super::VersionKind {
        match self {
            Layout::Diesel => super::VersionKind::Lexical,
            Layout::Flyway => super::VersionKind::Dotted,
            _ => super::VersionKind::Integer,
        }
    }

    /// Whether an up and a down script of one version must have the same name.
    pub fn pairs_by_name(self) -> bool {
        matches!(self, Layout::Schemactl | Layout::Sqlx | Layout::Custom)
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "migrate" | "golang_migrate" => "golang-migrate",
            "refinery" => "flyway",
            "gobuffalo" | "gobuffalo-pop" | "fizz" => "pop",
            other => other,
        };
        Layout::ALL
            .into_iter()
            .find(|l| l.name() == alias)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a layout; use one of: {}, or describe the project's own names with a pattern such as `V{{version}}.{{name}}.{{direction}}.sql`",
                    Layout::ALL.map(Layout::name).join(", ")
                )
            })
    }
}

/// A section of a single-file layout (dbmate, goose): where it is in the
/// file and whether it runs in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Byte range of the section's SQL (after its marker line).
    pub range: std::ops::Range<usize>,
    /// The section asked to run outside a transaction.
    pub no_transaction: bool,
}

/// The up and down sections of a dbmate or goose file; `None` when the file
/// has no up marker of that layout.
pub fn sections(layout: Layout, text: &str) -> Option<Result<(Section, Option<Section>), String>> {
    let mut up: Option<(usize, bool)> = None;
    let mut down: Option<(usize, usize, bool)> = None;
    let mut file_no_transaction = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        let Some(marker) = marker(layout, trimmed) else {
            continue;
        };
        match marker {
            Marker::Up { no_transaction } if up.is_none() => up = Some((offset, no_transaction)),
            Marker::Up { .. } => return Some(Err("a second up marker".into())),
            Marker::Down { no_transaction } if down.is_none() => {
                if up.is_none() {
                    return Some(Err(format!(
                        "the down section comes before the up section ({})",
                        trimmed
                    )));
                }
                down = Some((start, offset, no_transaction));
            }
            Marker::Down { .. } => return Some(Err("a second down marker".into())),
            Marker::NoTransaction => file_no_transaction = true,
        }
    }
    let (up_start, up_no_transaction) = up?;
    let up_end = down.map_or(text.len(), |(start, ..)| start);
    let up = Section {
        range: up_start..up_end,
        no_transaction: up_no_transaction || file_no_transaction,
    };
    let down = down.map(|(_, body, no_transaction)| Section {
        range: body..text.len(),
        no_transaction: no_transaction || file_no_transaction,
    });
    Some(Ok((up, down)))
}

enum Marker {
    Up { no_transaction: bool },
    Down { no_transaction: bool },
    NoTransaction,
}

fn marker(layout: Layout, line: &str) -> Option<Marker> {
    let comment = line.strip_prefix("--")?.trim_start();
    match layout {
        Layout::Dbmate => {
            let rest = comment.strip_prefix("migrate:")?;
            let mut words = rest.split_whitespace();
            let which = words.next()?;
            let no_transaction = words.any(|w| w.eq_ignore_ascii_case("transaction:false"));
            match which {
                "up" => Some(Marker::Up { no_transaction }),
                "down" => Some(Marker::Down { no_transaction }),
                _ => None,
            }
        }
        Layout::Goose => {
            let rest = comment.strip_prefix("+goose")?.trim();
            if rest.eq_ignore_ascii_case("up") {
                Some(Marker::Up {
                    no_transaction: false,
                })
            } else if rest.eq_ignore_ascii_case("down") {
                Some(Marker::Down {
                    no_transaction: false,
                })
            } else if rest.eq_ignore_ascii_case("no transaction") {
                Some(Marker::NoTransaction)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `text` with everything outside `range` blanked (newlines kept), so that
/// a section's statements keep their line and column in the file.
pub fn blank_outside(text: &str, range: &std::ops::Range<usize>) -> String {
    text.char_indices()
        .map(|(i, c)| {
            if range.contains(&i) || matches!(c, '\n' | '\r' | '\t') {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// The dialect pop runs schemactl's files for.
pub const POP_DIALECT: &str = "postgres";

/// A pop migration file name: `<version>_<name>[.<dialect>][.autocommit].<up|down>.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopName<'a> {
    /// The digits of the version.
    pub version: &'a str,
    /// The name (pop's names have no dots).
    pub name: &'a str,
    /// The database the file is for (`postgres`, `mysql`, `sqlite3`, …);
    /// `None`: every database.
    pub dialect: Option<&'a str>,
    /// `.autocommit`: pop runs it outside a transaction.
    pub autocommit: bool,
    /// Up or down.
    pub direction: super::Direction,
}

/// Reads a pop file name; `None` when it is not one.
pub fn pop_name(file_name: &str) -> Option<PopName<'_>> {
    let stem = file_name.strip_suffix(".sql")?;
    let (stem, direction) = match stem.rsplit_once('.')? {
        (stem, "up") => (stem, super::Direction::Up),
        (stem, "down") => (stem, super::Direction::Down),
        _ => return None,
    };
    let (stem, autocommit) = match stem.strip_suffix(".autocommit") {
        Some(stem) => (stem, true),
        None => (stem, false),
    };
    let (stem, dialect) = match stem.split_once('.') {
        Some((stem, dialect)) => (stem, Some(dialect)),
        None => (stem, None),
    };
    let (version, name) = stem.split_once('_')?;
    let word = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric());
    (word(version)
        && version.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && dialect.is_none_or(word))
    .then_some(PopName {
        version,
        name,
        dialect,
        autocommit,
        direction,
    })
}

/// diesel's version of a folder name: the part before the first `_`, with
/// its dashes removed (`2017-09-23-182408_create_users` → `20170923182408`),
/// as diesel records it. `None` when that is not all digits.
pub fn diesel_version(folder: &str) -> Option<(String, String, String)> {
    let (written, name) = folder.split_once('_')?;
    let digits: String = written.chars().filter(|c| *c != '-').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((digits, written.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbmate_sections_keep_their_place_and_options() {
        let text = "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down transaction:false\nDROP TABLE a;\n";
        let (up, down) = sections(Layout::Dbmate, text).unwrap().unwrap();
        assert_eq!(&text[up.range.clone()], "CREATE TABLE a (id int);\n\n");
        assert!(!up.no_transaction);
        let down = down.unwrap();
        assert_eq!(&text[down.range.clone()], "DROP TABLE a;\n");
        assert!(down.no_transaction);
        let blanked = blank_outside(text, &down.range);
        assert_eq!(blanked.lines().nth(4), Some("DROP TABLE a;"));
        assert!(blanked.lines().take(4).all(|l| l.trim().is_empty()));
    }

    #[test]
    fn goose_sections_and_no_transaction() {
        let text = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose StatementEnd\n-- +goose Down\nDROP INDEX i;\n";
        let (up, down) = sections(Layout::Goose, text).unwrap().unwrap();
        assert!(text[up.range.clone()].contains("CREATE INDEX"));
        assert!(up.no_transaction && down.unwrap().no_transaction);
        assert!(sections(Layout::Goose, "SELECT 1;").is_none());
        assert!(
            sections(Layout::Dbmate, "-- migrate:down\nx\n-- migrate:up\ny")
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn diesel_versions_are_what_diesel_records() {
        assert_eq!(
            diesel_version("2017-09-23-182408_create_users"),
            Some((
                "20170923182408".into(),
                "2017-09-23-182408".into(),
                "create_users".into()
            ))
        );
        assert_eq!(
            diesel_version("2026-05-27-120000-0000_add").map(|v| v.0),
            Some("202605271200000000".into())
        );
        assert_eq!(
            diesel_version("00000000000000_diesel_initial_setup").map(|v| v.0),
            Some("00000000000000".into())
        );
        assert_eq!(diesel_version("notes"), None);
        assert_eq!(diesel_version("v1_x"), None);
    }

    #[test]
    fn pop_names_carry_dialect_and_autocommit() {
        let name = pop_name("20260703000000000000_idx.postgres.autocommit.up.sql").unwrap();
        assert_eq!(
            (name.version, name.name, name.dialect, name.autocommit),
            ("20260703000000000000", "idx", Some("postgres"), true)
        );
        let plain = pop_name("20150100000001000000_networks.down.sql").unwrap();
        assert_eq!(
            (plain.dialect, plain.direction),
            (None, crate::model::Direction::Down)
        );
        assert_eq!(
            pop_name("20150100000001000000_networks.mysql.up.sql")
                .unwrap()
                .dialect,
            Some("mysql")
        );
        assert!(pop_name("V1__x.sql").is_none() && pop_name("1_x.sql").is_none());
    }

    #[test]
    fn layouts_are_named_as_users_write_them() {
        assert_eq!("golang-migrate".parse(), Ok(Layout::GolangMigrate));
        assert_eq!("refinery".parse(), Ok(Layout::Flyway));
        assert!("liquibase"
            .parse::<Layout>()
            .unwrap_err()
            .contains("diesel"));
    }
}
