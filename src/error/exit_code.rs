//! The process exit codes of `schemactl`. They are part of the interface that
//! deploy scripts rely on: never renumber them.

/// Everything worked; for `validate`, files and history agree.
pub const OK: i32 = 0;
/// A check found problems: `validate` saw a disagreement, or `migrate` /
/// `rollback` refused because the history does not match the files
/// (modified, missing, failed or out-of-order migrations).
pub const PROBLEMS_FOUND: i32 = 1;
/// An error before anything was applied: bad arguments, configuration,
/// migration files, connection, TLS or permissions.
pub const ERROR: i32 = 2;
/// A migration failed while it ran. Transactional migrations were rolled back
/// and nothing of them is recorded; earlier migrations of the run stay applied.
pub const MIGRATION_FAILED: i32 = 3;
/// The migration lock was held by another run for longer than the wait timeout.
pub const LOCK_TIMEOUT: i32 = 4;
/// A migration (or a rollback's down script) waited for table locks on
/// every attempt (`--lock-timeout`, `--lock-retries`) and gave up; its
/// transaction was rolled back whole, so running it again is safe once the
/// sessions named in the message are gone.
pub const BLOCKED_BY_LOCKS: i32 = 5;
/// `diff` or `fleet diff` could not replay the applied migrations on its
/// scratch database; nothing ran on the live database.
pub const REPLAY_FAILED: i32 = 6;
/// The database is ahead of the migrations directory: migrations newer than
/// every file are applied (an application rolled back to an older release).
/// Nothing was changed; `schemactl rollback --to V` brings it back.
pub const DATABASE_AHEAD: i32 = 7;
