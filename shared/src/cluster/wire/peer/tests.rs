//! Round trips and refusals of the peer messages' encoding.

use bytes::Bytes;
use bytestring::ByteString;

use super::*;
use crate::{cluster::wire::WireError, engine::Frame};
use proptest::prelude::*;

fn text(s: &str) -> Frame {
    Frame::Text(ByteString::from(s))
}

fn binary(b: &'static [u8]) -> Frame {
    Frame::Binary(Bytes::from_static(b))
}

pub(crate) fn relayed() -> PeerMessage {
    PeerMessage {
        from: "n2".into(),
        sid: "n1-abc".into(),
        endpoint: 0,
        body: PeerBodyOf::Relayed(vec![
            RelayItemOf::Emit {
                nsp: "/".into(),
                socket: "s1".into(),
                ack: Some(7),
                frames: vec![
                    text("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"),
                    binary(&[0, 0xff]),
                ],
            },
            RelayItemOf::Join {
                nsp: "/".into(),
                socket: "s1".into(),
                room: "a.b*".into(),
            },
            RelayItemOf::Deliver {
                socket: "s1".into(),
                id: (u64::MAX, 3),
                nsp: "/".into(),
                rooms: vec!["r".into()],
                except: vec![],
                volatile: false,
                frames: vec![text("42[\"m\"]")],
            },
            RelayItemOf::AckAnswer {
                nsp: "/".into(),
                id: 9,
                args: "[1]".into(),
                frames: vec![binary(b"")],
            },
        ]),
    }
}

pub(crate) fn snapshot() -> PeerMessage {
    PeerMessage {
        from: "n2".into(),
        sid: "n1-abc".into(),
        endpoint: 1,
        body: PeerBodyOf::Snapshot(SessionSnapshotOf {
            query: vec![("EIO".into(), "4".into())],
            headers: vec![("origin".into(), "x".into())],
            address: "10.0.0.1".into(),
            url: "/socket.io/?EIO=4".into(),
            secure: false,
            outbox: vec![text("2"), text("")],
            next_ping_ms: 1200,
            pong_due_ms: None,
            app: r#"{"sockets":[]}"#.into(),
        }),
    }
}

#[test]
fn peer_messages_round_trip() {
    for message in [relayed(), snapshot()] {
        assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
    }
    for body in [
        PeerBodyOf::Claim,
        PeerBodyOf::Probed,
        PeerBodyOf::Take,
        PeerBodyOf::Release,
        PeerBodyOf::Abort { imported: true },
        PeerBodyOf::Accepted,
        PeerBodyOf::Refused(1),
    ] {
        let message = PeerMessage {
            from: "n2".into(),
            sid: "s".into(),
            endpoint: 0,
            body,
        };
        assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
    }
}

#[test]
fn frames_stay_out_of_the_header() {
    let encoded = relayed().encode();
    let header_len = encoded
        .get(1..5)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0) as usize;
    let header = String::from_utf8_lossy(&encoded[5..5 + header_len]).into_owned();
    assert!(!header.contains("placeholder"), "{header}");
    assert!(header.contains(r#""frames":2"#), "{header}");
}

#[test]
fn refuses_cut_and_padded_messages() {
    let encoded = relayed().encode();
    let cut = encoded.slice(..encoded.len() - 1);
    assert!(PeerMessage::decode(cut).is_err());
    let mut padded = encoded.to_vec();
    padded.push(0);
    assert!(matches!(
        PeerMessage::decode(Bytes::from(padded)),
        Err(WireError::TrailingBytes(1))
    ));
}

pub(crate) fn any_peer() -> impl Strategy<Value = PeerMessage> {
    let frames = prop::collection::vec(
        prop_oneof![
            ".{0,8}".prop_map(|s| Frame::Text(ByteString::from(s))),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| Frame::Binary(Bytes::from(b))),
        ],
        0..4,
    );
    let item = (".{0,6}", ".{0,6}", any::<Option<u64>>(), frames.clone()).prop_map(
        |(nsp, socket, ack, frames)| RelayItemOf::Emit {
            nsp,
            socket,
            ack,
            frames,
        },
    );
    let body = prop_oneof![
        Just(PeerBodyOf::Take),
        any::<u8>().prop_map(PeerBodyOf::Refused),
        item.clone().prop_map(PeerBodyOf::Relay),
        prop::collection::vec(item, 0..4).prop_map(PeerBodyOf::Relayed),
        (frames, any::<u64>(), ".{0,10}").prop_map(|(outbox, next_ping_ms, app)| {
            PeerBodyOf::Snapshot(SessionSnapshotOf {
                query: vec![],
                headers: vec![],
                address: String::new(),
                url: String::new(),
                secure: true,
                outbox,
                next_ping_ms,
                pong_due_ms: Some(1),
                app,
            })
        }),
    ];
    (".{0,10}", any::<u8>(), body).prop_map(|(sid, endpoint, body)| PeerMessage {
        from: "n2".into(),
        sid,
        endpoint,
        body,
    })
}

proptest! {
    #[test]
    fn any_peer_message_round_trips(message in any_peer()) {
        prop_assert_eq!(PeerMessage::decode(message.encode()), Ok(message));
    }
}
