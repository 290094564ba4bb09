//! For an application's `build.rs`: keeps [`crate::embed_migrations!`] in
//! step with its directory. The macro compiles in the files present at
//! build time, and cargo rebuilds when one of those changes, but not when
//! a file is *added*: without a build script saying so, `cargo build`
//! after adding a migration keeps the old binary, which then applies
//! nothing new. (sqlx's `migrate!` has the same limit and the same cure.)
//!
//! ```no_run
//! // build.rs: `fn main() { … }` with this line.
//! schemactl::build::rerun_if_changed("migrations");
//! ```
//!
//! A crate that would rather not have schemactl as a build dependency
//! writes the one line it prints instead:
//! `fn main() { println!("cargo:rerun-if-changed=migrations"); }`.

use std::path::Path;

/// Tells cargo to rebuild the crate when anything in `dir` (relative to the
/// crate's `Cargo.toml`) is added, removed or changed.
pub fn rerun_if_changed(dir: impl AsRef<Path>) {
    println!("{}", rerun_line(dir.as_ref()));
}

fn rerun_line(dir: &Path) -> String {
    format!("cargo:rerun-if-changed={}", dir.display())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_line_names_the_directory() {
        assert_eq!(
            super::rerun_line(std::path::Path::new("migrations")),
            "cargo:rerun-if-changed=migrations"
        );
    }
}
