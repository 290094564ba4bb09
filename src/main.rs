//! The `schemactl` binary: parse arguments, run, print errors once, exit
//! with the documented code (see `schemactl::exit_code`).

mod cli;

use clap::Parser;

fn main() {
    let opt = cli::opt::Opt::parse();
    let json = cli::wants_json(&opt);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(schemactl::exit_code::ERROR);
        }
    };
    let code = match runtime.block_on(cli::run(opt)) {
        Ok(code) => code,
        Err(error) => {
            cli::report_error(&error, json);
            error.exit_code()
        }
    };
    std::process::exit(code);
}
