//! Starting sessions for the gateway.

use std::sync::Arc;

use actix::{Actor, Addr, Recipient};
use switchyard_gateway::{
    session::Opening, EndpointId, GatewayActor, HandshakeInfo, SessionFactory, SessionRequest,
};
use switchyard_shared::{
    engine::{OpenPacket, Packet, Transport},
    sid::{NodeId, Sid},
};

use super::{SessionActor, SessionConfig};
use crate::app::AppMaker;

/// Starts [`SessionActor`]s for one endpoint of this node.
pub struct SessionSpawner {
    node: NodeId,
    gateway: Addr<GatewayActor>,
    config: Arc<SessionConfig>,
    max_payload: u64,
    app: AppMaker,
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
        let app = (self.app)(&handshake);
        SessionActor::new(
            sid,
            endpoint,
            self.config.clone(),
            self.gateway.clone(),
            app,
            open,
            link,
        )
        .start()
        .recipient()
    }
}
