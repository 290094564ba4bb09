//! Whether a file is still the one another tool applied, by that tool's own
//! checksum: what the tool itself would refuse is refused at import, so a
//! migration edited since it ran is never recorded as applied in its new
//! form.
//!
//! | tool | checksum (from its source) |
//! |---|---|
//! | sqlx | SHA-384 of the file's bytes (`sqlx-core` `migrate::migration`) |
//! | Flyway | CRC-32 of the file's lines without their line ends, a leading byte-order mark removed, as a signed 32-bit integer (`ChecksumCalculator`) |
//! | refinery | SipHash-1-3 with zero keys of the name, the version (`i32`, `i64` with its `int8-versions` feature) and the SQL, in that order, as `Hash` feeds them (`refinery_core::runner::Migration::checksum`) |

use crate::model::adoption::Tool;
use crate::model::checksum::to_hex;
use crate::model::Migration;
use std::hash::{Hash, Hasher};
use std::path::Path;

/// How `tool` checksums a file, for messages.
pub(super) fn how(tool: Tool) -> &'static str {
    match tool {
        Tool::Sqlx => "sqlx checksums the file's bytes with SHA-384",
        Tool::Flyway => "Flyway checksums the file's lines with CRC-32",
        Tool::Refinery => "refinery checksums the name, version and SQL with SipHash-1-3",
        _ => "",
    }
}

/// Whether `migration`'s up file is no longer the one `tool` recorded
/// `recorded` for. `false` when the tool keeps no checksum (or none was
/// recorded); a file that cannot be read counts as changed.
pub(super) fn changed(tool: Tool, migration: &Migration, recorded: Option<&str>) -> bool {
    let Some(recorded) = recorded.map(str::trim) else {
        return false;
    };
    let path = &migration.up.path;
    let Ok(bytes) = std::fs::read(path) else {
        return true;
    };
    match tool {
        Tool::Sqlx => !recorded.eq_ignore_ascii_case(&to_hex(&sha384(&bytes))),
        Tool::Flyway => recorded.parse::<i32>() != Ok(flyway(&bytes)),
        Tool::Refinery => {
            let Ok(sql) = std::str::from_utf8(&bytes) else {
                return true;
            };
            let Ok(recorded) = recorded.parse::<u64>() else {
                return true;
            };
            !refinery_candidates(path, sql).contains(&recorded)
        }
        _ => false,
    }
}

fn sha384(bytes: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha384};
    Sha384::digest(bytes).to_vec()
}

/// Flyway's checksum: each line as `BufferedReader::readLine` returns it
/// (`\n`, `\r\n` and `\r` end a line and are not fed), the first line
/// without its byte-order mark.
fn flyway(bytes: &[u8]) -> i32 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut crc = crc32fast::Hasher::new();
    for line in text.split('\n') {
        for piece in line.split('\r') {
            crc.update(piece.as_bytes());
        }
    }
    crc.finalize() as i32
}

/// The checksums refinery may have recorded for the file at `path`: its
/// version hashed as `i32` (the default) and as `i64` (`int8-versions`).
fn refinery_candidates(path: &Path, sql: &str) -> Vec<u64> {
    let Some((version, name)) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(refinery_name)
    else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    if let Ok(version) = version.parse::<i32>() {
        candidates.push(sip13(name, version, sql));
    }
    if let Ok(version) = version.parse::<i64>() {
        candidates.push(sip13(name, version, sql));
    }
    candidates
}

/// refinery's name regex `^([U|V])(\d+(?:\.\d+)?)__(\w+)`: the version
/// digits and the word characters after `__`.
fn refinery_name(file_name: &str) -> Option<(&str, &str)> {
    let rest = file_name
        .strip_prefix('V')
        .or_else(|| file_name.strip_prefix('U'))?;
    let (version, after) = rest.split_once("__")?;
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    Some((version, &after[..end]))
}

fn sip13<V: Hash>(name: &str, version: V, sql: &str) -> u64 {
    let mut hasher = siphasher::sip::SipHasher13::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    sql.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_ignores_line_ends_and_a_byte_order_mark() {
        let lf = flyway(b"CREATE TABLE t (id int);\nSELECT 1;\n");
        assert_eq!(lf, flyway(b"CREATE TABLE t (id int);\r\nSELECT 1;\r\n"));
        assert_eq!(
            lf,
            flyway(b"\xef\xbb\xbfCREATE TABLE t (id int);\rSELECT 1;")
        );
        assert_ne!(lf, flyway(b"CREATE TABLE t (id bigint);\nSELECT 1;\n"));
        // java.util.zip.CRC32 of "CREATE TABLE t (id int);SELECT 1;".
        let mut crc = crc32fast::Hasher::new();
        crc.update(b"CREATE TABLE t (id int);SELECT 1;");
        assert_eq!(lf, crc.finalize() as i32);
    }

    #[test]
    fn refinery_names_are_read_as_its_regex_reads_them() {
        assert_eq!(refinery_name("V1__initial.sql"), Some(("1", "initial")));
        assert_eq!(
            refinery_name("U20__add_users.sql"),
            Some(("20", "add_users"))
        );
        assert_eq!(refinery_name("1_initial.sql"), None);
    }

    #[test]
    fn refinery_hashes_the_version_at_either_width() {
        let sql = "CREATE TABLE t (id int);\n";
        let candidates = refinery_candidates(Path::new("m/V3__t.sql"), sql);
        assert_eq!(candidates.len(), 2);
        assert_ne!(candidates[0], candidates[1]);
        assert_eq!(candidates[0], sip13("t", 3i32, sql));
    }
}
