//! The process's log output, as `log_format` asks.

use std::io::IsTerminal;

use switchyard_shared::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global log subscriber: `RUST_LOG` filters (default `info`),
/// text is coloured only on a terminal, and JSON gives one object per line
/// with the session span's `sid` and `node`. Call it once, before the node
/// starts, so start-up errors are logged in the chosen format too.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
}
