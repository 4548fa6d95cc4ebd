//! fanout: `--clients` receivers (the echo app puts every socket in room
//! `bench`) and one sender emitting `fanout` with its send time at
//! `--rate` per second. Receivers measure delivery latency on the same
//! process clock. Measures deliveries per second and latency.
//!
//! Only broadcasts sent inside the window count. After it, the run waits
//! (at most `--grace`) until each has reached every receiver still open;
//! whatever is missing then counts as errors.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

use super::{instant_us, now_us, wait_start, Ctx, Phase};
use crate::cli::Config;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::frames;
use crate::procfs::Sample;
use crate::stats::{Counter, Latencies, Report};

/// Counters of the run, shared by the sender, the receivers and the
/// coordinator.
#[derive(Default)]
struct Tally {
    /// Broadcasts sent inside the window.
    sent: Counter,
    /// Deliveries of those broadcasts.
    delivered: Counter,
    /// Receivers that stopped early (each misses the rest).
    dropped: Counter,
    /// Delivery latency of those broadcasts.
    latency: Latencies,
}

/// Runs the scenario: open receivers and sender, warm up, send, drain.
pub async fn run(cfg: Config) -> Result<Report> {
    let started = Instant::now();
    let deadline = started + cfg.setup + cfg.warmup + cfg.duration + cfg.grace;
    let ctx = Arc::new(Ctx::new(cfg.clone(), deadline));
    let tally = Arc::new(Tally::default());
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);

    let mut tasks = Vec::with_capacity(cfg.clients + 1);
    for index in 0..cfg.clients {
        let (ctx, tally) = (Arc::clone(&ctx), Arc::clone(&tally));
        let mut phase = phase_rx.clone();
        tasks.push(tokio::spawn(async move {
            let Some(mut conn) = ctx.open(index).await else {
                return;
            };
            match receiver(&mut conn, &mut phase, &tally, ctx.deadline).await {
                Ok(()) => conn.close().await,
                Err(error) => {
                    tally.dropped.add();
                    ctx.error("fanout receive", &error);
                }
            }
        }));
    }

    let all = cfg.clients as u64;
    ctx.wait_open(all, started + cfg.setup, "receivers").await;
    let source = cfg.dialer.sources.pick(cfg.clients);
    let setup_left = (started + cfg.setup).max(Instant::now() + Duration::from_secs(1));
    let mut sender = cfg.dialer.open_to(&cfg.sender, source, setup_left).await?;
    let receivers = ctx.opened.get();
    eprintln!("loadgen: {receivers} receivers and the sender open, warming up");

    let start = Instant::now() + cfg.warmup;
    let end = start + cfg.duration;
    let _ = phase_tx.send(Phase::Run { start, end });
    let sending = {
        let (ctx, tally, rate) = (Arc::clone(&ctx), Arc::clone(&tally), cfg.rate);
        let phase = phase_rx.clone();
        tokio::spawn(async move {
            match send(&mut sender, phase, &tally, rate, ctx.deadline).await {
                Ok(()) => sender.close().await,
                Err(error) => ctx.error("fanout send", &error),
            }
        })
    };

    tokio::time::sleep_until(start).await;
    let before = Sample::take(&cfg.server_pids)?;
    tokio::time::sleep_until(end).await;
    // Deliveries still in flight belong to the window: wait for them.
    let expected = |t: &Tally| t.sent.get() * receivers.saturating_sub(t.dropped.get());
    let drained = loop {
        let now = Instant::now();
        if tally.delivered.get() >= expected(&tally) || now >= end + cfg.grace {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let after = Sample::take(&cfg.server_pids)?;
    let _ = phase_tx.send(Phase::Stop);
    let _ = sending.await;
    for task in tasks {
        let _ = task.await;
    }

    let lost = (tally.sent.get() * receivers).saturating_sub(tally.delivered.get());
    let mut report = Report {
        scenario: cfg.scenario.name(),
        transport: Some(cfg.dialer.transport),
        clients: all,
        errors: ctx.errors.get() + lost,
        ..Report::default()
    };
    let window = (drained - start).as_secs_f64();
    report.set_ops(tally.delivered.get(), window, &tally.latency);
    report.set_connect(&ctx.connect);
    report.set_cpu(before, after, !cfg.server_pids.is_empty());
    let asked = cfg.rate * cfg.duration.as_secs_f64();
    if (tally.sent.get() as f64) < asked * 0.95 {
        eprintln!(
            "loadgen: warning: the sender managed {} of the {asked:.0} broadcasts asked for",
            tally.sent.get()
        );
    }
    if lost > 0 {
        eprintln!("loadgen: {lost} deliveries missing at the end");
    }
    Ok(report)
}

/// The sender: one `fanout` per tick until the window ends, draining what
/// the server sends it (it is in `bench` too) until the run stops.
async fn send(
    conn: &mut Conn,
    mut phase: watch::Receiver<Phase>,
    tally: &Tally,
    rate: f64,
    deadline: Instant,
) -> Result<()> {
    let Phase::Run { start, end } = wait_start(conn, &mut phase).await? else {
        return Ok(());
    };
    let (start_us, end_us) = (instant_us(start), instant_us(end));
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sending = true;
    let give_up = tokio::time::sleep_until(deadline);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            _ = ticks.tick(), if sending => {
                let sent_us = now_us();
                if sent_us >= end_us {
                    sending = false;
                    continue;
                }
                conn.send(frames::fanout(sent_us)).await?;
                if sent_us >= start_us {
                    tally.sent.add();
                }
            }
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

/// A receiver: records every `msg` whose timestamp is inside the window,
/// until the run stops.
async fn receiver(
    conn: &mut Conn,
    phase: &mut watch::Receiver<Phase>,
    tally: &Tally,
    deadline: Instant,
) -> Result<()> {
    let Phase::Run { start, end } = wait_start(conn, phase).await? else {
        return Ok(());
    };
    let (start_us, end_us) = (instant_us(start), instant_us(end));
    let give_up = tokio::time::sleep_until(deadline);
    tokio::pin!(give_up);
    loop {
        tokio::select! {
            packet = conn.recv_raw() => {
                let Some(text) = conn.handle(packet?).await? else { continue };
                if let Some(sent_us) = frames::msg_timestamp(&text) {
                    if (start_us..end_us).contains(&sent_us) {
                        tally.latency.record(now_us().saturating_sub(sent_us));
                        tally.delivered.add();
                    }
                }
            }
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Stop {
                    return Ok(());
                }
            }
            () = &mut give_up => return Err(Error::Timeout),
        }
    }
}
