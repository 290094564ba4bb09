//! PostgreSQL statements that `sqlparser` does not read, recovered so that
//! the rules still see them.
//!
//! Two steps, tried in order when `sqlparser` fails on a statement:
//! 1. **Blank and re-parse**: a clause `sqlparser` lacks but no rule needs
//!    (an `ALTER TABLE` action such as `SET STATISTICS` or `CLUSTER ON`, a
//!    trailing `WITH [NO] DATA`, `ON ONLY` of a partitioned index,
//!    `INCLUDING ALL` of `LIKE`) is overwritten with spaces of the same
//!    length and the statement parsed again. Positions in the syntax tree
//!    stay those of the file, and the clauses blanked are kept by name.
//! 2. **Recognise**: a statement of a PostgreSQL command `sqlparser` does
//!    not know (`REFRESH MATERIALIZED VIEW`, `ALTER SEQUENCE`, `COMMENT ON
//!    FUNCTION`, `CREATE STATISTICS`, `DO`, …) is read by its command words,
//!    the object it names, the table it is `ON` and its `CONCURRENTLY`: all
//!    the rules ask of such statements.
//!
//! Anything else stays unparsed (`unparseable-statement`): a typo in a
//! `CREATE TABLE` must not be recognised away.

mod newer_syntax;

use super::names;
use crate::model::text_position::LineIndex;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// What was recovered of a statement `sqlparser` could not parse whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The command, upper case, e.g. `REFRESH MATERIALIZED VIEW`.
    pub command: String,
    /// The object the command names (folded as PostgreSQL folds it, without
    /// a `public.` schema), when it names one.
    pub object: Option<String>,
    /// The table named after `ON` or `FROM` (triggers, rules, statistics,
    /// `COMMENT ON COLUMN`'s table), when there is one.
    pub table: Option<String>,
    /// Whether `CONCURRENTLY` is one of the command's options.
    pub concurrently: bool,
    /// Clauses blanked before the syntax tree was parsed, by their leading
    /// words (`SET STATISTICS`, `CLUSTER ON`, …).
    pub blanked: Vec<String>,
    /// A `CREATE TABLE (LIKE source …)` whose options copy the source's
    /// indexes, and so its primary key (`INCLUDING ALL` or `INCLUDING
    /// INDEXES`; the last option naming indexes decides, as in PostgreSQL).
    pub like_copies_indexes: bool,
}

/// The recovered statement: a syntax tree when blanking some clauses made it
/// parse, and what was recognised.
pub type Recovered = (Option<sqlparser::ast::Statement>, Recognised);

/// Recovers `text` (one statement, no `;`), or `None` when it is not a
/// PostgreSQL statement this module knows.
pub fn recover(text: &str) -> Option<Recovered> {
    let tokens = significant_tokens(text)?;
    if rejected(&tokens).is_some() {
        return None;
    }
    let Some(rewritten) = newer_syntax::rewrite(text, &tokens) else {
        return recover_older(text, &tokens);
    };
    let tokens = significant_tokens(&rewritten.text)?;
    let (ast, mut recognised) = match parse_one(&rewritten.text) {
        Some(ast) => {
            let command = statement_command(&tokens);
            let skip = command.split(' ').count();
            (Some(ast), recognised(&command, &tokens, skip))
        }
        None => recover_older(&rewritten.text, &tokens)?,
    };
    let ast = ast.map(|mut ast| {
        rewritten.restore(&mut ast);
        ast
    });
    recognised.blanked.splice(0..0, rewritten.clauses);
    Some((ast, recognised))
}

/// The command a statement's leading words spell (its first two words
/// when it is none of [`COMMANDS`]).
fn statement_command(tokens: &[Located]) -> String {
    let words = leading_words(tokens);
    command_of(&words)
        .map(str::to_string)
        .unwrap_or_else(|| words.iter().take(2).cloned().collect::<Vec<_>>().join(" "))
}

fn leading_words(tokens: &[Located]) -> Vec<String> {
    tokens
        .iter()
        .take(6)
        .map_while(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .collect()
}

/// [`recover`] of a statement without newer syntax.
fn recover_older(text: &str, tokens: &[Located]) -> Option<Recovered> {
    let words = leading_words(tokens);
    let starts = |prefix: &[&str]| {
        words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
    };
    if starts(&["ALTER", "TABLE"]) {
        return alter_table(text, tokens);
    }
    if let Some(blanked) = blank_optional_clauses(text, tokens) {
        if let Some(ast) = parse_one(&blanked.0) {
            let command = statement_command(tokens);
            let mut recognised = recognised(&command, tokens, command.split(' ').count());
            recognised.blanked = blanked.1;
            recognised.like_copies_indexes = blanked.2;
            return Some((Some(ast), recognised));
        }
    }
    let command = command_of(&words)?;
    if !balanced(tokens) {
        return None;
    }
    Some((
        None,
        recognised(command, tokens, command.split(' ').count()),
    ))
}

/// Why PostgreSQL's grammar rejects `text` whatever the schema, when it
/// certainly does: `DROP … IF NOT EXISTS`, `CREATE … IF EXISTS` (the
/// clause of the other command), a psql meta-command (`\connect`, `\set`:
/// psql's, never sent to the server by psql, but by schemactl it would
/// be). Such a statement is never recognised away: a script with one
/// cannot run.
pub fn rejection(text: &str) -> Option<&'static str> {
    rejected(&significant_tokens(text)?)
}

fn rejected(tokens: &[Located]) -> Option<&'static str> {
    let command = tokens.first()?;
    if command.token == Token::Backslash {
        return Some(
            "a backslash command such as `\\connect` or `\\set` is psql's, not SQL, and schemactl sends each statement to the server as SQL",
        );
    }
    // The IF of the command's own clause comes right after the object's
    // kind (`DROP MATERIALIZED VIEW IF`, `CREATE UNIQUE INDEX CONCURRENTLY
    // IF`); what follows the object's name is the statement's body.
    let at = tokens
        .iter()
        .take(7)
        .position(|t| is_word(&t.token, "IF"))?;
    let next = &tokens.get(at + 1)?.token;
    if is_word(&command.token, "DROP") && is_word(next, "NOT") {
        return Some("DROP takes IF EXISTS, not IF NOT EXISTS");
    }
    if is_word(&command.token, "CREATE") && is_word(next, "EXISTS") {
        return Some("CREATE takes IF NOT EXISTS, not IF EXISTS");
    }
    None
}

/// A token with its byte range in the statement.
struct Located {
    token: Token,
    start: usize,
    end: usize,
}

fn significant_tokens(text: &str) -> Option<Vec<Located>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .ok()?;
    let index = LineIndex::new(text);
    let offset =
        |l: sqlparser::tokenizer::Location| index.offset(text, l.line as usize, l.column as usize);
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF))
            .map(|t| Located {
                start: offset(t.span.start),
                end: offset(t.span.end),
                token: t.token,
            })
            .collect(),
    )
}

fn parse_one(text: &str) -> Option<sqlparser::ast::Statement> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, text).ok()?;
    (statements.len() == 1).then(|| statements.pop()).flatten()
}

fn balanced(tokens: &[Located]) -> bool {
    let mut depth = 0i32;
    for t in tokens {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// PostgreSQL commands recognised by their leading words when `sqlparser`
/// cannot parse them, longest first where one is a prefix of another.
/// `CREATE TABLE`, `CREATE INDEX`, `ALTER TABLE`, `CREATE VIEW` and the
/// data statements are deliberately absent: the rules need their syntax
/// tree, so a statement of theirs that does not parse stays reported.
const COMMANDS: &[&str] = &[
    "ALTER AGGREGATE",
    "ALTER COLLATION",
    "ALTER CONVERSION",
    "ALTER DATABASE",
    "ALTER DEFAULT PRIVILEGES",
    "ALTER DOMAIN",
    "ALTER EVENT TRIGGER",
    "ALTER EXTENSION",
    "ALTER FOREIGN DATA WRAPPER",
    "ALTER FOREIGN TABLE",
    "ALTER FUNCTION",
    "ALTER GROUP",
    "ALTER INDEX",
    "ALTER LANGUAGE",
    "ALTER LARGE OBJECT",
    "ALTER MATERIALIZED VIEW",
    "ALTER OPERATOR",
    "ALTER POLICY",
    "ALTER PROCEDURE",
    "ALTER PUBLICATION",
    "ALTER ROLE",
    "ALTER ROUTINE",
    "ALTER RULE",
    "ALTER SCHEMA",
    "ALTER SEQUENCE",
    "ALTER SERVER",
    "ALTER STATISTICS",
    "ALTER SUBSCRIPTION",
    "ALTER SYSTEM",
    "ALTER TABLESPACE",
    "ALTER TEXT SEARCH",
    "ALTER TRIGGER",
    "ALTER TYPE",
    "ALTER USER",
    "ALTER VIEW",
    "CALL",
    "CHECKPOINT",
    "CLUSTER",
    "COMMENT ON",
    "CREATE ACCESS METHOD",
    "CREATE AGGREGATE",
    "CREATE CAST",
    "CREATE COLLATION",
    "CREATE CONVERSION",
    "CREATE DOMAIN",
    "CREATE EVENT TRIGGER",
    "CREATE EXTENSION",
    "CREATE FOREIGN DATA WRAPPER",
    "CREATE FOREIGN TABLE",
    "CREATE FUNCTION",
    "CREATE LANGUAGE",
    "CREATE OPERATOR",
    "CREATE OR REPLACE AGGREGATE",
    "CREATE OR REPLACE FUNCTION",
    "CREATE OR REPLACE PROCEDURE",
    "CREATE OR REPLACE RULE",
    "CREATE OR REPLACE TRIGGER",
    "CREATE OR REPLACE CONSTRAINT TRIGGER",
    "CREATE PROCEDURE",
    "CREATE PUBLICATION",
    "CREATE ROLE",
    "CREATE RULE",
    "CREATE SCHEMA",
    "CREATE SEQUENCE",
    "CREATE SERVER",
    "CREATE STATISTICS",
    "CREATE SUBSCRIPTION",
    "CREATE TEXT SEARCH",
    "CREATE TRANSFORM",
    "CREATE TRIGGER",
    "CREATE CONSTRAINT TRIGGER",
    "CREATE TYPE",
    "CREATE USER MAPPING",
    "CREATE USER",
    "DO",
    "DROP ACCESS METHOD",
    "DROP AGGREGATE",
    "DROP CAST",
    "DROP DOMAIN",
    "DROP EVENT TRIGGER",
    "DROP INDEX",
    "DROP OPERATOR",
    "DROP OWNED",
    "DROP PUBLICATION",
    "DROP RULE",
    "DROP STATISTICS",
    "DROP TEXT SEARCH",
    "DROP TRANSFORM",
    "DROP USER MAPPING",
    "GRANT",
    "IMPORT FOREIGN SCHEMA",
    "REASSIGN OWNED",
    "REFRESH MATERIALIZED VIEW",
    "REINDEX",
    "REVOKE",
    "SECURITY LABEL",
    "VACUUM",
];

/// The longest command of [`COMMANDS`] the leading words spell.
fn command_of(words: &[String]) -> Option<&'static str> {
    COMMANDS
        .iter()
        .filter(|command| {
            let parts: Vec<&str> = command.split(' ').collect();
            words.len() >= parts.len() && words.iter().zip(&parts).all(|(w, p)| w == p)
        })
        .max_by_key(|command| command.len())
        .copied()
}

/// Reads the object after the command's words (and its modifiers), the
/// table after `ON`/`FROM`, and `CONCURRENTLY`.
fn recognised(command: &str, tokens: &[Located], skip: usize) -> Recognised {
    const MODIFIERS: &[&str] = &[
        "IF",
        "NOT",
        "EXISTS",
        "CONCURRENTLY",
        "ONLY",
        "UNIQUE",
        "TABLE",
        "COLUMN",
        "INDEX",
        "FUNCTION",
        "PROCEDURE",
        "TYPE",
        "VIEW",
        "MATERIALIZED",
        "SEQUENCE",
        "SCHEMA",
        "CONSTRAINT",
        "TRIGGER",
        "DOMAIN",
        "EXTENSION",
        "STATISTICS",
        "POLICY",
        "RULE",
        "ON",
    ];
    let rest = tokens.get(skip..).unwrap_or_default();
    let concurrently = rest
        .iter()
        .take(4)
        .any(|t| is_word(&t.token, "CONCURRENTLY"));
    let start = rest
        .iter()
        .position(|t| {
            !matches!(&t.token, Token::Word(w) if w.quote_style.is_none()
                && MODIFIERS.iter().any(|m| w.value.eq_ignore_ascii_case(m)))
        })
        .unwrap_or(rest.len());
    let object = dotted_name(&rest[start..]);
    // Statistics are `ON columns FROM table`; triggers, rules, policies
    // and `CLUSTER … USING` name theirs after `ON`.
    let table_word = if command.ends_with("STATISTICS") {
        "FROM"
    } else {
        "ON"
    };
    let after = rest
        .iter()
        .position(|t| is_word(&t.token, table_word))
        .filter(|_| !command.starts_with("COMMENT") && !command.starts_with("GRANT"));
    let table = after.and_then(|i| {
        let next = &rest[i + 1..];
        let skip = next
            .iter()
            .take_while(|t| is_word(&t.token, "ONLY") || is_word(&t.token, "TABLE"))
            .count();
        dotted_name(&next[skip..])
    });
    Recognised {
        command: command.to_string(),
        object,
        table,
        concurrently,
        blanked: Vec::new(),
        like_copies_indexes: false,
    }
}

/// `a`, `a.b` or `"A".b` at the start of `tokens`, folded.
fn dotted_name(tokens: &[Located]) -> Option<String> {
    let mut parts = Vec::new();
    let mut expect_word = true;
    for t in tokens {
        match (&t.token, expect_word) {
            (Token::Word(w), true) => {
                parts.push(names::ident(&sqlparser::ast::Ident {
                    value: w.value.clone(),
                    quote_style: w.quote_style,
                    span: sqlparser::tokenizer::Span::empty(),
                }));
                expect_word = false;
            }
            (Token::Period, false) => expect_word = true,
            _ => break,
        }
    }
    if parts.is_empty() {
        return None;
    }
    let joined = parts.join(".");
    Some(
        joined
            .strip_prefix("public.")
            .map(str::to_string)
            .unwrap_or(joined),
    )
}

/// `ALTER TABLE` actions PostgreSQL has and `sqlparser` does not read, by
/// their leading words after an optional `ALTER [COLUMN] name`.
const COLUMN_ACTIONS: &[&[&str]] = &[
    &["SET", "STATISTICS"],
    &["SET", "STORAGE"],
    &["SET", "COMPRESSION"],
    &["SET", "("],
    &["RESET", "("],
    &["DROP", "EXPRESSION"],
    &["SET", "EXPRESSION"],
    &["DROP", "IDENTITY"],
    &["ADD", "GENERATED"],
    &["SET", "GENERATED"],
    &["RESTART"],
    &["SET", "INCREMENT"],
];

/// Whole-table `ALTER TABLE` actions `sqlparser` may not read.
const TABLE_ACTIONS: &[&[&str]] = &[
    &["CLUSTER", "ON"],
    &["SET", "WITHOUT", "CLUSTER"],
    &["SET", "WITHOUT", "OIDS"],
    &["SET", "ACCESS", "METHOD"],
    &["SET", "TABLESPACE"],
    &["SET", "SCHEMA"],
    &["SET", "LOGGED"],
    &["SET", "UNLOGGED"],
    &["SET", "("],
    &["RESET", "("],
    &["INHERIT"],
    &["NO", "INHERIT"],
    &["OF"],
    &["NOT", "OF"],
    &["ATTACH", "PARTITION"],
    &["DETACH", "PARTITION"],
    &["ALTER", "CONSTRAINT"],
    &["ENABLE"],
    &["DISABLE"],
    &["FORCE", "ROW"],
    &["NO", "FORCE"],
    &["OWNER", "TO"],
    &["REPLICA", "IDENTITY"],
    &["VALIDATE", "CONSTRAINT"],
];

fn starts_with_words(tokens: &[Located], words: &[&str]) -> bool {
    tokens.len() >= words.len()
        && tokens.iter().zip(words).all(|(t, w)| match *w {
            "(" => t.token == Token::LParen,
            w => is_word(&t.token, w),
        })
}

/// An `ALTER TABLE` whose actions `sqlparser` reads only in part: the
/// unread actions PostgreSQL has are blanked and the rest parsed.
fn alter_table(text: &str, tokens: &[Located]) -> Option<Recovered> {
    // ALTER TABLE [IF EXISTS] [ONLY] name [*] actions
    let mut i = 2;
    if starts_with_words(&tokens[i..], &["IF", "EXISTS"]) {
        i += 2;
    }
    if starts_with_words(&tokens[i..], &["ONLY"]) {
        i += 1;
    }
    let table = dotted_name(&tokens[i..])?;
    i += 1;
    while matches!(tokens.get(i).map(|t| &t.token), Some(Token::Period)) {
        i += 2;
    }
    if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Mul)) {
        i += 1;
    }
    let actions = split_top_level(tokens.get(i..)?);
    if actions.is_empty() || !balanced(tokens) {
        return None;
    }
    let mut blanked_text = text.to_string();
    let mut blanked = Vec::new();
    let mut kept = 0;
    for (n, action) in actions.iter().enumerate() {
        let Some(words) = unread_action(action) else {
            kept += 1;
            continue;
        };
        blanked.push(words);
        // The action, and the comma that joins it to its neighbour.
        let start = action.first()?.start;
        let end = action.last()?.end;
        let (start, end) = if n + 1 < actions.len() {
            (start, actions[n + 1].first()?.start)
        } else if n > 0 {
            (actions[n - 1].last()?.end, end)
        } else {
            (start, end)
        };
        blank(&mut blanked_text, start, end);
    }
    if blanked.is_empty() {
        return None;
    }
    let ast = if kept > 0 {
        Some(parse_one(&blanked_text)?)
    } else {
        None
    };
    Some((
        ast,
        Recognised {
            command: "ALTER TABLE".into(),
            object: Some(table),
            table: None,
            concurrently: blanked.iter().any(|b| b.ends_with("CONCURRENTLY")),
            blanked,
            like_copies_indexes: false,
        },
    ))
}

/// The action's words when it is one PostgreSQL has that `sqlparser` does
/// not read, else `None`.
fn unread_action(action: &[Located]) -> Option<String> {
    let column_action = {
        let mut rest = action;
        if starts_with_words(rest, &["ALTER"]) {
            rest = &rest[1..];
            if starts_with_words(rest, &["COLUMN"]) {
                rest = &rest[1..];
            }
            rest.get(1..)
                .filter(|after| COLUMN_ACTIONS.iter().any(|w| starts_with_words(after, w)))
        } else {
            None
        }
    };
    let words_of = |tokens: &[Located], n: usize| -> String {
        tokens
            .iter()
            .take(n)
            .map(|t| t.token.to_string().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(after) = column_action {
        let words = COLUMN_ACTIONS
            .iter()
            .find(|w| starts_with_words(after, w))?;
        return Some(format!("ALTER COLUMN {}", words_of(after, words.len())));
    }
    let words = TABLE_ACTIONS
        .iter()
        .find(|w| starts_with_words(action, w))?;
    // Only blanked when sqlparser does not read it on its own.
    let single = format!(
        "ALTER TABLE t {}",
        action
            .iter()
            .map(|t| t.token.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    if parse_one(&single).is_some() {
        return None;
    }
    let mut spelled = words_of(action, words.len());
    if action.iter().any(|t| is_word(&t.token, "CONCURRENTLY")) {
        spelled.push_str(" CONCURRENTLY");
    }
    Some(spelled)
}

/// Tokens split at commas outside parentheses.
fn split_top_level(tokens: &[Located]) -> Vec<&[Located]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out.retain(|a| !a.is_empty());
    out
}

/// Overwrites `text[start..end]` with spaces, keeping line breaks, so that
/// every later position is unchanged.
fn blank(text: &mut String, start: usize, end: usize) {
    let replaced: String = text[start..end]
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' {
                c.to_string()
            } else {
                " ".repeat(c.len_utf8())
            }
        })
        .collect();
    text.replace_range(start..end, &replaced);
}

/// Clauses of statements `sqlparser` otherwise reads that it does not
/// know, blanked: a trailing `WITH [NO] DATA`, `ON ONLY` (the `ONLY`), and
/// `INCLUDING`/`EXCLUDING` options of `LIKE` (and whether they copy the
/// source's indexes). `None` when there are none.
fn blank_optional_clauses(text: &str, tokens: &[Located]) -> Option<(String, Vec<String>, bool)> {
    let mut out = text.to_string();
    let mut blanked = Vec::new();
    let mut like_copies_indexes = false;
    let n = tokens.len();
    if n >= 3 && is_word(&tokens[n - 1].token, "DATA") {
        let with_no = n >= 3 && is_word(&tokens[n - 2].token, "NO");
        let with = if with_no { n - 3 } else { n - 2 };
        if is_word(&tokens[with].token, "WITH") {
            blank(&mut out, tokens[with].start, tokens[n - 1].end);
            blanked.push(if with_no { "WITH NO DATA" } else { "WITH DATA" }.into());
        }
    }
    for (i, t) in tokens.iter().enumerate() {
        if is_word(&t.token, "ONLY")
            && i > 0
            && is_word(&tokens[i - 1].token, "ON")
            && tokens.iter().take(4).any(|t| is_word(&t.token, "INDEX"))
        {
            blank(&mut out, t.start, t.end);
            blanked.push("ON ONLY".into());
        }
        if (is_word(&t.token, "INCLUDING") || is_word(&t.token, "EXCLUDING"))
            && tokens[..i].iter().any(|t| is_word(&t.token, "LIKE"))
        {
            let end = tokens.get(i + 1).map_or(t.end, |next| next.end);
            blank(&mut out, t.start, end);
            let option = tokens.get(i + 1).map(|next| &next.token);
            if option.is_some_and(|o| is_word(o, "ALL") || is_word(o, "INDEXES")) {
                like_copies_indexes = is_word(&t.token, "INCLUDING");
            }
            blanked.push(format!(
                "LIKE … {}",
                t.token.to_string().to_ascii_uppercase()
            ));
        }
    }
    (!blanked.is_empty()).then_some((out, blanked, like_copies_indexes))
}

#[cfg(test)]
mod tests {
    use super::recover;

    #[test]
    fn alter_table_actions_sqlparser_lacks_are_blanked_and_the_rest_parsed() {
        let (ast, recognised) = recover(
            "ALTER TABLE orders ALTER COLUMN note SET STATISTICS 500,\n  ADD COLUMN total bigint",
        )
        .expect("recovered");
        let ast = ast.expect("the ADD COLUMN parses").to_string();
        assert!(ast.contains("ADD COLUMN total BIGINT"), "{ast}");
        assert_eq!(recognised.blanked, ["ALTER COLUMN SET STATISTICS"]);
        assert_eq!(recognised.object.as_deref(), Some("orders"));
    }

    #[test]
    fn an_alter_table_of_unread_actions_only_is_recognised_without_a_tree() {
        let (ast, recognised) = recover("ALTER TABLE ONLY public.t CLUSTER ON t_pkey").unwrap();
        assert!(ast.is_none());
        assert_eq!(recognised.object.as_deref(), Some("t"));
        assert_eq!(recognised.blanked, ["CLUSTER ON"]);
    }

    #[test]
    fn a_typo_in_an_alter_table_action_is_not_recognised() {
        assert!(recover("ALTER TABLE t ADD COLUMNN x int, CLUSTER ON i").is_none());
        assert!(recover("ALTER TABLE t FROBNICATE").is_none());
    }

    #[test]
    fn commands_sqlparser_lacks_are_recognised_with_their_object() {
        let (_, r) = recover("REFRESH MATERIALIZED VIEW CONCURRENTLY stats.daily").unwrap();
        assert_eq!(r.command, "REFRESH MATERIALIZED VIEW");
        assert_eq!(r.object.as_deref(), Some("stats.daily"));
        assert!(r.concurrently);
        let (_, r) = recover("DROP INDEX CONCURRENTLY IF EXISTS \"Idx\"").unwrap();
        assert_eq!(r.object.as_deref(), Some("Idx"));
        assert!(r.concurrently);
        let (_, r) = recover("CREATE STATISTICS s (dependencies) ON a, b FROM orders").unwrap();
        assert_eq!(r.table.as_deref(), Some("orders"));
    }

    #[test]
    fn unknown_commands_and_unbalanced_text_stay_unparsed() {
        assert!(recover("FROBNICATE everything").is_none());
        assert!(recover("CREATE TABEL t (a int)").is_none());
        assert!(recover("ALTER SEQUENCE s RESTART WITH (1").is_none());
    }

    #[test]
    fn blanking_keeps_positions() {
        let (ast, r) =
            recover("CREATE MATERIALIZED VIEW mv AS\nSELECT 1 AS one\nWITH NO DATA").unwrap();
        assert!(ast.is_some());
        assert_eq!(r.blanked, ["WITH NO DATA"]);
        let (ast, _) = recover("CREATE INDEX i ON ONLY t (a)").unwrap();
        assert!(ast.unwrap().to_string().contains("ON t"));
    }
}
