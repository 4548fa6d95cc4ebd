//! The command line, and the checked settings a run is made of.

use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::conn::{Dialer, Transport};
use crate::error::{Error, Result};
use crate::net::Sources;
use crate::target::{self, Target};

/// The most clients one run may open: past it the machine, not the server,
/// would be measured.
const MAX_CLIENTS: usize = 200_000;
/// The longest any phase may last, in seconds.
const MAX_SECONDS: f64 = 3600.0;

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Connections per second: handshake, CONNECT, close.
    Connect,
    /// Acks per second and latency of sequential `echo` events.
    Echo,
    /// Deliveries per second and latency of `fanout` broadcasts.
    Fanout,
    /// Server memory per idle connection.
    Idle,
}

impl Scenario {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Connect => "connect",
            Scenario::Echo => "echo",
            Scenario::Fanout => "fanout",
            Scenario::Idle => "idle",
        }
    }
}

/// Load generator for socket.io servers on this machine. Prints one JSON
/// line with the results on stdout; progress goes to stderr.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    /// The scenario to run.
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Server URLs, comma-separated (http://127.0.0.1:3000); clients are
    /// spread over them round-robin. Loopback only.
    #[arg(long)]
    pub url: String,
    /// The socket.io endpoint path.
    #[arg(long, default_value = "/socket.io/")]
    pub path: String,
    /// The engine.io transport of every client.
    #[arg(long, value_enum, default_value = "websocket")]
    pub transport: Transport,
    /// Clients: total connections (connect), connected clients (echo,
    /// idle), receivers (fanout).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Seconds measured (echo, fanout).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts (echo, fanout).
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Broadcasts per second sent (fanout).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// The server the fanout sender connects to (default: the first URL).
    #[arg(long)]
    pub sender_url: Option<String>,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,
    /// Source addresses: 1 uses 127.0.0.1, N uses 127.0.0.2..=127.0.0.(N+1).
    #[arg(long, default_value_t = 1)]
    pub sources: u16,
    /// Server processes whose CPU time and RSS are reported.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub server_pids: Vec<u32>,
    /// Seconds to hold every connection open before reading RSS (idle).
    #[arg(long, default_value_t = 5.0)]
    pub hold: f64,
    /// Seconds allowed for opening all clients (the whole run for connect).
    #[arg(long, default_value_t = 60.0)]
    pub setup: f64,
    /// Seconds one operation (open, ack) may take before it is an error.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Seconds allowed after the measured window for deliveries in flight
    /// and closes, before the run stops regardless.
    #[arg(long, default_value_t = 10.0)]
    pub grace: f64,
}

/// The checked settings of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// What is measured.
    pub scenario: Scenario,
    /// How clients connect.
    pub dialer: Dialer,
    /// Where the fanout sender connects.
    pub sender: Target,
    /// Number of clients.
    pub clients: usize,
    /// The measured window.
    pub duration: Duration,
    /// Load before the window.
    pub warmup: Duration,
    /// Fanout broadcasts per second.
    pub rate: f64,
    /// Opens at once.
    pub concurrency: usize,
    /// Processes measured.
    pub server_pids: Vec<u32>,
    /// Idle hold.
    pub hold: Duration,
    /// Time allowed to open every client.
    pub setup: Duration,
    /// Time allowed after the window.
    pub grace: Duration,
}

impl Config {
    /// Checks the arguments: loopback targets, counts and times in range.
    pub fn from_args(args: Args) -> Result<Self> {
        let targets = target::parse_list(&args.url)?;
        let sender = match &args.sender_url {
            Some(url) => Target::parse(url)?,
            None => targets[0].clone(),
        };
        if !args.path.starts_with('/') || args.path.contains(['?', '#', ' ']) {
            return Err(Error::BadArgument(
                "--path must start with / and hold no query".into(),
            ));
        }
        if args.clients == 0 || args.clients > MAX_CLIENTS {
            return Err(Error::BadArgument(format!(
                "--clients must be 1 to {MAX_CLIENTS}"
            )));
        }
        if args.concurrency == 0 {
            return Err(Error::BadArgument(
                "--concurrency must be at least 1".into(),
            ));
        }
        if args.scenario == Scenario::Fanout && !(args.rate > 0.0 && args.rate <= 100_000.0) {
            return Err(Error::BadArgument("--rate must be in (0, 100000]".into()));
        }
        let dialer = Dialer {
            targets,
            sources: Sources::new(args.sources)?,
            path: args.path,
            transport: args.transport,
            timeout: seconds("--timeout", args.timeout, false)?,
        };
        Ok(Self {
            scenario: args.scenario,
            dialer,
            sender,
            clients: args.clients,
            duration: seconds("--duration", args.duration, false)?,
            warmup: seconds("--warmup", args.warmup, true)?,
            rate: args.rate,
            concurrency: args.concurrency,
            server_pids: args.server_pids,
            hold: seconds("--hold", args.hold, true)?,
            setup: seconds("--setup", args.setup, false)?,
            grace: seconds("--grace", args.grace, true)?,
        })
    }
}

/// A duration argument: finite, at most an hour, and positive unless
/// `zero_ok`.
fn seconds(name: &str, value: f64, zero_ok: bool) -> Result<Duration> {
    let in_range =
        value.is_finite() && value <= MAX_SECONDS && (value > 0.0 || zero_ok && value == 0.0);
    if !in_range {
        return Err(Error::BadArgument(format!(
            "{name} must be {} {MAX_SECONDS} seconds",
            if zero_ok {
                "0 to"
            } else {
                "over 0 and at most"
            }
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Config> {
        let mut argv = vec![
            "loadgen",
            "--scenario",
            "echo",
            "--url",
            "http://127.0.0.1:3100",
        ];
        argv.extend_from_slice(extra);
        Config::from_args(
            Args::try_parse_from(argv).map_err(|e| Error::BadArgument(e.to_string()))?,
        )
    }

    #[test]
    fn defaults_are_valid() {
        let config = parse(&[]).expect("valid");
        assert_eq!(config.clients, 100);
        assert_eq!(config.dialer.path, "/socket.io/");
        assert_eq!(config.sender, config.dialer.targets[0]);
    }

    #[test]
    fn server_pids_take_commas_or_several_values() {
        let config = parse(&["--server-pids", "1,2", "3"]).expect("valid");
        assert_eq!(config.server_pids, [1, 2, 3]);
    }

    #[test]
    fn refuses_bad_values() {
        assert!(parse(&["--clients", "0"]).is_err());
        assert!(parse(&["--duration", "0"]).is_err());
        assert!(parse(&["--duration", "inf"]).is_err());
        assert!(parse(&["--warmup", "-1"]).is_err());
        assert!(parse(&["--path", "nope"]).is_err());
        assert!(parse(&["--sources", "0"]).is_err());
        assert!(parse(&["--sender-url", "http://10.1.1.1:3000"]).is_err());
        assert!(parse(&["--warmup", "0"]).is_ok());
    }
}
