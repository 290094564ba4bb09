//! The one duration grammar of schemactl: flags, `schemactl.toml` and
//! `-- schemactl:` directives all read durations the same way.
//!
//! A duration is a number with a unit (`250ms`, `5s`, `2min`, `1h 30min`,
//! humantime's grammar); a bare number is refused, because `30` meant 30 ms
//! to PostgreSQL and 30 s to `--lock-wait`. The one exception is `0`, which
//! is the same in every unit and means "no limit" for the timeouts.
//! Timeouts are sent to PostgreSQL as whole milliseconds, never as the text
//! the user wrote, so the server cannot read a value differently.

use std::time::{Duration, Instant};

/// The largest timeout PostgreSQL accepts, in milliseconds (`INT_MAX`).
pub(crate) const MAX_SERVER_TIMEOUT_MS: u64 = i32::MAX as u64;

/// Milliseconds since `started`, as the history records durations.
pub(crate) fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Parses a duration such as `5s`, `250ms`, `2min` or `0`.
pub fn parse(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if value == "0" {
        return Ok(Duration::ZERO);
    }
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{value}` has no unit: write for example `{value}s` or `{value}ms` (units: us, ms, s, min, h, d)"
        ));
    }
    humantime::parse_duration(value).map_err(|e| {
        format!(
            "`{value}` is not a duration ({e}): write a number and a unit, for example `5s`, `250ms` or `2min`"
        )
    })
}

/// Parses a PostgreSQL timeout (`lock_timeout`, `statement_timeout`) and
/// returns it in whole milliseconds, checking the server's range: `0` is "no
/// limit", anything else must be at least 1 ms and at most about 24 days.
pub(crate) fn parse_server_timeout(value: &str) -> Result<u64, String> {
    let duration = parse(value)?;
    if duration.is_zero() {
        return Ok(0);
    }
    let millis = duration.as_millis();
    if millis == 0 {
        return Err(format!(
            "`{value}` is shorter than 1ms, which PostgreSQL would read as \"no limit\"; write at least `1ms`, or `0` for no limit"
        ));
    }
    if millis > u128::from(MAX_SERVER_TIMEOUT_MS) {
        return Err(format!(
            "`{value}` is longer than PostgreSQL's maximum timeout ({MAX_SERVER_TIMEOUT_MS}ms, about 24 days); write a shorter one, or `0` for no limit"
        ));
    }
    Ok(millis as u64)
}

/// A PostgreSQL timeout (`lock_timeout`, `statement_timeout`), checked
/// when it is made: whole milliseconds in the server's range, `0` meaning
/// "no limit". It keeps the text it was written as, for reports. There is
/// no way to build one from an unchecked string, so a value the server
/// would misread (a bare `30`, which PostgreSQL takes as 30 ms) never
/// reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTimeout {
    millis: u64,
    written: String,
}

impl ServerTimeout {
    /// No limit (`0`).
    pub fn none() -> Self {
        Self {
            millis: 0,
            written: "0".into(),
        }
    }

    /// schemactl's default `lock_timeout`, 5 s.
    pub fn default_lock_timeout() -> Self {
        Self {
            millis: 5_000,
            written: "5s".into(),
        }
    }

    /// A timeout of `duration`, checked like a written one.
    pub fn from_duration(duration: Duration) -> Result<Self, String> {
        let written = if duration.is_zero() {
            "0".to_string()
        } else {
            humantime::format_duration(duration).to_string()
        };
        written.parse()
    }

    /// In whole milliseconds, as `SET lock_timeout` takes it; 0 is no limit.
    pub fn millis(&self) -> u64 {
        self.millis
    }

    /// Whether it is "no limit".
    pub fn is_none(&self) -> bool {
        self.millis == 0
    }
}

impl std::str::FromStr for ServerTimeout {
    type Err = String;

    /// Parses `5s`, `250ms`, `2min` or `0`, refusing a number without a
    /// unit and values outside the server's range.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        parse_server_timeout(value).map(|millis| Self {
            millis,
            written: value.trim().to_string(),
        })
    }
}

impl std::fmt::Display for ServerTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.written)
    }
}

impl schemars::JsonSchema for ServerTimeout {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ServerTimeout".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A PostgreSQL timeout as the server reads it, e.g. `5s`, `0`",
            "type": "string"
        })
    }
}

impl serde::Serialize for ServerTimeout {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_required_except_for_zero() {
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert!(parse("30").unwrap_err().contains("no unit"));
        assert!(parse("five seconds").is_err());
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
    }

    #[test]
    fn server_timeouts_are_whole_milliseconds_in_range() {
        assert_eq!(parse_server_timeout("5s"), Ok(5000));
        assert_eq!(parse_server_timeout("0"), Ok(0));
        assert_eq!(parse_server_timeout("15min"), Ok(900_000));
        assert!(parse_server_timeout("10us").unwrap_err().contains("1ms"));
        assert!(parse_server_timeout("30d").unwrap_err().contains("maximum"));
        assert!(parse_server_timeout("24d").is_ok());
    }

    #[test]
    fn a_server_timeout_cannot_be_made_from_a_bare_number() {
        assert!("30"
            .parse::<ServerTimeout>()
            .unwrap_err()
            .contains("no unit"));
        let five: ServerTimeout = "5s".parse().unwrap();
        assert_eq!((five.millis(), five.to_string()), (5000, "5s".to_string()));
        assert!(ServerTimeout::none().is_none());
        assert_eq!(
            ServerTimeout::from_duration(Duration::from_millis(1500)).map(|t| t.millis()),
            Ok(1500)
        );
        assert!(ServerTimeout::from_duration(Duration::from_micros(10)).is_err());
    }
}
