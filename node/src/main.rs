//! The `switchyard` binary: one node, configured from the environment.
#![forbid(unsafe_code)]

use std::{io::IsTerminal, process::ExitCode};

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let settings = match switchyard_node::settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("switchyard: {error}");
            return ExitCode::from(2);
        }
    };
    match actix_web::rt::System::new().block_on(switchyard_node::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchyard: {error}");
            ExitCode::FAILURE
        }
    }
}
