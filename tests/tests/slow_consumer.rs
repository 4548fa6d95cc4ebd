//! A client that never reads: its session is closed once its bounded buffer
//! overflows, the node's memory stays flat meanwhile, and the other clients
//! get every broadcast.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use serde_json::json;
use switchyard_e2e::{
    raw::{ws_send, ws_text, SocketIoPolling},
    run_js, NodeProcess, RawEngine,
};

/// Broadcasts sent while the slow clients hold still.
const BROADCASTS: u64 = 10_000;
/// Bytes of padding in each broadcast: 20 MB in all, more than loopback's
/// socket buffers hold, so the node's own bound is what gets tested.
const PAD: u64 = 2_000;
/// How much the node's RSS may grow meanwhile: a slow client holds at most
/// `max_buffered_packets` (1024) broadcasts, about 2 MB here, where an
/// unbounded buffer would hold all 20 MB. Measured: about 4 MB.
const RSS_GROWTH_LIMIT_KB: u64 = 16 * 1024;

/// The resident set of a process, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[actix_rt::test]
async fn a_client_that_never_reads_is_closed_while_memory_stays_flat() {
    let node = NodeProcess::start(&[]);
    let engine = RawEngine::new(&node.url(), "/socket.io/");

    // One slow client per transport, each in room `bench` (the echo app
    // puts every socket there); neither reads again after connecting.
    let mut ws = engine.websocket("EIO=4&transport=websocket").await;
    assert!(ws_text(&mut ws).await.starts_with("0{"), "open packet");
    ws_send(&mut ws, "40").await;
    assert!(
        ws_text(&mut ws).await.starts_with("40{"),
        "CONNECT answered"
    );
    let polling = SocketIoPolling::connect(engine.clone()).await;

    let before = rss_kb(node.pid());
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), node.pid());
        actix_rt::spawn(async move {
            // A measurement, not a synchronisation: RSS has no event to wait on.
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kb(pid), Ordering::Relaxed);
                actix_rt::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let plan = json!({ "url": node.url(), "broadcasts": BROADCASTS, "size": PAD, "batch": 500 });
    let report = run_js("fanout-flow.mjs", &plan).await;
    assert_eq!(
        report,
        json!({ "received": BROADCASTS, "inOrder": true, "receiverConnected": true }),
        "a reading client gets every broadcast\n{}",
        node.log()
    );
    node.wait_for_metric(
        r#"switchyard_engine_sessions_closed_total{reason="buffer full"}"#,
        2.0,
    )
    .await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let growth = peak.load(Ordering::Relaxed).saturating_sub(before);
    assert!(
        growth < RSS_GROWTH_LIMIT_KB,
        "RSS grew by {growth} kB (from {before} kB) while a client did not read"
    );
    // The polling client's session is gone: its next GET says so.
    let reply = polling.get_via(&engine).await;
    assert_eq!(reply.status.as_u16(), 400, "{reply:?}");
    drop(ws);
}
