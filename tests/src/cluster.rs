//! A whole cluster for a test: a real NATS, N node processes on it, and
//! nginx with plain round-robin in front of them.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{eventually, relay::TcpRelay, NatsServer, Nginx, NodeProcess};

/// Heartbeats fast enough that membership tests take a second, not ten.
const CLUSTER_SETTINGS: &[(&str, &str)] = &[
    ("SWITCHYARD_CLUSTER__HEARTBEAT_INTERVAL_MS", "200"),
    ("SWITCHYARD_CLUSTER__HEARTBEAT_TIMEOUT_MS", "1000"),
    ("SWITCHYARD_NATS__REQUEST_TIMEOUT_MS", "2000"),
];

/// Starts `program` as node `node<index>` on NATS at `url` with the
/// cluster's settings.
fn start_node(
    program: &Path,
    url: String,
    index: usize,
    settings: &[(String, String)],
) -> NodeProcess {
    let id = format!("node{index}");
    let mut env = vec![
        ("SWITCHYARD_NATS__URL", url.as_str()),
        ("SWITCHYARD_NODE_ID", id.as_str()),
    ];
    env.extend_from_slice(CLUSTER_SETTINGS);
    env.extend(
        settings
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    );
    NodeProcess::spawn_program(program, &env).listening()
}

/// NATS, nodes and nginx, all stopped when dropped.
pub struct ClusterFixture {
    /// Fields drop in order: the load balancer first, NATS last.
    pub nginx: Nginx,
    /// The nodes; `None` once a test has killed one.
    pub nodes: Vec<Option<NodeProcess>>,
    /// The cluster's bus.
    pub nats: NatsServer,
    /// The settings every node gets, for nodes added later.
    settings: Vec<(String, String)>,
    /// The node binary.
    program: PathBuf,
    /// Each node's own way to NATS, when the cluster was started relayed.
    relays: Vec<TcpRelay>,
}

impl ClusterFixture {
    /// Starts NATS, `count` nodes (ids `node0`…) with `settings` added, and
    /// nginx; returns once every node is ready with all members joined.
    pub async fn start(count: usize, settings: &[(&str, &str)]) -> Self {
        Self::start_program(crate::node::binary(), count, settings).await
    }

    /// [`ClusterFixture::start`] with another node binary, such as an
    /// [`example`](crate::node::example) with an app of its own.
    pub async fn start_program(program: PathBuf, count: usize, settings: &[(&str, &str)]) -> Self {
        Self::launch(program, count, settings, false).await
    }

    /// [`ClusterFixture::start`], with each node reaching NATS through a
    /// relay of its own, so that a test can cut one node off
    /// ([`ClusterFixture::cut_off`]) while the others stay connected.
    pub async fn start_relayed(count: usize, settings: &[(&str, &str)]) -> Self {
        Self::launch(crate::node::binary(), count, settings, true).await
    }

    async fn launch(
        program: PathBuf,
        count: usize,
        settings: &[(&str, &str)],
        relayed: bool,
    ) -> Self {
        let nats = NatsServer::start();
        let settings: Vec<(String, String)> = settings
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        let nats_address = nats.url().trim_start_matches("nats://").to_owned();
        let relays: Vec<TcpRelay> = (0..count)
            .filter(|_| relayed)
            .map(|_| TcpRelay::start(&nats_address))
            .collect();
        let nodes: Vec<NodeProcess> = (0..count)
            .map(|index| {
                let url = relays.get(index).map_or_else(|| nats.url(), TcpRelay::url);
                start_node(&program, url, index, &settings)
            })
            .collect();
        let upstreams: Vec<String> = nodes.iter().map(|node| node.addr().to_owned()).collect();
        let nginx = Nginx::start(&upstreams);
        let cluster = Self {
            nginx,
            nodes: nodes.into_iter().map(Some).collect(),
            nats,
            settings,
            program,
            relays,
        };
        cluster.wait_for_members(count).await;
        cluster
    }

    /// Starts one more node (not behind the load balancer) with the same
    /// settings, and returns its index once it listens; it may not be
    /// ready yet.
    pub fn add_node(&mut self) -> usize {
        let index = self.nodes.len();
        let node = start_node(&self.program, self.nats.url(), index, &self.settings);
        self.nodes.push(Some(node));
        index
    }

    /// Cuts node `index` off NATS (a cluster from [`ClusterFixture::start_relayed`]).
    pub fn cut_off(&self, index: usize) {
        self.relays[index].cut();
    }

    /// Lets node `index` reach NATS again.
    pub fn reconnect(&self, index: usize) {
        self.relays[index].mend();
    }

    /// The load balancer's URL: where clients connect.
    pub fn url(&self) -> String {
        self.nginx.url()
    }

    /// Node `index`, which must still run.
    pub fn node(&self, index: usize) -> &NodeProcess {
        self.nodes[index].as_ref().expect("node was stopped")
    }

    /// The nodes still running.
    pub fn live_nodes(&self) -> impl Iterator<Item = &NodeProcess> {
        self.nodes.iter().flatten()
    }

    /// Node `index`, mutably, which must still run.
    pub fn node_mut(&mut self, index: usize) -> &mut NodeProcess {
        self.nodes[index].as_mut().expect("node was stopped")
    }

    /// Kills node `index` with SIGKILL: no goodbye to the cluster.
    pub fn kill(&mut self, index: usize) {
        self.nodes[index] = None;
    }

    /// Freezes node `index` with SIGSTOP: it stops answering and sending
    /// heartbeats, without saying goodbye; [`ClusterFixture::kill`] ends it.
    pub fn freeze(&self, index: usize) {
        self.node(index).freeze();
    }

    /// A metric summed over the running nodes.
    pub async fn metric_sum(&self, name: &str) -> f64 {
        let mut sum = 0.0;
        for node in self.live_nodes() {
            sum += node.metric(name).await;
        }
        sum
    }

    /// Waits until every running node counts `count` live members and is ready.
    pub async fn wait_for_members(&self, count: usize) {
        for node in self.live_nodes() {
            let ready = eventually(Duration::from_secs(20), || async {
                let body = node.get("/ready").await;
                (body.status.as_u16() == 200
                    && node.metric("switchyard_cluster_members").await == count as f64)
                    .then_some(())
            })
            .await;
            assert!(
                ready.is_some(),
                "node never saw {count} members\n{}",
                node.log()
            );
        }
    }

    /// Checks a `cluster-load.mjs` report: all `clients` connected and no
    /// failure of any kind was seen.
    pub fn assert_clean_load(&self, report: &serde_json::Value, clients: u64) {
        for key in [
            "connectErrors",
            "engineErrors",
            "disconnects",
            "ackErrors",
            "mismatches",
            "roomCounts",
            "upgradeErrors",
        ] {
            assert_eq!(
                report[key],
                serde_json::json!([]),
                "{key}: {report}\n{}",
                self.logs()
            );
        }
        assert_eq!(report.get("timedOut"), None, "{report}\n{}", self.logs());
        assert_eq!(report["connected"], clients, "{report}");
    }

    /// Everything the processes logged, for a failing test's message.
    pub fn logs(&self) -> String {
        let nodes: Vec<String> = self
            .live_nodes()
            .enumerate()
            .map(|(index, node)| format!("--- node {index}\n{}", node.log()))
            .collect();
        format!(
            "{}\n--- nginx\n{}\n--- nats\n{}",
            nodes.join("\n"),
            self.nginx.log(),
            self.nats.log()
        )
    }
}
