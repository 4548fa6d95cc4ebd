//! Subject escaping on a real NATS: whatever namespaces and rooms are
//! called, a subscription hears its own subject and nothing else.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::StreamExt as _;
use switchyard_e2e::NatsServer;
use switchyard_node::cluster::{BusStream, ClusterBus, NatsBus};
use switchyard_shared::{cluster::Subjects, config::Settings, sid::NodeId};

/// Names that are wildcards, separators or whitespace in NATS, and the
/// names an unescaped subject would collide with.
const HOSTILE: &[&str] = &[
    "/", "a.b", "a", "b", "*", ">", "x y", "", "~", "a~2eb", "é", "a.*", "\t", "\u{0}", "/.>",
];

async fn nats_bus(nats: &NatsServer) -> Arc<dyn ClusterBus> {
    let mut settings: Settings = switchyard_node::settings::load_from(
        [("SWITCHYARD_NATS__URL".to_owned(), nats.url())]
            .into_iter()
            .collect(),
    )
    .expect("settings");
    settings.nats.name = Some("subject-test".into());
    let node = NodeId::parse("subjects").expect("node id");
    Arc::new(
        NatsBus::connect(&settings.nats, &node, settings.max_payload)
            .await
            .expect("NATS"),
    )
}

/// Returns once every subscription made so far is in place: NATS handles a
/// connection's commands in order, so one round trip (a request nobody
/// answers) comes back after all of them.
async fn in_place(bus: &Arc<dyn ClusterBus>) {
    let _ = bus
        .request(
            "switchyard.no-one".into(),
            Bytes::new(),
            Duration::from_secs(2),
        )
        .await;
}

#[actix_rt::test]
async fn hostile_namespace_and_room_names_reach_only_their_subject() {
    let nats = NatsServer::start();
    let bus = nats_bus(&nats).await;
    let subjects = Subjects::new("switchyard").expect("prefix");

    // One subscription per namespace subject and per (namespace, room) subject.
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    for nsp in HOSTILE {
        targets.insert(subjects.namespace(nsp), format!("nsp {nsp:?}"));
        for room in HOSTILE {
            targets.insert(subjects.room(nsp, room), format!("room {nsp:?} {room:?}"));
        }
    }
    let count = HOSTILE.len() * (HOSTILE.len() + 1);
    assert_eq!(
        targets.len(),
        count,
        "two names escaped to the same subject"
    );
    let mut streams: Vec<(String, BusStream)> = Vec::new();
    for (subject, label) in &targets {
        let stream = bus.subscribe(subject.clone()).await.expect("subscribe");
        streams.push((label.clone(), stream));
    }
    in_place(&bus).await;

    for (subject, label) in &targets {
        bus.publish(subject.clone(), Bytes::from(label.clone()));
    }
    // Each subscription hears exactly its own message: a wildcard or a
    // split token would bring it others', first or later.
    for (label, stream) in &mut streams {
        let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("a message")
            .expect("the subscription is open");
        assert_eq!(first.payload, Bytes::from(label.clone()), "{label}");
    }
    let marker = subjects.room("/", "marker");
    let mut marker_stream = bus.subscribe(marker.clone()).await.expect("subscribe");
    in_place(&bus).await;
    bus.publish(marker, Bytes::from_static(b"end"));
    let end = tokio::time::timeout(Duration::from_secs(5), marker_stream.next())
        .await
        .expect("marker");
    assert_eq!(end.map(|m| m.payload), Some(Bytes::from_static(b"end")));
    for (label, stream) in &mut streams {
        let extra = futures_util::FutureExt::now_or_never(stream.next());
        assert!(
            extra.is_none(),
            "{label} heard another subject's message: {extra:?}"
        );
    }
}
