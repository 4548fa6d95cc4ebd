//! Behind plain round-robin nginx, three nodes on real NATS serve clients
//! whose every request may land on a different node.

use serde_json::{json, Value};
use switchyard_e2e::{run_js, ClusterFixture};

fn assert_clean(report: &Value, clients: u64, cluster: &ClusterFixture) {
    for key in [
        "connectErrors",
        "engineErrors",
        "disconnects",
        "ackErrors",
        "mismatches",
        "roomCounts",
    ] {
        assert_eq!(
            report[key],
            json!([]),
            "{key}: {report}\n{}",
            cluster.logs()
        );
    }
    assert_eq!(report.get("timedOut"), None, "{report}");
    assert_eq!(report["connected"], clients, "{report}");
}

#[actix_rt::test]
async fn fifty_polling_clients_through_round_robin() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let plan = json!({
        "url": cluster.url(), "clients": 50, "rounds": 8, "rooms": 5, "transports": ["polling"],
    });
    let report = run_js("cluster-load.mjs", &plan).await;
    assert_clean(&report, 50, &cluster);
    assert_eq!(report["transports"], json!({ "polling": 50 }));

    // Round-robin over three nodes: about two requests in three land on a
    // node that does not own the session and are forwarded.
    let forwarded = cluster
        .metric_sum("switchyard_forwarded_requests_total")
        .await;
    let handled = cluster
        .metric_sum("switchyard_engine_polling_requests_total")
        .await;
    let share = forwarded / handled;
    eprintln!("forwarded {forwarded} of {handled} polling requests ({share:.2})");
    assert!(
        (0.5..0.8).contains(&share),
        "forwarded {forwarded} of {handled} ({share:.2})"
    );
}

#[actix_rt::test]
async fn default_transports_through_round_robin() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let plan = json!({
        "url": cluster.url(), "clients": 30, "rounds": 4, "rooms": 3, "transports": ["polling", "websocket"],
    });
    let report = run_js("cluster-load.mjs", &plan).await;
    assert_clean(&report, 30, &cluster);
    // An upgrade that lands on the owner succeeds; one that lands elsewhere
    // fails cleanly and the client goes on polling. Both kinds worked above.
    let transports = report["transports"].as_object().expect("transports");
    let total: u64 = transports.values().filter_map(Value::as_u64).sum();
    assert_eq!(total, 30, "{report}");
}
