//! The CLI reference (`docs/reference/cli.md`), walked from the clap
//! definitions: every visible command with its usage, description and
//! options; the global options once, at the top.

use super::markdown::{cell, paragraphs};
use super::GENERATED;
use clap::{Arg, Command};

/// The page.
pub fn page() -> String {
    let mut root = <crate::opt::Opt as clap::CommandFactory>::command();
    root.build();
    let mut out = format!(
        "{GENERATED}\n\n# CLI reference\n\n\
         Every command and option of `schemactl`, as `--help` prints them. The\n\
         options under [Global options](#global-options) are taken by every command.\n\
         Exit codes are on [their own page](../exit-codes.md).\n\n\
         ## Global options\n\n"
    );
    let globals: Vec<&Arg> = root
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() && arg.get_id() != "help" && arg.get_id() != "version")
        .collect();
    out.push_str(&options_table(&globals));
    for command in root.get_subcommands() {
        write_command(&mut out, command, "schemactl");
    }
    out
}

/// One command's section, then its subcommands'.
fn write_command(out: &mut String, command: &Command, parent: &str) {
    if command.is_hide_set() || command.get_name() == "help" {
        return;
    }
    let path = format!("{parent} {}", command.get_name());
    out.push_str(&format!("\n## `{path}`\n\n"));
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        out.push_str(&paragraphs(&about.to_string()));
        out.push_str("\n\n");
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.replacen("Usage: ", "", 1);
    out.push_str(&format!("```text\n{usage}\n```\n\n"));
    let own: Vec<&Arg> = command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() && !arg.is_global_set() && arg.get_id() != "help")
        .collect();
    if !own.is_empty() {
        out.push_str(&options_table(&own));
    }
    for sub in command.get_subcommands() {
        write_command(out, sub, &path);
    }
}

/// A table of options and arguments.
fn options_table(args: &[&Arg]) -> String {
    let mut out = String::from("| option | description |\n|---|---|\n");
    for arg in args {
        out.push_str(&format!("| `{}` | {} |\n", spelling(arg), description(arg)));
    }
    out
}

/// How the option is written: `-s, --steps <N>`, or `<NAME>` for a positional.
fn spelling(arg: &Arg) -> String {
    let values = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|name| format!("<{name}>"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()));
    let Some(long) = arg.get_long() else {
        return values;
    };
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let mut text = match arg.get_short() {
        Some(short) => format!("-{short}, --{long}"),
        None => format!("--{long}"),
    };
    if takes_value {
        text.push(' ');
        text.push_str(&values);
    }
    text
}

/// The help text, with the default, the environment variable and the
/// accepted values.
fn description(arg: &Arg) -> String {
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut text = cell(&help);
    if !text.is_empty() && !text.ends_with(['.', ')', ']']) {
        text.push('.');
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && arg.get_num_args().is_some_and(|n| n.takes_values()) {
        text.push_str(&format!(" Default: `{}`.", defaults.join(",")));
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    let a_switch = values.len() == 2 && values[0] == "`true`";
    if !values.is_empty() && !a_switch {
        text.push_str(&format!(" Values: {}.", values.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        text.push_str(&format!(" Environment: `{}`.", env.to_string_lossy()));
    }
    text.trim().to_string()
}
