//! [`InProcessBus`]: the bus without NATS.
//!
//! A node started without a NATS URL gets a private hub and is alone. Tests
//! attach several nodes to one [`InProcessHub`] to run a cluster inside one
//! process. The hub is shared state behind a mutex: fine for one process,
//! and a lone node never touches it for broadcasts.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::bus::{BusError, BusFuture, BusStream, ClusterBus, Inbound};

/// How many messages a subscription holds before new ones are dropped.
const SUBSCRIPTION_CAPACITY: usize = 4096;

/// The subjects and subscriptions of one in-process cluster.
#[derive(Clone, Default)]
pub struct InProcessHub {
    state: Arc<Mutex<HubState>>,
}

#[derive(Default)]
struct HubState {
    subscriptions: HashMap<String, Vec<mpsc::Sender<Inbound>>>,
    /// Queue groups by subject, then by group name.
    queues: HashMap<String, HashMap<String, Vec<mpsc::Sender<Inbound>>>>,
    inboxes: HashMap<String, oneshot::Sender<Bytes>>,
    next_inbox: u64,
    buses: usize,
}

impl InProcessHub {
    /// A bus for one more node on this hub.
    pub fn bus(&self) -> InProcessBus {
        if let Ok(mut state) = self.state.lock() {
            state.buses += 1;
        }
        InProcessBus { hub: self.clone() }
    }
}

/// One node's side of an [`InProcessHub`].
pub struct InProcessBus {
    hub: InProcessHub,
}

impl InProcessBus {
    /// A bus for a node that runs alone.
    pub fn alone() -> Self {
        InProcessHub::default().bus()
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> Option<T> {
        self.hub.state.lock().ok().map(|mut state| f(&mut state))
    }
}

impl HubState {
    /// Delivers to every live subscriber; returns how many took it.
    fn deliver(&mut self, subject: &str, inbound: &Inbound) -> usize {
        let mut taken = 0;
        if let Some(subscribers) = self.subscriptions.get_mut(subject) {
            subscribers.retain(|sender| !sender.is_closed());
            taken += subscribers
                .iter()
                .filter(|sender| sender.try_send(inbound.clone()).is_ok())
                .count();
        }
        // One member of each queue group: the first that takes it.
        for members in self
            .queues
            .get_mut(subject)
            .into_iter()
            .flat_map(|g| g.values_mut())
        {
            members.retain(|sender| !sender.is_closed());
            if members
                .iter()
                .any(|sender| sender.try_send(inbound.clone()).is_ok())
            {
                taken += 1;
            }
        }
        taken
    }
}

impl ClusterBus for InProcessBus {
    fn publish(&self, subject: String, payload: Bytes) {
        self.with_state(|state| {
            if let Some(inbox) = state.inboxes.remove(&subject) {
                let _ = inbox.send(payload);
            } else {
                state.deliver(
                    &subject,
                    &Inbound {
                        payload,
                        reply: None,
                    },
                );
            }
        });
    }

    fn request(
        &self,
        subject: String,
        payload: Bytes,
        timeout: Duration,
    ) -> BusFuture<Result<Bytes, BusError>> {
        let (reply_tx, reply_rx) = oneshot::channel();
        let delivered = self.with_state(|state| {
            state.next_inbox += 1;
            let inbox = format!("_INBOX.{}", state.next_inbox);
            state.inboxes.insert(inbox.clone(), reply_tx);
            let taken = state.deliver(
                &subject,
                &Inbound {
                    payload,
                    reply: Some(inbox.clone()),
                },
            );
            if taken == 0 {
                state.inboxes.remove(&inbox);
            }
            taken
        });
        Box::pin(async move {
            match delivered {
                None => Err(BusError::Unavailable("hub poisoned".into())),
                Some(0) => Err(BusError::NoResponders(subject)),
                Some(_) => match tokio::time::timeout(timeout, reply_rx).await {
                    Ok(Ok(payload)) => Ok(payload),
                    Ok(Err(_)) => Err(BusError::NoResponders(subject)),
                    Err(_) => Err(BusError::Timeout),
                },
            }
        })
    }

    fn subscribe(&self, subject: String) -> BusFuture<Result<BusStream, BusError>> {
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let added =
            self.with_state(|state| state.subscriptions.entry(subject).or_default().push(sender));
        Box::pin(async move {
            added.ok_or_else(|| BusError::Unavailable("hub poisoned".into()))?;
            Ok(receiver_stream(receiver))
        })
    }

    fn queue_subscribe(
        &self,
        subject: String,
        group: String,
    ) -> BusFuture<Result<BusStream, BusError>> {
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let added = self.with_state(|state| {
            let groups = state.queues.entry(subject).or_default();
            groups.entry(group).or_default().push(sender);
        });
        Box::pin(async move {
            added.ok_or_else(|| BusError::Unavailable("hub poisoned".into()))?;
            Ok(receiver_stream(receiver))
        })
    }

    fn scatter(&self, subject: String, payload: Bytes) -> BusFuture<Result<BusStream, BusError>> {
        let (sender, receiver) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let sent = self.with_state(|state| {
            // Inboxes of finished scatters have closed receivers: forget them.
            state.subscriptions.retain(|_, subscribers| {
                subscribers.retain(|sender| !sender.is_closed());
                !subscribers.is_empty()
            });
            state.next_inbox += 1;
            let inbox = format!("_INBOX.{}", state.next_inbox);
            state.subscriptions.insert(inbox.clone(), vec![sender]);
            state.deliver(
                &subject,
                &Inbound {
                    payload,
                    reply: Some(inbox),
                },
            );
        });
        Box::pin(async move {
            sent.ok_or_else(|| BusError::Unavailable("hub poisoned".into()))?;
            Ok(receiver_stream(receiver))
        })
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn is_alone(&self) -> bool {
        self.with_state(|state| state.buses <= 1).unwrap_or(true)
    }
}

/// A subscription's channel as a bus stream.
fn receiver_stream(receiver: mpsc::Receiver<Inbound>) -> BusStream {
    Box::pin(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|inbound| (inbound, receiver)) },
    ))
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    #[actix_rt::test]
    async fn publish_reaches_subscribers_of_the_exact_subject() {
        let hub = InProcessHub::default();
        let (a, b) = (hub.bus(), hub.bus());
        assert!(!a.is_alone());
        let mut room = b.subscribe("s.room.x".into()).await.unwrap();
        let mut other = b.subscribe("s.room.y".into()).await.unwrap();
        a.publish("s.room.x".into(), Bytes::from_static(b"hi"));
        assert_eq!(
            room.next().await.unwrap().payload,
            Bytes::from_static(b"hi")
        );
        a.publish("s.room.y".into(), Bytes::from_static(b"second"));
        assert_eq!(
            other.next().await.unwrap().payload,
            Bytes::from_static(b"second")
        );
    }

    #[actix_rt::test]
    async fn requests_are_answered_or_have_no_responders() {
        let hub = InProcessHub::default();
        let (a, b) = (hub.bus(), hub.bus());
        let timeout = Duration::from_secs(5);
        let none = a.request("s.node.b".into(), Bytes::new(), timeout).await;
        assert_eq!(none, Err(BusError::NoResponders("s.node.b".into())));
        let mut server = b.subscribe("s.node.b".into()).await.unwrap();
        let answer =
            actix_rt::spawn(a.request("s.node.b".into(), Bytes::from_static(b"q"), timeout));
        let request = server.next().await.unwrap();
        assert_eq!(request.payload, Bytes::from_static(b"q"));
        b.reply(request.reply.unwrap(), Bytes::from_static(b"a"));
        assert_eq!(answer.await.unwrap(), Ok(Bytes::from_static(b"a")));
        // A dropped subscription no longer answers.
        drop(server);
        let gone = a.request("s.node.b".into(), Bytes::new(), timeout).await;
        assert!(matches!(gone, Err(BusError::NoResponders(_))));
        assert!(InProcessBus::alone().is_alone());
    }

    #[actix_rt::test]
    async fn a_scatter_reaches_every_subscriber_and_gathers_all_their_answers() {
        let hub = InProcessHub::default();
        let (a, b, c) = (hub.bus(), hub.bus(), hub.bus());
        let mut on_b = b.subscribe("s.ops".into()).await.unwrap();
        let mut on_c = c.subscribe("s.ops".into()).await.unwrap();
        let mut inbox = a
            .scatter("s.ops".into(), Bytes::from_static(b"q"))
            .await
            .unwrap();
        let (at_b, at_c) = (on_b.next().await.unwrap(), on_c.next().await.unwrap());
        assert_eq!(at_b.payload, Bytes::from_static(b"q"));
        assert_eq!(at_b.reply, at_c.reply);
        let reply_to = at_b.reply.unwrap();
        b.reply(reply_to.clone(), Bytes::from_static(b"b1"));
        c.reply(reply_to.clone(), Bytes::from_static(b"c1"));
        b.reply(reply_to, Bytes::from_static(b"b2"));
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(inbox.next().await.unwrap().payload);
        }
        assert_eq!(answers, [&b"b1"[..], b"c1", b"b2"]);
        // A second scatter gets its own inbox.
        let _second = a.scatter("s.ops".into(), Bytes::new()).await.unwrap();
        assert_ne!(on_b.next().await.unwrap().reply, at_c.reply);
    }
}
