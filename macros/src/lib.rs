//! `embed_migrations!`: compiles a migrations directory into the binary, for
//! `schemactl::embed_migrations!` (use it through the `schemactl` crate).
//!
//! The directory is read when the calling crate is compiled; every `.sql`
//! file becomes `(file name, include_bytes!(its path))`, so the bytes are
//! exactly the file's (checksums agree with the CLI's) and cargo rebuilds
//! when a file changes. Names are checked at run time by the same reader
//! as the CLI's, so a bad directory fails the same way in both.

use proc_macro::{Literal, TokenStream, TokenTree};
use std::path::PathBuf;

/// `embed_migrations!("migrations")`: the directory, relative to the
/// calling crate's `Cargo.toml`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(message) => format!("::core::compile_error!({message:?})")
            .parse()
            .unwrap_or_default(),
    }
}

fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let directory = match tokens.as_slice() {
        [] => "migrations".to_string(),
        [TokenTree::Literal(literal)] => unquote(literal)?,
        _ => {
            return Err(
                "embed_migrations! takes one string literal: the migrations directory".into(),
            )
        }
    };
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or("embed_migrations!: CARGO_MANIFEST_DIR is not set (build with cargo)")?;
    let dir = root.join(&directory);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("embed_migrations!: cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("embed_migrations!: {}: {e}", dir.display()))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(format!(
                "embed_migrations!: {} has a name that is not UTF-8",
                path.display()
            ));
        };
        // The same rule as the CLI: only regular files ending in .sql.
        if name.starts_with('.') || !name.to_ascii_lowercase().ends_with(".sql") {
            continue;
        }
        let metadata = std::fs::metadata(&path)
            .map_err(|e| format!("embed_migrations!: {}: {e}", path.display()))?;
        if !metadata.is_file() {
            return Err(format!(
                "embed_migrations!: {} is not a regular file",
                path.display()
            ));
        }
        files.push((name, path));
    }
    files.sort();
    let mut list = String::new();
    for (name, path) in &files {
        let path = path
            .to_str()
            .ok_or_else(|| format!("embed_migrations!: {} is not a UTF-8 path", path.display()))?;
        list.push_str(&format!(
            "({name:?}, ::core::include_bytes!({path:?}) as &[u8]),"
        ));
    }
    let embedded =
        format!("::schemactl::source::EmbeddedMigrations::new({directory:?}, &[{list}])");
    // Cargo rebuilds when an embedded file changes, not when one is added:
    // only a build script (`cargo:rerun-if-changed=<dir>`) makes it. A
    // crate compiled without one (cargo sets OUT_DIR only with one) gets a
    // warning at the macro's call, naming the fix.
    let expansion = if std::env::var_os("OUT_DIR").is_some() {
        embedded
    } else {
        format!(
            "{{ #[deprecated(note = {NO_BUILD_SCRIPT:?})] const SCHEMACTL_NEEDS_A_BUILD_SCRIPT: () = (); \
             #[allow(clippy::let_unit_value)] let _ = SCHEMACTL_NEEDS_A_BUILD_SCRIPT; {embedded} }}"
        )
    };
    expansion
        .parse()
        .map_err(|e| format!("embed_migrations!: {e:?}"))
}

/// What the warning of a crate without a build script says.
const NO_BUILD_SCRIPT: &str = "embed_migrations!: this crate has no build script, so cargo does not rebuild it when a migration file is added \
     and the binary keeps applying the old set. Add a build.rs with `fn main() { schemactl::build::rerun_if_changed(\"migrations\"); }` \
     (or `println!(\"cargo:rerun-if-changed=migrations\")`)";

fn unquote(literal: &Literal) -> Result<String, String> {
    let text = literal.to_string();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.contains('\\'))
        .map(str::to_string)
        .ok_or_else(|| format!("embed_migrations! takes a plain string literal, not {text}"))
}
