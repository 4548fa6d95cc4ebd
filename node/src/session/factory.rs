//! Starting sessions for the gateway.

use std::sync::Arc;

use actix::{Actor, Addr, Recipient};
use switchyard_gateway::{
    session::Opening, Adopt, ClaimFuture, EndpointId, GatewayActor, HandshakeInfo, SessionFactory,
    SessionRequest,
};
use switchyard_shared::{
    cluster::PeerBody,
    engine::{EngineError, OpenPacket, Packet, Transport},
    sid::{NodeId, Sid},
};

use super::{actor::SessionParts, SessionActor, SessionConfig};
use crate::{
    app::AppMaker,
    cluster::{BusError, Peers},
};

/// Starts [`SessionActor`]s for one endpoint of this node.
pub struct SessionSpawner {
    node: NodeId,
    gateway: Addr<GatewayActor>,
    config: Arc<SessionConfig>,
    max_payload: u64,
    app: AppMaker,
    peers: Option<Peers>,
}

impl SessionSpawner {
    /// A spawner whose sessions run `app` and carry `node` in their sids.
    pub fn new(
        node: NodeId,
        gateway: Addr<GatewayActor>,
        config: Arc<SessionConfig>,
        max_payload: u64,
        app: AppMaker,
    ) -> Self {
        Self {
            node,
            gateway,
            config,
            max_payload,
            app,
            peers: None,
        }
    }

    /// Lets sessions move between this node and `peers`.
    pub fn with_peers(mut self, peers: Peers) -> Self {
        self.peers = Some(peers);
        self
    }

    fn parts(&self, sid: Sid, endpoint: EndpointId, info: HandshakeInfo) -> SessionParts {
        SessionParts {
            node: self.node.clone(),
            sid,
            endpoint,
            config: self.config.clone(),
            gateway: self.gateway.clone(),
            peers: self.peers.clone(),
            info,
        }
    }

    fn open_packet(&self, sid: &Sid, transport: Transport) -> Packet {
        let upgrades = match transport {
            Transport::Polling if self.config.websocket_enabled => vec![Transport::WebSocket],
            _ => vec![],
        };
        let open = OpenPacket {
            sid: sid.to_string(),
            upgrades,
            ping_interval: duration_ms(self.config.ping_interval),
            ping_timeout: duration_ms(self.config.ping_timeout),
            max_payload: self.max_payload,
        };
        Packet::Open(open.to_json())
    }
}

fn duration_ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl SessionFactory for SessionSpawner {
    fn open(
        &self,
        endpoint: EndpointId,
        handshake: HandshakeInfo,
        opening: Opening,
    ) -> Recipient<SessionRequest> {
        // A v4 uuid carries 122 random bits from the OS generator.
        let sid = Sid::new(&self.node, uuid::Uuid::new_v4().into_bytes());
        let (transport, link) = match opening {
            Opening::Polling => (Transport::Polling, None),
            Opening::WebSocket(link) => (Transport::WebSocket, Some(link)),
        };
        let open = self.open_packet(&sid, transport);
        crate::ops::metrics::handshake(transport);
        let app = (self.app)(&handshake);
        let parts = self.parts(sid, endpoint, handshake);
        SessionActor::new(parts, app, open, link)
            .start()
            .recipient()
    }

    fn claim(&self, endpoint: EndpointId, sid: Sid) -> ClaimFuture {
        let Some(peers) = self.peers.clone() else {
            return Box::pin(async { Err(EngineError::UnknownSid) });
        };
        let parts = self.parts(sid, endpoint, HandshakeInfo::default());
        let maker = self.app.clone();
        Box::pin(async move {
            let owner = parts.sid.node().to_owned();
            let answer = peers
                .ask(&owner, &parts.sid, endpoint, PeerBody::Claim)
                .await;
            match answer {
                Ok(PeerBody::Accepted) => {
                    let adopt: Adopt = Box::new(move |link| {
                        SessionActor::incoming(parts, owner, maker, link)
                            .start()
                            .recipient()
                    });
                    Ok(adopt)
                }
                Ok(PeerBody::Refused(code)) => {
                    Err(EngineError::from_code(code).unwrap_or(EngineError::BadRequest))
                }
                Err(BusError::NoResponders(_)) => Err(EngineError::UnknownSid),
                Ok(_) | Err(_) => Err(EngineError::BadRequest),
            }
        })
    }
}
