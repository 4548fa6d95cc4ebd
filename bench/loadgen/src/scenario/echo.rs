//! echo: `--clients` connected clients, each sending `echo` events one at
//! a time and waiting for the ack. Measures acks per second and latency.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use super::{micros, wait_start, Ctx, Phase};
use crate::cli::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::frames;
use crate::procfs::Sample;
use crate::stats::{Counter, Latencies, Report};

/// Runs the scenario: open every client, warm up, measure, stop.
pub async fn run(cfg: Config) -> Result<Report> {
    let started = Instant::now();
    let deadline = started + cfg.setup + cfg.warmup + cfg.duration + cfg.grace;
    let ctx = Arc::new(Ctx::new(cfg.clone(), deadline));
    let acks = Arc::new(Latencies::new());
    let ops = Arc::new(Counter::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);

    let mut tasks = Vec::with_capacity(cfg.clients);
    for index in 0..cfg.clients {
        let (ctx, acks, ops) = (Arc::clone(&ctx), Arc::clone(&acks), Arc::clone(&ops));
        let mut phase = phase_rx.clone();
        tasks.push(tokio::spawn(async move {
            let Some(mut conn) = ctx.open(index).await else {
                return;
            };
            match client(&ctx, &mut conn, &mut phase, &acks, &ops).await {
                Ok(()) => conn.close().await,
                Err(error) => ctx.error("echo", &error),
            }
        }));
    }

    let all = cfg.clients as u64;
    ctx.wait_open(all, started + cfg.setup, "clients").await;
    eprintln!("loadgen: {} clients open, warming up", ctx.opened.get());
    let start = Instant::now() + cfg.warmup;
    let end = start + cfg.duration;
    let _ = phase_tx.send(Phase::Run { start, end });
    tokio::time::sleep_until(start).await;
    let before = Sample::take(&cfg.server_pids)?;
    tokio::time::sleep_until(end).await;
    let after = Sample::take(&cfg.server_pids)?;
    let _ = phase_tx.send(Phase::Stop);
    for task in tasks {
        let _ = task.await;
    }

    let mut report = Report {
        scenario: cfg.scenario.name(),
        transport: Some(cfg.dialer.transport),
        clients: all,
        errors: ctx.errors.get() + (all - ctx.settled.get().min(all)),
        ..Report::default()
    };
    report.set_ops(ops.get(), cfg.duration.as_secs_f64(), &acks);
    report.set_connect(&ctx.connect);
    report.set_cpu(before, after, !cfg.server_pids.is_empty());
    Ok(report)
}

/// One client: sequential echo round trips until the window ends.
async fn client(
    ctx: &Ctx,
    conn: &mut Conn,
    phase: &mut watch::Receiver<Phase>,
    acks: &Latencies,
    ops: &Counter,
) -> Result<()> {
    let Phase::Run { start, end } = wait_start(conn, phase).await? else {
        return Ok(());
    };
    let timeout = ctx.cfg.dialer.timeout;
    let mut id: u64 = 0;
    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok(());
        }
        id += 1;
        conn.send(frames::echo(id)).await?;
        let until = ctx.deadline.min(sent + timeout);
        tokio::time::timeout_at(until, wait_ack(conn, id)).await??;
        let done = Instant::now();
        if sent >= start && done <= end {
            acks.record(micros(done - sent));
            ops.add();
        }
    }
}

/// Reads until the ack of `id`; other events (such as `auth`) are skipped,
/// an ack of another id is a protocol error.
async fn wait_ack(conn: &mut Conn, id: u64) -> Result<()> {
    loop {
        let packet = conn.recv().await?;
        match frames::ack_id(&packet) {
            Some(got) if got == id => return Ok(()),
            Some(_) => return Err(Error::Unexpected(packet.to_string())),
            None if packet.starts_with('3') => return Err(Error::Unexpected(packet.to_string())),
            None => {}
        }
    }
}
