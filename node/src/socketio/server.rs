//! [`SocketIo`]: the app as a whole, and the server-side handle on it.

use std::{sync::Arc, time::Duration};

use actix::Addr;

use super::{broadcast::BroadcastOperator, client::SocketIoClient, namespace::Namespace};
use crate::{app::AppMaker, room::RoomRegistry};

/// Most binary attachments one packet may carry.
pub(crate) const MAX_ATTACHMENTS: usize = 64;

/// A socket.io app under construction: its namespaces.
#[derive(Clone, Default)]
pub struct SocketIoBuilder {
    namespaces: Vec<Namespace>,
}

impl SocketIoBuilder {
    /// Adds a namespace. The first one whose name or pattern matches a
    /// CONNECT serves it; a CONNECT that none matches gets `Invalid namespace`.
    pub fn ns(mut self, namespace: Namespace) -> Self {
        self.namespaces.push(namespace);
        self
    }

    /// Binds the app to a node's room registry and settings.
    pub fn build(self, rooms: Addr<RoomRegistry>, connect_timeout: Duration) -> SocketIo {
        SocketIo {
            shared: Arc::new(Shared {
                namespaces: self.namespaces,
                rooms,
                connect_timeout,
            }),
        }
    }
}

/// A running socket.io app: its namespaces, and broadcasts from the server.
#[derive(Clone)]
pub struct SocketIo {
    shared: Arc<Shared>,
}

struct Shared {
    namespaces: Vec<Namespace>,
    rooms: Addr<RoomRegistry>,
    connect_timeout: Duration,
}

impl SocketIo {
    /// Starts an app description.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }

    /// A broadcast to the sockets of namespace `nsp` (narrow it with `to`).
    pub fn of(&self, nsp: &str) -> BroadcastOperator {
        BroadcastOperator::new(self.clone(), nsp.into())
    }

    /// Builds each new session's socket.io layer.
    pub fn app_maker(&self) -> AppMaker {
        let io = self.clone();
        Arc::new(move |handshake| Box::new(SocketIoClient::new(io.clone(), handshake.clone())))
    }

    pub(crate) fn rooms(&self) -> &Addr<RoomRegistry> {
        &self.shared.rooms
    }

    pub(crate) fn namespaces(&self) -> &[Namespace] {
        &self.shared.namespaces
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        self.shared.connect_timeout
    }
}
