//! Encryption at rest with age (X25519 keys): the recipients a backup is
//! encrypted to, the identities that read it back, a new identity for
//! `backup keygen`, and the streams every backup file goes through
//! (zstd, then age, then the file, hashed as it is written).

use super::store::Sink;
pub use crate::model::recipient::Recipient;
use crate::Error;
use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// How a backup's files are written: encrypted to recipients, or (only
/// when asked for explicitly) in plain text.
#[derive(Debug, Clone)]
pub enum Encryption {
    /// Encrypted with age to each of these recipients (at least one).
    To(Vec<Recipient>),
    /// Not encrypted (`--no-encrypt`).
    None,
}

impl Encryption {
    /// Encryption to `recipients`; an error naming the fix when there are
    /// none and plain text was not asked for.
    pub fn of(recipients: Vec<Recipient>, plain_text: bool) -> Result<Self, Error> {
        match (plain_text, recipients.is_empty()) {
            (true, true) => Ok(Self::None),
            (true, false) => Err(Error::InvalidArgument(
                "--no-encrypt and recipients were both given: a backup is either encrypted or not".into(),
            )),
            (false, true) => Err(Error::InvalidArgument(
                "a backup is encrypted, and no recipient was given: create a key with `schemactl backup keygen --output backup.key`, \
                 then give its public key with --recipient age1… (or `[backup] recipients` in schemactl.toml); \
                 --no-encrypt writes the backup in plain text"
                    .into(),
            )),
            (false, false) => Ok(Self::To(recipients)),
        }
    }

    /// The recipients, as text, for the manifest.
    pub fn recipients(&self) -> Vec<String> {
        match self {
            Self::To(recipients) => recipients.iter().map(ToString::to_string).collect(),
            Self::None => Vec::new(),
        }
    }
}

/// The private keys of an identity file (`backup keygen`'s, or
/// `age-keygen`'s), for reading backups.
pub struct Identities {
    path: PathBuf,
    keys: Vec<age::x25519::Identity>,
}

impl std::fmt::Debug for Identities {
    /// The file, never the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// Reads `path`: one `AGE-SECRET-KEY-1…` per line, `#` comments. A
    /// line that is not a key is named by its number, never echoed.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut keys = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = line.parse::<age::x25519::Identity>().map_err(|_| Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "line {}: not an age identity (AGE-SECRET-KEY-1…); the line is not shown, as it may be a secret",
                    index + 1
                ),
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: "holds no age identity (AGE-SECRET-KEY-1…)".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            keys,
        })
    }

    /// The identity file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Identities {
    /// A new identity (`backup keygen`): the identity file's text, headed
    /// by `created` and the public key, and its public recipient.
    pub fn generate(created: &str) -> (String, Recipient) {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let text = format!(
            "# created: {created}\n# public key: {recipient}\n{}\n",
            identity.to_string().expose_secret()
        );
        (text, Recipient::from(recipient))
    }
}

/// A writer that counts and hashes what goes through it.
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The writer, the bytes written and their sha256.
    pub(crate) fn finish(self) -> (W, u64, String) {
        let digest = self.hasher.finalize();
        (self.inner, self.bytes, hex(&digest))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The zstd level: fast, and still a third of a dump's size or less.
const ZSTD_LEVEL: i32 = 3;

/// The end of every backup file's stream: hashed, buffered, stored.
type Stored = Hashing<io::BufWriter<Box<dyn Sink>>>;

/// A writer into a new backup file: zstd, then age (unless the backup is
/// not encrypted), then the file, hashed as it is written.
pub(crate) enum Sealer {
    /// Compressed and encrypted.
    Encrypted(zstd::Encoder<'static, age::stream::StreamWriter<Stored>>),
    /// Compressed only (`--no-encrypt`).
    Plain(zstd::Encoder<'static, Stored>),
}

impl Sealer {
    /// Starts writing `file` as `encryption` says.
    pub(crate) fn new(file: Box<dyn Sink>, encryption: &Encryption) -> io::Result<Self> {
        let hashing = Hashing::new(io::BufWriter::with_capacity(1 << 20, file));
        Ok(match encryption {
            Encryption::To(recipients) => {
                let encryptor = age::Encryptor::with_recipients(
                    recipients.iter().map(|r| r.key() as &dyn age::Recipient),
                )
                .map_err(io::Error::other)?;
                Self::Encrypted(zstd::Encoder::new(
                    encryptor.wrap_output(hashing)?,
                    ZSTD_LEVEL,
                )?)
            }
            Encryption::None => Self::Plain(zstd::Encoder::new(hashing, ZSTD_LEVEL)?),
        })
    }

    /// Ends the file (synced to disk, or its upload completed): its stored
    /// size and sha256.
    pub(crate) fn finish(self) -> io::Result<(u64, String)> {
        let hashing = match self {
            Self::Encrypted(compressed) => compressed.finish()?.finish()?,
            Self::Plain(compressed) => compressed.finish()?,
        };
        let (buffered, bytes, sha256) = hashing.finish();
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.commit()?;
        Ok((bytes, sha256))
    }
}

impl Write for Sealer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Encrypted(w) => w.write(buf),
            Self::Plain(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Encrypted(w) => w.flush(),
            Self::Plain(w) => w.flush(),
        }
    }
}

/// Writes everything `source` gives to `file`, sealed; returns the stored
/// size and sha256.
pub(crate) fn seal(
    source: &mut dyn Read,
    file: Box<dyn Sink>,
    encryption: &Encryption,
) -> io::Result<(u64, String)> {
    let mut sealer = Sealer::new(file, encryption)?;
    io::copy(source, &mut sealer)?;
    sealer.finish()
}

/// Why a stored file cannot be opened for reading.
#[derive(Debug)]
pub(crate) enum OpenFailure {
    /// No identity was given for an encrypted backup.
    NoIdentity,
    /// The identities given are not among its recipients.
    WrongKey,
    /// The file is not an age file, or is damaged.
    Damaged(String),
}

/// `file` decrypted (with `identities`, when the backup is encrypted) and
/// decompressed.
pub(crate) fn unseal(
    file: Box<dyn Read + Send>,
    encrypted: bool,
    identities: Option<&Identities>,
) -> Result<Box<dyn Read + Send>, OpenFailure> {
    let buffered = BufReader::with_capacity(1 << 20, file);
    if !encrypted {
        return zstd::Decoder::with_buffer(buffered)
            .map(|d| Box::new(d) as Box<dyn Read + Send>)
            .map_err(|e| OpenFailure::Damaged(e.to_string()));
    }
    let identities = identities.ok_or(OpenFailure::NoIdentity)?;
    let decryptor =
        age::Decryptor::new_buffered(buffered).map_err(|e| OpenFailure::Damaged(e.to_string()))?;
    let plain = decryptor
        .decrypt(identities.keys.iter().map(|k| k as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => OpenFailure::WrongKey,
            other => OpenFailure::Damaged(other.to_string()),
        })?;
    zstd::Decoder::new(plain)
        .map(|d| Box::new(d) as Box<dyn Read + Send>)
        .map_err(|e| OpenFailure::Damaged(e.to_string()))
}

/// A digest as lower-case hex, as manifests record sha256s.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_unseals_with_the_key_and_not_without_it() {
        let (text, recipient) = Identities::generate("now");
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, text).unwrap();
        let identities = Identities::read(&key).unwrap();
        let path = dir.path().join("file");
        let secret = b"the row 4242 secret-value".repeat(100);
        let (bytes, sha256) = seal(
            &mut &secret[..],
            Box::new(std::fs::File::create(&path).unwrap()),
            &Encryption::To(vec![recipient]),
        )
        .unwrap();
        let stored = std::fs::read(&path).unwrap();
        assert_eq!(bytes, stored.len() as u64);
        assert_eq!(sha256.len(), 64);
        assert!(!stored.windows(12).any(|w| w == b"secret-value"));
        let mut plain = Vec::new();
        unseal(
            Box::new(std::fs::File::open(&path).unwrap()),
            true,
            Some(&identities),
        )
        .ok()
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
        assert_eq!(plain, secret);
        let (other, _) = Identities::generate("now");
        std::fs::write(&key, other).unwrap();
        let wrong = Identities::read(&key).unwrap();
        let failure = unseal(
            Box::new(std::fs::File::open(&path).unwrap()),
            true,
            Some(&wrong),
        );
        assert!(matches!(failure, Err(OpenFailure::WrongKey)));
    }

    #[test]
    fn a_bad_identity_line_is_named_and_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "# c\nAGE-SECRET-KEY-NOT-A-KEY-hunter2\n").unwrap();
        let message = Identities::read(&key).err().unwrap().to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
