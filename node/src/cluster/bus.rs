//! [`ClusterBus`]: what a node needs from the transport between nodes.

use std::{future::Future, pin::Pin, time::Duration};

use bytes::Bytes;
use futures_util::Stream;

/// A future the bus returns; boxed so that the trait stays object-safe.
pub type BusFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// The messages of one subscription; dropping it unsubscribes.
pub type BusStream = Pin<Box<dyn Stream<Item = Inbound> + Send + 'static>>;

/// A message that arrived on a subscription.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Its payload.
    pub payload: Bytes,
    /// Where to answer, for a request.
    pub reply: Option<String>,
}

/// Why a bus operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// Nobody subscribes to the subject: the node it names is gone.
    #[error("no responders on {0}")]
    NoResponders(String),
    /// The request was not answered in time.
    #[error("request timed out")]
    Timeout,
    /// The bus is down (NATS disconnected) or refused the operation.
    #[error("cluster bus unavailable: {0}")]
    Unavailable(String),
}

/// The transport between nodes: publish, request/reply and subscriptions on
/// named subjects.
pub trait ClusterBus: Send + Sync + 'static {
    /// Sends a message without waiting. Messages from one caller keep their
    /// order; if the outgoing queue is full the message is dropped and counted.
    fn publish(&self, subject: String, payload: Bytes);

    /// Sends a request and waits for the first reply.
    fn request(
        &self,
        subject: String,
        payload: Bytes,
        timeout: Duration,
    ) -> BusFuture<Result<Bytes, BusError>>;

    /// Subscribes to a subject.
    fn subscribe(&self, subject: String) -> BusFuture<Result<BusStream, BusError>>;

    /// Subscribes to a subject as one of the `group`: each message goes to
    /// one member of the group, so a request is served once however many
    /// nodes listen.
    fn queue_subscribe(
        &self,
        subject: String,
        group: String,
    ) -> BusFuture<Result<BusStream, BusError>>;

    /// Publishes a request to every subscriber of `subject` with a fresh
    /// inbox as its reply subject, and returns the inbox: every answer of
    /// every receiver, as many as each sends, until the stream is dropped.
    /// How a node scatters an operation to all nodes and gathers the
    /// answers; the inbox is subscribed before the request leaves.
    fn scatter(&self, subject: String, payload: Bytes) -> BusFuture<Result<BusStream, BusError>>;

    /// Answers a request.
    fn reply(&self, to: String, payload: Bytes) {
        self.publish(to, payload);
    }

    /// Whether the bus can reach other nodes right now.
    fn is_connected(&self) -> bool;

    /// Whether this node is necessarily alone (a private in-process bus), so
    /// that publishing to others is pointless.
    fn is_alone(&self) -> bool {
        false
    }

    /// Resolves once the bus has taken in everything this node asked of it
    /// so far, subscriptions included: after it, a subscription made before
    /// hears every message published after. Bounded in time.
    fn sync(&self) -> BusFuture<()> {
        Box::pin(async {})
    }

    /// Resolves once everything published so far has left this node; how a
    /// stopping node makes sure its goodbye is sent.
    fn flush(&self) -> BusFuture<()> {
        Box::pin(async {})
    }
}
