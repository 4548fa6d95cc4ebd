//! connect: `--clients` connections, `--concurrency` at a time, each doing
//! the engine.io handshake and the socket.io CONNECT, then closing.
//! Measures connections per second and the open latency.

use std::sync::Arc;

use tokio::time::Instant;

use super::Ctx;
use crate::cli::Config;
use crate::error::Result;
use crate::procfs::Sample;
use crate::stats::Report;

/// Runs the scenario; the whole run must fit in `--setup` plus `--grace`.
pub async fn run(cfg: Config) -> Result<Report> {
    let started = Instant::now();
    let ctx = Arc::new(Ctx::new(cfg.clone(), started + cfg.setup + cfg.grace));
    let before = Sample::take(&cfg.server_pids)?;

    let mut tasks = Vec::with_capacity(cfg.clients);
    for index in 0..cfg.clients {
        let ctx = Arc::clone(&ctx);
        tasks.push(tokio::spawn(async move {
            if let Some(conn) = ctx.open(index).await {
                conn.close().await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = Sample::take(&cfg.server_pids)?;

    let mut report = Report {
        scenario: cfg.scenario.name(),
        transport: Some(cfg.dialer.transport),
        clients: cfg.clients as u64,
        errors: ctx.errors.get(),
        ..Report::default()
    };
    report.set_ops(ctx.opened.get(), elapsed, &ctx.connect);
    report.set_connect(&ctx.connect);
    report.set_cpu(before, after, !cfg.server_pids.is_empty());
    Ok(report)
}
