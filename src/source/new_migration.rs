//! `schemactl new NAME`: create the next migration in the directory's own
//! layout, so that a diesel, Flyway, dbmate, goose, sqlx or golang-migrate
//! project keeps reading as that tool reads it.

use crate::model::ReadOptions;
use crate::model::{Direction, Layout, Migration, Version};
use crate::source::reader::read_directory;
use crate::Error;
use std::path::{Path, PathBuf};

/// The files `new` created: the up script, and the down script where the
/// layout keeps it apart (for dbmate and goose both are sections of `up`).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct NewFiles {
    /// The layout they follow.
    pub layout: Layout,
    /// The file (or folder, for diesel) holding the up script.
    pub up: PathBuf,
    /// The down script's file, when the layout has one apart.
    pub down: Option<PathBuf>,
}

impl NewFiles {
    /// Creates the next migration named `name` in `dir` (created when
    /// missing), in the layout `options` name or the directory has (schemactl's
    /// in an empty one). The next version follows the directory's style: a UTC
    /// timestamp after 14-digit timestamps (diesel's dashed form in diesel),
    /// the next dotted number in Flyway (`2.1` → `2.2`), else the highest
    /// version plus one, padded like it.
    pub fn create(dir: &Path, name: &str, options: &ReadOptions) -> Result<NewFiles, Error> {
        let name = name.trim().replace([' ', '-'], "_").to_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::InvalidArgument(format!(
                "`{name}` cannot be a migration name: use letters, digits, spaces, `-` and `_`"
            )));
        }
        let read = ReadOptions {
            allow_empty: true,
            ..options.clone()
        };
        let (layout, existing) = if dir.exists() {
            let loaded = read_directory(dir, &read)?;
            (loaded.layout, loaded.migrations)
        } else {
            (options.layout.unwrap_or(Layout::Schemactl), Vec::new())
        };
        create_dir(dir)?;
        let version = next_version(layout, &existing)?;
        let label = format!("{version}_{name}");
        let has_downs = existing.iter().any(|m| m.down.is_some());
        let up_text = crate::model::template(&label, Direction::Up);
        let down_text = crate::model::template(&label, Direction::Down);
        let files = match layout {
            Layout::Diesel => {
                let folder = dir.join(&label);
                create_dir(&folder)?;
                write_new(&folder.join("up.sql"), &up_text)?;
                write_new(&folder.join("down.sql"), &down_text)?;
                NewFiles {
                    layout,
                    up: folder.clone(),
                    down: Some(folder.join("down.sql")),
                }
            }
            Layout::Flyway => {
                let up = dir.join(format!("V{version}__{name}.sql"));
                write_new(&up, &up_text)?;
                let down = if has_downs {
                    let undo = dir.join(format!("U{version}__{name}.sql"));
                    write_new(&undo, &down_text)?;
                    Some(undo)
                } else {
                    None
                };
                NewFiles { layout, up, down }
            }
            Layout::Dbmate | Layout::Goose => {
                let file = dir.join(format!("{label}.sql"));
                write_new(&file, &sections(layout, &up_text, &down_text))?;
                NewFiles {
                    layout,
                    up: file.clone(),
                    down: Some(file),
                }
            }
            // sqlx's simple (up-only) migrations stay simple.
            Layout::Sqlx if !existing.is_empty() && !has_downs => {
                let up = dir.join(format!("{label}.sql"));
                write_new(&up, &up_text)?;
                NewFiles {
                    layout,
                    up,
                    down: None,
                }
            }
            Layout::Custom => {
                let pattern = options.pattern.as_ref().ok_or_else(|| {
                    Error::InvalidArgument("the custom layout needs its naming pattern".into())
                })?;
                let up = dir.join(pattern.file_name(&version, &name, Direction::Up));
                write_new(&up, &up_text)?;
                let down = if pattern.has_direction() {
                    let down = dir.join(pattern.file_name(&version, &name, Direction::Down));
                    write_new(&down, &down_text)?;
                    Some(down)
                } else {
                    None
                };
                NewFiles { layout, up, down }
            }
            // A pair of files: pop's for PostgreSQL, or the `.up.sql` layouts'.
            Layout::Pop | Layout::Schemactl | Layout::Sqlx | Layout::GolangMigrate => {
                let dialect = if layout == Layout::Pop {
                    ".postgres"
                } else {
                    ""
                };
                let up = dir.join(format!("{label}{dialect}.up.sql"));
                let down = dir.join(format!("{label}{dialect}.down.sql"));
                write_new(&up, &up_text)?;
                write_new(&down, &down_text)?;
                NewFiles {
                    layout,
                    up,
                    down: Some(down),
                }
            }
        };
        Ok(files)
    }
}

/// One file with both sections, marked as the layout's tool marks them.
fn sections(layout: Layout, up: &str, down: &str) -> String {
    match layout {
        Layout::Goose => format!(
            "-- +goose Up\n-- +goose StatementBegin\n{up}-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\n{down}-- +goose StatementEnd\n"
        ),
        _ => format!("-- migrate:up\n{up}\n-- migrate:down\n{down}"),
    }
}

/// The version after the newest of `existing`, written in its style.
fn next_version(layout: Layout, existing: &[Migration]) -> Result<String, Error> {
    let newest = existing
        .iter()
        .filter(|m| !m.version.is_repeatable())
        .max_by(|a, b| a.version.cmp(&b.version));
    let Some(newest) = newest else {
        return Ok(match layout {
            Layout::Diesel => diesel_stamp(&utc_stamp()),
            Layout::Flyway => "1".to_string(),
            Layout::Dbmate | Layout::Sqlx => utc_stamp(),
            Layout::Pop => format!("{}000000", utc_stamp()),
            Layout::Goose => "00001".to_string(),
            Layout::Schemactl | Layout::GolangMigrate | Layout::Custom => "0001".to_string(),
        });
    };
    match layout {
        Layout::Diesel => {
            let digits: String = newest.version.as_str().chars().take(14).collect();
            Ok(diesel_stamp(&later_stamp(&digits)?))
        }
        Layout::Flyway => next_dotted(&newest.version, &newest.version_text),
        // pop: a 14-digit timestamp and six digits of sequence.
        Layout::Pop if newest.version_text.len() == 20 => Ok(format!(
            "{}000000",
            later_stamp(&newest.version_text[..14])?
        )),
        _ => {
            let text = &newest.version_text;
            if text.len() == 14 && text.chars().all(|c| c.is_ascii_digit()) {
                return later_stamp(text);
            }
            plus_one(text).ok_or_else(|| overflow(&newest.version))
        }
    }
}

/// The decimal number `digits` plus one, as wide as it at least (`0009`
/// → `0010`, `99` → `100`; versions have any length); `None` when it is
/// not all digits.
fn plus_one(digits: &str) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return String::from_utf8(bytes).ok();
        }
    }
    bytes.insert(0, b'1');
    String::from_utf8(bytes).ok()
}

/// A 14-digit UTC timestamp after `previous` (now, or `previous` plus one
/// when the clock is behind it).
fn later_stamp(previous: &str) -> Result<String, Error> {
    let now = utc_stamp();
    if now.as_str() > previous {
        return Ok(now);
    }
    plus_one(previous).ok_or_else(|| {
        Error::InvalidArgument(format!("the newest version {previous} is not a timestamp"))
    })
}

/// Flyway: the newest version with its last part one higher (`2.1` →
/// `2.2`, `3` → `4`), with the separator its file name uses.
fn next_dotted(version: &Version, written: &str) -> Result<String, Error> {
    let separator = if written.contains('_') { '_' } else { '.' };
    let mut parts: Vec<u64> = version
        .as_str()
        .split('.')
        .map(|p| p.parse().map_err(|_| overflow(version)))
        .collect::<Result<_, _>>()?;
    let last = parts.last_mut().ok_or_else(|| overflow(version))?;
    *last = last.checked_add(1).ok_or_else(|| overflow(version))?;
    Ok(parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(&separator.to_string()))
}

fn utc_stamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .unwrap_or_default()
}

/// diesel's folder form of a 14-digit stamp: `2026-12-03-081500`.
fn diesel_stamp(digits: &str) -> String {
    if digits.len() != 14 {
        return digits.to_string();
    }
    format!(
        "{}-{}-{}-{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..]
    )
}

fn overflow(version: &Version) -> Error {
    Error::InvalidArgument(format!(
        "there is no version after {version}: renumber the migrations, or start a new directory"
    ))
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    if path.exists() {
        return Err(Error::InvalidArgument(format!(
            "{} already exists",
            path.display()
        )));
    }
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(dir: &Path, name: &str) -> NewFiles {
        NewFiles::create(dir, name, &ReadOptions::default()).unwrap()
    }

    fn file_name(path: &Path) -> String {
        path.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    fn numbers_follow_the_directory_style() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("migrations");
        let files = new(&dir, "Create users");
        assert_eq!(file_name(&files.up), "0001_create_users.up.sql");
        assert_eq!(
            file_name(&files.down.unwrap()),
            "0001_create_users.down.sql"
        );
        assert_eq!(
            file_name(&new(&dir, "add-orders").up),
            "0002_add_orders.up.sql"
        );
        std::fs::write(dir.join("20200101000000_old.up.sql"), "SELECT 1;").unwrap();
        let name = file_name(&new(&dir, "next").up);
        assert!(
            name.len() == "20261122000000_next.up.sql".len() && *name > *"20200101000000",
            "{name}"
        );
        assert!(NewFiles::create(&dir, "bad/name", &ReadOptions::default()).is_err());
    }

    #[test]
    fn flyway_versions_go_on_from_the_last_part() {
        assert_eq!(next_dotted(&Version::parse("2.1"), "2.1").unwrap(), "2.2");
        assert_eq!(next_dotted(&Version::parse("2.9"), "2_9").unwrap(), "2_10");
        assert_eq!(next_dotted(&Version::parse("3"), "3").unwrap(), "4");
    }

    #[test]
    fn the_next_integer_keeps_the_padding_and_has_no_limit() {
        assert_eq!(plus_one("0009").as_deref(), Some("0010"));
        assert_eq!(plus_one("99").as_deref(), Some("100"));
        assert_eq!(
            plus_one("9223372036854775807").as_deref(),
            Some("9223372036854775808")
        );
        assert_eq!(plus_one("1.2"), None);
    }

    #[test]
    fn diesel_stamps_have_its_dashes() {
        assert_eq!(diesel_stamp("20261203081500"), "2026-12-03-081500");
    }
}
