//! Broadcasts as they cross nodes.

use switchyard_shared::{
    cluster::{WireBroadcast, WireError},
    sid::NodeId,
};

use crate::socketio::{Broadcast, BroadcastId, Room};

/// Encodes a broadcast once for every subject it goes to.
pub(crate) fn to_wire(broadcast: &Broadcast, node: &NodeId) -> bytes::Bytes {
    let rooms = |list: &[Room]| list.iter().map(|room| room.to_string()).collect();
    WireBroadcast {
        origin: node.to_string(),
        id: (broadcast.id.origin, broadcast.id.seq),
        nsp: broadcast.nsp.to_string(),
        rooms: rooms(&broadcast.rooms),
        except: rooms(&broadcast.except),
        volatile: broadcast.volatile,
        frames: broadcast.frames.clone(),
    }
    .encode()
}

/// Decodes a broadcast from another node; `None` for one this node sent.
pub(crate) fn from_wire(
    payload: bytes::Bytes,
    node: &NodeId,
) -> Result<Option<Broadcast>, WireError> {
    let wire = WireBroadcast::decode(payload)?;
    if wire.origin == node.as_str() {
        return Ok(None);
    }
    let rooms = |list: Vec<String>| list.into_iter().map(Room::from).collect();
    Ok(Some(Broadcast {
        id: BroadcastId {
            origin: wire.id.0,
            seq: wire.id.1,
        },
        nsp: wire.nsp.into(),
        rooms: rooms(wire.rooms),
        except: rooms(wire.except),
        volatile: wire.volatile,
        local: true,
        frames: wire.frames,
        acks: None,
    }))
}
