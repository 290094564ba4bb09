//! PostgreSQL 17–18 syntax `sqlparser` 0.64 does not read, rewritten in
//! place (same length, so every position stays the file's) into what it
//! does read and means the same to the rules:
//! - `ADD CONSTRAINT name NOT NULL col` (18) is `ALTER COLUMN col SET NOT
//!   NULL`: both scan the table under an `ACCESS EXCLUSIVE` lock;
//! - a table's `[CONSTRAINT name] NOT NULL col` element (18) is blanked
//!   with its comma (the column's own definition stays);
//! - `GENERATED ALWAYS AS (…) VIRTUAL` (18) is parsed as `STORED` and set
//!   back to virtual in the syntax tree (a virtual column rewrites nothing);
//! - `WITHOUT OVERLAPS` and `PERIOD` of temporal keys (18) are blanked;
//! - `ON DELETE SET NULL (col, …)` / `SET DEFAULT (…)` (15): the column
//!   list is blanked (the action stays);
//! - `DROP DATABASE … WITH (FORCE)` (13): the option is blanked.

use super::{blank, is_word, Located};
use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, GeneratedExpressionMode, Statement,
};
use sqlparser::tokenizer::Token;

/// A statement's text with the newer syntax rewritten.
pub(super) struct Rewritten {
    /// The text to parse.
    pub text: String,
    /// What was rewritten, by its words.
    pub clauses: Vec<String>,
    /// Which generated columns (in order of appearance) were `VIRTUAL`.
    virtual_columns: Vec<usize>,
}

impl Rewritten {
    /// Sets the generated columns that were `VIRTUAL` back to virtual.
    pub fn restore(&self, statement: &mut Statement) {
        if self.virtual_columns.is_empty() {
            return;
        }
        let columns: Vec<&mut ColumnDef> = match statement {
            Statement::CreateTable(create) => create.columns.iter_mut().collect(),
            Statement::AlterTable(alter) => alter
                .operations
                .iter_mut()
                .filter_map(|operation| match operation {
                    AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                    _ => None,
                })
                .collect(),
            _ => return,
        };
        let generated = columns
            .into_iter()
            .flat_map(|column| column.options.iter_mut())
            .filter_map(|option| match &mut option.option {
                ColumnOption::Generated {
                    generation_expr_mode,
                    generation_expr: Some(_),
                    ..
                } => Some(generation_expr_mode),
                _ => None,
            });
        for (n, mode) in generated.enumerate() {
            if self.virtual_columns.contains(&n) {
                *mode = Some(GeneratedExpressionMode::Virtual);
            }
        }
    }
}

/// `text` with the newer syntax rewritten, or `None` when it has none.
pub(super) fn rewrite(text: &str, tokens: &[Located]) -> Option<Rewritten> {
    let mut out = Rewritten {
        text: text.to_string(),
        clauses: Vec::new(),
        virtual_columns: Vec::new(),
    };
    let starts_with = |words: &[&str]| {
        tokens.len() >= words.len() && tokens.iter().zip(words).all(|(t, w)| is_word(&t.token, w))
    };
    if starts_with(&["ALTER", "TABLE"]) {
        add_constraint_not_null(text, tokens, &mut out);
    }
    if starts_with(&["CREATE"]) {
        not_null_elements(tokens, &mut out);
    }
    temporal_keys_and_virtual_columns(tokens, &mut out);
    referential_action_columns(tokens, &mut out);
    if starts_with(&["DROP", "DATABASE"]) {
        drop_database_force(tokens, &mut out);
    }
    (!out.clauses.is_empty()).then_some(out)
}

/// Where the element or action starting at `from` ends: before the next
/// comma at its own depth, or its closing parenthesis.
fn element_end(tokens: &[Located], from: usize) -> usize {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(from) {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => return i,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => return i,
            _ => {}
        }
    }
    tokens.len()
}

/// `ADD CONSTRAINT name NOT NULL col [NO INHERIT]` of `ALTER TABLE`.
fn add_constraint_not_null(text: &str, tokens: &[Located], out: &mut Rewritten) {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate() {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        let shaped = depth == 0
            && is_word(&t.token, "ADD")
            && tokens
                .get(i + 1)
                .is_some_and(|t| is_word(&t.token, "CONSTRAINT"))
            && tokens.get(i + 3).is_some_and(|t| is_word(&t.token, "NOT"))
            && tokens.get(i + 4).is_some_and(|t| is_word(&t.token, "NULL"))
            && tokens
                .get(i + 5)
                .is_some_and(|t| matches!(t.token, Token::Word(_)));
        if !shaped {
            continue;
        }
        let column = &tokens[i + 5];
        let end = element_end(tokens, i + 6);
        let tail = &tokens[i + 6..end];
        let no_inherit =
            tail.len() == 2 && is_word(&tail[0].token, "NO") && is_word(&tail[1].token, "INHERIT");
        if !(tail.is_empty() || no_inherit) {
            continue;
        }
        let (start, stop) = (t.start, tokens[end - 1].end);
        let column = &text[column.start..column.end];
        let words = ["ALTER", "COLUMN", column, "SET", "NOT", "NULL"];
        let Some(laid_out) = lay_out(&out.text[start..stop], &words) else {
            continue;
        };
        out.text.replace_range(start..stop, &laid_out);
        out.clauses.push("ADD CONSTRAINT NOT NULL".into());
    }
}

/// `words`, separated by spaces, in a text of exactly `original`'s length
/// in bytes that keeps its line breaks where they were (a word never
/// straddles one), padded with spaces; `None` when they do not fit.
fn lay_out(original: &str, words: &[&str]) -> Option<String> {
    let bytes = original.as_bytes();
    let mut out: Vec<u8> = bytes
        .iter()
        .map(|&b| if b == b'\n' || b == b'\r' { b } else { b' ' })
        .collect();
    let mut at = 0;
    for word in words {
        loop {
            let end = at + word.len();
            if end > bytes.len() {
                return None;
            }
            match out[at..end].iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(offset) => at += offset + 1,
                None => break,
            }
        }
        out[at..at + word.len()].copy_from_slice(word.as_bytes());
        at += word.len() + 1;
    }
    String::from_utf8(out).ok()
}

/// A table element `[CONSTRAINT name] NOT NULL col [NO INHERIT]` of
/// `CREATE TABLE`, blanked with the comma before it.
fn not_null_elements(tokens: &[Located], out: &mut Rewritten) {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate() {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 1 => {
                let mut at = i + 1;
                if tokens
                    .get(at)
                    .is_some_and(|t| is_word(&t.token, "CONSTRAINT"))
                {
                    at += 2;
                }
                let shaped = tokens.get(at).is_some_and(|t| is_word(&t.token, "NOT"))
                    && tokens
                        .get(at + 1)
                        .is_some_and(|t| is_word(&t.token, "NULL"))
                    && tokens
                        .get(at + 2)
                        .is_some_and(|t| matches!(t.token, Token::Word(_)));
                if shaped {
                    let end = element_end(tokens, at + 3);
                    let stop = tokens[end - 1].end;
                    blank(&mut out.text, t.start, stop);
                    out.clauses.push("CONSTRAINT NOT NULL".into());
                }
            }
            _ => {}
        }
    }
}

/// `WITHOUT OVERLAPS` and `PERIOD col` of temporal keys; `VIRTUAL` after a
/// generated column's expression.
fn temporal_keys_and_virtual_columns(tokens: &[Located], out: &mut Rewritten) {
    let mut generated = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(|t| &t.token);
        if is_word(&t.token, "WITHOUT") && next.is_some_and(|n| is_word(n, "OVERLAPS")) {
            blank(&mut out.text, t.start, tokens[i + 1].end);
            out.clauses.push("WITHOUT OVERLAPS".into());
        }
        let in_list = i > 0 && matches!(tokens[i - 1].token, Token::LParen | Token::Comma);
        if is_word(&t.token, "PERIOD") && in_list && matches!(next, Some(Token::Word(_))) {
            blank(&mut out.text, t.start, t.end);
            out.clauses.push("PERIOD".into());
        }
        if is_word(&t.token, "GENERATED") {
            let expression = tokens[i..].iter().take(4).any(|t| is_word(&t.token, "AS"))
                && !tokens[i..]
                    .iter()
                    .take(5)
                    .any(|t| is_word(&t.token, "IDENTITY"));
            if expression {
                generated += 1;
            }
        }
        if is_word(&t.token, "VIRTUAL")
            && i > 0
            && matches!(tokens[i - 1].token, Token::RParen)
            && generated > 0
        {
            out.text.replace_range(t.start..t.end, "STORED ");
            out.virtual_columns.push(generated - 1);
            out.clauses.push("VIRTUAL".into());
        }
    }
}

/// The column list of `ON DELETE SET NULL (a, b)` / `SET DEFAULT (a)`.
fn referential_action_columns(tokens: &[Located], out: &mut Rewritten) {
    for (i, t) in tokens.iter().enumerate() {
        let shaped = i >= 3
            && is_word(&tokens[i - 3].token, "DELETE")
            && is_word(&tokens[i - 2].token, "SET")
            && (is_word(&tokens[i - 1].token, "NULL") || is_word(&tokens[i - 1].token, "DEFAULT"))
            && matches!(t.token, Token::LParen);
        if !shaped {
            continue;
        }
        let Some(close) = tokens[i..]
            .iter()
            .position(|t| matches!(t.token, Token::RParen))
        else {
            continue;
        };
        blank(&mut out.text, t.start, tokens[i + close].end);
        out.clauses.push("ON DELETE SET … (columns)".into());
    }
}

/// `WITH (FORCE)` (or `(FORCE)`) at the end of `DROP DATABASE`.
fn drop_database_force(tokens: &[Located], out: &mut Rewritten) {
    let n = tokens.len();
    if n < 4 || !matches!(tokens[n - 1].token, Token::RParen) {
        return;
    }
    let Some(open) = tokens
        .iter()
        .rposition(|t| matches!(t.token, Token::LParen))
    else {
        return;
    };
    let options = &tokens[open + 1..n - 1];
    if options.is_empty()
        || !options
            .iter()
            .all(|t| is_word(&t.token, "FORCE") || matches!(t.token, Token::Comma))
    {
        return;
    }
    let start = match open.checked_sub(1) {
        Some(with) if is_word(&tokens[with].token, "WITH") => tokens[with].start,
        _ => tokens[open].start,
    };
    blank(&mut out.text, start, tokens[n - 1].end);
    out.clauses.push("WITH (FORCE)".into());
}

#[cfg(test)]
mod tests {
    use super::lay_out;

    #[test]
    fn a_rewrite_keeps_line_breaks_and_byte_length() {
        let original = "ADD CONSTRAINT t_b_nn\n  NOT NULL \"né\"";
        let laid = lay_out(
            original,
            &["ALTER", "COLUMN", "\"né\"", "SET", "NOT", "NULL"],
        )
        .unwrap();
        assert_eq!(laid.len(), original.len());
        assert_eq!(laid.find('\n'), original.find('\n'));
        assert_eq!(
            laid.split_whitespace().collect::<Vec<_>>(),
            ["ALTER", "COLUMN", "\"né\"", "SET", "NOT", "NULL"]
        );
        assert!(lay_out("ADD x", &["ALTER", "COLUMN"]).is_none());
    }

    #[test]
    fn positions_after_a_multi_line_rewrite_stay_the_files() {
        let sql = "ALTER TABLE t ADD CONSTRAINT t_b_nn\n  NOT NULL b,\n  ADD COLUMN c char(2)";
        let (ast, recognised) = super::super::recover(sql).expect("recovered");
        assert_eq!(recognised.blanked, ["ADD CONSTRAINT NOT NULL"]);
        let ast = ast.expect("parsed").to_string();
        assert!(
            ast.contains("SET NOT NULL") && ast.contains("ADD COLUMN c CHAR(2)"),
            "{ast}"
        );
    }
}
