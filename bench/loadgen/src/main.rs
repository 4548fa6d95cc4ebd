//! `loadgen`: a load generator for Switchyard and the servers it is
//! compared with, speaking engine.io v4 and socket.io v5 itself over
//! WebSocket and long-polling.
//!
//! It runs on one thread (a current-thread tokio runtime) with pre-encoded
//! frames and byte scans instead of JSON parsing, so that on a 2-core
//! machine it costs far less CPU than the server it measures; every report
//! gives its own CPU time beside the server's to show which was the limit.
//! It prints one JSON line on stdout; progress and warnings go to stderr.
#![forbid(unsafe_code)]

mod cli;
mod conn;
mod error;
mod frames;
mod net;
mod procfs;
mod scenario;
mod stats;
mod target;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Args, Config, Scenario};
use crate::error::Result;
use crate::stats::Report;

/// Descriptors kept beside the clients' sockets: stdio, the runtime, /proc
/// reads, and the fanout sender.
const SPARE_FDS: u64 = 64;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("loadgen: writing the report: {error}");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::from(2)
        }
    }
}

/// Checks the arguments, sizes the descriptor limit, and runs the scenario
/// on a one-thread runtime.
fn run(args: Args) -> Result<Report> {
    let cfg = Config::from_args(args)?;
    let wanted = (cfg.clients as u64 + 1) * cfg.dialer.transport.fds_per_client() + SPARE_FDS;
    let limit = net::raise_nofile(wanted);
    if limit < wanted {
        eprintln!("loadgen: warning: open-file limit {limit} is below the {wanted} needed");
    }
    scenario::now_us();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cfg.scenario {
            Scenario::Connect => scenario::connect::run(cfg).await,
            Scenario::Echo => scenario::echo::run(cfg).await,
            Scenario::Fanout => scenario::fanout::run(cfg).await,
            Scenario::Idle => scenario::idle::run(cfg).await,
        }
    })
}
