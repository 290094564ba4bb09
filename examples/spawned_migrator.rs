//! An application that migrates on a task of its own: the start-up
//! migration runs on a `tokio::spawn`ed task (a multi-threaded runtime, so
//! the future must be `Send`) while the rest of the application starts,
//! and a progress callback reports from that task.
//!
//! ```sh
//! DATABASE_URL='host=127.0.0.1 user=app password=… dbname=app' cargo run --example spawned_migrator
//! ```

use schemactl::runner::notice::Notice;
use std::sync::{Arc, Mutex};
use tokio_postgres::NoTls;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
    let heard = Arc::new(Mutex::new(Vec::new()));
    let progress = Arc::clone(&heard);
    let options = schemactl::config::RunOptions::default();
    // The migration runs on its own task; the client moves into it.
    let migration = tokio::spawn(async move {
        schemactl::embed_migrations!("migrations")
            .run_with(&client, &options, &mut move |notice| {
                if let Notice::Done { label, .. } = notice {
                    progress.lock().unwrap().push(label.to_string());
                }
            })
            .await
    });
    let report = migration.await??;
    let applied = heard.lock().unwrap().len();
    println!(
        "migrated on a spawned task: {applied} applied; now at version {}",
        report.current_version.unwrap_or_default()
    );
    Ok(())
}
