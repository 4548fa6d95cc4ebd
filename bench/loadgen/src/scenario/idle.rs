//! idle: `--clients` connected sockets that do nothing but answer pings.
//! Measures the servers' marginal resident memory per connection.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use super::{wait_start, Ctx, Phase};
use crate::cli::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::procfs::Sample;
use crate::stats::{Counter, Report};

/// Runs the scenario: read RSS, open every client, hold, read RSS again.
pub async fn run(cfg: Config) -> Result<Report> {
    if cfg.server_pids.is_empty() {
        eprintln!("loadgen: warning: idle without --server-pids measures no memory");
    }
    let started = Instant::now();
    let deadline = started + cfg.setup + cfg.hold + cfg.grace;
    let ctx = Arc::new(Ctx::new(cfg.clone(), deadline));
    let broken = Arc::new(Counter::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let before = Sample::take(&cfg.server_pids)?;

    let mut tasks = Vec::with_capacity(cfg.clients);
    for index in 0..cfg.clients {
        let (ctx, broken) = (Arc::clone(&ctx), Arc::clone(&broken));
        let mut phase = phase_rx.clone();
        tasks.push(tokio::spawn(async move {
            let Some(mut conn) = ctx.open(index).await else {
                return;
            };
            match hold(&mut conn, &mut phase, ctx.deadline).await {
                Ok(()) => conn.close().await,
                Err(error) => {
                    broken.add();
                    ctx.error("idle", &error);
                }
            }
        }));
    }

    let all = cfg.clients as u64;
    ctx.wait_open(all, started + cfg.setup, "clients").await;
    let opened_at = Instant::now();
    eprintln!(
        "loadgen: {} clients open after {:.1} s, holding",
        ctx.opened.get(),
        (opened_at - started).as_secs_f64()
    );
    let now = Instant::now();
    let _ = phase_tx.send(Phase::Run {
        start: now,
        end: now + cfg.hold,
    });
    tokio::time::sleep(cfg.hold).await;
    let after = Sample::take(&cfg.server_pids)?;
    // Connections that broke during the hold were no longer in the figure.
    let open = ctx.opened.get().saturating_sub(broken.get());
    let _ = phase_tx.send(Phase::Stop);
    for task in tasks {
        let _ = task.await;
    }

    let mut report = Report {
        scenario: cfg.scenario.name(),
        transport: Some(cfg.dialer.transport),
        clients: all,
        ops: Some(open),
        errors: ctx.errors.get(),
        ..Report::default()
    };
    report.set_connect(&ctx.connect);
    report.set_cpu(before, after, !cfg.server_pids.is_empty());
    if !cfg.server_pids.is_empty() {
        report.rss_before_kb = Some(before.server_rss_kb);
        report.rss_after_kb = Some(after.server_rss_kb);
        let grown = after.server_rss_kb as f64 - before.server_rss_kb as f64;
        report.rss_per_conn_bytes =
            (open > 0).then(|| crate::stats::round3(grown * 1024.0 / open as f64));
    }
    Ok(report)
}

/// Keeps one client open, answering pings, until the run stops.
async fn hold(
    conn: &mut Conn,
    phase: &mut watch::Receiver<Phase>,
    deadline: Instant,
) -> Result<()> {
    if wait_start(conn, phase).await? == Phase::Stop {
        return Ok(());
    }
    let give_up = tokio::time::sleep_until(deadline);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            packet = conn.recv_raw() => { conn.handle(packet?).await?; }
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Stop {
                    return Ok(());
                }
            }
            () = &mut give_up => return Err(Error::Timeout),
        }
    }
}
