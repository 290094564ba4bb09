//! Reading a migrations directory.
//!
//! Every file is read and checked before anything runs, and every problem
//! found is reported together (a CI run shows all of them at once, not one
//! per push).

use crate::model::dir_entry::{self, EntryKind};
use crate::model::file_name::{classify, Classified, ParsedName};
use crate::model::layout::{self, Layout};
use crate::model::text_position::{LineIndex, TextPosition};
use crate::model::{
    directives, Checksum, Direction, Migration, MigrationFile, ReadOptions, Script, SourceProblem,
    Version,
};
use crate::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether a read takes the down scripts' contents with their ups', or
/// only their names: a deploy first asks the database whether anything is
/// pending, and a database that is up to date needs no down script (half
/// of a no-op deploy's file reads). The names are still checked (a down
/// without its up, names that differ, duplicates), so such a read refuses
/// exactly the directories a whole read refuses for their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Downs {
    /// Read and checked like the ups.
    Read,
    /// Named only: the migrations come without down scripts.
    NamedOnly,
}

/// The up and down scripts found for one version (more than one of either is an error).
type UpsAndDowns = (Vec<(MigrationFile, Script)>, Vec<(MigrationFile, Script)>);

/// Reads every migration of `dir`, ordered by version, in the layout the
/// directory is detected to have.
#[cfg(test)]
pub fn load(dir: &Path) -> Result<Vec<Migration>, Error> {
    read_directory(dir, &ReadOptions::default()).map(|loaded| loaded.migrations)
}

/// A directory read: its layout, its migrations, and the `.sql` files the
/// layout could not place (warnings; errors under `strict`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The layout read (detected or given).
    pub layout: Layout,
    /// The migrations, ordered by version.
    pub migrations: Vec<Migration>,
    /// What the user should see but does not stop a run: `.sql` files the
    /// layout cannot place, ups and downs paired by version alone.
    pub warnings: Vec<SourceProblem>,
}

/// Reads `dir` as `options` say: detects (or takes) the layout, reads each
/// migration in it, and refuses a directory it did not understand.
pub fn read_directory(dir: &Path, options: &ReadOptions) -> Result<Loaded, Error> {
    read_directory_with(dir, options, Downs::Read)
}

/// [`read_directory`], with the down scripts read or only named.
pub(crate) fn read_directory_with(
    dir: &Path,
    options: &ReadOptions,
    downs: Downs,
) -> Result<Loaded, Error> {
    let listing = match list(dir) {
        Err(Error::MigrationsDirMissing { .. }) if options.allow_empty => {
            return Ok(Loaded {
                layout: options.layout.unwrap_or(Layout::Schemactl),
                migrations: Vec::new(),
                warnings: Vec::new(),
            })
        }
        other => other?,
    };
    let plain_texts = read_plain_texts(&listing);
    let layout = match options.layout {
        Some(layout) => layout,
        None => detect(dir, &listing, &plain_texts, options.allow_empty)?,
    };
    let (found, mut warnings) = match (layout, &options.pattern) {
        (Layout::Custom, Some(pattern)) => place_by_pattern(pattern, &listing, downs),
        (Layout::Custom, None) => {
            return Err(Error::InvalidArgument(
                "the custom layout needs its naming pattern, e.g. `layout = \"V{version}.{name}.{direction}.sql\"`".into(),
            ))
        }
        _ => place(layout, &listing, &plain_texts, downs),
    };
    let mut problems: Vec<SourceProblem> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    for item in found {
        match item {
            Ok(file) => files.push(file),
            Err(problem) => problems.push(problem),
        }
    }
    if options.multi_statement {
        send_statement_by_statement(layout, &mut files)?;
    }
    if layout == Layout::GolangMigrate && options.layout.is_none() {
        warnings.extend(renamed_pairs(&files));
    }
    if options.strict {
        problems.append(&mut warnings);
    }
    if files.is_empty() && problems.is_empty() && !options.allow_empty {
        return Err(nothing_found(dir, layout, &warnings));
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(Error::InvalidMigrations(problems));
    }
    let migrations = assemble_in(layout, files, downs)?;
    Ok(Loaded {
        layout,
        migrations,
        warnings,
    })
}

/// golang-migrate's `x-multi-statement` mode: its driver splits a file at
/// each `;` and sends every piece as a message of its own, so each statement
/// commits on its own (a file's own `BEGIN … COMMIT` still groups what it
/// encloses): schemactl's statement-by-statement execution outside a
/// transaction, with its splitter in place of the bare `;` split.
fn send_statement_by_statement(
    layout: Layout,
    files: &mut [(MigrationFile, Result<Script, SourceProblem>)],
) -> Result<(), Error> {
    if layout != Layout::GolangMigrate {
        return Err(Error::InvalidArgument(format!(
            "`multi_statement = true` is golang-migrate's `x-multi-statement` mode, but this directory is read \
             as the {layout} layout; remove the key, or set `layout = \"golang-migrate\"`"
        )));
    }
    for script in files
        .iter_mut()
        .filter_map(|(_, script)| script.as_mut().ok())
    {
        script.sent_whole = false;
        script.directives.no_transaction = true;
    }
    Ok(())
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
    assemble_in(Layout::Schemactl, found, Downs::Read)
}

/// Groups read files by version and checks that each version is whole.
fn assemble_in(
    layout: Layout,
    files: Vec<(MigrationFile, Result<Script, SourceProblem>)>,
    down_scripts: Downs,
) -> Result<Vec<Migration>, Error> {
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<Version, UpsAndDowns> = BTreeMap::new();
    for (file, script) in files {
        match script {
            Ok(script) => {
                let slot = by_version.entry(file.name.version.clone()).or_default();
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
        if let Some(problem) = duplicate(&version, &ups).or_else(|| duplicate(&version, &downs)) {
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
            if layout.pairs_by_name() && down_file.name.name != up_file.name.name {
                problems.push(SourceProblem {
                    path: down_file.path.clone(),
                    position: None,
                    message: format!(
                        "down script is named `{}` but its up script {} is named `{}`; rename one so that both say the same (or read the directory with `--layout golang-migrate`, which pairs by version alone)",
                        down_file.name.name,
                        up_file.path.display(),
                        up_file.name.name
                    ),
                });
                continue;
            }
        }
        let label = || format!("{}_{}", up_file.name.version_text, up_file.name.name);
        let mut up = up;
        let mut down = down;
        for script in std::iter::once(&mut up).chain(down.as_mut().map(|(_, d)| d)) {
            // Only a short comment can be the template: most scripts are
            // ruled out without formatting it. (A dbmate or goose section
            // is the whole file with the other section blanked.)
            let short_comment =
                script.sql.len() < 1024 && script.sql.trim_start().starts_with("-- ");
            if short_comment
                && [Direction::Up, Direction::Down].iter().any(|d| {
                    holds_only_template(&script.sql, &crate::model::template(&label(), *d))
                })
            {
                script.unwritten = true;
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
            down: down
                .filter(|_| down_scripts == Downs::Read)
                .map(|(_, script)| script),
        });
    }
    if problems.is_empty() {
        Ok(migrations)
    } else {
        Err(Error::InvalidMigrations(problems))
    }
}

/// Whether a file name ends in `.sql`, in any case.
fn is_sql_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b".sql")
}

/// What a migrations directory holds, before any layout is applied.
#[derive(Debug, Default)]
struct Listing {
    /// Top-level regular files: path and name.
    files: Vec<(PathBuf, String)>,
    /// Top-level directories: path and name.
    folders: Vec<(PathBuf, String)>,
    /// Entries that can never be read safely.
    problems: Vec<SourceProblem>,
}

fn list(dir: &Path) -> Result<Listing, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::MigrationsDirMissing {
                path: dir.to_path_buf(),
            }
        } else if source.kind() == std::io::ErrorKind::NotADirectory {
            Error::InvalidArgument(format!(
                "the migrations directory {} is a file, not a directory; point `--migrations-dir` (or `migrations_dir` in schemactl.toml) at the directory that holds the migrations",
                dir.display()
            ))
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
    let mut listing = Listing::default();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let kind = dir_entry::classify_entry(&root, &entry).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let name = entry.file_name().to_str().map(str::to_owned);
        let sql_like = name.as_deref().is_some_and(is_sql_name);
        if kind == EntryKind::Directory {
            match name {
                Some(_) if sql_like => listing.problems.push(SourceProblem {
                    path,
                    position: None,
                    message: "is a directory named like a migration; migrations are files: move its content into a file of that name, or rename the directory".into(),
                }),
                Some(name) if !name.starts_with('.') => listing.folders.push((path, name)),
                _ => {}
            }
            continue;
        }
        if let Some(refusal) = kind.refusal() {
            if sql_like {
                listing.problems.push(SourceProblem {
                    path,
                    position: None,
                    message: refusal,
                });
            }
            continue;
        }
        let Some(file_name) = name else {
            listing.problems.push(SourceProblem {
                path,
                position: None,
                message: "the file name is not valid UTF-8; rename it".into(),
            });
            continue;
        };
        if !file_name.starts_with('.') {
            listing.files.push((path, file_name));
        }
    }
    // One directory: name order is path order, and names compare faster.
    listing.files.sort_by(|a, b| a.1.cmp(&b.1));
    listing.folders.sort_by(|a, b| a.1.cmp(&b.1));
    if !listing.problems.is_empty() {
        let mut problems = std::mem::take(&mut listing.problems);
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        return Err(Error::InvalidMigrations(problems));
    }
    Ok(listing)
}

/// The kind of migration file a name (and, for one-file layouts, its text)
/// belongs to; what detection counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    UpDown,
    Plain,
    Dbmate,
    Goose,
    Flyway,
    Diesel,
    Pop,
}

/// `<digits>_<name>.sql` without `.up`/`.down`: the one-file layouts' names.
fn plain_name(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.strip_suffix(".sql")?;
    if stem.ends_with(".up") || stem.ends_with(".down") {
        return None;
    }
    let (version, name) = stem.split_once('_')?;
    (!version.is_empty() && version.chars().all(|c| c.is_ascii_digit()) && !name.is_empty())
        .then_some((version, name))
}

fn flyway_name(file_name: &str) -> bool {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return false;
    };
    match stem.as_bytes() {
        [b'V' | b'U', rest @ ..] => {
            let rest = std::str::from_utf8(rest).unwrap_or_default();
            rest.split_once("__").is_some_and(|(v, _)| {
                v.starts_with(|c: char| c.is_ascii_digit())
                    && v.chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
            })
        }
        [b'R', b'_', b'_', ..] => true,
        _ => false,
    }
}

/// The texts of the one-file candidates (`<v>_<name>.sql`), read once: the
/// layout is told apart by their markers.
fn read_plain_texts(listing: &Listing) -> BTreeMap<PathBuf, Vec<u8>> {
    listing
        .files
        .iter()
        .filter(|(_, name)| plain_name(name).is_some())
        .filter_map(|(path, _)| Some((path.clone(), std::fs::read(path).ok()?)))
        .collect()
}

fn diesel_folder(path: &Path, name: &str) -> bool {
    layout::diesel_version(name).is_some() && path.join("up.sql").is_file()
}

fn families(
    listing: &Listing,
    texts: &BTreeMap<PathBuf, Vec<u8>>,
) -> BTreeMap<Family, Vec<PathBuf>> {
    let mut found: BTreeMap<Family, Vec<PathBuf>> = BTreeMap::new();
    for (path, name) in &listing.folders {
        if diesel_folder(path, name) {
            found.entry(Family::Diesel).or_default().push(path.clone());
        }
    }
    for (path, name) in &listing.files {
        let family = if flyway_name(name) {
            Family::Flyway
        } else if layout::pop_name(name).is_some_and(|p| p.dialect.is_some()) {
            Family::Pop
        } else if plain_name(name).is_some() {
            let text = String::from_utf8_lossy(texts.get(path).map_or(&[][..], Vec::as_slice));
            if layout::sections(Layout::Dbmate, &text).is_some() {
                Family::Dbmate
            } else if layout::sections(Layout::Goose, &text).is_some() {
                Family::Goose
            } else {
                Family::Plain
            }
        } else if matches!(classify(name), Classified::Migration(_)) {
            Family::UpDown
        } else {
            continue;
        };
        found.entry(family).or_default().push(path.clone());
    }
    found
}

/// The layout of a directory, from what it holds.
fn detect(
    dir: &Path,
    listing: &Listing,
    texts: &BTreeMap<PathBuf, Vec<u8>>,
    allow_empty: bool,
) -> Result<Layout, Error> {
    let found = families(listing, texts);
    let kinds: Vec<Family> = found.keys().copied().collect();
    let layout = match kinds.as_slice() {
        [] => {
            let sql: Vec<&PathBuf> = listing
                .files
                .iter()
                .filter(|(_, n)| is_sql_name(n))
                .map(|(p, _)| p)
                .collect();
            if sql.is_empty() && allow_empty {
                return Ok(Layout::Schemactl);
            }
            if sql.is_empty() {
                return Err(nothing_found(dir, Layout::Schemactl, &[]));
            }
            // `.sql` files, none a migration of any layout: name them all.
            // (A name that is almost native, `create_users.up.sql`, gets
            // the native reader's precise message instead.)
            if sql.iter().any(|p| {
                let name = p.to_string_lossy().to_ascii_lowercase();
                name.ends_with(".up.sql") || name.ends_with(".down.sql")
            }) {
                return Ok(Layout::Schemactl);
            }
            let forms: Vec<String> = Layout::ALL
                .iter()
                .filter(|l| !matches!(l, Layout::GolangMigrate | Layout::Sqlx))
                .map(|l| format!("{l}: {}", l.expected()))
                .collect();
            // The layouts' forms once, on the first file, not once per file.
            return Err(Error::InvalidMigrations(
                sql.into_iter()
                    .enumerate()
                    .map(|(i, path)| SourceProblem {
                        path: path.clone(),
                        position: None,
                        message: if i == 0 {
                            format!(
                                "is not a migration of any layout schemactl reads ({}); rename it, or move it out of the migrations directory",
                                forms.join("; ")
                            )
                        } else {
                            "is not a migration of any layout schemactl reads either (the forms are above)".to_string()
                        },
                    })
                    .collect(),
            ));
        }
        [Family::UpDown] => {
            if versions_paired_by_version_only(listing) {
                Layout::GolangMigrate
            } else {
                Layout::Schemactl
            }
        }
        [Family::UpDown, Family::Plain] | [Family::Plain] => Layout::Sqlx,
        [Family::Plain, Family::Dbmate] | [Family::Dbmate] => Layout::Dbmate,
        [Family::Plain, Family::Goose] | [Family::Goose] => Layout::Goose,
        [Family::Flyway] => Layout::Flyway,
        [Family::Diesel] => Layout::Diesel,
        [Family::UpDown, Family::Pop] | [Family::Pop] => Layout::Pop,
        _ => {
            let examples: Vec<String> = found
                .iter()
                .map(|(family, paths)| {
                    format!(
                        "{} ({})",
                        paths[0].display(),
                        match family {
                            Family::UpDown => "schemactl / golang-migrate",
                            Family::Plain => "sqlx",
                            Family::Dbmate => "dbmate",
                            Family::Goose => "goose",
                            Family::Flyway => "flyway",
                            Family::Diesel => "diesel",
                            Family::Pop => "pop",
                        }
                    )
                })
                .collect();
            return Err(Error::InvalidMigrations(vec![SourceProblem {
                path: dir.to_path_buf(),
                position: None,
                message: format!(
                    "holds migrations of more than one layout: {}; keep one layout per directory, or name the one to read with --layout",
                    examples.join(", ")
                ),
            }]));
        }
    };
    Ok(layout)
}

/// One warning for the downs whose names differ from their ups': detection
/// paired them by version, as golang-migrate does. Naming the layout says
/// that is meant, and silences it.
fn renamed_pairs(files: &[(MigrationFile, Result<Script, SourceProblem>)]) -> Vec<SourceProblem> {
    let ups: BTreeMap<Version, &MigrationFile> = files
        .iter()
        .filter(|(f, _)| f.name.direction == Direction::Up)
        .map(|(f, _)| (f.name.version.clone(), f))
        .collect();
    let renamed: Vec<(&MigrationFile, &MigrationFile)> = files
        .iter()
        .filter(|(f, _)| f.name.direction == Direction::Down)
        .filter_map(|(down, _)| {
            let up = ups.get(&down.name.version)?;
            (up.name.name != down.name.name).then_some((down, *up))
        })
        .collect();
    let Some((first_down, first_up)) = renamed.first() else {
        return Vec::new();
    };
    let file_name = |f: &MigrationFile| {
        f.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    };
    let others = match renamed.len() {
        1 => String::new(),
        2 => " and 1 other down file".into(),
        n => format!(" and {} other down files", n - 1),
    };
    vec![SourceProblem {
        path: first_down.path.clone(),
        position: None,
        message: format!(
            "is paired with {}{others} by version alone, as golang-migrate does; say `layout = \"golang-migrate\"` (or `--layout golang-migrate`) if that is meant, which also silences this, or rename the files to match for schemactl's own layout",
            file_name(first_up)
        ),
    }]
}

/// golang-migrate pairs an up and a down by version even when their names
/// differ; schemactl's own layout never writes such a pair.
fn versions_paired_by_version_only(listing: &Listing) -> bool {
    let mut names: BTreeMap<Version, (Option<String>, Option<String>)> = BTreeMap::new();
    for (_, file_name) in &listing.files {
        if let Classified::Migration(parsed) = classify(file_name) {
            let slot = names.entry(parsed.version).or_default();
            match parsed.direction {
                Direction::Up => slot.0 = Some(parsed.name),
                Direction::Down => slot.1 = Some(parsed.name),
            }
        }
    }
    names
        .values()
        .any(|(up, down)| matches!((up, down), (Some(u), Some(d)) if u != d))
}

type Found = Vec<Result<(MigrationFile, Result<Script, SourceProblem>), SourceProblem>>;

/// The migrations of `layout` in the listing, read; and the `.sql` files it
/// cannot place.
fn place(
    layout: Layout,
    listing: &Listing,
    texts: &BTreeMap<PathBuf, Vec<u8>>,
    downs: Downs,
) -> (Found, Vec<SourceProblem>) {
    let mut found: Found = Vec::with_capacity(listing.files.len() + listing.folders.len());
    let mut warnings = Vec::new();
    let not_placed = |path: &Path| SourceProblem {
        path: path.to_path_buf(),
        position: None,
        message: format!(
            "is not a {layout} migration ({}); it is not run (pass --strict to make this an error)",
            layout.expected()
        ),
    };
    let is_sql = is_sql_name;
    match layout {
        Layout::Schemactl | Layout::GolangMigrate | Layout::Sqlx => {
            let mut named = Vec::new();
            let mut problems = Vec::new();
            for (path, name) in &listing.files {
                if layout == Layout::Sqlx {
                    if let Some((version, rest)) = plain_name(name) {
                        match sqlx_simple(path, version, rest) {
                            Ok(file) => named.push(file),
                            Err(problem) => problems.push(problem),
                        }
                        continue;
                    }
                }
                sort_file(path.clone(), name, &mut named, &mut problems);
            }
            // golang-migrate sends each file as one message.
            let sent_whole = layout == Layout::GolangMigrate;
            let scripts = read_named(&named, downs).into_iter().map(|script| {
                script.map(|mut script| {
                    script.sent_whole = sent_whole;
                    script
                })
            });
            found.extend(named.into_iter().zip(scripts).map(Ok));
            found.extend(problems.into_iter().map(Err));
        }
        Layout::Flyway => {
            let (flyway, not_flyway) = place_flyway(listing, not_placed, downs);
            found.extend(flyway);
            warnings.extend(not_flyway);
        }
        Layout::Dbmate | Layout::Goose => {
            for (path, name) in &listing.files {
                let Some((version, rest)) = plain_name(name) else {
                    if is_sql(name) {
                        warnings.push(not_placed(path));
                    }
                    continue;
                };
                let bytes = texts.get(path).map_or(&[][..], Vec::as_slice);
                found.extend(one_file_migration(layout, path, version, rest, bytes));
            }
        }
        Layout::Pop => {
            let (named, autocommit, mut problems) = pop_files(listing);
            for (path, name) in &listing.files {
                if is_sql(name) && layout::pop_name(name).is_none() {
                    problems.push(not_placed(path));
                }
            }
            warnings.extend(problems);
            let scripts = read_named(&named, downs).into_iter().map(|script| {
                script.map(|mut script| {
                    script.directives.no_transaction |= autocommit.contains(&script.path);
                    script
                })
            });
            found.extend(named.into_iter().zip(scripts).map(Ok));
        }
        // Read by `place_by_pattern`, which has the pattern.
        Layout::Custom => {}
        Layout::Diesel => {
            for (path, name) in &listing.files {
                if is_sql(name) {
                    warnings.push(not_placed(path));
                }
            }
            for (path, name) in &listing.folders {
                let Some((digits, written, rest)) = layout::diesel_version(name) else {
                    continue;
                };
                found.extend(diesel_migration(path, &digits, &written, &rest));
            }
        }
    }
    (found, warnings)
}

/// Flyway's versioned (`V1__name.sql`) and repeatable (`R__name.sql`)
/// migrations, and the `.sql` files that are neither.
fn place_flyway(
    listing: &Listing,
    not_placed: impl Fn(&Path) -> SourceProblem,
    downs: Downs,
) -> (Found, Vec<SourceProblem>) {
    let mut warnings = Vec::new();
    let mut named = Vec::new();
    let mut problems = Vec::new();
    for (path, name) in &listing.files {
        if let Some(rest) = name
            .strip_prefix("R__")
            .and_then(|n| n.strip_suffix(".sql"))
        {
            if rest.is_empty() {
                problems.push(SourceProblem {
                    message: "a repeatable migration needs a name after `R__`".into(),
                    ..not_placed(path)
                });
                continue;
            }
            named.push(MigrationFile {
                path: path.clone(),
                name: ParsedName {
                    version: Version::repeatable(rest),
                    version_text: "R_".into(),
                    name: rest.to_string(),
                    direction: Direction::Up,
                },
            });
        } else if flyway_name(name) {
            sort_file(path.clone(), name, &mut named, &mut problems);
        } else if is_sql_name(name) {
            warnings.push(not_placed(path));
        }
    }
    let scripts = read_named(&named, downs);
    let mut found: Found = named.into_iter().zip(scripts).map(Ok).collect();
    found.extend(problems.into_iter().map(Err));
    (found, warnings)
}

/// The files a project's own naming scheme names; other `.sql` files are
/// warnings, as in every layout.
fn place_by_pattern(
    pattern: &crate::model::NamePattern,
    listing: &Listing,
    downs: Downs,
) -> (Found, Vec<SourceProblem>) {
    let mut named = Vec::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (path, name) in &listing.files {
        match pattern.read(name) {
            Some(Ok(parsed)) => named.push(MigrationFile {
                path: path.clone(),
                name: parsed,
            }),
            Some(Err(message)) => problems.push(SourceProblem {
                path: path.clone(),
                position: None,
                message: format!("{message} (read with the naming pattern `{pattern}`)"),
            }),
            None if is_sql_name(name) => warnings.push(SourceProblem {
                path: path.clone(),
                position: None,
                message: format!(
                    "does not match the naming pattern `{pattern}`; it is not run (pass --strict to make this an error)"
                ),
            }),
            None => {}
        }
    }
    let scripts = read_named(&named, downs);
    let mut found: Found = named.into_iter().zip(scripts).map(Ok).collect();
    found.extend(problems.into_iter().map(Err));
    (found, warnings)
}

fn parse_version(path: &Path, digits: &str) -> Result<Version, SourceProblem> {
    let problem = |message: String| SourceProblem {
        path: path.to_path_buf(),
        position: None,
        message,
    };
    match Version::whole(digits) {
        Some(version) if version.is_positive_integer() => Ok(version),
        Some(_) => Err(problem(
            "the version must be a positive integer (1 or more)".into(),
        )),
        None => Err(problem(format!(
            "the version {digits} is not a whole number"
        ))),
    }
}

/// The files pop runs on PostgreSQL: each version's `.postgres.` file, or
/// the one for every database when there is none (other dialects' files
/// are not PostgreSQL's and are skipped, as pop skips them); and which of
/// them are `.autocommit.` (outside a transaction).
fn pop_files(
    listing: &Listing,
) -> (
    Vec<MigrationFile>,
    std::collections::BTreeSet<PathBuf>,
    Vec<SourceProblem>,
) {
    let mut chosen: BTreeMap<(Version, bool), (bool, MigrationFile, bool)> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, file_name) in &listing.files {
        let Some(pop) = layout::pop_name(file_name) else {
            continue;
        };
        let specific = match pop.dialect {
            Some(layout::POP_DIALECT) => true,
            None => false,
            Some(_) => continue,
        };
        let version = match parse_version(path, pop.version) {
            Ok(version) => version,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let file = MigrationFile {
            path: path.clone(),
            name: ParsedName {
                version: version.clone(),
                version_text: pop.version.to_string(),
                name: pop.name.to_string(),
                direction: pop.direction,
            },
        };
        let key = (version, pop.direction == Direction::Up);
        if chosen
            .get(&key)
            .is_none_or(|(was_specific, ..)| specific && !was_specific)
        {
            chosen.insert(key, (specific, file, pop.autocommit));
        }
    }
    let autocommit = chosen
        .values()
        .filter(|(_, _, autocommit)| *autocommit)
        .map(|(_, file, _)| file.path.clone())
        .collect();
    let files = chosen.into_values().map(|(_, file, _)| file).collect();
    (files, autocommit, problems)
}

fn sqlx_simple(path: &Path, version: &str, name: &str) -> Result<MigrationFile, SourceProblem> {
    Ok(MigrationFile {
        path: path.to_path_buf(),
        name: ParsedName {
            version: parse_version(path, version)?,
            version_text: version.to_string(),
            name: name.to_string(),
            direction: Direction::Up,
        },
    })
}

/// A dbmate or goose file: its up section and, when it has one, its down
/// section, each a script that keeps its lines' numbers in the file.
fn one_file_migration(
    layout: Layout,
    path: &Path,
    version: &str,
    name: &str,
    bytes: &[u8],
) -> Found {
    let problem = |message: String| SourceProblem {
        path: path.to_path_buf(),
        position: None,
        message,
    };
    let version = match parse_version(path, version) {
        Ok(version) => version,
        Err(problem) => return vec![Err(problem)],
    };
    // The file's checks (UTF-8, NUL bytes, directives) once; the sections
    // are found in its text as read (byte-order mark removed), so that
    // their ranges index that text.
    let whole = match script_from_bytes(path, bytes) {
        Ok(whole) => whole,
        Err(problem) => return vec![Err(problem)],
    };
    let (up, down) = match layout::sections(layout, &whole.sql) {
        Some(Ok(sections)) => sections,
        Some(Err(message)) => {
            return vec![Err(problem(format!("{message}; {}", layout.expected())))]
        }
        None => {
            return vec![Err(problem(format!(
                "has no up section; expected {}",
                layout.expected()
            )))]
        }
    };
    let version_text = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(plain_name)
        .map_or_else(|| version.to_string(), |(v, _)| v.to_string());
    let mut out = Vec::new();
    for (section, direction) in [(Some(up), Direction::Up), (down, Direction::Down)] {
        let Some(section) = section else {
            continue;
        };
        let file = MigrationFile {
            path: path.to_path_buf(),
            name: ParsedName {
                version: version.clone(),
                version_text: version_text.clone(),
                name: name.to_string(),
                direction,
            },
        };
        let body = &whole.sql[section.range.clone()];
        let mut directives = whole.directives.clone();
        directives.no_transaction |= section.no_transaction;
        let script = Script::new(
            path.to_path_buf(),
            layout::blank_outside(&whole.sql, &section.range),
            Checksum::of(body.as_bytes()),
            directives,
        );
        out.push(Ok((file, Ok(script))));
    }
    out
}

/// A diesel folder: `up.sql`, `down.sql` when present, and `metadata.toml`'s
/// `run_in_transaction = false`.
fn diesel_migration(folder: &Path, digits: &str, written: &str, name: &str) -> Found {
    // diesel orders versions as text: compared as text here too.
    let Some(version) = Version::of_kind(digits, crate::model::VersionKind::Lexical) else {
        return vec![Err(SourceProblem {
            path: folder.to_path_buf(),
            position: None,
            message: "the folder name has no version before its first `_`".into(),
        })];
    };
    let no_transaction = match std::fs::read_to_string(folder.join("metadata.toml")) {
        Ok(text) => match text.parse::<toml::Table>() {
            Ok(table) => {
                table
                    .get("run_in_transaction")
                    .and_then(toml::Value::as_bool)
                    == Some(false)
            }
            Err(e) => {
                return vec![Err(SourceProblem {
                    path: folder.join("metadata.toml"),
                    position: None,
                    message: format!("is not valid TOML: {}", e.message()),
                })]
            }
        },
        Err(_) => false,
    };
    let mut out = Vec::new();
    for (file, direction) in [("up.sql", Direction::Up), ("down.sql", Direction::Down)] {
        let path = folder.join(file);
        if !path.is_file() {
            if direction == Direction::Up {
                out.push(Err(SourceProblem {
                    path,
                    position: None,
                    message: "is missing: a diesel migration folder needs its up.sql".into(),
                }));
            }
            continue;
        }
        let script = read_script(&path).map(|mut script| {
            script.directives.no_transaction |= no_transaction;
            script
        });
        out.push(Ok((
            MigrationFile {
                path,
                name: ParsedName {
                    version: version.clone(),
                    version_text: written.to_string(),
                    name: name.to_string(),
                    direction,
                },
            },
            script,
        )));
    }
    out
}

/// The error of a directory with no migration of `layout` (or none at all).
fn nothing_found(dir: &Path, layout: Layout, warnings: &[SourceProblem]) -> Error {
    let mut message = format!(
        "holds no migration: expected {} (schemactl reads schemactl, sqlx, golang-migrate, diesel, dbmate, goose and Flyway layouts)",
        layout.expected()
    );
    if !warnings.is_empty() {
        let names: Vec<String> = warnings
            .iter()
            .map(|p| p.path.display().to_string())
            .collect();
        message.push_str(&format!("; found only {}", names.join(", ")));
    }
    message.push_str("; if no migration is expected yet, pass --allow-empty (or set `allow_empty = true` in schemactl.toml)");
    Error::InvalidMigrations(vec![SourceProblem {
        path: dir.to_path_buf(),
        position: None,
        message,
    }])
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
        Classified::Invalid(message) => {
            let hint = crate::model::NamePattern::guess(file_name).map_or(String::new(), |pattern| {
                format!("; if the project names its migrations this way, say so in schemactl.toml: `layout = \"{pattern}\"`")
            });
            problems.push(SourceProblem {
                path,
                position: None,
                message: format!("{message}{hint}"),
            })
        }
    }
}

fn duplicate(version: &Version, scripts: &[(MigrationFile, Script)]) -> Option<SourceProblem> {
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

/// The scripts of `named`, in its order: every one read, or, with
/// [`Downs::NamedOnly`], the ups read and each down an empty stand-in that
/// [`assemble_in`] leaves out.
fn read_named(named: &[MigrationFile], downs: Downs) -> Vec<Result<Script, SourceProblem>> {
    let is_read =
        |file: &MigrationFile| downs == Downs::Read || file.name.direction == Direction::Up;
    let paths: Vec<PathBuf> = named
        .iter()
        .filter(|file| is_read(file))
        .map(|file| file.path.clone())
        .collect();
    let mut read = read_all(&paths).into_iter();
    let nothing = Checksum::of(b"");
    named
        .iter()
        .map(|file| {
            if !is_read(file) {
                let unread = Script::new(
                    file.path.clone(),
                    String::new(),
                    nothing.clone(),
                    Default::default(),
                );
                return Ok(unread);
            }
            read.next().unwrap_or_else(|| {
                Err(SourceProblem {
                    path: file.path.clone(),
                    position: None,
                    message: "reading the migrations failed unexpectedly".into(),
                })
            })
        })
        .collect()
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
    // Read without asking the file's size first (`std::fs::read` does):
    // migrations are small, and a no-op deploy reads every one of them.
    let mut bytes = Vec::with_capacity(4 * 1024);
    std::fs::File::open(path)
        // (`Take` reads to the end without the size lookup `File` does.)
        .and_then(|file| {
            std::io::Read::read_to_end(&mut std::io::Read::take(file, u64::MAX), &mut bytes)
        })
        .map_err(|e| SourceProblem {
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

/// Whether `sql` holds nothing but `template` (the comment `schemactl new`
/// writes), besides blank lines and a single-file layout's markers
/// (`-- migrate:up`, `-- +goose StatementBegin`…).
fn holds_only_template(sql: &str, template: &str) -> bool {
    let mut lines = sql.lines().map(str::trim).filter(|line| {
        !line.is_empty() && !line.starts_with("-- +goose") && !line.starts_with("-- migrate:")
    });
    lines.next() == Some(template.trim_end()) && lines.next().is_none()
}
