//! The `chat-server` binary: `serve` (the default), `openapi`, `asyncapi` and `migrate`.

use std::process::ExitCode;

use chat_server::config::{Cli, Command};
use chat_server::db::DbPool;
use chat_server::startup::Application;
use chat_server::{openapi, telemetry};
use clap::Parser;

// Fewer, faster allocations than glibc's for many small JSON buffers, and freed memory (argon2 takes 19 MiB a
// hash) goes back instead of piling up in per-thread arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// A multi-threaded runtime: the migration harness blocks in place, which the current-thread flavour forbids.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init("info", std::io::stdout);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi { out } => emit(openapi::spec_json(), out),
        Command::Asyncapi { out } => emit(openapi::asyncapi::asyncapi_json(), out),
        Command::Migrate => {
            let db = DbPool::connect(&settings.database_url, 1).await.map_err(|e| e.to_string())?;
            db.migrate().await.map_err(|e| e.to_string())?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            let app = Application::build(settings.clone()).await.map_err(|e| e.to_string())?;
            tracing::info!(address = %settings.bind, port = app.port(), "chat-server listening");
            if let Some(port) = app.admin_port() {
                tracing::info!(port, "admin listener (metrics, probes) listening");
            }
            let shutdown = app.shutdown_handle();
            tokio::spawn(async move {
                wait_for_signal().await;
                shutdown.begin().await;
            });
            app.run_until_stopped().await.map_err(|e| e.to_string())?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// A generated document to stdout, or to the file given.
fn emit(document: String, out: Option<std::path::PathBuf>) -> Result<(), String> {
    match out {
        None => {
            print!("{document}");
            Ok(())
        }
        Some(path) => std::fs::write(&path, document).map_err(|e| format!("cannot write {}: {e}", path.display())),
    }
}

/// SIGTERM (orchestrators) or SIGINT (Ctrl-C).
async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
