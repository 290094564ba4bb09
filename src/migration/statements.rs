//! Splitting a script into statements.
//!
//! Tokenising is left to `sqlparser`'s PostgreSQL tokenizer, which knows
//! dollar quoting, `E''` strings, quoted identifiers and nested comments; this
//! module only decides where statements end. A `;` ends a statement unless it
//! is inside parentheses (`CREATE RULE … DO (…; …)`) or inside a SQL-standard
//! function body (`BEGIN ATOMIC … END`). Statements are executed one by one,
//! so that an error can always be traced to the statement and line that
//! caused it.

use super::text_position::{LineIndex, TextPosition};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// One statement of a script, as a byte range of the script's SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the statement's first token.
    pub start: usize,
    /// Byte offset just past its last token (before the `;`).
    pub end: usize,
    /// Where the statement starts.
    pub position: TextPosition,
    /// The statement's first keyword, upper-cased (`CREATE`, `COMMIT`, …).
    pub keyword: String,
}

impl Statement {
    /// The statement's text inside `sql`.
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }
}

/// SQL that cannot be tokenised (an unterminated string, comment or quoted
/// identifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// Where the tokenizer stopped.
    pub position: TextPosition,
    /// The tokenizer's reason.
    pub message: String,
}

/// Splits `sql` into its statements, skipping empty ones.
pub fn split(sql: &str) -> Result<Vec<Statement>, SplitError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| SplitError {
            position: TextPosition {
                line: e.location.line as usize,
                column: e.location.column as usize,
            },
            message: e.message,
        })?;
    let index = LineIndex::new(sql);
    let mut splitter = Splitter::new(sql, &index);
    for (i, token) in tokens.iter().enumerate() {
        splitter.push(token, next_significant(&tokens[i + 1..]));
    }
    splitter.finish();
    Ok(splitter.statements)
}

/// Turns the tokenizer's (line, character column) positions into byte
/// offsets. Tokens come in order, so it only ever walks forward: the whole
/// script is walked once, however long its lines are.
struct Cursor<'a> {
    sql: &'a str,
    index: &'a LineIndex,
    line: usize,
    column: usize,
    offset: usize,
}

impl<'a> Cursor<'a> {
    fn new(sql: &'a str, index: &'a LineIndex) -> Self {
        Self {
            sql,
            index,
            line: 1,
            column: 1,
            offset: 0,
        }
    }

    fn offset(&mut self, line: usize, column: usize) -> usize {
        if line < self.line || (line == self.line && column < self.column) {
            // Never expected; stay correct anyway.
            return self.index.offset(self.sql, line, column);
        }
        if line > self.line {
            self.line = line;
            self.column = 1;
            self.offset = self.index.offset(self.sql, line, 1);
        }
        let rest = &self.sql[self.offset..];
        let steps = column - self.column;
        let advance = rest
            .char_indices()
            .nth(steps)
            .map_or(rest.len(), |(i, _)| i);
        self.offset += advance;
        self.column = column;
        self.offset
    }
}

fn next_significant(tokens: &[TokenWithSpan]) -> Option<&Token> {
    tokens
        .iter()
        .map(|t| &t.token)
        .find(|t| !matches!(t, Token::Whitespace(_)))
}

struct Splitter<'a> {
    cursor: Cursor<'a>,
    statements: Vec<Statement>,
    current: Option<(usize, TextPosition, String)>,
    last_end: usize,
    parens: usize,
    atomic_blocks: usize,
    case_depth: usize,
}

impl<'a> Splitter<'a> {
    fn new(sql: &'a str, index: &'a LineIndex) -> Self {
        Self {
            cursor: Cursor::new(sql, index),
            statements: Vec::new(),
            current: None,
            last_end: 0,
            parens: 0,
            atomic_blocks: 0,
            case_depth: 0,
        }
    }

    fn offset(&mut self, line: u64, column: u64) -> usize {
        self.cursor.offset(line as usize, column as usize)
    }

    fn push(&mut self, token: &TokenWithSpan, next: Option<&Token>) {
        if matches!(token.token, Token::Whitespace(_) | Token::EOF) {
            return;
        }
        let start = token.span.start;
        if token.token == Token::SemiColon && self.parens == 0 && self.atomic_blocks == 0 {
            self.finish();
            return;
        }
        if self.current.is_none() {
            let offset = self.offset(start.line, start.column);
            let keyword = match &token.token {
                Token::Word(word) => word.value.to_ascii_uppercase(),
                _ => String::new(),
            };
            let position = TextPosition {
                line: start.line as usize,
                column: start.column as usize,
            };
            self.current = Some((offset, position, keyword));
        }
        self.track_nesting(&token.token, next);
        self.last_end = self.offset(token.span.end.line, token.span.end.column);
    }

    fn track_nesting(&mut self, token: &Token, next: Option<&Token>) {
        match token {
            Token::LParen => self.parens += 1,
            Token::RParen => self.parens = self.parens.saturating_sub(1),
            Token::Word(word) if word.quote_style.is_none() => match word.keyword {
                Keyword::BEGIN if is_keyword(next, Keyword::ATOMIC) => self.atomic_blocks += 1,
                Keyword::CASE if self.atomic_blocks > 0 => self.case_depth += 1,
                Keyword::END if self.atomic_blocks > 0 => {
                    if self.case_depth > 0 {
                        self.case_depth -= 1;
                    } else {
                        self.atomic_blocks -= 1;
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn finish(&mut self) {
        if let Some((start, position, keyword)) = self.current.take() {
            self.statements.push(Statement {
                start,
                end: self.last_end.max(start),
                position,
                keyword,
            });
        }
    }
}

/// Whether a statement (by its first keyword and text) opens or ends a
/// transaction: `BEGIN`, `START TRANSACTION`, `COMMIT` (also `COMMIT
/// PREPARED`), `END`, `ABORT`, `PREPARE TRANSACTION`, or a `ROLLBACK` that is
/// not `ROLLBACK TO SAVEPOINT`.
pub fn is_transaction_control(keyword: &str, text: &str) -> bool {
    let second_word_is = |word: &str| {
        text.split_whitespace()
            .nth(1)
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    match keyword {
        "BEGIN" | "COMMIT" | "END" | "ABORT" => true,
        "START" => second_word_is("TRANSACTION"),
        "PREPARE" => second_word_is("TRANSACTION"),
        "ROLLBACK" => !text
            .split_whitespace()
            .any(|w| w.eq_ignore_ascii_case("TO")),
        _ => false,
    }
}

/// Whether a statement changes how PostgreSQL reads the text that follows
/// it (`standard_conforming_strings` decides whether a backslash escapes a
/// quote), so that schemactl's split of the rest of the script may no longer
/// be the server's.
pub fn changes_lexing(keyword: &str, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mentions = lower.contains("standard_conforming_strings");
    match keyword {
        "SET" | "RESET" | "ALTER" => mentions && !lower.starts_with("alter table"),
        _ => mentions && lower.contains("set_config"),
    }
}

fn is_keyword(token: Option<&Token>, keyword: Keyword) -> bool {
    matches!(token, Some(Token::Word(w)) if w.keyword == keyword && w.quote_style.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).unwrap().iter().map(|s| s.text(sql)).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_comments_and_bodies() {
        let sql = "-- header; not a statement\n\
                   CREATE TABLE t (a text DEFAULT 'x;y');\n\
                   /* block; /* nested; */ still comment */\n\
                   CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;\n\
                   INSERT INTO t VALUES (E'it\\'s; fine');\n\
                   SELECT 1";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE TABLE t (a text DEFAULT 'x;y')",
                "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$",
                "INSERT INTO t VALUES (E'it\\'s; fine')",
                "SELECT 1",
            ]
        );
    }

    #[test]
    fn keeps_begin_atomic_bodies_and_rules_whole() {
        let sql = "CREATE FUNCTION g(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; SELECT 2; END;\n\
                   CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2));\n\
                   COMMIT;";
        let statements = split(sql).unwrap();
        assert_eq!(statements.len(), 3, "{:?}", texts(sql));
        assert!(statements[0].text(sql).ends_with("SELECT 2; END"));
        assert_eq!(statements[2].keyword, "COMMIT");
        assert_eq!(statements[2].position, TextPosition { line: 3, column: 1 });
    }

    #[test]
    fn knows_every_statement_that_ends_a_transaction() {
        for (keyword, text) in [
            ("COMMIT", "COMMIT"),
            ("END", "END"),
            ("ABORT", "ABORT"),
            ("PREPARE", "PREPARE TRANSACTION 'x'"),
            ("COMMIT", "COMMIT PREPARED 'x'"),
            ("ROLLBACK", "ROLLBACK PREPARED 'x'"),
            ("START", "START TRANSACTION"),
        ] {
            assert!(is_transaction_control(keyword, text), "{text}");
        }
        assert!(!is_transaction_control("PREPARE", "PREPARE q AS SELECT 1"));
        assert!(!is_transaction_control(
            "ROLLBACK",
            "ROLLBACK TO SAVEPOINT s"
        ));
        assert!(changes_lexing(
            "SET",
            "SET standard_conforming_strings = off"
        ));
        assert!(changes_lexing(
            "SELECT",
            "SELECT set_config('standard_conforming_strings', 'off', false)"
        ));
        assert!(!changes_lexing("SET", "SET search_path = app"));
    }

    #[test]
    fn reports_where_an_unterminated_string_starts() {
        let error = split("SELECT 1;\nSELECT 'oops;\n").unwrap_err();
        assert_eq!(error.position.line, 2);
    }

    #[test]
    fn a_long_single_line_splits_in_linear_time() {
        // 20,000 statements on one line (about 600 KB): the positions must
        // be right at the far end of it. (The speed is measured by
        // `cargo xtask bench`, not here.)
        let sql = "INSERT INTO t VALUES ('é', 1);".repeat(20_000);
        let statements = split(&sql).unwrap();
        assert_eq!(statements.len(), 20_000);
        let last = statements.last().unwrap();
        assert_eq!(last.text(&sql), "INSERT INTO t VALUES ('é', 1)");
        assert_eq!(last.position.column, 19_999 * 30 + 1);
        assert_eq!(last.start, 19_999 * 31);
    }

    #[test]
    fn positions_are_in_characters_on_their_line() {
        let sql = "SELECT 'é'; SELECT 2;";
        let statements = split(sql).unwrap();
        assert_eq!(
            statements[1].position,
            TextPosition {
                line: 1,
                column: 13
            }
        );
        assert_eq!(statements[1].text(sql), "SELECT 2");
    }
}
