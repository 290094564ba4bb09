//! `-- schemactl:` directives in a migration's leading comments.
//!
//! ```sql
//! -- schemactl:no-transaction
//! -- schemactl:lock-timeout 2s
//! -- schemactl:statement-timeout 15min
//! CREATE INDEX CONCURRENTLY ...
//! ```
//!
//! Directives must stand in the comment lines before the first statement. A
//! runner directive written further down, or an unknown `schemactl:` word, is
//! an error rather than being ignored: a misspelt `no-transaction` would
//! otherwise change how a migration runs without anyone noticing.

use crate::model::backfill::BackfillSpec;
use crate::model::duration::ServerTimeout;
use crate::model::phase::Phase;

/// The directives of one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Directives {
    /// Run the statements one by one outside a transaction.
    pub no_transaction: bool,
    /// Overrides the configured `lock_timeout` for this script.
    pub lock_timeout: Option<ServerTimeout>,
    /// Overrides the configured `statement_timeout` for this script.
    pub statement_timeout: Option<ServerTimeout>,
    /// Its expand/contract phase (`phase expand|contract`;
    /// `compatible-with-previous` is `expand`).
    pub phase: Option<Phase>,
    /// Run the script's one `UPDATE`/`DELETE` in batches of key ranges
    /// (`-- schemactl:backfill [batch-size N] [key COLUMN]`).
    pub backfill: Option<BackfillSpec>,
}

/// A directive that cannot be used, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    /// The line of the directive.
    pub line: usize,
    /// What is wrong and how to write it.
    pub message: String,
}

const PREFIX: &str = "schemactl:";
/// Directives that belong to other tools of schemactl (the linter) and are
/// accepted anywhere.
const OTHER_TOOLS: &[&str] = &["ignore", "ignore-file"];

/// Reads the directives of a script.
pub fn parse(sql: &str) -> Result<Directives, DirectiveError> {
    let mut directives = Directives::default();
    // sqlx's convention: `-- no-transaction` as the very first line.
    if sql
        .lines()
        .next()
        .is_some_and(|first| first.trim() == "-- no-transaction")
    {
        directives.no_transaction = true;
    }
    let mut in_header = true;
    for (index, raw_line) in sql.lines().enumerate() {
        let line = raw_line.trim();
        let comment = line.strip_prefix("--").map(str::trim_start);
        if comment.is_none() && !line.is_empty() {
            in_header = false;
        }
        let Some(body) = comment.and_then(|c| c.strip_prefix(PREFIX)) else {
            continue;
        };
        let line_number = index + 1;
        let (word, argument) = match body.split_once(char::is_whitespace) {
            Some((word, argument)) => (word, argument.trim()),
            None => (body, ""),
        };
        if OTHER_TOOLS.contains(&word) {
            continue;
        }
        let error = |message: String| DirectiveError {
            line: line_number,
            message,
        };
        if !in_header {
            return Err(error(format!(
                "`-- schemactl:{word}` must be in the comment lines at the top of the file, before the first statement"
            )));
        }
        match word {
            "no-transaction" if argument.is_empty() => directives.no_transaction = true,
            "no-transaction" => return Err(error("`-- schemactl:no-transaction` takes no argument".into())),
            "lock-timeout" => directives.lock_timeout = Some(duration(word, argument).map_err(error)?),
            "statement-timeout" => {
                directives.statement_timeout = Some(duration(word, argument).map_err(error)?)
            }
            "phase" => directives.phase = Some(phase(argument).map_err(error)?),
            "compatible-with-previous" if argument.is_empty() => directives.phase = Some(Phase::Expand),
            "compatible-with-previous" => {
                return Err(error("`-- schemactl:compatible-with-previous` takes no argument".into()))
            }
            "backfill" => directives.backfill = Some(BackfillSpec::parse(argument).map_err(error)?),
            _ => {
                return Err(error(format!(
                    "unknown directive `schemactl:{word}`; known: no-transaction, lock-timeout <duration>, statement-timeout <duration>, \
                     phase expand|contract, compatible-with-previous, backfill [batch-size N] [key COLUMN]"
                )))
            }
        }
    }
    Ok(directives)
}

fn phase(argument: &str) -> Result<Phase, String> {
    match argument {
        "expand" => Ok(Phase::Expand),
        "contract" => Ok(Phase::Contract),
        _ => Err(format!(
            "`-- schemactl:phase` takes `expand` or `contract`, not `{argument}`"
        )),
    }
}

fn duration(word: &str, argument: &str) -> Result<ServerTimeout, String> {
    if argument.is_empty() {
        return Err(format!(
            "`-- schemactl:{word}` needs a duration, for example `-- schemactl:{word} 5s`"
        ));
    }
    argument.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directives_from_the_leading_comments() {
        let sql = "-- Build the index without blocking writes.\n\
                   -- schemactl:no-transaction\n\
                   --schemactl:lock-timeout 2s\n\
                   \n\
                   -- schemactl:statement-timeout 15min\n\
                   CREATE INDEX CONCURRENTLY i ON t (x);\n";
        let parsed = parse(sql).unwrap();
        assert!(parsed.no_transaction);
        assert_eq!(
            parsed.lock_timeout.map(|t| t.to_string()).as_deref(),
            Some("2s")
        );
        assert_eq!(
            parsed.statement_timeout.map(|t| t.to_string()).as_deref(),
            Some("15min")
        );
        assert_eq!(parse("SELECT 1;\n").unwrap(), Directives::default());
    }

    #[test]
    fn misplaced_unknown_and_malformed_directives_are_errors_with_their_line() {
        let late = parse("SELECT 1;\n-- schemactl:no-transaction\n").unwrap_err();
        assert_eq!(late.line, 2);
        assert!(late.message.contains("top of the file"), "{}", late.message);
        assert_eq!(parse("-- schemactl:no-transactions\n").unwrap_err().line, 1);
        assert!(parse("-- schemactl:lock-timeout\n").is_err());
        assert!(parse("-- schemactl:lock-timeout five seconds\n").is_err());
        assert!(parse("-- schemactl:lock-timeout 5s'; DROP TABLE x; --\n").is_err());
        assert!(parse("-- schemactl:phase later\n").is_err());
        assert!(parse("-- schemactl:compatible-with-previous yes\n").is_err());
        assert_eq!(
            parse("-- schemactl:phase contract\n").unwrap().phase,
            Some(Phase::Contract)
        );
        assert_eq!(
            parse("-- schemactl:compatible-with-previous\nALTER TABLE t ADD COLUMN c int;\n")
                .unwrap()
                .phase,
            Some(Phase::Expand)
        );
    }

    #[test]
    fn sqlx_no_transaction_first_line_is_honoured() {
        assert!(
            parse("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n")
                .unwrap()
                .no_transaction
        );
        assert!(
            !parse("SELECT 1;\n-- no-transaction\n")
                .unwrap()
                .no_transaction
        );
    }

    #[test]
    fn linter_directives_are_left_to_the_linter() {
        assert!(
            parse("SELECT 1;\n-- schemactl:ignore drop-table we mean it\nDROP TABLE x;\n").is_ok()
        );
    }
}
