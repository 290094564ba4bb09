//! An application that applies its migrations at start-up, from the binary
//! alone: the shipped `migrations/` directory is compiled in by
//! `schemactl::embed_migrations!`.
//!
//! ```sh
//! DATABASE_URL='host=127.0.0.1 user=app password=… dbname=app' cargo run --example embedded_migrations
//! ```
//!
//! Run it twice: the second start applies nothing. `schemactl status`
//! afterwards shows every migration applied, with the same checksums.

use tokio_postgres::NoTls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    // Errors are printed with their Display text (file, line, what to do),
    // not the Debug form `main` returning an error would print.
    match start().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn start() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "set DATABASE_URL to the database the application uses")?;
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
    tokio::spawn(connection);
    let report = schemactl::embed_migrations!("migrations")
        .run(&client)
        .await?;
    match report.executed.len() {
        0 => println!(
            "schema up to date (version {})",
            report.current_version.unwrap_or_default()
        ),
        n => println!(
            "applied {n} migration(s); now at version {}",
            report.current_version.unwrap_or_default()
        ),
    }
    Ok(())
}
