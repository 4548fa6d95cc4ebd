//! The `switchyard` binary: one node, configured from the environment.
#![forbid(unsafe_code)]

use std::{io::IsTerminal, process::ExitCode};

use switchyard_shared::config::LogFormat;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let settings = match switchyard_node::settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("switchyard: {error}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match settings.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
    match actix_web::rt::System::new().block_on(switchyard_node::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchyard: {error}");
            ExitCode::FAILURE
        }
    }
}
