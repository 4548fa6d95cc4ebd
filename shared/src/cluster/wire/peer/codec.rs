//! Encoding [`PeerMessage`]: the message with frame counts is the JSON
//! header, and the frames follow as blobs, in the order `try_map` visits
//! them.

use bytes::Bytes;

use super::{
    PeerBody, PeerBodyOf, PeerMessage, PeerMessageOf, RelayItem, RelayItemOf, SessionSnapshotOf,
};
use crate::{
    cluster::wire::{
        envelope::{envelope, frame_blobs, open},
        header::{Header, KIND_PEER},
        WireError,
    },
    engine::Frame,
};

impl<F> PeerBodyOf<F> {
    /// The same body with every frame list mapped by `map`, in order.
    fn try_map<G, E>(self, map: &mut impl FnMut(F) -> Result<G, E>) -> Result<PeerBodyOf<G>, E> {
        Ok(match self {
            Self::Claim => PeerBodyOf::Claim,
            Self::Probed => PeerBodyOf::Probed,
            Self::Take => PeerBodyOf::Take,
            Self::Release => PeerBodyOf::Release,
            Self::Abort { imported } => PeerBodyOf::Abort { imported },
            Self::Accepted => PeerBodyOf::Accepted,
            Self::Refused(code) => PeerBodyOf::Refused(code),
            Self::Relay(item) => PeerBodyOf::Relay(item.try_map(map)?),
            Self::Snapshot(snapshot) => PeerBodyOf::Snapshot(SessionSnapshotOf {
                query: snapshot.query,
                headers: snapshot.headers,
                address: snapshot.address,
                url: snapshot.url,
                secure: snapshot.secure,
                outbox: map(snapshot.outbox)?,
                next_ping_ms: snapshot.next_ping_ms,
                pong_due_ms: snapshot.pong_due_ms,
                app: snapshot.app,
            }),
            Self::Relayed(items) => PeerBodyOf::Relayed(
                items
                    .into_iter()
                    .map(|item| item.try_map(map))
                    .collect::<Result<_, E>>()?,
            ),
        })
    }
}

impl<F> RelayItemOf<F> {
    /// The same item with its frame list mapped by `map`.
    fn try_map<G, E>(self, map: &mut impl FnMut(F) -> Result<G, E>) -> Result<RelayItemOf<G>, E> {
        Ok(match self {
            Self::Emit {
                nsp,
                socket,
                ack,
                frames,
            } => RelayItemOf::Emit {
                nsp,
                socket,
                ack,
                frames: map(frames)?,
            },
            Self::Deliver {
                socket,
                id,
                nsp,
                rooms,
                except,
                volatile,
                frames,
            } => RelayItemOf::Deliver {
                socket,
                id,
                nsp,
                rooms,
                except,
                volatile,
                frames: map(frames)?,
            },
            Self::Join { nsp, socket, room } => RelayItemOf::Join { nsp, socket, room },
            Self::Leave { nsp, socket, room } => RelayItemOf::Leave { nsp, socket, room },
            Self::SetData { nsp, socket, data } => RelayItemOf::SetData { nsp, socket, data },
            Self::Disconnect { nsp, socket } => RelayItemOf::Disconnect { nsp, socket },
            Self::AckAnswer {
                nsp,
                id,
                args,
                frames,
            } => RelayItemOf::AckAnswer {
                nsp,
                id,
                args,
                frames: map(frames)?,
            },
        })
    }
}

impl PeerMessage {
    /// Encodes for the bus: frame counts in the header, frames as blobs.
    pub fn encode(&self) -> Bytes {
        let mut frames: Vec<&Frame> = Vec::new();
        let body = self.body.clone().try_map(&mut |list: Vec<Frame>| {
            let count = u64::try_from(list.len()).unwrap_or(u64::MAX);
            Ok::<_, std::convert::Infallible>(count)
        });
        let Ok(body) = body;
        collect_frames(&self.body, &mut frames);
        let header = Header::Peer(PeerMessageOf {
            from: self.from.clone(),
            sid: self.sid.clone(),
            endpoint: self.endpoint,
            body,
        });
        let blobs = frame_blobs(frames.iter().copied());
        envelope(&header, &blobs)
    }

    /// Decodes a received payload; frames share its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let message = match header {
            Header::Peer(message) => message,
            other => return Err(other.wrong_kind(KIND_PEER)),
        };
        let body = message
            .body
            .try_map(&mut |count: u64| reader.frames(count))?;
        reader.finish()?;
        Ok(Self {
            from: message.from,
            sid: message.sid,
            endpoint: message.endpoint,
            body,
        })
    }
}

/// Every frame of `body`, in the order `try_map` visits them.
fn collect_frames<'a>(body: &'a PeerBody, out: &mut Vec<&'a Frame>) {
    let item_frames = |item: &'a RelayItem| -> &'a [Frame] {
        match item {
            RelayItemOf::Emit { frames, .. }
            | RelayItemOf::Deliver { frames, .. }
            | RelayItemOf::AckAnswer { frames, .. } => frames,
            _ => &[],
        }
    };
    match body {
        PeerBodyOf::Relay(item) => out.extend(item_frames(item)),
        PeerBodyOf::Relayed(items) => out.extend(items.iter().flat_map(item_frames)),
        PeerBodyOf::Snapshot(snapshot) => out.extend(&snapshot.outbox),
        _ => {}
    }
}
