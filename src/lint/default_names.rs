//! PostgreSQL's names for what a statement creates without naming it:
//! `ADD UNIQUE (a)` on `t` is `t_a_key`, an inline `REFERENCES` on `b` is
//! `t_b_fkey`, a primary key `t_pkey`, `CHECK (n > 0)` `t_n_check`, an
//! unnamed index on `(a, b)` `t_a_b_idx`. Built as the server's
//! `makeObjectName`, `ChooseConstraintName` and `ChooseRelationName` build
//! them: the parts cut to fit 63 bytes (the longer part first, never inside
//! a character), and a number after the label while the name is taken
//! (`t_a_key1`).

use super::names::ident;
use sqlparser::ast::Expr;

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
const MAX_NAME_BYTES: usize = 63;

/// What the implicit object is, by the label its name ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    /// A primary key (and its index): `<table>_pkey`.
    PrimaryKey,
    /// A unique constraint (and its index): `<table>_<columns>_key`.
    Unique,
    /// A foreign key: `<table>_<columns>_fkey`.
    ForeignKey,
    /// A check constraint: `<table>_<column>_check` when it reads one
    /// column, else `<table>_check`.
    Check,
    /// An exclusion constraint (and its index): `<table>_<columns>_excl`.
    Exclusion,
    /// An index `CREATE INDEX` was not given a name for: `<table>_<columns>_idx`.
    Index,
    /// The sequence of a `serial` or identity column: `<table>_<column>_seq`.
    Sequence,
}

impl Label {
    fn suffix(self) -> &'static str {
        match self {
            Label::PrimaryKey => "pkey",
            Label::Unique => "key",
            Label::ForeignKey => "fkey",
            Label::Check => "check",
            Label::Exclusion => "excl",
            Label::Index => "idx",
            Label::Sequence => "seq",
        }
    }
}

/// The longest prefix of `text` of at most `bytes` bytes that ends on a
/// character boundary (`pg_mbcliplen`).
fn clipped(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The columns' part of a name, `a_b_c`, as `ChooseIndexNameAddition`
/// joins them: each name cut at 63 bytes, and no more names once the
/// result is that long.
pub(crate) fn joined_columns<S: AsRef<str>>(columns: &[S]) -> String {
    let mut joined = String::new();
    for column in columns {
        if !joined.is_empty() {
            joined.push('_');
        }
        joined.push_str(clipped(column.as_ref(), MAX_NAME_BYTES));
        if joined.len() >= MAX_NAME_BYTES {
            break;
        }
    }
    joined
}

/// The name an index gives its key column `expr`, as `FigureIndexColname`
/// does: a column its own name, a function call the function's, a cast
/// what it casts (or its type), anything else `expr`.
pub(crate) fn index_column_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(column) => ident(column),
        Expr::CompoundIdentifier(parts) => parts.last().map_or_else(|| "expr".into(), ident),
        Expr::Function(function) => function
            .name
            .0
            .last()
            .and_then(|part| part.as_ident())
            .map_or_else(|| "expr".into(), ident),
        Expr::Nested(inner) => index_column_name(inner),
        Expr::Cast {
            expr, data_type, ..
        } => match index_column_name(expr).as_str() {
            "expr" => data_type
                .to_string()
                .split(['(', ' '])
                .next()
                .unwrap_or("expr")
                .to_lowercase(),
            name => name.to_string(),
        },
        _ => "expr".into(),
    }
}

/// The key columns' names of an unnamed index, a repeated one numbered
/// (`expr`, `expr1`) as `ChooseIndexColumnNames` does.
pub(crate) fn index_column_names<'e>(exprs: impl IntoIterator<Item = &'e Expr>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for expr in exprs {
        let original = index_column_name(expr);
        let mut name = original.clone();
        let mut n = 1;
        while names.contains(&name) {
            name = format!("{original}{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// `name1_name2_label`, with `name1` and `name2` shortened (the longer one
/// first) until it fits in 63 bytes, as `makeObjectName` does.
fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = usize::from(name2.is_some()) + label.len() + 1;
    let available = MAX_NAME_BYTES.saturating_sub(overhead);
    let (mut first, mut second) = (name1.len(), name2.map_or(0, str::len));
    while first + second > available {
        if first > second {
            first -= 1;
        } else {
            second -= 1;
        }
    }
    let mut name = clipped(name1, first).to_string();
    if let Some(name2) = name2 {
        name.push('_');
        name.push_str(clipped(name2, second));
    }
    name.push('_');
    name.push_str(label);
    name
}

/// The name PostgreSQL gives an implicit object of `table` (unqualified)
/// over `columns` (already joined, see [`joined_columns`]; `None` for a
/// primary key or a check that reads no column), skipping names `taken`
/// says are in use, as `ChooseConstraintName` and `ChooseRelationName` do.
pub(crate) fn choose(
    table: &str,
    columns: Option<&str>,
    label: Label,
    taken: impl Fn(&str) -> bool,
) -> String {
    let table = clipped(table.rsplit('.').next().unwrap_or(table), MAX_NAME_BYTES);
    let columns = match label {
        Label::PrimaryKey => None,
        _ => columns.filter(|c| !c.is_empty()),
    };
    let mut attempt = 0u32;
    loop {
        let suffix = match attempt {
            0 => label.suffix().to_string(),
            n => format!("{}{n}", label.suffix()),
        };
        let name = object_name(table, columns, &suffix);
        if !taken(&name) {
            return name;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(_: &str) -> bool {
        false
    }

    #[test]
    fn a_serial_or_identity_columns_sequence_is_named_like_a_relation() {
        assert_eq!(
            choose("app.t", Some("id"), Label::Sequence, free),
            "t_id_seq"
        );
        assert_eq!(
            choose("t", Some("id"), Label::Sequence, |n| n == "t_id_seq"),
            "t_id_seq1"
        );
    }

    #[test]
    fn names_each_kind_as_postgresql_does() {
        let ab = joined_columns(&["a", "b"]);
        assert_eq!(choose("t", Some("id"), Label::PrimaryKey, free), "t_pkey");
        assert_eq!(choose("app.t", Some(&ab), Label::Unique, free), "t_a_b_key");
        assert_eq!(choose("t", Some("b"), Label::ForeignKey, free), "t_b_fkey");
        assert_eq!(choose("t", Some("n"), Label::Check, free), "t_n_check");
        // Checked on PostgreSQL 15: `CHECK (char_length(c) > b)` is t3_check.
        assert_eq!(choose("t", None, Label::Check, free), "t_check");
        assert_eq!(choose("t", Some("p"), Label::Exclusion, free), "t_p_excl");
        assert_eq!(choose("t", Some(&ab), Label::Index, free), "t_a_b_idx");
    }

    #[test]
    fn a_taken_name_gets_the_next_number() {
        let taken = |name: &str| name == "t_a_key" || name == "t_a_key1";
        assert_eq!(choose("t", Some("a"), Label::Unique, taken), "t_a_key2");
    }

    #[test]
    fn long_names_are_cut_as_postgresql_cuts_them() {
        // Checked on PostgreSQL 15: CREATE TABLE with these names, then
        // the names in pg_constraint.
        let table = "a_table_name_that_is_quite_long_indeed_for_testing";
        let column = "a_column_name_that_is_also_rather_long_x";
        assert_eq!(
            choose(table, Some(column), Label::ForeignKey, free),
            "a_table_name_that_is_quite_lo_a_column_name_that_is_also_r_fkey"
        );
        assert_eq!(
            choose(table, Some(column), Label::ForeignKey, free).len(),
            63
        );
        // Never inside a character: the table's name is cut to 63 bytes
        // when it is read (31 characters of two bytes), then to 27.
        let name = choose(&"é".repeat(40), Some("b"), Label::Check, free);
        assert_eq!(name, format!("{}_b_check", "é".repeat(27)));
    }

    #[test]
    fn index_columns_are_named_as_postgresql_names_them() {
        // Checked on PostgreSQL 15: `CREATE INDEX ON t2 ((a + b), a,
        // lower('x'))` is t2_expr_a_lower_idx.
        let sql = "CREATE INDEX ON t ((a + b), a, lower('x'), (a - b), (b::text), ((a + 1)::text))";
        let parsed =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql)
                .unwrap();
        let sqlparser::ast::Statement::CreateIndex(index) = &parsed[0] else {
            panic!("{parsed:?}")
        };
        assert_eq!(
            index_column_names(index.columns.iter().map(|c| &c.column.expr)),
            ["expr", "a", "lower", "expr1", "b", "text"]
        );
    }

    #[test]
    fn joined_columns_stop_at_the_name_length() {
        let long: Vec<String> = (0..20).map(|i| format!("column_{i}")).collect();
        let joined = joined_columns(&long);
        assert!(joined.len() >= 63 && joined.len() < 63 + 10, "{joined}");
    }
}
