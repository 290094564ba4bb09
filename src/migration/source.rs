//! Reading a migrations directory.
//!
//! Every file is read and checked before anything runs, and every problem
//! found is reported together (a CI run shows all of them at once, not one
//! per push).

use super::dir_entry::{self, EntryKind};
use super::file_name::{classify, Classified, ParsedName};
use super::text_position::{LineIndex, TextPosition};
use super::{directives, Checksum, Direction, Migration, MigrationFile, Script};
use crate::Error;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Something wrong with one file of a migrations directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    /// The file.
    pub path: PathBuf,
    /// Where in the file, when the problem is inside it.
    pub position: Option<TextPosition>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The up and down scripts found for one version (more than one of either is an error).
type UpsAndDowns = (Vec<(MigrationFile, Script)>, Vec<(MigrationFile, Script)>);

/// Reads every migration of `dir`, ordered by version.
pub fn load(dir: &Path) -> Result<Vec<Migration>, Error> {
    let files = list(dir)?;
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    assemble(files.into_iter().zip(read_all(&paths)).collect())
}

/// Reads migrations held in memory as `(file name, bytes)` (what
/// `embed_migrations!` compiles into a binary), with exactly the checks and
/// checksums of [`load`]; `dir` is only the directory shown in messages.
pub fn from_memory(dir: &Path, files: &[(&str, &[u8])]) -> Result<Vec<Migration>, Error> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (name, bytes) in files {
        let mut named = Vec::new();
        sort_file(dir.join(name), name, &mut named, &mut problems);
        found.extend(named.into_iter().map(|file| {
            let script = script_from_bytes(&file.path, bytes);
            (file, script)
        }));
    }
    if !problems.is_empty() {
        return Err(Error::InvalidMigrations(problems));
    }
    assemble(found)
}

/// Groups read files by version and checks that each version is whole.
fn assemble(
    files: Vec<(MigrationFile, Result<Script, SourceProblem>)>,
) -> Result<Vec<Migration>, Error> {
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<i64, UpsAndDowns> = BTreeMap::new();
    for (file, script) in files {
        match script {
            Ok(script) => {
                let slot = by_version.entry(file.name.version).or_default();
                match file.name.direction {
                    Direction::Up => slot.0.push((file, script)),
                    Direction::Down => slot.1.push((file, script)),
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    let mut migrations = Vec::with_capacity(by_version.len());
    for (version, (mut ups, mut downs)) in by_version {
        if let Some(problem) = duplicate(version, &ups).or_else(|| duplicate(version, &downs)) {
            problems.push(problem);
            continue;
        }
        let down = downs.pop();
        let Some((up_file, up)) = ups.pop() else {
            if let Some((file, _)) = down {
                problems.push(SourceProblem {
                    path: file.path,
                    position: None,
                    message: format!(
                        "down script for version {version} has no up script; add `{}_{}.up.sql` or delete this file",
                        file.name.version_text, file.name.name
                    ),
                });
            }
            continue;
        };
        if let Some((down_file, _)) = &down {
            if down_file.name.name != up_file.name.name {
                problems.push(SourceProblem {
                    path: down_file.path.clone(),
                    position: None,
                    message: format!(
                        "down script is named `{}` but its up script {} is named `{}`; rename one so that both say the same",
                        down_file.name.name,
                        up_file.path.display(),
                        up_file.name.name
                    ),
                });
                continue;
            }
        }
        let ParsedName {
            version_text, name, ..
        } = up_file.name;
        migrations.push(Migration {
            version,
            version_text,
            name,
            up,
            down: down.map(|(_, script)| script),
        });
    }
    if problems.is_empty() {
        Ok(migrations)
    } else {
        Err(Error::InvalidMigrations(problems))
    }
}

fn list(dir: &Path) -> Result<Vec<MigrationFile>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::MigrationsDirMissing {
                path: dir.to_path_buf(),
            }
        } else {
            Error::Io {
                path: dir.to_path_buf(),
                source,
            }
        }
    })?;
    let root = std::fs::canonicalize(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let kind = dir_entry::classify(&root, &path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let named_like_a_migration = entry
            .file_name()
            .to_str()
            .is_some_and(|name| matches!(classify(name), Classified::Migration(_)));
        if kind == EntryKind::Directory {
            if named_like_a_migration {
                problems.push(SourceProblem {
                    path,
                    position: None,
                    message: "is a directory named like a migration; migrations are files: move its content into a file of that name, or rename the directory".into(),
                });
            }
            continue;
        }
        if let Some(refusal) = kind.refusal() {
            if named_like_a_migration {
                problems.push(SourceProblem {
                    path,
                    position: None,
                    message: refusal,
                });
            }
            continue;
        }
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            problems.push(SourceProblem {
                path,
                position: None,
                message: "the file name is not valid UTF-8; rename it".into(),
            });
            continue;
        };
        sort_file(path, &file_name, &mut files, &mut problems);
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(Error::InvalidMigrations(problems));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Files a name as a migration, a name to ignore, or a problem.
fn sort_file(
    path: PathBuf,
    file_name: &str,
    files: &mut Vec<MigrationFile>,
    problems: &mut Vec<SourceProblem>,
) {
    match classify(file_name) {
        Classified::Migration(name) => files.push(MigrationFile { path, name }),
        Classified::Ignored => {}
        Classified::Invalid(message) => problems.push(SourceProblem {
            path,
            position: None,
            message,
        }),
    }
}

fn duplicate(version: i64, scripts: &[(MigrationFile, Script)]) -> Option<SourceProblem> {
    let [first, second, ..] = scripts else {
        return None;
    };
    Some(SourceProblem {
        path: second.0.path.clone(),
        position: None,
        message: format!(
            "version {version} is also used by {}; versions must be unique: renumber one of them (`schemactl new <name>` picks the next free number)",
            first.0.path.display()
        ),
    })
}

/// Reads the scripts on a few threads (a deploy reads hundreds of small
/// files before it can say "nothing to do"), keeping their order.
fn read_all(paths: &[PathBuf]) -> Vec<Result<Script, SourceProblem>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || paths.len() < 32 {
        return paths.iter().map(|p| read_script(p)).collect();
    }
    let chunk = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|p| read_script(p)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    vec![Err(SourceProblem {
                        path: PathBuf::new(),
                        position: None,
                        message: "reading the migrations failed unexpectedly".into(),
                    })]
                })
            })
            .collect()
    })
}

/// Reads and checks one script file.
pub fn read_script(path: &Path) -> Result<Script, SourceProblem> {
    let bytes = std::fs::read(path).map_err(|e| SourceProblem {
        path: path.to_path_buf(),
        position: None,
        message: format!("cannot read the file: {e}"),
    })?;
    script_from_bytes(path, &bytes)
}

/// Checks one script's bytes (named `path` in messages).
fn script_from_bytes(path: &Path, bytes: &[u8]) -> Result<Script, SourceProblem> {
    let problem = |position: Option<TextPosition>, message: String| SourceProblem {
        path: path.to_path_buf(),
        position,
        message,
    };
    let checksum = Checksum::of(bytes);
    let content = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let sql = match std::str::from_utf8(content) {
        Ok(sql) => sql.to_string(),
        Err(e) => {
            let valid = &content[..e.valid_up_to()];
            let text = std::str::from_utf8(valid).unwrap_or_default();
            let position = LineIndex::new(text).position(text, text.len());
            return Err(problem(
                Some(position),
                format!(
                    "the file is not valid UTF-8 (byte 0x{:02X} at offset {}); re-save it as UTF-8",
                    content[e.valid_up_to()],
                    e.valid_up_to() + (bytes.len() - content.len())
                ),
            ));
        }
    };
    if let Some(nul) = sql.find('\0') {
        let position = LineIndex::new(&sql).position(&sql, nul);
        return Err(problem(
            Some(position),
            "the file contains a NUL byte, which PostgreSQL cannot receive in SQL text; remove it (write binary data as a bytea literal such as '\\x00')".into(),
        ));
    }
    if sql.trim().is_empty() {
        return Err(problem(
            None,
            "the file is empty; write the migration's SQL, or delete the file".into(),
        ));
    }
    let directives = directives::parse(&sql).map_err(|e| {
        problem(
            Some(TextPosition {
                line: e.line,
                column: 1,
            }),
            e.message,
        )
    })?;
    Ok(Script::new(path.to_path_buf(), sql, checksum, directives))
}
