//! The `switchyard` binary: one node, configured from the environment.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let settings = match switchyard_node::settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("switchyard: {error}");
            return ExitCode::from(2);
        }
    };
    switchyard_node::ops::logs::init(settings.log_format);
    match actix_web::rt::System::new().block_on(switchyard_node::server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchyard: {error}");
            ExitCode::FAILURE
        }
    }
}
