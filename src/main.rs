//! `paivystys`: parse the command line, load settings, start logging, run the command.

use clap::Parser;
use tracing_subscriber::EnvFilter;

use paivystys::cli::{self, Cli};
use paivystys::config::LogFormat;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.load_settings() {
        Ok(settings) => {
            init_tracing(settings.log_format);
            cli::run(cli, settings).await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `RUST_LOG` filters (default `info`).
fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
