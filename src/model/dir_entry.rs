//! What a directory entry really is, before anything reads it.
//!
//! Reading a FIFO blocks forever, reading a device reads whatever it holds,
//! and a symbolic link can point anywhere on the machine. So the migrations
//! and schemas directories read only regular files, and follow a symbolic
//! link only when it resolves to a file inside the directory itself (a
//! `current.sql -> 0042_x.sql` alias); a link that leaves the directory is
//! refused, and nothing of its target is ever shown.

use std::path::Path;

/// The kind of a directory entry, links resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or a link to one inside the directory): safe to read.
    File,
    /// A directory (or a link to one inside the directory).
    Directory,
    /// A FIFO, socket or device: never read.
    Special(&'static str),
    /// A symbolic link that resolves outside the directory.
    LinkOutside,
    /// A symbolic link whose target does not exist.
    BrokenLink,
}

impl EntryKind {
    /// Why an entry of this kind cannot be a migration or spec file, and
    /// what to do; `None` for files and directories.
    pub fn refusal(self) -> Option<String> {
        match self {
            EntryKind::File | EntryKind::Directory => None,
            EntryKind::Special(kind) => Some(format!(
                "is a {kind}, not a regular file; schemactl reads only regular files: replace it with the file itself"
            )),
            EntryKind::LinkOutside => Some(
                "is a symbolic link to a file outside the migrations directory; links are followed only inside it: copy the file in instead".into(),
            ),
            EntryKind::BrokenLink => Some("is a symbolic link whose target does not exist; restore the target or delete the link".into()),
        }
    }
}

/// Classifies a directory entry of `root` (already canonical) by the type
/// the directory listing gives (no system call on most file systems),
/// resolving only symbolic links with [`classify`].
pub fn classify_entry(root: &Path, entry: &std::fs::DirEntry) -> std::io::Result<EntryKind> {
    let kind = entry.file_type()?;
    if kind.is_symlink() {
        return classify(root, &entry.path());
    }
    Ok(of_type(kind))
}

/// Classifies `path`, an entry of `root` (already canonical), without
/// opening it.
pub fn classify(root: &Path, path: &Path) -> std::io::Result<EntryKind> {
    let metadata = std::fs::symlink_metadata(path)?;
    if !metadata.file_type().is_symlink() {
        return Ok(of_type(metadata.file_type()));
    }
    let Ok(target) = std::fs::canonicalize(path) else {
        return Ok(EntryKind::BrokenLink);
    };
    if !target.starts_with(root) {
        return Ok(EntryKind::LinkOutside);
    }
    Ok(of_type(std::fs::metadata(&target)?.file_type()))
}

fn of_type(kind: std::fs::FileType) -> EntryKind {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        EntryKind::File
    } else if kind.is_dir() {
        EntryKind::Directory
    } else if kind.is_fifo() {
        EntryKind::Special("FIFO (named pipe)")
    } else if kind.is_socket() {
        EntryKind::Special("socket")
    } else if kind.is_block_device() || kind.is_char_device() {
        EntryKind::Special("device")
    } else {
        EntryKind::Special("special file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_files_links_and_fifos_apart_without_opening_them() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("1_a.up.sql"), "SELECT 1;").unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("1_a.up.sql"), root.join("2_b.up.sql")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("3_c.up.sql")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("4_d.up.sql")).unwrap();
        std::fs::create_dir(root.join("5_e.up.sql")).unwrap();
        let fifo = root.join("6_f.up.sql");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let kind = |name: &str| classify(&root, &root.join(name)).unwrap();
        assert_eq!(kind("1_a.up.sql"), EntryKind::File);
        assert_eq!(kind("2_b.up.sql"), EntryKind::File);
        assert_eq!(kind("3_c.up.sql"), EntryKind::LinkOutside);
        assert_eq!(kind("4_d.up.sql"), EntryKind::BrokenLink);
        assert_eq!(kind("5_e.up.sql"), EntryKind::Directory);
        assert!(matches!(kind("6_f.up.sql"), EntryKind::Special(_)));
    }
}
