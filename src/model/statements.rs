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
pub(crate) struct Statement {
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
    // A large script is tokenised a chunk at a time (chunks end at line
    // breaks outside strings, comments and dollar quotes), so that its
    // tokens are never all in memory: they take about 20 times the text.
    split_in_chunks(sql, chunk_starts(sql)).map_err(|e| at_opener(sql, e))
}

/// Points the tokenizer's error at the quote that opened what the script
/// leaves open, if it left one open before that error: the tokenizer only
/// finds out at the end of the script (a `$$` body without its closing `$$`
/// was reported on the last line).
fn at_opener(sql: &str, error: SplitError) -> SplitError {
    let Some(open) = super::quoted_parts::scan(sql, |_| {}) else {
        return error;
    };
    let position = LineIndex::new(sql).position(sql, open.start);
    let before = (position.line, position.column) <= (error.position.line, error.position.column);
    if !before {
        return error;
    }
    SplitError {
        position,
        message: format!(
            "the {} that opens here is never closed ({}): close it with `{}`, or remove what opens it",
            open.what, error.message, open.closer
        ),
    }
}

fn split_in_chunks(sql: &str, starts: Vec<usize>) -> Result<Vec<Statement>, SplitError> {
    let index = LineIndex::new(sql);
    let mut splitter = Splitter::new(sql, &index);
    let mut chunks = starts.into_iter().peekable();
    let mut current = match chunks.next() {
        Some(start) => tokenize_chunk(sql, &index, start, chunks.peek().copied())?,
        None => Vec::new(),
    };
    loop {
        let next = match chunks.next() {
            Some(start) => Some(tokenize_chunk(sql, &index, start, chunks.peek().copied())?),
            None => None,
        };
        for (i, token) in current.iter().enumerate() {
            let lookahead = next_significant(&current[i + 1..])
                .or_else(|| next.as_deref().and_then(next_significant));
            splitter.push(token, lookahead, i);
        }
        match next {
            Some(tokens) => current = tokens,
            None => break,
        }
    }
    splitter.finish();
    Ok(splitter.statements)
}

/// Statements, and each one's tokens.
pub type StatementsWithTokens = (Vec<Statement>, Vec<Vec<TokenWithSpan>>);

/// The statements of `sql` and, for each, its tokens with positions
/// relative to the statement (for a parser to read without tokenising it
/// again); `None` for a script large enough to be tokenised in chunks.
pub fn split_with_tokens(sql: &str) -> Option<Result<StatementsWithTokens, SplitError>> {
    if chunk_starts(sql).len() > 1 {
        return None;
    }
    let index = LineIndex::new(sql);
    let tokens = match tokenize_chunk(sql, &index, 0, None) {
        Ok(tokens) => tokens,
        Err(e) => return Some(Err(at_opener(sql, e))),
    };
    let mut splitter = Splitter::new(sql, &index);
    for (i, token) in tokens.iter().enumerate() {
        splitter.push(token, next_significant(&tokens[i + 1..]), i);
    }
    splitter.finish();
    if splitter.ranges.len() != splitter.statements.len() {
        return None;
    }
    // Each statement's tokens are moved out of the script's (not cloned:
    // a word token owns its text), so the ranges must be in order.
    if splitter
        .ranges
        .windows(2)
        .any(|pair| pair[0].1 >= pair[1].0)
    {
        return None;
    }
    let mut remaining = tokens.into_iter().enumerate().peekable();
    let per_statement = splitter
        .ranges
        .iter()
        .zip(&splitter.statements)
        .map(|(&(first, last), statement)| {
            let (line, column) = (
                statement.position.line as u64,
                statement.position.column as u64,
            );
            let relative = |l: sqlparser::tokenizer::Location| sqlparser::tokenizer::Location {
                line: l.line - (line - 1),
                column: if l.line == line {
                    l.column - (column - 1)
                } else {
                    l.column
                },
            };
            let mut own = Vec::with_capacity(last + 1 - first);
            while let Some((i, t)) = remaining.next_if(|(i, _)| *i <= last) {
                if i >= first {
                    own.push(TokenWithSpan {
                        token: t.token,
                        span: sqlparser::tokenizer::Span::new(
                            relative(t.span.start),
                            relative(t.span.end),
                        ),
                    });
                }
            }
            own
        })
        .collect();
    Some(Ok((splitter.statements, per_statement)))
}

/// Scripts larger than this are tokenised in chunks of about this size.
const CHUNK: usize = 1 << 20;

/// Where the chunks of `sql` start: `[0]` for a script of less than a
/// chunk, else line starts outside any string, quoted identifier, comment or
/// dollar quote, about [`CHUNK`] bytes apart. A script with `COPY … FROM
/// stdin` data (which only the tokenizer can delimit) is one chunk.
fn chunk_starts(sql: &str) -> Vec<usize> {
    if sql.len() <= CHUNK || sql.to_ascii_lowercase().contains("from stdin") {
        return vec![0];
    }
    let mut starts = vec![0];
    let mut last = 0;
    let unclosed = super::quoted_parts::scan(sql, |start| {
        if start - last >= CHUNK {
            starts.push(start);
            last = start;
        }
    });
    if unclosed.is_some() {
        // The tokenizer says what is wrong, for the whole script.
        return vec![0];
    }
    starts.retain(|&s| s < sql.len());
    starts
}

/// The tokens of `sql[start..end]`, with positions in the whole script
/// (chunks start at a line start, so only lines shift).
fn tokenize_chunk(
    sql: &str,
    index: &LineIndex,
    start: usize,
    end: Option<usize>,
) -> Result<Vec<TokenWithSpan>, SplitError> {
    let dialect = PostgreSqlDialect {};
    let chunk = &sql[start..end.unwrap_or(sql.len())];
    let first_line = index.position(sql, start).line as u64 - 1;
    let mut tokens = Tokenizer::new(&dialect, chunk)
        .tokenize_with_location()
        .map_err(|e| SplitError {
            position: TextPosition {
                line: (e.location.line + first_line) as usize,
                column: e.location.column as usize,
            },
            message: e.message,
        })?;
    if first_line > 0 {
        for token in &mut tokens {
            token.span.start.line += first_line;
            token.span.end.line += first_line;
        }
    }
    if end.is_some() {
        tokens.retain(|t| t.token != Token::EOF);
    }
    Ok(tokens)
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
    /// For each statement, the indexes of its first and last significant
    /// tokens (kept only when the script is tokenised whole).
    ranges: Vec<(usize, usize)>,
    token_range: Option<(usize, usize)>,
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
            ranges: Vec::new(),
            token_range: None,
        }
    }

    fn offset(&mut self, line: u64, column: u64) -> usize {
        self.cursor.offset(line as usize, column as usize)
    }

    fn push(&mut self, token: &TokenWithSpan, next: Option<&Token>, index: usize) {
        if matches!(token.token, Token::Whitespace(_) | Token::EOF) {
            return;
        }
        if token.token != Token::SemiColon || self.parens > 0 || self.atomic_blocks > 0 {
            let range = self.token_range.get_or_insert((index, index));
            range.1 = index;
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
        if let Some(range) = self.token_range.take() {
            if self.current.is_some() {
                self.ranges.push(range);
            }
        }
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
/// Words are read as PostgreSQL reads them: comments between them
/// (`PREPARE/**/TRANSACTION`, `ROLLBACK /* TO */`) do not count.
/// The tokens of `text` that are not whitespace or comments, with their
/// byte ranges in `text`; `None` when it cannot be tokenised.
pub(crate) fn located_tokens(text: &str) -> Option<Vec<(Token, usize, usize)>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, text)
        .tokenize_with_location()
        .ok()?;
    let index = LineIndex::new(text);
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .map(|t| {
                let at = |l: u64, c: u64| index.offset(text, l as usize, c as usize);
                let (start, end) = (
                    at(t.span.start.line, t.span.start.column),
                    at(t.span.end.line, t.span.end.column),
                );
                (t.token, start, end)
            })
            .collect(),
    )
}

pub fn is_transaction_control(keyword: &str, text: &str) -> bool {
    if !matches!(
        keyword,
        "BEGIN" | "COMMIT" | "END" | "ABORT" | "START" | "PREPARE" | "ROLLBACK"
    ) {
        return false;
    }
    let words = words_outside_comments(text);
    let second_word_is = |word: &str| words.get(1).is_some_and(|w| w.eq_ignore_ascii_case(word));
    match keyword {
        "START" => second_word_is("TRANSACTION"),
        "PREPARE" => second_word_is("TRANSACTION"),
        "ROLLBACK" => !words.iter().any(|w| w.eq_ignore_ascii_case("TO")),
        _ => true,
    }
}

/// Whether `text` contains one of `words` (lower-case ASCII) in any case:
/// a word that is not in the text cannot be one of its tokens.
pub(crate) fn mentions_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|word| {
        text.as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    })
}

/// The words of `text` (keywords and identifiers, unquoted), leaving out
/// comments, strings and punctuation.
fn words_outside_comments(text: &str) -> Vec<String> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    match sqlparser::tokenizer::Tokenizer::new(&dialect, text).tokenize() {
        Ok(tokens) => tokens
            .into_iter()
            .filter_map(|token| match token {
                Token::Word(word) if word.quote_style.is_none() => Some(word.value),
                _ => None,
            })
            .collect(),
        // Text the tokenizer cannot read: its plain words, comments and all.
        Err(_) => text.split_whitespace().map(str::to_string).collect(),
    }
}

/// The command, when a statement is one PostgreSQL refuses inside a
/// transaction block (SQLSTATE 25001), and so also in a message of several
/// statements: `CREATE`/`DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`
/// (and of a whole database or system), `ALTER TABLE … DETACH PARTITION …
/// CONCURRENTLY`, `VACUUM`, `CREATE`/`DROP DATABASE`, `CREATE`/`DROP
/// TABLESPACE`, `ALTER SYSTEM`. Read by words, comments left out.
pub fn outside_transaction_only(keyword: &str, text: &str) -> Option<&'static str> {
    if !matches!(keyword, "CREATE" | "DROP" | "REINDEX" | "ALTER" | "VACUUM") {
        return None;
    }
    // Most statements of a deploy are CREATE, ALTER and DROP: tokenised
    // only when a word that decides it is in the text at all.
    let deciding: &[&str] = match keyword {
        "CREATE" | "DROP" => &["concurrently", "database", "tablespace"],
        "ALTER" => &["system", "concurrently"],
        _ => &[],
    };
    if !deciding.is_empty() && !mentions_any(text, deciding) {
        return None;
    }
    let words: Vec<String> = words_outside_comments(text)
        .into_iter()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let at = |i: usize, w: &str| words.get(i).is_some_and(|x| x == w);
    let has = |w: &str| words.iter().any(|x| x == w);
    match keyword {
        "VACUUM" => Some("VACUUM"),
        "CREATE" | "DROP" if at(1, "DATABASE") => Some(if keyword == "CREATE" {
            "CREATE DATABASE"
        } else {
            "DROP DATABASE"
        }),
        "CREATE" | "DROP" if at(1, "TABLESPACE") => Some(if keyword == "CREATE" {
            "CREATE TABLESPACE"
        } else {
            "DROP TABLESPACE"
        }),
        "CREATE"
            if (at(1, "INDEX") && at(2, "CONCURRENTLY"))
                || (at(1, "UNIQUE") && at(2, "INDEX") && at(3, "CONCURRENTLY")) =>
        {
            Some("CREATE INDEX CONCURRENTLY")
        }
        "DROP" if at(1, "INDEX") && at(2, "CONCURRENTLY") => Some("DROP INDEX CONCURRENTLY"),
        "REINDEX" if has("CONCURRENTLY") => Some("REINDEX CONCURRENTLY"),
        "REINDEX"
            if words
                .iter()
                .skip(1)
                .take(4)
                .any(|w| w == "DATABASE" || w == "SYSTEM") =>
        {
            Some("REINDEX DATABASE")
        }
        "ALTER" if at(1, "SYSTEM") => Some("ALTER SYSTEM"),
        "ALTER"
            if at(1, "TABLE")
                && words
                    .windows(2)
                    .any(|w| w[0] == "DETACH" && w[1] == "PARTITION")
                && words.last().is_some_and(|w| w == "CONCURRENTLY") =>
        {
            Some("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")
        }
        _ => None,
    }
}

/// Why a statement would break the session schemactl runs the migrations
/// in, if it does: `DISCARD ALL`/`PLANS` and `DEALLOCATE ALL` drop the
/// statements schemactl prepared to write the history, and
/// `pg_advisory_unlock_all()` releases the migration lock while the run
/// goes on. Read by words, comments left out.
pub fn breaks_session(keyword: &str, text: &str) -> Option<&'static str> {
    if !matches!(keyword, "DISCARD" | "DEALLOCATE")
        && !mentions_any(text, &["pg_advisory_unlock_all"])
    {
        return None;
    }
    let words = words_outside_comments(text);
    let word = |i: usize, w: &str| words.get(i).is_some_and(|x| x.eq_ignore_ascii_case(w));
    match keyword {
        "DISCARD" if word(1, "ALL") || word(1, "PLANS") => Some(
            "DISCARD drops the statements schemactl prepared to record the migration, so the run could not say what it did",
        ),
        "DEALLOCATE" if words.iter().any(|w| w.eq_ignore_ascii_case("ALL")) => Some(
            "DEALLOCATE ALL drops the statements schemactl prepared to record the migration, so the run could not say what it did",
        ),
        _ if words
            .iter()
            .any(|w| w.eq_ignore_ascii_case("pg_advisory_unlock_all")) =>
        {
            Some("pg_advisory_unlock_all() releases schemactl's migration lock, so another deploy could run the same migrations at once")
        }
        _ => None,
    }
}

/// Whether a statement changes how PostgreSQL reads the text that follows
/// it (`standard_conforming_strings` decides whether a backslash escapes a
/// quote), so that schemactl's split of the rest of the script may no longer
/// be the server's.
pub fn changes_lexing(keyword: &str, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let mentions = lower.contains("standard_conforming_strings");
    // `SET`, `RESET`, `ALTER … SET`, `set_config(…)`, `UPDATE pg_settings`:
    // any statement that names the setting, but for reading it or writing
    // it into a comment or a table's text.
    match keyword {
        "SHOW" | "COMMENT" => false,
        _ => mentions && !lower.starts_with("alter table"),
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
    fn knows_the_statements_that_cannot_run_in_a_transaction_block() {
        let only = |sql: &str| {
            let statements = split(sql).unwrap();
            let s = &statements[0];
            outside_transaction_only(s.keyword.as_str(), s.text(sql))
        };
        assert_eq!(
            only("CREATE INDEX CONCURRENTLY i ON t (x);"),
            Some("CREATE INDEX CONCURRENTLY")
        );
        assert_eq!(
            only("create unique index/**/concurrently i on t (x)"),
            Some("CREATE INDEX CONCURRENTLY")
        );
        assert_eq!(
            only("DROP INDEX CONCURRENTLY IF EXISTS i;"),
            Some("DROP INDEX CONCURRENTLY")
        );
        assert_eq!(
            only("REINDEX (VERBOSE) TABLE CONCURRENTLY t;"),
            Some("REINDEX CONCURRENTLY")
        );
        assert_eq!(only("VACUUM ANALYZE t;"), Some("VACUUM"));
        assert_eq!(only("CREATE DATABASE x;"), Some("CREATE DATABASE"));
        assert_eq!(
            only("ALTER SYSTEM SET work_mem = '8MB';"),
            Some("ALTER SYSTEM")
        );
        assert_eq!(
            only("ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY;"),
            Some("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")
        );
        assert_eq!(only("CREATE INDEX i ON t (concurrently);"), None);
        assert_eq!(only("REFRESH MATERIALIZED VIEW CONCURRENTLY v;"), None);
        assert_eq!(only("ALTER TABLE m DETACH PARTITION m_2020;"), None);
        assert_eq!(only("CREATE TABLE database (id int);"), None);
        assert_eq!(only("Drop TableSpace ts;"), Some("DROP TABLESPACE"));
        // Without a deciding word in the text, nothing is tokenised.
        assert_eq!(only("ALTER TABLE t ADD COLUMN x int;"), None);
        assert_eq!(only("CREATE INDEX i ON t (x);"), None);
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
        // Comments between the words do not hide them.
        assert!(is_transaction_control(
            "PREPARE",
            "PREPARE/**/TRANSACTION 'x'"
        ));
        assert!(is_transaction_control(
            "PREPARE",
            "PREPARE -- x\nTRANSACTION 'x'"
        ));
        assert!(is_transaction_control("ROLLBACK", "ROLLBACK /* TO */"));
        assert!(breaks_session("DISCARD", "DISCARD /* x */ ALL").is_some());
        assert!(breaks_session("DEALLOCATE", "DEALLOCATE PREPARE ALL").is_some());
        assert!(breaks_session("DEALLOCATE", "DEALLOCATE my_plan").is_none());
        assert!(breaks_session("SELECT", "SELECT pg_advisory_unlock_all()").is_some());
        assert!(breaks_session("SELECT", "SELECT 'pg_advisory_unlock_all'").is_none());
        assert!(!is_transaction_control(
            "ROLLBACK",
            "ROLLBACK TO SAVEPOINT s"
        ));
        assert!(changes_lexing(
            "UPDATE",
            "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'"
        ));
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
    fn an_unclosed_dollar_quote_or_comment_is_reported_where_it_opens() {
        // The tokenizer reports these at the end of the script.
        for (sql, at, what) in [
            (
                "CREATE TABLE a (id int);\nCREATE FUNCTION f() RETURNS int AS $body$\nSELECT 1;\n$bod$ LANGUAGE sql;\nSELECT 2;\n",
                (2, 36),
                "dollar-quoted string that opens here is never closed",
            ),
            ("SELECT 1;\n  /* note\nSELECT 2;\n", (2, 3), "comment that opens here"),
        ] {
            let error = split(sql).unwrap_err();
            assert_eq!((error.position.line, error.position.column), at, "{sql}");
            assert!(error.message.contains(what), "{}", error.message);
            let tokens_error = split_with_tokens(sql).unwrap().unwrap_err();
            assert_eq!(tokens_error, error);
        }
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

    #[test]
    fn a_large_script_splits_in_chunks_exactly_as_whole() {
        let block = "CREATE TABLE t (a text DEFAULT 'x;\n-- not a comment\n''; still');\n\
            /* a comment;\n /* nested; */ still; */\n\
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN 1;\nEND;\n$body$;\n\
            INSERT INTO t VALUES (E'it\\'s;\n'), ($$;\n$$);\n\
            SELECT \"odd;\nname\" FROM t; -- trailing; comment\n";
        let sql = block.repeat((super::CHUNK * 3) / block.len());
        let chunks = super::chunk_starts(&sql);
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        let chunked = super::split(&sql).unwrap();
        let whole = super::split_in_chunks(&sql, vec![0]).unwrap();
        assert_eq!(chunked.len(), whole.len());
        assert!(chunked == whole, "chunked and whole splits differ");
    }
}
