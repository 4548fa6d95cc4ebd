//! Loading settings: `config/default.toml`, an optional file, then the environment.
//!
//! The defaults file is compiled in, so the binary needs no files beside it.
//! Unknown keys are errors, so a misspelt variable is reported rather than
//! silently ignored.

use std::collections::HashMap;

use config::{Config, Environment, File, FileFormat};
use switchyard_shared::config::{Settings, SettingsError};

/// The documented defaults; every key is here.
const DEFAULTS: &str = include_str!("../../config/default.toml");
/// The variable that names an extra settings file (TOML).
const FILE_VAR: &str = "SWITCHYARD_CONFIG_FILE";

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A value has the wrong type, or a key is unknown; the message names it.
    #[error("bad configuration: {0}")]
    Parse(#[from] config::ConfigError),
    /// A value has the right type but cannot be used.
    #[error("{0}")]
    Invalid(#[from] SettingsError),
    /// A whole number was written with a fraction or an exponent, which
    /// the environment parser would otherwise round.
    #[error(
        "bad configuration: {var}={value:?} is not a whole number from 0 to 2^64-1 (key `{key}`)"
    )]
    NotWholeNumber {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// The dotted key.
        key: String,
    },
}

/// Refuses variables whose key takes a whole number (as its default in
/// `config/default.toml` shows; every such setting is unsigned) but whose
/// value is not one: `1.5`, `1e3` or a number past 64 bits would otherwise
/// be rounded or saturated without a word.
fn refuse_fractional_integers(vars: &HashMap<String, String>) -> Result<(), LoadError> {
    let defaults = Config::builder()
        .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
        .build()?;
    for (var, value) in vars {
        let key = var["SWITCHYARD_".len()..].replace("__", ".").to_lowercase();
        let Ok(default) = defaults.get::<config::Value>(&key) else {
            continue;
        };
        let whole = matches!(
            default.kind,
            config::ValueKind::I64(_)
                | config::ValueKind::I128(_)
                | config::ValueKind::U64(_)
                | config::ValueKind::U128(_)
        );
        if whole && value.trim().parse::<u64>().is_err() {
            return Err(LoadError::NotWholeNumber {
                var: var.clone(),
                value: value.clone(),
                key,
            });
        }
    }
    Ok(())
}

/// Loads and validates the settings from the process environment.
pub fn load() -> Result<Settings, LoadError> {
    load_from(std::env::vars().collect())
}

/// Loads and validates the settings from the given variables.
pub fn load_from(mut vars: HashMap<String, String>) -> Result<Settings, LoadError> {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
    if let Some(path) = vars.remove(FILE_VAR) {
        builder = builder.add_source(File::new(&path, FileFormat::Toml));
    }
    vars.retain(|key, _| key.starts_with("SWITCHYARD_"));
    refuse_fractional_integers(&vars)?;
    let environment = Environment::with_prefix("SWITCHYARD")
        .prefix_separator("_")
        .separator("__")
        .list_separator(",")
        .with_list_parse_key("transports")
        .with_list_parse_key("cors.origins")
        .with_list_parse_key("nats.url")
        .with_list_parse_key("bridge.namespaces")
        .with_list_parse_key("bridge.headers")
        .try_parsing(true)
        .source(Some(vars));
    let mut settings: Settings = builder.add_source(environment).build()?.try_deserialize()?;
    settings
        .cors
        .origins
        .retain(|origin| !origin.trim().is_empty());
    settings.validate()?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, LoadError> {
        load_from(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let s = load(&[]).unwrap();
        assert_eq!(s.listen, "0.0.0.0:3000");
        assert_eq!(s.path, "/socket.io/");
        assert_eq!((s.ping_interval_ms, s.ping_timeout_ms), (25000, 20000));
        assert_eq!((s.upgrade_timeout_ms, s.connect_timeout_ms), (10000, 45000));
        assert_eq!(s.max_payload, 1_000_000);
        assert_eq!(s.transports.len(), 2);
        assert!(s.cors.origins.is_empty() && !s.cors.credentials);
        assert_eq!(s.node_id, None);
        assert!(s.nats.url.is_empty());
        assert_eq!(s.nats.prefix, "switchyard");
    }

    #[test]
    fn environment_overrides_with_nested_keys_and_lists() {
        let s = load(&[
            ("SWITCHYARD_PING_INTERVAL_MS", "300"),
            ("SWITCHYARD_TRANSPORTS", "websocket"),
            (
                "SWITCHYARD_CORS__ORIGINS",
                "https://a.example,https://b.example",
            ),
            ("SWITCHYARD_CORS__CREDENTIALS", "true"),
            ("SWITCHYARD_NODE_ID", "42"),
            ("SWITCHYARD_NATS__URL", "nats://a:4222,nats://b:4222"),
            ("SWITCHYARD_NATS__TLS__REQUIRED", "true"),
            ("SWITCHYARD_BRIDGE__NAMESPACES", "/,/chat"),
            ("SWITCHYARD_BRIDGE__HEADERS", "x-request-id,user-agent"),
            ("SWITCHYARD_API__TOKEN", "12345"),
            ("OTHER_VARIABLE", "ignored"),
        ])
        .unwrap();
        assert_eq!(s.bridge.namespaces, vec!["/", "/chat"]);
        assert_eq!(s.bridge.headers, vec!["x-request-id", "user-agent"]);
        assert_eq!(s.api.token, "12345");
        assert_eq!(s.ping_interval_ms, 300);
        assert_eq!(
            s.transports,
            vec![switchyard_shared::engine::Transport::WebSocket]
        );
        assert_eq!(
            s.cors.origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert!(s.cors.credentials);
        assert_eq!(s.node_id.as_deref(), Some("42"));
        assert_eq!(s.nats.url, vec!["nats://a:4222", "nats://b:4222"]);
        assert!(s.nats.tls.required);
        assert!(load(&[("SWITCHYARD_CORS__ORIGINS", "")])
            .unwrap()
            .cors
            .origins
            .is_empty());
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("SWITCHYARD_PING_INTERVAL_MS", "soon", "ping_interval_ms"),
            ("SWITCHYARD_PING_TIMEOUT_MS", "0", "PING_TIMEOUT_MS"),
            ("SWITCHYARD_LISTEN", "port 80", "listen"),
            ("SWITCHYARD_TRANSPORTS", "carrier-pigeon", "transports"),
            ("SWITCHYARD_APP", "nonsense", "app"),
            ("SWITCHYARD_MAX_PAYLOAD", "-1", "max_payload"),
            ("SWITCHYARD_MAX_PAYLOAD", "1.5", "max_payload"),
            (
                "SWITCHYARD_LIMITS__MAX_SESSIONS",
                "1e3",
                "limits.max_sessions",
            ),
            (
                "SWITCHYARD_PING_INTERVAL_MS",
                "99999999999999999999999",
                "ping_interval_ms",
            ),
            ("SWITCHYARD_PING_INTERVAL", "300", "ping_interval"),
            ("SWITCHYARD_CORS__ORIGINS", "example.com", "cors.origins"),
            ("SWITCHYARD_NATS__PREFIX", "a.*", "nats.prefix"),
            ("SWITCHYARD_NATS__USER", "only-user", "nats.user"),
            (
                "SWITCHYARD_CLUSTER__HEARTBEAT_TIMEOUT_MS",
                "10",
                "cluster.heartbeat_timeout_ms",
            ),
        ];
        for (var, value, key) in cases {
            let message = load(&[(var, value)]).unwrap_err().to_string();
            assert!(message.contains(key), "{var}={value}: {message}");
        }
    }
}
