//! The `schemactl` binary: parse arguments, run, print errors once, exit
//! with the documented code (see `schemactl::ExitCode`).

mod backfill_progress;
mod backup;
mod config;
mod dispatch;
mod fleet;
mod lint;
mod metrics;
mod metrics_file;
mod opt;
mod output;
mod reference;
mod render;
mod report;
mod verbs;

use clap::{CommandFactory, FromArgMatches};
use schemactl::ExitCode;

fn main() {
    let parsed = opt::Opt::command().try_get_matches().and_then(|matches| {
        let opt = opt::Opt::from_arg_matches(&matches)?;
        // Errors about the database URL name where it came from.
        let url_from_env =
            matches.value_source("database_url") == Some(clap::parser::ValueSource::EnvVariable);
        Ok((opt, url_from_env))
    });
    let (opt, url_from_env) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => exit_on_usage_error(error),
    };
    let json = dispatch::wants_json(&opt);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let error =
                schemactl::Error::InvalidArgument(format!("cannot start the async runtime: {e}"));
            dispatch::report_error(&error, json);
            std::process::exit(ExitCode::Error.code());
        }
    };
    let code = match runtime.block_on(dispatch::run(opt, url_from_env)) {
        Ok(code) => code,
        Err(error) => {
            dispatch::report_error(&error, json);
            error.exit_code()
        }
    };
    std::process::exit(code.code());
}

/// Help and version go to stdout with exit 0; a usage error (which names
/// the flag) exits 2, as one JSON document when `--format json` was on the
/// command line.
fn exit_on_usage_error(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) || !asked_for_json()
    {
        let code = if error.use_stderr() {
            ExitCode::Error
        } else {
            ExitCode::Ok
        };
        let rendered = error.render().to_string();
        if error.use_stderr() {
            output::stderr(&rendered);
        } else {
            output::stdout(&rendered);
        }
        std::process::exit(code.code());
    }
    let message = error.render().to_string();
    let message = message
        .trim()
        .trim_start_matches("error: ")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let document = dispatch::error_json(&message, ExitCode::Error, serde_json::Value::Null);
    output::stdout_line(&serde_json::to_string_pretty(&document).unwrap_or_default());
    std::process::exit(ExitCode::Error.code());
}

/// Whether the raw arguments ask for JSON (`--format json` or `--format=json`).
fn asked_for_json() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .any(|pair| pair[0] == "--format" && (pair[1] == "json" || pair[1] == "sarif"))
        || args
            .iter()
            .any(|a| a == "--format=json" || a == "--format=sarif")
}
