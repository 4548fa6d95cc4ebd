//! [`NatsBus`]: the cluster bus over NATS (async-nats).

use std::{path::PathBuf, time::Duration};

use async_nats::{client::RequestErrorKind, connection::State, ConnectOptions, Event};
use bytes::Bytes;
use futures_util::StreamExt as _;
use switchyard_shared::{config::NatsSettings, sid::NodeId};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::bus::{BusError, BusFuture, BusStream, ClusterBus, Inbound};
use crate::ops::metrics;

/// Bytes a forwarded request adds around a POST body.
pub const ENVELOPE_OVERHEAD: usize = 4096;
/// The longest [`ClusterBus::sync`] waits for its echo.
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages waiting for the NATS connection before new ones are dropped.
const OUTGOING_CAPACITY: usize = 65_536;

/// Why the node could not start on NATS.
#[derive(Debug, thiserror::Error)]
pub enum NatsStartError {
    /// A credentials or TLS file could not be read.
    #[error("nats: cannot read {path}: {source}")]
    File {
        /// The configured path.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A POST could not travel whole between nodes.
    #[error(
        "NATS max_payload is {nats} bytes, but SWITCHYARD_MAX_PAYLOAD ({ours}) plus {ENVELOPE_OVERHEAD} bytes of envelope must fit in one message: \
         raise max_payload in the NATS server config, or lower SWITCHYARD_MAX_PAYLOAD"
    )]
    PayloadLimit {
        /// The server's max_payload.
        nats: usize,
        /// The node's max_payload.
        ours: usize,
    },
}

/// What the publisher task sends, in order.
enum Outgoing {
    Publish(String, Bytes),
    Flush(oneshot::Sender<()>),
}

/// The bus over a NATS connection; async-nats reconnects and restores the
/// subscriptions by itself.
pub struct NatsBus {
    client: async_nats::Client,
    outgoing: mpsc::Sender<Outgoing>,
}

impl NatsBus {
    /// Connects, retrying until NATS answers, and checks that a POST of
    /// `max_payload` bytes fits in one NATS message.
    pub async fn connect(
        settings: &NatsSettings,
        node: &NodeId,
        max_payload: usize,
    ) -> Result<Self, NatsStartError> {
        let urls = settings.url.join(",");
        let mut delay = Duration::from_millis(200);
        let client = loop {
            match options(settings, node).await?.connect(urls.as_str()).await {
                Ok(client) => break client,
                Err(error) => {
                    warn!(%urls, %error, retry_in = ?delay, "waiting for NATS");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        };
        let limit = client.server_info().max_payload;
        if limit < max_payload + ENVELOPE_OVERHEAD {
            return Err(NatsStartError::PayloadLimit {
                nats: limit,
                ours: max_payload,
            });
        }
        info!(%urls, max_payload = limit, "connected to NATS");
        let (outgoing, mut queue) = mpsc::channel::<Outgoing>(OUTGOING_CAPACITY);
        let publisher = client.clone();
        actix_web::rt::spawn(async move {
            while let Some(message) = queue.recv().await {
                match message {
                    Outgoing::Publish(subject, payload) => {
                        if let Err(error) = publisher.publish(subject, payload).await {
                            warn!(%error, "NATS publish failed");
                        }
                    }
                    Outgoing::Flush(done) => {
                        if let Err(error) = publisher.flush().await {
                            warn!(%error, "NATS flush failed");
                        }
                        let _ = done.send(());
                    }
                }
            }
        });
        Ok(Self { client, outgoing })
    }
}

async fn options(settings: &NatsSettings, node: &NodeId) -> Result<ConnectOptions, NatsStartError> {
    let mut options = ConnectOptions::new()
        .name(
            settings
                .name
                .clone()
                .unwrap_or_else(|| format!("switchyard-{node}")),
        )
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None::<usize>)
        .request_timeout(None)
        .event_callback(|event| async move {
            match event {
                Event::Connected => info!("NATS connection restored"),
                Event::Disconnected => {
                    metrics::nats_reconnect();
                    warn!("NATS connection lost; local sessions go on, cluster traffic waits");
                }
                other => info!(event = %other, "NATS event"),
            }
        });
    if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
        options = options.user_and_password(user.clone(), password.clone());
    }
    if let Some(token) = &settings.token {
        options = options.token(token.clone());
    }
    if let Some(path) = &settings.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|source| NatsStartError::File {
                path: path.clone(),
                source,
            })?;
    }
    let tls = &settings.tls;
    options = options.require_tls(tls.required);
    if let Some(ca) = &tls.ca_file {
        options = options.add_root_certificates(PathBuf::from(ca));
    }
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        options = options.add_client_certificate(PathBuf::from(cert), PathBuf::from(key));
    }
    Ok(options)
}

impl ClusterBus for NatsBus {
    fn publish(&self, subject: String, payload: Bytes) {
        if self
            .outgoing
            .try_send(Outgoing::Publish(subject, payload))
            .is_err()
        {
            metrics::bus_dropped();
        }
    }

    fn request(
        &self,
        subject: String,
        payload: Bytes,
        timeout: Duration,
    ) -> BusFuture<Result<Bytes, BusError>> {
        let client = self.client.clone();
        Box::pin(async move {
            if client.connection_state() != State::Connected {
                return Err(BusError::Unavailable("NATS is not connected".into()));
            }
            match tokio::time::timeout(timeout, client.request(subject.clone(), payload)).await {
                Err(_) => Err(BusError::Timeout),
                Ok(Ok(message)) => Ok(message.payload),
                Ok(Err(error)) => Err(match error.kind() {
                    RequestErrorKind::NoResponders => BusError::NoResponders(subject),
                    RequestErrorKind::TimedOut => BusError::Timeout,
                    RequestErrorKind::Other => BusError::Unavailable(error.to_string()),
                }),
            }
        })
    }

    fn subscribe(&self, subject: String) -> BusFuture<Result<BusStream, BusError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let subscriber = client
                .subscribe(subject)
                .await
                .map_err(|error| BusError::Unavailable(error.to_string()))?;
            Ok(inbound_stream(subscriber))
        })
    }

    fn queue_subscribe(
        &self,
        subject: String,
        group: String,
    ) -> BusFuture<Result<BusStream, BusError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let subscriber = client
                .queue_subscribe(subject, group)
                .await
                .map_err(|error| BusError::Unavailable(error.to_string()))?;
            Ok(inbound_stream(subscriber))
        })
    }

    fn scatter(&self, subject: String, payload: Bytes) -> BusFuture<Result<BusStream, BusError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let unavailable =
                |error: &dyn std::fmt::Display| BusError::Unavailable(error.to_string());
            let inbox = client.new_inbox();
            let subscriber = client
                .subscribe(inbox.clone())
                .await
                .map_err(|error| unavailable(&error))?;
            // The subscription and the request share one connection, so the
            // server has the inbox before any node can answer.
            client
                .publish_with_reply(subject, inbox, payload)
                .await
                .map_err(|error| unavailable(&error))?;
            let stream = subscriber.map(|message| Inbound {
                payload: message.payload,
                reply: message.reply.map(|reply| reply.to_string()),
            });
            Ok(Box::pin(stream) as BusStream)
        })
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    fn sync(&self) -> BusFuture<()> {
        // The server handles one connection's commands in order: once a
        // message to a fresh inbox comes back, every earlier SUB is in force.
        let client = self.client.clone();
        Box::pin(async move {
            let inbox = client.new_inbox();
            let Ok(mut echo) = client.subscribe(inbox.clone()).await else {
                return;
            };
            if client.publish(inbox, Bytes::new()).await.is_ok() {
                let _ = tokio::time::timeout(SYNC_TIMEOUT, echo.next()).await;
            }
        })
    }

    fn flush(&self) -> BusFuture<()> {
        let outgoing = self.outgoing.clone();
        Box::pin(async move {
            let (done, flushed) = oneshot::channel();
            if outgoing.send(Outgoing::Flush(done)).await.is_ok() {
                // Bounded: a NATS that is down must not hold a stopping node.
                let _ = tokio::time::timeout(Duration::from_secs(2), flushed).await;
            }
        })
    }
}

/// A NATS subscription as a bus stream.
fn inbound_stream(subscriber: async_nats::Subscriber) -> BusStream {
    Box::pin(subscriber.map(|message| Inbound {
        payload: message.payload,
        reply: message.reply.map(|reply| reply.to_string()),
    }))
}
