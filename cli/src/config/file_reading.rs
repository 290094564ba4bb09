//! Reading `schemactl.toml`: every unknown key is reported at once, each
//! with its line, together with the first value of a wrong type (TOML
//! reading stops there).

use super::file_config::FileConfig;
use schemactl::Error;
use std::path::{Path, PathBuf};

/// Reads and checks the configuration file at `path`: the configuration
/// and its unknown keys (problems to report with the rest), or the error
/// that stopped reading it (with the unknown keys found before it).
pub(super) fn read(path: &Path) -> Result<(FileConfig, Vec<Error>), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let at = |line: Option<(usize, usize)>| {
        PathBuf::from(match line {
            Some((line, column)) => format!("{}:{line}:{column}", path.display()),
            None => path.display().to_string(),
        })
    };
    let toml_error = |e: toml::de::Error| Error::Config {
        path: at(e.span().map(|span| line_and_column(&text, span.start))),
        message: e.message().to_string(),
    };
    let deserializer = toml::de::Deserializer::parse(&text).map_err(toml_error)?;
    let mut unknown = Vec::new();
    let parsed = serde_ignored::deserialize(deserializer, |key| unknown.push(key.to_string()));
    let mut problems: Vec<Error> = unknown
        .iter()
        .map(|key| Error::Config {
            path: at(key_line(&text, key).map(|line| (line, 1))),
            message: format!(
                "unknown key `{key}`; the keys are listed in the configuration reference (docs/reference/config.md)"
            ),
        })
        .collect();
    let config = match parsed {
        Ok(config) => Some(config),
        Err(e) => {
            problems.push(toml_error(e));
            None
        }
    };
    match config {
        Some(config) => Ok((config, problems)),
        None if problems.len() == 1 => Err(problems.remove(0)),
        None => Err(Error::ConfigProblems(problems)),
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    for (at, character) in text.char_indices() {
        if at >= offset {
            break;
        }
        if character == '\n' {
            (line, column) = (line + 1, 1);
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// The line of the dotted `key` (`postgres.lock_timout`): its last part
/// written at the start of a line in its table (`[postgres]`), or at the
/// top for a top-level key.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let (table, name) = match key.rsplit_once('.') {
        Some((table, name)) => (Some(table), name),
        None => (None, key),
    };
    let mut in_table = table.is_none();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            let header = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default();
            in_table = table == Some(header.trim());
            continue;
        }
        let written = trimmed
            .split(['=', ' ', '\t'])
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        if in_table && written == name {
            return Some(index + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_key_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schemactl.toml");
        std::fs::write(
            &path,
            "migration_dir = \"db\"\n\n[postgres]\nlock_timout = \"5s\"\nhistory_table = \"h\"\n\n[verify]\ncolumn_ordr = \"error\"\n",
        )
        .unwrap();
        let Ok((_, problems)) = read(&path) else {
            panic!("unknown keys stopped the reading");
        };
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(
            text[0].contains(":1:1: unknown key `migration_dir`"),
            "{text:?}"
        );
        assert!(
            text[1].contains(":4:1: unknown key `postgres.lock_timout`"),
            "{text:?}"
        );
        assert!(
            text[2].contains(":8:1: unknown key `verify.column_ordr`"),
            "{text:?}"
        );
    }
}
