//! The `mockloop` command.

use std::process::ExitCode;

use clap::Parser;

/// Pages are built from many short-lived strings across worker threads, where
/// glibc's allocator spent about a third of a rendered page's server time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = mockloop::config::Cli::parse();
    mockloop::telemetry::init(cli.log_format);
    match mockloop::commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
