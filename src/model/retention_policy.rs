//! How many backups `backup prune` keeps of each kind (`--keep-*`,
//! `[backup] keep_*`); `crate::backup::decide` applies it.

/// How many backups of each kind to keep; a backup kept by several rules
/// is kept once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// The newest N backups.
    pub keep_last: u32,
    /// The newest backup of each of the last N days with a backup.
    pub keep_daily: u32,
    /// The newest backup of each of the last N ISO weeks with a backup.
    pub keep_weekly: u32,
    /// The newest backup of each of the last N months with a backup.
    pub keep_monthly: u32,
}

impl RetentionPolicy {
    /// Whether it keeps nothing at all (pruning with it would delete every
    /// backup, which is refused).
    pub fn keeps_nothing(&self) -> bool {
        self.keep_last == 0
            && self.keep_daily == 0
            && self.keep_weekly == 0
            && self.keep_monthly == 0
    }
}
