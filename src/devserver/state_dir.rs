//! `.schemactl/`: what schemactl keeps in a project (the development
//! server's data and password, fleet ledgers). Whoever creates it, or a
//! folder inside it, makes sure it holds a `.gitignore` of `*`, so that
//! none of it shows in `git status` or reaches a commit.

use crate::Error;
use std::path::Path;

/// The name of the folder.
pub const NAME: &str = ".schemactl";

const GITIGNORE: &str =
    "# Created by schemactl: the development server's data and password, fleet ledgers.\n*\n";

/// Creates `dir` (and its parents); when it is `.schemactl/` or inside
/// one, that `.schemactl/` gets its `.gitignore` if it has none.
pub fn create(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let Some(state) = dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == NAME))
    else {
        return Ok(());
    };
    let ignore = state.join(".gitignore");
    if ignore.exists() {
        return Ok(());
    }
    std::fs::write(&ignore, GITIGNORE).map_err(|source| Error::Io {
        path: ignore,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_inside_gets_the_gitignore_and_others_do_not() {
        let root = tempfile::tempdir().unwrap();
        create(&root.path().join(NAME).join("fleet")).unwrap();
        let written = std::fs::read_to_string(root.path().join(NAME).join(".gitignore")).unwrap();
        assert!(written.lines().any(|l| l == "*"), "{written}");
        create(&root.path().join("ledgers")).unwrap();
        assert!(!root.path().join("ledgers/.gitignore").exists());
        assert!(!root.path().join(".gitignore").exists());
    }
}
