//! `schemactl lint`: static checks of a migrations directory, for CI before
//! merge. No database is needed.
//!
//! The directory is replayed in version order into one model of the
//! schema (`schema_model`), so that rules can ask what existed before a
//! statement and what exists after a migration. Each statement is parsed on its own with `sqlparser`: one
//! that does not parse is reported once (`unparseable-statement`) and the
//! rest of the file is still linted. Rules are one file each under
//! `rules/`, listed once in `rules::RULES`.

pub(crate) mod project;

pub mod baseline;
mod ddl;
pub(crate) mod default_names;
pub mod destroyed;
pub mod finding;
pub(crate) mod fix;
mod linter;
pub(crate) mod mongo_schema;
mod names;
mod nesting;
pub(crate) mod recognise;
pub mod report;
mod rule_catalogue;
pub(crate) mod rules;
pub(crate) mod schema_model;
pub(crate) mod suppression;
pub mod table_sizes;

pub(crate) use destroyed::DataLoss;
pub use destroyed::DestroyedData;
pub use finding::{Finding, Severity};
pub use fix::FixedFile;
pub use linter::Linter;
pub use project::LintOutcome;
pub use rule_catalogue::RuleDescription;
use rules::{Rule, RULES};
pub(crate) use schema_model::Schema;

use crate::model::text_position::{LineIndex, TextPosition};
use crate::model::{Direction, Migration, Script, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// How to lint: the configured severities, every id checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct LintOptions {
    /// Severity overrides by rule id; `None` turns a rule off.
    pub(crate) severities: BTreeMap<String, Option<Severity>>,
}

impl LintOptions {
    /// Options from `[lint.rules]`; every id must name a rule. `config_file`
    /// is named in the error.
    pub(crate) fn configured(
        severities: &BTreeMap<String, Option<Severity>>,
        config_file: &std::path::Path,
    ) -> Result<Self, crate::Error> {
        if let Some(unknown) = severities.keys().find(|id| rules::find(id).is_none()) {
            return Err(crate::Error::Config {
                path: config_file.to_path_buf(),
                message: format!(
                    "lint.rules: `{unknown}` is not a rule id (see the book's rule index, docs/lint/rules.md)"
                ),
            });
        }
        Ok(Self {
            severities: severities.clone(),
        })
    }

    /// The severity of `rule` after configuration; `None` when it is off.
    pub(crate) fn severity(&self, rule: &str) -> Option<Severity> {
        match self.severities.get(rule) {
            Some(configured) => *configured,
            None => rules::find(rule).map(|r| r.default_severity()),
        }
    }
}

/// One statement of a script with its parse result.
#[derive(Debug)]
pub(crate) struct ParsedStatement<'a> {
    /// The statement's text and position.
    pub statement: &'a Statement,
    /// The syntax tree, when sqlparser could parse it (perhaps after
    /// clauses it lacks were blanked: see [`recognise`]).
    pub ast: Option<sqlparser::ast::Statement>,
    /// What [`recognise`] recovered, when sqlparser could not parse the
    /// statement as written.
    pub recognised: Option<recognise::Recognised>,
    /// The parser's reason, when neither could read it.
    pub error: Option<(TextPosition, String)>,
    /// Its tokens as a fingerprint hashes them ([`finding::normalised`]),
    /// made from the parser's tokens; `None` when it could not be
    /// tokenised.
    pub normalised: Option<String>,
}

/// What a statement rule sees.
pub(crate) struct StatementContext<'a> {
    /// The script the statement is in.
    pub script: &'a Script,
    /// Up or down.
    pub direction: Direction,
    /// The statement.
    pub statement: &'a Statement,
    /// Its syntax tree, when it parsed.
    pub ast: Option<&'a sqlparser::ast::Statement>,
    /// What was recovered of a statement sqlparser does not read whole.
    pub recognised: Option<&'a recognise::Recognised>,
    /// The schema just before the statement.
    pub schema: Schema<'a>,
    /// The transaction each statement of the script runs in
    /// ([`Script::transaction_units`]); empty when it cannot be split.
    pub units: &'a [Option<usize>],
    /// For each statement, whether a later one runs outside its
    /// transaction ([`stays_done_if_a_later_statement_fails`], worked out
    /// once per script).
    ///
    /// [`stays_done_if_a_later_statement_fails`]: StatementContext::stays_done_if_a_later_statement_fails
    pub later_elsewhere: &'a [bool],
    /// The statement's index in the script.
    pub index: usize,
}

/// What a migration rule sees.
pub(crate) struct MigrationContext<'a> {
    /// The migration.
    pub migration: &'a Migration,
    /// The tables its up script creates.
    pub created_tables: &'a [CreatedTable],
    /// The objects its up script named, replayed over the earlier
    /// migrations' (see [`schema_model`]).
    pub up_replay: &'a schema_model::ReplayState,
    /// The same after its down script too, when it has one.
    pub down_replay: Option<&'a schema_model::ReplayState>,
    /// The schema after the up script.
    pub schema_after: Schema<'a>,
    /// The objects the earlier migrations' up scripts left, as replayed.
    pub before: &'a std::collections::BTreeMap<schema_model::Object, schema_model::Tracked>,
    /// Whether an earlier migration had a statement that may change
    /// objects unseen (then `before` may miss some).
    pub before_opaque: bool,
}

/// A finding before configuration and suppression are applied.
#[derive(Debug, Clone)]
pub(crate) struct RawFinding {
    /// The rule.
    pub rule: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Byte offset in the file.
    pub offset: usize,
    /// Characters to underline.
    pub length: usize,
    /// What is wrong and why it matters.
    pub message: String,
    /// What to write instead.
    pub help: String,
    /// The most severe this finding may be, whatever the rule's severity:
    /// `Some(Warning)` for a finding the rule cannot be sure of.
    pub at_most: Option<Severity>,
    /// At least this severity (unless the rule is off): a statement
    /// PostgreSQL rejects is an error even where unparsed ones warn.
    pub at_least: Option<Severity>,
    /// The table whose locks or rows the finding is about, for
    /// [`table_sizes`].
    pub table: Option<String>,
}

impl RawFinding {
    /// The finding, about `table`'s locks or rows.
    pub fn on_table(mut self, table: &str) -> Self {
        self.table = Some(table.to_string());
        self
    }
}

impl StatementContext<'_> {
    /// The statement's SQL.
    pub fn text(&self) -> &str {
        self.statement.text(&self.script.sql)
    }

    /// Whether the runner applies this statement inside a transaction
    /// block (schemactl's, the script's own `BEGIN … COMMIT`, or the
    /// implicit one of a message of several statements).
    pub fn transactional(&self) -> bool {
        match self.units.get(self.index) {
            Some(unit) => unit.is_some(),
            None => !self.script.directives.no_transaction,
        }
    }

    /// Whether a statement after this one can fail while this one stays
    /// committed: it runs on its own, or a later statement runs in another
    /// transaction than its own.
    pub fn stays_done_if_a_later_statement_fails(&self) -> bool {
        match self.later_elsewhere.get(self.index) {
            Some(&later_elsewhere) => later_elsewhere,
            None => !self.transactional(),
        }
    }

    /// The script's text from the start of this statement's transaction to
    /// the statement: what commits or rolls back together with it. Empty for
    /// a statement that runs on its own.
    pub fn earlier_in_its_transaction(&self) -> &str {
        let Some(Some(own)) = self.units.get(self.index) else {
            return "";
        };
        let first = self.units[..self.index]
            .iter()
            .rposition(|unit| unit.as_ref() != Some(own))
            .map_or(0, |i| i + 1);
        let Ok(statements) = self.script.statements() else {
            return "";
        };
        let start = statements.get(first).map_or(0, |s| s.start);
        self.script
            .sql
            .get(start..self.statement.start)
            .unwrap_or("")
    }

    /// Whether `table` was created by this migration (earlier in it), so that
    /// locking it harms nobody. Unknown tables count as existing.
    pub fn table_is_new(&self, table: &str) -> bool {
        self.schema.table_is_new(table)
    }

    /// Whether this is an up script changing a table that already existed:
    /// what destructive and breaking-change rules look at (a down script
    /// undoing its up, or a table created earlier in the same migration,
    /// harms nobody).
    pub fn changes_existing_table(&self, table: &str) -> bool {
        self.direction == Direction::Up && !self.table_is_new(table)
    }

    /// A finding pointing at the first tokens of the statement that spell
    /// `needle` (whole words, any case, never inside a string, identifier
    /// or comment), or at the statement's first word.
    pub fn finding(
        &self,
        rule: &dyn Rule,
        needle: Option<&str>,
        message: String,
        help: impl Into<String>,
    ) -> RawFinding {
        let text = self.text();
        let (offset, length) = needle.and_then(|n| find_tokens(text, n)).unwrap_or((
            0,
            text.split_whitespace()
                .next()
                .map_or(1, |w| w.chars().count()),
        ));
        self.raw(rule, offset, length, message, help.into())
    }

    /// A finding pointing at an identifier of the statement's syntax tree,
    /// by the span `sqlparser` gave it (relative to the statement's text).
    pub fn finding_at(
        &self,
        rule: &dyn Rule,
        ident: &sqlparser::ast::Ident,
        message: String,
        help: impl Into<String>,
    ) -> RawFinding {
        if ident.span.start.line == 0 {
            return self.finding(rule, Some(&ident.value), message, help);
        }
        self.finding_over(rule, ident.span, message, help)
    }

    /// A finding pointing at a node of the statement's syntax tree by its
    /// span (underlined to the end of its first line), or at the statement's
    /// first word when the parser gave the node no span.
    pub fn finding_over(
        &self,
        rule: &dyn Rule,
        span: sqlparser::tokenizer::Span,
        message: String,
        help: impl Into<String>,
    ) -> RawFinding {
        if span.start.line == 0 {
            return self.finding(rule, None, message, help);
        }
        let text = self.text();
        let index = LineIndex::new(text);
        let start = index.offset(text, span.start.line as usize, span.start.column as usize);
        let end = index.offset(text, span.end.line as usize, span.end.column as usize);
        let underlined = text[start..end.max(start)].lines().next().unwrap_or("");
        let length = underlined.chars().count().max(1);
        self.raw(rule, start, length, message, help.into())
    }

    fn raw(
        &self,
        rule: &dyn Rule,
        offset: usize,
        length: usize,
        message: String,
        help: String,
    ) -> RawFinding {
        RawFinding {
            rule: rule.id(),
            path: self.script.path.clone(),
            offset: self.statement.start + offset,
            length,
            message,
            help,
            at_most: None,
            at_least: None,
            table: None,
        }
    }
}

/// The byte offset and character length of the first run of tokens of
/// `text` that spell the words of `needle` (any case).
pub(crate) fn find_tokens(text: &str, needle: &str) -> Option<(usize, usize)> {
    use crate::model::statements::mentions_any;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let words: Vec<String> = needle
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    // Each word is somewhere in the text when it is one of its tokens:
    // most statements are ruled out without tokenising them again.
    if words.is_empty() || !words.iter().all(|word| mentions_any(text, &[word])) {
        return None;
    }
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .ok()?;
    let significant: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let index = LineIndex::new(text);
    let offset = |line: u64, column: u64| index.offset(text, line as usize, column as usize);
    significant.windows(words.len()).find_map(|window| {
        let matches = window.iter().zip(&words).all(|(token, word)| {
            matches!(&token.token, Token::Word(w) if w.value.to_ascii_lowercase() == *word)
        });
        if !matches {
            return None;
        }
        let first = window.first()?.span.start;
        let last = window.last()?.span.end;
        let (start, end) = (
            offset(first.line, first.column),
            offset(last.line, last.column),
        );
        Some((start, text[start..end.max(start)].chars().count().max(1)))
    })
}

/// How lint read one statement (see [`StatementReading::of`]): a
/// measurement hook for `cargo xtask parse-coverage`, built with the
/// `harness` feature only.
#[cfg(feature = "harness")]
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementReading {
    /// sqlparser parsed it as written.
    Whole,
    /// sqlparser parsed it after clauses it lacks were blanked.
    Blanked,
    /// Recognised by its leading words only (`command`: what they name).
    Recognised {
        /// The command, as `CREATE AGGREGATE`.
        command: String,
    },
    /// Not read: the statement's line and the parser's reason.
    Unread {
        /// The statement's first line.
        line: usize,
        /// Why sqlparser could not parse it.
        reason: String,
    },
}

#[cfg(feature = "harness")]
impl StatementReading {
    /// How lint reads each statement of a script (what `cargo xtask
    /// parse-coverage` counts).
    pub fn of(script: &Script) -> Vec<StatementReading> {
        parse(script)
            .into_iter()
            .map(|item| match (item.ast, item.recognised) {
                (Some(_), None) => StatementReading::Whole,
                (Some(_), Some(_)) => StatementReading::Blanked,
                (None, Some(r)) => StatementReading::Recognised { command: r.command },
                (None, None) => StatementReading::Unread {
                    line: item.statement.position.line,
                    reason: item.error.map(|(_, e)| e).unwrap_or_default(),
                },
            })
            .collect()
    }
}

/// Parses every statement of a script on its own.
#[cfg(feature = "harness")]
fn parse(script: &Script) -> Vec<ParsedStatement<'_>> {
    let Ok(statements) = script.statements() else {
        return Vec::new();
    };
    statements
        .iter()
        .map(|statement| parse_statement(statement, statement.text(&script.sql)))
        .collect()
}

/// Parses one statement: with sqlparser, else with [`recognise`].
fn parse_statement<'a>(statement: &'a Statement, text: &str) -> ParsedStatement<'a> {
    let dialect = PostgreSqlDialect {};
    match sqlparser::tokenizer::Tokenizer::new(&dialect, text).tokenize_with_location() {
        Ok(tokens) => parse_tokens(statement, text, tokens),
        Err(_) => parsed(statement, text, Parser::parse_sql(&dialect, text), None),
    }
}

/// [`parse_statement`] from the statement's tokens (positions relative to
/// it), without tokenising it again.
fn parse_tokens<'a>(
    statement: &'a Statement,
    text: &str,
    tokens: Vec<sqlparser::tokenizer::TokenWithSpan>,
) -> ParsedStatement<'a> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let result = parser.parse_statements();
    let tokens = parser.into_tokens();
    // A `COPY … FROM stdin` payload is delimited by the script around it:
    // its text is tokenised alone when a fingerprint needs it.
    let normalised = (!tokens
        .iter()
        .any(|t| matches!(t.token, sqlparser::tokenizer::Token::CopyData { .. })))
    .then(|| finding::normalised_tokens(tokens.iter().map(|t| &t.token), text.len()));
    parsed(statement, text, result, normalised)
}

fn parsed<'a>(
    statement: &'a Statement,
    text: &str,
    result: Result<Vec<sqlparser::ast::Statement>, sqlparser::parser::ParserError>,
    normalised: Option<String>,
) -> ParsedStatement<'a> {
    let mut parsed = parsed_as(statement, text, result);
    parsed.normalised = normalised;
    parsed
}

/// The statement as sqlparser or [`recognise`] read it.
fn parsed_as<'a>(
    statement: &'a Statement,
    text: &str,
    result: Result<Vec<sqlparser::ast::Statement>, sqlparser::parser::ParserError>,
) -> ParsedStatement<'a> {
    match result {
        Ok(mut asts) if asts.len() == 1 => ParsedStatement {
            statement,
            ast: asts.pop(),
            recognised: None,
            error: None,
            normalised: None,
        },
        Ok(_) => ParsedStatement {
            statement,
            ast: None,
            recognised: None,
            error: None,
            normalised: None,
        },
        Err(e) => match recognise::recover(text) {
            Some((ast, recognised)) => ParsedStatement {
                statement,
                ast,
                recognised: Some(recognised),
                error: None,
                normalised: None,
            },
            None => ParsedStatement {
                statement,
                ast: None,
                recognised: None,
                error: Some((error_position(statement, &e.to_string()), e.to_string())),
                normalised: None,
            },
        },
    }
}

/// sqlparser says "… at Line: L, Column: C" relative to the statement.
fn error_position(statement: &Statement, message: &str) -> TextPosition {
    let number_after = |label: &str| -> Option<usize> {
        let rest = &message[message.rfind(label)? + label.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    match (number_after("Line:"), number_after("Column:")) {
        (Some(1), Some(column)) => TextPosition {
            line: statement.position.line,
            column: statement.position.column + column - 1,
        },
        (Some(line), Some(column)) => TextPosition {
            line: statement.position.line + line - 1,
            column,
        },
        _ => statement.position,
    }
}

/// Lints `migrations` (ordered by version) and returns the findings that
/// survive configuration and suppression, ordered by file and position.
///
/// Statements stream: parsed on this thread for a small project, by
/// parser threads reading ahead through bounded channels for a large one;
/// each syntax tree is dropped once the rules and the schema model have
/// seen it, so that memory stays bounded by the schema, not by the size
/// of the migrations.
///
/// Fails only when the linter itself broke (a parser thread panicked): the
/// findings would otherwise be silently shifted onto the wrong migrations.
pub(crate) fn lint(
    migrations: &[Migration],
    options: &LintOptions,
) -> Result<Vec<Finding>, crate::Error> {
    let size: usize = migrations
        .iter()
        .flat_map(|m| std::iter::once(&m.up).chain(m.down.as_ref()))
        .map(|script| script.sql.len())
        .sum();
    let checked = if size < PARSE_INLINE_BELOW {
        lint_inline(migrations)?
    } else {
        lint_threaded(migrations)?
    };
    Ok(finish(migrations, checked, options))
}

/// Below this much SQL, statements are parsed on the linting thread: a
/// project of hundreds of small files (Ory Kratos: 557 files, 47 KB) spent
/// more on parser threads' hand-offs, cross-thread frees and their memory
/// arenas than their parsing in parallel saved.
const PARSE_INLINE_BELOW: usize = 512 * 1024;

/// Parses and checks every migration on this thread.
fn lint_inline(migrations: &[Migration]) -> Result<Checked, crate::Error> {
    let mut driver = Driver::default();
    for migration in migrations {
        let mut parsed = parsed_in_order(migration);
        driver.migration(migration, &mut || parsed.next())?;
    }
    Ok(driver.checked)
}

/// Parser threads read the statements ahead, in order, through bounded
/// channels; this thread checks them.
fn lint_threaded(migrations: &[Migration]) -> Result<Checked, crate::Error> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let workers = threads.min(migrations.len()).max(1);
    std::thread::scope(|scope| -> Result<Checked, crate::Error> {
        let receivers: Vec<_> = (0..workers)
            .map(|worker| {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<Parsed>(READ_AHEAD);
                scope.spawn(move || parse_ahead(migrations, worker, workers, &sender));
                receiver
            })
            .collect();
        let mut driver = Driver::default();
        for (i, migration) in migrations.iter().enumerate() {
            let receiver = &receivers[i % workers];
            driver.migration(migration, &mut || receiver.recv().ok())?;
        }
        Ok(driver.checked)
    })
}

/// How many statements a parser thread may parse ahead of the checks. The
/// 1 MB project of `cargo xtask lint-bench` (long function bodies) peaked
/// at 20.3 MiB with 256, 14.7 with 64 and 13.6 with 32 (Squawk: 11.2),
/// in the same wall time within this machine's spread (91, 89, 93 ms);
/// 16 and 8 were slower, and parsing on this thread alone 12.2 MiB in
/// 105 ms.
const READ_AHEAD: usize = 32;

/// What a parser thread sends: a statement, or the end of a script.
enum Parsed<'a> {
    Statement(Box<ParsedStatement<'a>>),
    EndOfScript,
}

/// Parses the scripts of every `workers`-th migration, in order.
fn parse_ahead<'a>(
    migrations: &'a [Migration],
    worker: usize,
    workers: usize,
    sender: &std::sync::mpsc::SyncSender<Parsed<'a>>,
) {
    for migration in migrations.iter().skip(worker).step_by(workers) {
        for item in parsed_in_order(migration) {
            if sender.send(item).is_err() {
                return;
            }
        }
    }
}

/// A migration's statements as the checks take them: the up script's,
/// the end of it, then the down script's and the end of that. Both
/// scripts are split (and tokenised) here, before the checks ask for
/// their statements, so that each is tokenised once; each statement is
/// parsed when it is taken.
fn parsed_in_order(migration: &Migration) -> impl Iterator<Item = Parsed<'_>> {
    let scripts: Vec<_> = std::iter::once(&migration.up)
        .chain(migration.down.as_ref())
        .map(parsed_statements)
        .collect();
    scripts.into_iter().flat_map(|statements| {
        statements
            .map(|item| Parsed::Statement(Box::new(item)))
            .chain(std::iter::once(Parsed::EndOfScript))
    })
}

/// One script's statements, parsed one by one as they are taken;
/// tokenised once, for the split and for the parser, when the script is
/// small enough to keep its tokens.
fn parsed_statements(script: &Script) -> Box<dyn Iterator<Item = ParsedStatement<'_>> + '_> {
    match script.statements_and_tokens() {
        Some((statements, tokens)) => {
            Box::new(statements.iter().zip(tokens).map(|(statement, tokens)| {
                parse_tokens(statement, statement.text(&script.sql), tokens)
            }))
        }
        None => Box::new(
            script
                .statements()
                .into_iter()
                .flatten()
                .map(|statement| parse_statement(statement, statement.text(&script.sql))),
        ),
    }
}

/// The state carried from migration to migration.
#[derive(Default)]
struct Driver {
    history: schema_model::Replay<'static>,
    checked: Checked,
}

/// What the checks found, before ignores and severities.
#[derive(Debug, Default)]
struct Checked {
    /// The findings.
    raw: Vec<RawFinding>,
    /// Each script's statements as fingerprints hash them (by statement
    /// index), scripts in the order of [`finish`]: up, then down, migration
    /// by migration.
    normalised: Vec<Vec<Option<String>>>,
}

impl Driver {
    /// Checks `migration`, whose statements `parsed` gives in the order of
    /// [`parsed_in_order`] (`None`: the parser is gone, a bug).
    fn migration<'a>(
        &mut self,
        migration: &'a Migration,
        parsed: &mut dyn FnMut() -> Option<Parsed<'a>>,
    ) -> Result<(), crate::Error> {
        let broken = || {
            crate::Error::InvalidArgument(format!(
                "the linter failed while parsing migration {} (a bug in schemactl: please report it with that file); no result is given rather than a wrong one",
                migration.label()
            ))
        };
        let mut replay = schema_model::Replay::on_top_of(&self.history);
        let mut created_tables = Vec::new();
        let mut next = || match parsed() {
            Some(Parsed::Statement(item)) => Ok(Some(*item)),
            Some(Parsed::EndOfScript) => Ok(None),
            None => Err(broken()),
        };
        check_script(
            &migration.up,
            Direction::Up,
            &mut next,
            &mut replay,
            &mut |item| {
                if let Some(sqlparser::ast::Statement::CreateTable(create)) = &item.ast {
                    created_tables.push(CreatedTable {
                        name: names::object(&create.name),
                        offset: item.statement.start,
                        exempt: create.partition_of.is_some()
                            || create.temporary
                            || copies_indexes(item),
                    });
                }
            },
            &mut self.checked,
        )?;
        let after_up = replay.state();
        let mut down_replay = None;
        if let Some(script) = &migration.down {
            // A down script is checked against the schema after its up
            // script, and replayed on from there; the next migration builds
            // on the up (`after_up`).
            replay.forget_opaque();
            check_script(
                script,
                Direction::Down,
                &mut next,
                &mut replay,
                &mut |_| {},
                &mut self.checked,
            )?;
            down_replay = Some(replay.state());
        }
        drop(replay);
        let context = MigrationContext {
            migration,
            created_tables: &created_tables,
            up_replay: &after_up,
            down_replay: down_replay.as_ref(),
            schema_after: after_up.over(&self.history),
            before: &self.history.objects,
            before_opaque: self.history.ever_opaque(),
        };
        for rule in RULES {
            rule.check_migration(&context, &mut self.checked.raw);
        }
        self.history.absorb(after_up);
        Ok(())
    }
}

/// A table an up script creates, for the rules that judge it by the end of
/// the migration.
#[derive(Debug, Clone)]
pub(crate) struct CreatedTable {
    /// Its name.
    pub name: String,
    /// Where its `CREATE TABLE` starts in the up script.
    pub offset: usize,
    /// A partition or temporary table (no primary key of its own
    /// expected), or a `LIKE … INCLUDING ALL` copy (its source's key).
    pub exempt: bool,
}

/// Whether the statement is a `CREATE TABLE (LIKE source INCLUDING ALL)`
/// (or `INCLUDING INDEXES`), so that the copy gets its source's primary key.
fn copies_indexes(item: &ParsedStatement<'_>) -> bool {
    item.recognised
        .as_ref()
        .is_some_and(|recognised| recognised.like_copies_indexes)
}

/// Checks one script as its statements arrive from `next` (`Ok(None)` at
/// the end of the script), replaying each into the schema model after the
/// rules saw the schema before it, and handing each to `seen` before its
/// syntax tree is dropped. The parser
/// thread always sends the end of the script, even for SQL that cannot be
/// split, so that the stream stays in step.
fn check_script<'a>(
    script: &'a Script,
    direction: Direction,
    next: &mut dyn FnMut() -> Result<Option<ParsedStatement<'a>>, crate::Error>,
    replay: &mut schema_model::Replay,
    seen: &mut dyn FnMut(&ParsedStatement<'a>),
    checked: &mut Checked,
) -> Result<(), crate::Error> {
    let raw = &mut checked.raw;
    if let Err(problem) = script.statements() {
        let offset = problem.position.map_or(0, |p| {
            LineIndex::new(&script.sql).offset(&script.sql, p.line, p.column)
        });
        raw.push(RawFinding {
            rule: rules::unparseable_statement::ID,
            path: script.path.clone(),
            offset,
            length: 1,
            message: format!("`migrate` refuses this script: {}", problem.message),
            help: "fix the SQL so that it can be split into statements".into(),
            at_most: None,
            // `migrate` and `validate` refuse the script: it cannot run.
            at_least: Some(Severity::Error),
            table: None,
        });
    }
    let index = LineIndex::new(&script.sql);
    let units = script.transaction_units();
    let later_elsewhere = later_elsewhere(&units);
    let starts: Vec<usize> = script
        .statements()
        .map(|s| s.iter().map(|s| s.start).collect())
        .unwrap_or_default();
    let mut normalised = vec![None; starts.len()];
    while let Some(mut item) = next()? {
        if let Some((position, reason)) = &item.error {
            if rules::missing_semicolon::is_missing(reason, &script.sql, *position) {
                raw.push(RawFinding {
                    rule: rules::missing_semicolon::ID,
                    path: script.path.clone(),
                    offset: index.offset(&script.sql, position.line, position.column),
                    length: 1,
                    message: format!(
                        "PostgreSQL will not run this migration: the statement before line {} has no `;`, so it runs into this one",
                        position.line
                    ),
                    help: "end the previous statement with `;`".into(),
                    at_most: None,
                    at_least: None,
                    table: None,
                });
            } else {
                raw.push(unparseable(
                    script,
                    &index,
                    item.statement,
                    *position,
                    reason,
                ));
            }
        }
        let context_index = starts
            .binary_search(&item.statement.start)
            .unwrap_or(usize::MAX);
        let context = StatementContext {
            script,
            direction,
            statement: item.statement,
            ast: item.ast.as_ref(),
            recognised: item.recognised.as_ref(),
            schema: replay.schema(),
            units: &units,
            later_elsewhere: &later_elsewhere,
            index: context_index,
        };
        for rule in RULES {
            if direction == Direction::Down && rule.judges_design() {
                continue;
            }
            rule.check_statement(&context, raw);
        }
        replay.step(&item);
        seen(&item);
        if let Some(slot) = normalised.get_mut(context_index) {
            *slot = item.normalised.take();
        }
    }
    checked.normalised.push(normalised);
    Ok(())
}

/// For each statement of a script in transaction `units`, whether a later
/// statement runs outside its transaction (any later one, for a statement
/// that runs on its own): one pass from the end, where asking each
/// statement about all later ones was quadratic in a long script.
fn later_elsewhere(units: &[Option<usize>]) -> Vec<bool> {
    /// The statements after the one at hand.
    enum Later {
        None,
        AllIn(Option<usize>),
        Mixed,
    }
    let mut later = Later::None;
    let mut out = vec![false; units.len()];
    for (i, own) in units.iter().enumerate().rev() {
        out[i] = match later {
            Later::None => false,
            Later::AllIn(unit) => own.is_none() || unit != *own,
            Later::Mixed => true,
        };
        later = match later {
            Later::None => Later::AllIn(*own),
            Later::AllIn(unit) if unit == *own => Later::AllIn(unit),
            _ => Later::Mixed,
        };
    }
    out
}

/// How deep `sqlparser` 0.64 reads nested expressions and queries (its
/// recursion limit); deeper statements are refused quickly, not parsed.
const PARSER_DEPTH: usize = 50;

/// How far below [`PARSER_DEPTH`] a statement that fails to parse counts
/// as too deep: sqlparser spends a level or two on the statement itself
/// (a run of `NOT`s fails from 48 on, `CASE` from 47, a sub-query counts
/// twice).
const NESTING_MARGIN: usize = 5;

/// `unparseable-statement` for a statement sqlparser could not read: an
/// error when PostgreSQL's grammar rejects it too (the script cannot run),
/// else a warning that no rule checked it.
fn unparseable(
    script: &Script,
    index: &LineIndex,
    statement: &Statement,
    position: TextPosition,
    reason: &str,
) -> RawFinding {
    let offset = index.offset(&script.sql, position.line, position.column);
    match recognise::rejection(statement.text(&script.sql)) {
        Some(rejection) => RawFinding {
            rule: rules::unparseable_statement::ID,
            path: script.path.clone(),
            offset: statement.start,
            length: 1,
            message: format!("PostgreSQL rejects this statement: {rejection}, so this script cannot run"),
            help: "fix the statement".into(),
            at_most: None,
            at_least: Some(Severity::Error),
            table: None,
        },
        // Past the limit sqlparser may report another error (a `NOT` or
        // `CASE` re-read as a name): the statement's nesting tells.
        None if reason == sqlparser::parser::ParserError::RecursionLimitExceeded.to_string()
            || nesting::depth(statement.text(&script.sql)) >= PARSER_DEPTH - NESTING_MARGIN => RawFinding {
            rule: rules::unparseable_statement::ID,
            path: script.path.clone(),
            offset: statement.start,
            length: 1,
            message: format!(
                "this statement nests deeper than the linter reads (more than {PARSER_DEPTH} levels of parentheses, brackets, CASE or sub-queries), so no rule checked it"
            ),
            help: "check it by hand (`schemactl verify` runs it on a scratch database); if that is accepted, say so with `-- schemactl:ignore unparseable-statement <reason>`".into(),
            at_most: None,
            at_least: None,
            table: None,
        },
        None => RawFinding {
            rule: rules::unparseable_statement::ID,
            path: script.path.clone(),
            offset,
            length: 1,
            message: format!(
                "sqlparser cannot parse this statement, so no rule checked it ({reason})"
            ),
            help: "check it by hand; if PostgreSQL accepts it, silence this with `-- schemactl:ignore unparseable-statement <reason>`".into(),
            at_most: None,
            at_least: None,
            table: None,
        },
    }
}

/// Applies ignores, severities and the file filter; adds `unused-ignore`.
fn finish(migrations: &[Migration], checked: Checked, options: &LintOptions) -> Vec<Finding> {
    let scripts: Vec<(&Script, String)> = migrations
        .iter()
        .flat_map(|m| {
            std::iter::once((&m.up, format!("{} up", m.label())))
                .chain(m.down.as_ref().map(|d| (d, format!("{} down", m.label()))))
        })
        .collect();
    let mut findings = Vec::new();
    // Findings carry their script's path, cloned from it: the same bytes
    // (hashing those is cheaper than a path's components).
    let script_of: HashMap<&[u8], usize> = scripts
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (s.path.as_os_str().as_encoded_bytes(), i))
        .collect();
    let mut by_script: Vec<Vec<RawFinding>> = scripts.iter().map(|_| Vec::new()).collect();
    for finding in checked.raw {
        if let Some(&i) = script_of.get(finding.path.as_os_str().as_encoded_bytes()) {
            by_script[i].push(finding);
        }
    }
    // Each script's place in path order, so that findings sort by number.
    let rank = finding::path_ranks(scripts.iter().map(|(s, _)| s.path.as_path()));
    let mut known_normalised = checked.normalised.into_iter();
    for (i, ((script, place), raw)) in scripts.iter().zip(by_script).enumerate() {
        let mut known_normalised = known_normalised.next().unwrap_or_default();
        let ignores = suppression::ignores(&script.sql);
        let statements = script.statements().unwrap_or_default();
        // The statement a finding is in (the first ending at or after it),
        // or the one an ignore comment stands above (the first starting at
        // or after it); statements are in file order, so by binary search.
        let statement_of = |offset: usize, is_ignore: bool| -> Option<usize> {
            let index = if is_ignore {
                statements.partition_point(|s| s.start < offset)
            } else {
                statements.partition_point(|s| s.end < offset)
            };
            (index < statements.len()).then_some(index)
        };
        let mut used = vec![false; ignores.len()];
        let index = LineIndex::new(&script.sql);
        // Each statement's fingerprint text: the parser's, else made here
        // once (a finding after the last statement has none).
        known_normalised.resize(statements.len(), None);
        for finding in raw {
            let statement = statement_of(finding.offset, false);
            let silenced = ignores.iter().enumerate().find(|(_, ignore)| {
                ignore.rule == finding.rule
                    && !ignore.reason.is_empty()
                    && (ignore.file_wide || statement_of(ignore.offset, true) == statement)
            });
            if let Some((i, _)) = silenced {
                used[i] = true;
                continue;
            }
            let position = index.position(&script.sql, finding.offset);
            let text = statement.map_or("", |i| {
                known_normalised[i]
                    .get_or_insert_with(|| finding::normalised(statements[i].text(&script.sql)))
            });
            let fingerprint = finding::fingerprint_of_normalised(finding.rule, place, text);
            findings.push((rank[i], (finding, position, fingerprint)));
        }
        for (ignore, used) in ignores.iter().zip(used) {
            // An ignore of `unparseable-statement` that silences nothing was
            // written for an older schemactl that could not read the
            // statement: harmless, and removing it from a migration that may
            // have been applied would change its checksum.
            if used || ignore.rule == rules::unparseable_statement::ID {
                continue;
            }
            findings.push((rank[i], unused_ignore(ignore, script, &index, place)));
        }
    }
    findings.sort_by(|(a_rank, (a, a_at, _)), (b_rank, (b, b_at, _))| {
        (a_rank, a_at.line, a_at.column, a.rule).cmp(&(b_rank, b_at.line, b_at.column, b.rule))
    });
    findings
        .into_iter()
        .filter_map(|(_, (raw, position, fingerprint))| {
            let severity = options.severity(raw.rule)?;
            let severity = raw.at_most.map_or(severity, |cap| severity.min(cap));
            let severity = raw.at_least.map_or(severity, |floor| severity.max(floor));
            Some(Finding {
                rule: raw.rule,
                severity,
                position,
                path: raw.path,
                length: raw.length,
                message: raw.message,
                help: raw.help,
                fingerprint,
                table: raw.table,
                table_size: None,
            })
        })
        .collect()
}

/// The `unused-ignore` finding of an ignore comment that silenced nothing,
/// with its position and fingerprint.
fn unused_ignore(
    ignore: &suppression::Ignore,
    script: &Script,
    index: &LineIndex,
    place: &str,
) -> (RawFinding, TextPosition, String) {
    let offset = index.offset(&script.sql, ignore.position.line, ignore.position.column);
    let (message, help) = if !RULES.iter().any(|r| r.id() == ignore.rule) {
        (
            format!("`{}` is not a rule id", ignore.rule),
            "use one of the ids listed in the book's rule index (docs/lint/rules.md)".to_string(),
        )
    } else if ignore.reason.is_empty() {
        (
            format!(
                "this ignore of `{}` gives no reason, so it silences nothing",
                ignore.rule
            ),
            format!("write why: `-- schemactl:ignore {} <reason>`", ignore.rule),
        )
    } else {
        (
            format!("this ignore of `{}` silences nothing", ignore.rule),
            "remove it, or move it just above the statement it is for".to_string(),
        )
    };
    let finding = RawFinding {
        rule: rules::unused_ignore::ID,
        path: script.path.clone(),
        offset,
        length: 2,
        message,
        help,
        at_most: None,
        at_least: None,
        table: None,
    };
    let position = index.position(&script.sql, finding.offset);
    let fingerprint = finding::fingerprint(
        finding.rule,
        place,
        &format!("{} {}", ignore.rule, ignore.reason),
    );
    (finding, position, fingerprint)
}

#[cfg(test)]
mod parse_modes {
    use crate::source::{Directory, MigrationSource};

    /// Where statements are parsed (this thread for a small project,
    /// parser threads for a large one) changes no finding.
    #[test]
    fn inline_and_threaded_parsing_find_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for dir in ["migrations", "tests/fixtures/shop"] {
            let migrations = Directory::new(root.join(dir)).load().unwrap();
            let inline = super::lint_inline(&migrations).unwrap();
            let threaded = super::lint_threaded(&migrations).unwrap();
            assert_eq!(format!("{inline:?}"), format!("{threaded:?}"), "{dir}");
            compared += inline.raw.len();
        }
        assert!(compared > 0, "no finding to compare");
    }
}

#[cfg(test)]
mod fingerprint_text {
    use crate::model::Script;

    /// A statement's fingerprint text is the same whether it is made from
    /// the tokens the parser had (tokenised with its script) or from the
    /// statement tokenised alone, as before: baselines keep matching.
    #[test]
    fn made_from_the_parsers_tokens_it_is_the_text_tokenised_alone() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("migrations"), root.join("tests/fixtures")];
        dirs.extend(std::env::var_os("SCHEMACTL_FINGERPRINT_DIRS").map(Into::into));
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    files.push(path);
                }
            }
        }
        files.push("tricky.sql".into());
        let mut compared = 0;
        for path in files {
            let sql = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                "CREATE TABLE \"Odd\" (a numeric DEFAULT 1.5e3, b text DEFAULT E'it''s\\n', c text DEFAULT $x$ a;b $x$);\n\
                 -- comment\nSELECT a::int <> 2, 'x' || U&'\\0041', \"Quoted\".\"Col\" FROM t /* block */ WHERE a @> '{1}';\n\
                 CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nDROP INDEX IF EXISTS ÄÖ_idx"
                    .into()
            });
            let checksum = crate::model::Checksum::of(sql.as_bytes());
            let script = Script::new(path.clone(), sql, checksum, Default::default());
            for item in super::parsed_statements(&script) {
                let alone = super::finding::normalised(item.statement.text(&script.sql));
                if let Some(from_tokens) = &item.normalised {
                    assert_eq!(from_tokens, &alone, "{}", path.display());
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "only {compared} statements compared");
    }
}

#[cfg(test)]
mod later_elsewhere {
    /// The one-pass answer is the one asked statement by statement.
    #[test]
    fn agrees_with_asking_each_statement_about_every_later_one() {
        let by_asking = |units: &[Option<usize>]| -> Vec<bool> {
            (0..units.len())
                .map(|i| {
                    units[i + 1..]
                        .iter()
                        .any(|later| units[i].is_none() || *later != units[i])
                })
                .collect()
        };
        let cases: [&[Option<usize>]; 7] = [
            &[],
            &[Some(0)],
            &[Some(0), Some(0), Some(0)],
            &[None, None],
            &[Some(0), Some(0), None, Some(1), Some(1)],
            &[None, Some(2), Some(2)],
            &[Some(1), Some(1), Some(2), None],
        ];
        for units in cases {
            assert_eq!(super::later_elsewhere(units), by_asking(units), "{units:?}");
        }
    }
}
