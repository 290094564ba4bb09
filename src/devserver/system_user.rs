//! `initdb` and `postgres` refuse to run as root. When schemactl runs as root
//! (containers, CI machines), the server runs as an unprivileged system user
//! instead: `postgres` when it exists (the distribution packages create it),
//! else `nobody`.

use std::path::Path;

/// A user to run the server as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SystemUser {
    pub uid: u32,
    pub gid: u32,
}

/// The user to run the server as, or `None` to run it as ourselves.
pub(crate) fn server_user() -> Option<SystemUser> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let lookup = |wanted: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() <= 3 || fields[0] != wanted {
                return None;
            }
            Some(SystemUser {
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
            })
        })
    };
    lookup("postgres")
        .or_else(|| lookup("nobody"))
        .or(Some(SystemUser {
            uid: 65534,
            gid: 65534,
        }))
}

/// Gives `path` (and everything below it) to `user`.
pub(crate) fn give_to(user: Option<SystemUser>, path: &Path) -> std::io::Result<()> {
    let Some(user) = user else {
        return Ok(());
    };
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            give_to(Some(user), &entry?.path())?;
        }
    }
    Ok(())
}
