//! `schemactl new NAME`: create the next numbered up/down pair.

use crate::migration::file_name::{classify, Classified};
use crate::migration::Direction;
use crate::Error;
use std::path::{Path, PathBuf};

/// Creates `<next>_<name>.up.sql` and `.down.sql` in `dir` (created when
/// missing) and returns their paths. The next version follows the
/// directory's style: a UTC timestamp when the newest version is a 14-digit
/// timestamp, else the highest version plus one, padded like it (four
/// digits in an empty directory).
pub fn new_migration(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), Error> {
    let name = name.trim().replace([' ', '-'], "_").to_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::InvalidArgument(format!(
            "`{name}` cannot be a migration name: use letters, digits, spaces, `-` and `_`"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut newest: Option<(i64, String)> = None;
    for entry in std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })? {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if let Classified::Migration(parsed) = classify(&entry.file_name().to_string_lossy()) {
            let Some(version) = parsed.version.as_integer() else {
                continue;
            };
            if newest.as_ref().is_none_or(|(v, _)| version > *v) {
                newest = Some((version, parsed.version_text));
            }
        }
    }
    let overflow = |version: i64| {
        Error::InvalidArgument(format!(
            "version {version} is the largest a migration can have; there is no next one: renumber the migrations, or start a new directory"
        ))
    };
    let version = match newest {
        Some((_, text)) if text.len() == 14 => {
            let now = time::OffsetDateTime::now_utc();
            let stamp = now
                .format(time::macros::format_description!(
                    "[year][month][day][hour][minute][second]"
                ))
                .unwrap_or_default();
            let previous: i64 = text.parse().unwrap_or_default();
            let stamp_value: i64 = stamp.parse().unwrap_or_default();
            if stamp_value > previous {
                stamp
            } else {
                previous
                    .checked_add(1)
                    .ok_or_else(|| overflow(previous))?
                    .to_string()
            }
        }
        Some((version, text)) => format!(
            "{:0width$}",
            version.checked_add(1).ok_or_else(|| overflow(version))?,
            width = text.len()
        ),
        None => "0001".to_string(),
    };
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    for (path, text) in [
        (
            &up,
            crate::migration::template(&format!("{version}_{name}"), Direction::Up),
        ),
        (
            &down,
            crate::migration::template(&format!("{version}_{name}"), Direction::Down),
        ),
    ] {
        if path.exists() {
            return Err(Error::InvalidArgument(format!(
                "{} already exists",
                path.display()
            )));
        }
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok((up, down))
}

#[cfg(test)]
mod tests {
    use super::new_migration;

    #[test]
    fn numbers_follow_the_directory_style() {
        let dir = tempfile_dir();
        let (up, down) = new_migration(&dir, "Create users").unwrap();
        assert!(up.ends_with("0001_create_users.up.sql"), "{}", up.display());
        assert!(down.ends_with("0001_create_users.down.sql"));
        let (up, _) = new_migration(&dir, "add-orders").unwrap();
        assert!(up.ends_with("0002_add_orders.up.sql"), "{}", up.display());
        std::fs::write(dir.join("20200101000000_old.up.sql"), "SELECT 1;").unwrap();
        let (up, _) = new_migration(&dir, "next").unwrap();
        let name = up.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.len() == "20261122000000_next.up.sql".len() && *name > *"20200101000000",
            "{name}"
        );
        assert!(new_migration(&dir, "bad/name").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("schemactl-new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
