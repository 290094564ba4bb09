//! An age recipient (`age1…`): the public key backups are encrypted to,
//! parsed where it is read (a flag, `[backup] recipients`), so that a
//! wrong one never reaches the backup.

/// A public key a backup is encrypted to (`age1…`).
#[derive(Clone)]
pub struct Recipient(age::x25519::Recipient);

impl Recipient {
    /// The key.
    pub(crate) fn key(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl From<age::x25519::Recipient> for Recipient {
    fn from(key: age::x25519::Recipient) -> Self {
        Self(key)
    }
}

impl std::str::FromStr for Recipient {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse::<age::x25519::Recipient>()
            .map(Self)
            .map_err(|e| format!("`{}` is not an age recipient (age1…): {e}", text.trim()))
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({})", self.0)
    }
}
