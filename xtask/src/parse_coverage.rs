//! `cargo xtask parse-coverage DIR...`: how much of real migration
//! directories the linter reads, statement by statement: parsed whole by
//! `sqlparser`, parsed after clauses it lacks were blanked, recognised by
//! command only, or not read (with the parser's reason). For the coverage
//! figure of a corpus assembled outside the repository.

use anyhow::Result;
use schemactl::lint::StatementReading;
use schemactl::source::{Directory, MigrationSource};
use std::collections::BTreeMap;
use std::path::Path;

/// Prints the coverage of each directory and of all of them.
pub fn run(dirs: &[String]) -> Result<()> {
    let (mut total, mut whole, mut blanked, mut recognised) = (0, 0, 0, 0);
    let mut by_command: BTreeMap<String, usize> = BTreeMap::new();
    let mut unread: Vec<String> = Vec::new();
    for dir in dirs {
        let migrations = Directory::new(Path::new(dir)).load()?;
        for migration in &migrations {
            for script in std::iter::once(&migration.up).chain(migration.down.as_ref()) {
                for reading in StatementReading::of(script) {
                    total += 1;
                    match reading {
                        StatementReading::Whole => whole += 1,
                        StatementReading::Blanked => blanked += 1,
                        StatementReading::Recognised { command } => {
                            recognised += 1;
                            *by_command.entry(command).or_default() += 1;
                        }
                        StatementReading::Unread { line, reason } => {
                            unread.push(format!("{}:{line}: {reason}", script.path.display()))
                        }
                    }
                }
            }
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / total.max(1) as f64;
    println!("{total} statements in {} directories", dirs.len());
    println!(
        "  parsed whole by sqlparser        {whole:>6} ({:.1} %)",
        pct(whole)
    );
    println!(
        "  parsed after blanking a clause   {blanked:>6} ({:.1} %)",
        pct(blanked)
    );
    println!(
        "  recognised by command            {recognised:>6} ({:.1} %)",
        pct(recognised)
    );
    for (command, n) in &by_command {
        println!("    {command:<30} {n:>6}");
    }
    println!(
        "  not read                         {:>6} ({:.2} %)",
        unread.len(),
        pct(unread.len())
    );
    for line in &unread {
        println!("    {line}");
    }
    Ok(())
}
