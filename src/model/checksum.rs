//! Migration checksums.
//!
//! A checksum is the lowercase hex SHA-256 of the file's bytes after exactly
//! two normalisations, so that re-saving a file on another platform does not
//! block a deploy:
//!
//! 1. a leading UTF-8 byte-order mark (`EF BB BF`) is removed;
//! 2. every CR LF pair is replaced by a single LF.
//!
//! Nothing else is normalised: a lone CR, trailing spaces, a missing final
//! newline or a changed comment all change the checksum.

use sha2::{Digest, Sha256};
use std::fmt;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The SHA-256 of a script's normalised content, as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum(String);

impl Checksum {
    /// Computes the checksum of a file's raw bytes.
    pub fn of(content: &[u8]) -> Self {
        let content = content.strip_prefix(BOM).unwrap_or(content);
        let mut hasher = Sha256::new();
        let mut rest = content;
        while let Some(index) = rest.windows(2).position(|pair| pair == b"\r\n") {
            hasher.update(&rest[..index]);
            hasher.update(b"\n");
            rest = &rest[index + 2..];
        }
        hasher.update(rest);
        Self(to_hex(&hasher.finalize()))
    }

    /// Wraps a checksum read back from the history.
    pub fn from_recorded(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for tables.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

/// Lower-case hex digits of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0xf) as usize] as char);
    }
    out
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Checksum;

    #[test]
    fn lf_crlf_and_bom_give_the_same_checksum() {
        let lf = Checksum::of(b"CREATE TABLE t (id int);\nSELECT 1;\n");
        assert_eq!(
            Checksum::of(b"CREATE TABLE t (id int);\r\nSELECT 1;\r\n"),
            lf
        );
        assert_eq!(
            Checksum::of(b"\xEF\xBB\xBFCREATE TABLE t (id int);\r\nSELECT 1;\r\n"),
            lf
        );
        assert_eq!(lf.as_str().len(), 64);
    }

    #[test]
    fn everything_else_changes_the_checksum() {
        let lf = Checksum::of(b"SELECT 1;\n");
        assert_ne!(Checksum::of(b"SELECT 1;\r"), lf);
        assert_ne!(Checksum::of(b"SELECT 1; \n"), lf);
        assert_ne!(Checksum::of(b"SELECT 1;"), lf);
        assert_ne!(Checksum::of(b"SELECT  1;\n"), lf);
    }

    #[test]
    fn matches_sha256_of_the_normalised_bytes() {
        // sha256("abc") from FIPS 180-2.
        assert_eq!(
            Checksum::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
