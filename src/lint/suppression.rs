//! `-- schemactl:ignore <rule-id> <reason>` (for the next statement) and
//! `-- schemactl:ignore-file <rule-id> <reason>` (for the whole file).
//! An ignore must give a reason; one that suppresses nothing is itself
//! reported (`unused-ignore`), so stale ignores do not pile up.

use crate::model::text_position::{LineIndex, TextPosition};

/// One ignore comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The rule it silences.
    pub rule: String,
    /// Why (required).
    pub reason: String,
    /// Where the comment is.
    pub position: TextPosition,
    /// Whole file, or only the statement that follows.
    pub file_wide: bool,
    /// Byte offset of the line, to find the statement it precedes.
    pub offset: usize,
}

/// Every ignore comment of a script.
pub fn ignores(sql: &str) -> Vec<Ignore> {
    let index = LineIndex::new(sql);
    let mut out = Vec::new();
    let mut offset = 0;
    for line in sql.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(body) = trimmed
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|b| b.strip_prefix("schemactl:"))
        {
            let mut words = body.splitn(3, char::is_whitespace);
            let kind = words.next().unwrap_or_default();
            if kind == "ignore" || kind == "ignore-file" {
                let rule = words.next().unwrap_or_default().trim().to_string();
                let reason = words.next().unwrap_or_default().trim().to_string();
                let column = line.len() - line.trim_start().len();
                let position = index.position(sql, offset + column);
                out.push(Ignore {
                    rule,
                    reason,
                    position,
                    file_wide: kind == "ignore-file",
                    offset,
                });
            }
        }
        offset += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ignores;

    #[test]
    fn reads_statement_and_file_ignores_with_their_reasons() {
        let sql = "-- schemactl:ignore-file char-type legacy table\nSELECT 1;\n  -- schemactl:ignore drop-table replaced by orders_v2\nDROP TABLE orders;\n-- schemactl:ignore truncate\n";
        let found = ignores(sql);
        assert_eq!(found.len(), 3);
        assert!(
            found[0].file_wide && found[0].rule == "char-type" && found[0].reason == "legacy table"
        );
        assert_eq!(
            (
                found[1].rule.as_str(),
                found[1].position.line,
                found[1].position.column
            ),
            ("drop-table", 3, 3)
        );
        assert_eq!(found[2].reason, "");
    }
}
