//! Behind plain round-robin nginx, three nodes on real NATS serve clients
//! whose every request may land on a different node.

use serde_json::json;
use switchyard_e2e::{run_js, ClusterFixture};

#[actix_rt::test]
async fn fifty_polling_clients_through_round_robin() {
    let cluster = ClusterFixture::start(3, &[]).await;
    let plan = json!({
        "url": cluster.url(), "clients": 50, "rounds": 8, "rooms": 5, "transports": ["polling"],
    });
    let report = run_js("cluster-load.mjs", &plan).await;
    cluster.assert_clean_load(&report, 50);
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
