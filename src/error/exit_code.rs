//! The process exit codes of `schemactl`. They are part of the interface that
//! deploy scripts rely on: never renumber them.

/// A documented process exit code of `schemactl`; [`ExitCode::code`] is the
/// number a script sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ExitCode {
    /// 0: everything worked; for `validate`, files and history agree.
    Ok = 0,
    /// 1: a check found problems: `validate` saw a disagreement, or
    /// `migrate` / `rollback` refused because the history does not match
    /// the files (modified, missing, failed or out-of-order migrations).
    ProblemsFound = 1,
    /// 2: an error before anything was applied: bad arguments,
    /// configuration, migration files, connection, TLS or permissions.
    Error = 2,
    /// 3: a migration failed while it ran. Transactional migrations were
    /// rolled back and nothing of them is recorded; earlier migrations of
    /// the run stay applied.
    MigrationFailed = 3,
    /// 4: the migration lock was held by another run for longer than the
    /// wait timeout.
    LockTimeout = 4,
    /// 5: a migration (or a rollback's down script) waited for table locks
    /// on every attempt (`--lock-timeout`, `--lock-retries`) and gave up;
    /// its transaction was rolled back whole, so running it again is safe
    /// once the sessions named in the message are gone.
    BlockedByLocks = 5,
    /// 6: `diff` or `fleet diff` could not replay the applied migrations on
    /// its scratch database; nothing ran on the live database.
    ReplayFailed = 6,
    /// 7: the database is ahead of the migrations directory: migrations
    /// newer than every file are applied (an application rolled back to an
    /// older release). Nothing was changed; `schemactl rollback --to V`
    /// brings it back.
    DatabaseAhead = 7,
}

impl ExitCode {
    /// Every exit code, in numeric order.
    pub const ALL: [ExitCode; 8] = [
        ExitCode::Ok,
        ExitCode::ProblemsFound,
        ExitCode::Error,
        ExitCode::MigrationFailed,
        ExitCode::LockTimeout,
        ExitCode::BlockedByLocks,
        ExitCode::ReplayFailed,
        ExitCode::DatabaseAhead,
    ];

    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// `ProblemsFound` when `problems`, else `Ok`: a check's verdict.
    pub const fn of_check(problems: bool) -> Self {
        if problems {
            ExitCode::ProblemsFound
        } else {
            ExitCode::Ok
        }
    }
}

impl From<ExitCode> for i32 {
    fn from(code: ExitCode) -> i32 {
        code.code()
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        // Every code is 0..=7, so the narrowing cannot lose anything.
        std::process::ExitCode::from(code.code() as u8)
    }
}

impl serde::Serialize for ExitCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(self.code())
    }
}

impl schemars::JsonSchema for ExitCode {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExitCode".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A documented exit code of schemactl (docs/exit-codes.md)",
            "type": "integer",
            "minimum": 0,
            "maximum": 7
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCode;

    #[test]
    fn the_codes_are_numbered_as_documented() {
        let numbers: Vec<i32> = ExitCode::ALL.iter().map(|code| code.code()).collect();
        assert_eq!(numbers, (0..8).collect::<Vec<_>>());
        assert_eq!(
            serde_json::to_string(&ExitCode::DatabaseAhead).unwrap(),
            "7"
        );
    }
}
