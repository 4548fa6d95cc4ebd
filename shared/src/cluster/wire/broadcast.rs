//! [`WireBroadcast`], a socket.io broadcast crossing nodes, and its encoding:
//! the recipients in the header, the already encoded frames as blobs.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, frame_blobs, open},
    header::{Header, KIND_BROADCAST},
    WireError,
};
use crate::engine::Frame;

/// A socket.io broadcast as it crosses nodes: the packet already encoded
/// (frames), plus who gets it, so receivers only filter and send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBroadcast {
    /// The publishing node's id; receivers skip their own broadcasts.
    pub origin: String,
    /// The broadcast id (origin's random number, sequence), for de-duplication
    /// when a node hears one broadcast on several subjects.
    pub id: (u64, u64),
    /// The namespace the packet belongs to.
    pub nsp: String,
    /// The rooms whose members get the packet; empty means the whole namespace.
    pub rooms: Vec<String>,
    /// Rooms whose members are skipped even when in `rooms`.
    pub except: Vec<String>,
    /// Whether the packet may be dropped for a socket that is not ready to send.
    pub volatile: bool,
    /// The encoded engine.io frames, sent in order to every recipient.
    pub frames: Vec<Frame>,
}

/// [`WireBroadcast`] minus its frames, plus how many frame blobs follow.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct BroadcastHeader<'a> {
    origin: Cow<'a, str>,
    id: (u64, u64),
    nsp: Cow<'a, str>,
    rooms: Cow<'a, [String]>,
    except: Cow<'a, [String]>,
    volatile: bool,
    /// The number of frame blobs; makes the message self-delimiting, so a
    /// cut or padded payload is an error instead of fewer frames.
    frames: u64,
}

impl WireBroadcast {
    /// Encodes for publishing. A part over 4 GiB (far past any NATS payload
    /// limit) cannot be framed, and yields an empty buffer that every decode
    /// refuses.
    pub fn encode(&self) -> Bytes {
        let header = Header::Broadcast(BroadcastHeader {
            origin: Cow::Borrowed(&self.origin),
            id: self.id,
            nsp: Cow::Borrowed(&self.nsp),
            rooms: Cow::Borrowed(&self.rooms),
            except: Cow::Borrowed(&self.except),
            volatile: self.volatile,
            frames: u64::try_from(self.frames.len()).unwrap_or(u64::MAX),
        });
        envelope(&header, &frame_blobs(&self.frames))
    }

    /// Decodes a received payload; frames share its buffer.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, mut reader) = open(input)?;
        let header = match header {
            Header::Broadcast(header) => header,
            other => return Err(other.wrong_kind(KIND_BROADCAST)),
        };
        let frames = reader.frames(header.frames)?;
        reader.finish()?;
        Ok(Self {
            origin: header.origin.into_owned(),
            id: header.id,
            nsp: header.nsp.into_owned(),
            rooms: header.rooms.into_owned(),
            except: header.except.into_owned(),
            volatile: header.volatile,
            frames,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::wire::envelope::tests::{raw, with_tail};
    use bytestring::ByteString;
    use proptest::prelude::*;

    pub(crate) fn broadcast() -> WireBroadcast {
        WireBroadcast {
            origin: "node_a".to_owned(),
            id: (u64::MAX, 7),
            nsp: "/chat".to_owned(),
            rooms: vec!["lobby".to_owned(), "".to_owned(), "é.*>".to_owned()],
            except: vec!["muted".to_owned()],
            volatile: true,
            frames: vec![
                Frame::Text(ByteString::from(
                    "451-[\"file\",{\"_placeholder\":true,\"num\":0}]",
                )),
                Frame::Binary(Bytes::from_static(&[0, 0xff, 0xfe, b'{', 0x80])),
                Frame::Text(ByteString::from("")),
                Frame::Binary(Bytes::new()),
            ],
        }
    }

    #[test]
    fn broadcast_round_trips() {
        let message = broadcast();
        assert_eq!(WireBroadcast::decode(message.encode()), Ok(message));

        let bare = WireBroadcast {
            origin: String::new(),
            id: (0, 0),
            nsp: String::new(),
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
            frames: Vec::new(),
        };
        assert_eq!(WireBroadcast::decode(bare.encode()), Ok(bare));

        let unicode = WireBroadcast {
            origin: "節点".to_owned(),
            nsp: "/ünï\u{0}\"\\".to_owned(),
            rooms: vec!["🦀".to_owned()],
            frames: vec![Frame::Text(ByteString::from("4héllo 🦀"))],
            ..broadcast()
        };
        assert_eq!(WireBroadcast::decode(unicode.encode()), Ok(unicode));
    }

    #[test]
    fn refuses_bad_blobs() {
        let one_frame = r#"{"type":"broadcast","origin":"a","id":[1,2],"nsp":"/","rooms":[],"except":[],"volatile":false,"frames":1}"#;
        let two_frames = one_frame.replace(r#""frames":1"#, r#""frames":2"#);
        let decode =
            |header: &str, blobs: &[(u8, &[u8])]| WireBroadcast::decode(raw(1, header, blobs));

        assert!(decode(one_frame, &[(0, b"4hi")]).is_ok());
        assert_eq!(
            decode(one_frame, &[(3, b"4hi")]),
            Err(WireError::UnknownBlobKind(3))
        );
        assert_eq!(
            decode(one_frame, &[(0xff, b"")]),
            Err(WireError::UnknownBlobKind(0xff))
        );
        assert_eq!(
            decode(one_frame, &[(2, b"4hi")]),
            Err(WireError::UnexpectedBlob(2))
        );
        assert_eq!(
            decode(one_frame, &[(0, &[b'4', 0xc3])]),
            Err(WireError::InvalidUtf8)
        );
        assert_eq!(
            decode(one_frame, &[(0, &[0xff])]),
            Err(WireError::InvalidUtf8)
        );
        assert_eq!(decode(one_frame, &[]), Err(WireError::MissingBlob));
        assert_eq!(
            decode(&two_frames, &[(1, b"x")]),
            Err(WireError::MissingBlob)
        );
        assert_eq!(
            decode(one_frame, &[(1, b"x"), (1, b"y")]),
            Err(WireError::TrailingBytes(6))
        );

        // Truncated blobs: cut inside the length, and inside the data.
        let whole = raw(1, one_frame, &[(1, b"abcdef")]);
        let end = whole.len();
        for cut in [end - 10, end - 8, end - 7, end - 3, end - 1] {
            assert_eq!(
                WireBroadcast::decode(whole.slice(..cut)),
                Err(WireError::TruncatedBlob),
                "{cut}"
            );
        }
        assert_eq!(
            WireBroadcast::decode(whole.slice(..end - 11)),
            Err(WireError::MissingBlob)
        );
        let huge = with_tail(raw(1, one_frame, &[]), &[1, 0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(WireBroadcast::decode(huge), Err(WireError::TruncatedBlob));
        // A broadcast announcing billions of frames allocates nothing up front.
        let many = one_frame.replace(r#""frames":1"#, &format!(r#""frames":{}"#, u64::MAX));
        assert_eq!(decode(&many, &[(1, b"x")]), Err(WireError::MissingBlob));
    }

    fn any_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            any::<String>().prop_map(|s| Frame::Text(ByteString::from(s))),
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|v| Frame::Binary(Bytes::from(v))),
        ]
    }

    pub(crate) fn any_broadcast() -> impl Strategy<Value = WireBroadcast> {
        let names = || proptest::collection::vec(any::<String>(), 0..4);
        (
            any::<String>(),
            any::<(u64, u64)>(),
            any::<String>(),
            names(),
            names(),
            any::<bool>(),
            proptest::collection::vec(any_frame(), 0..6),
        )
            .prop_map(
                |(origin, id, nsp, rooms, except, volatile, frames)| WireBroadcast {
                    origin,
                    id,
                    nsp,
                    rooms,
                    except,
                    volatile,
                    frames,
                },
            )
    }

    proptest! {
        #[test]
        fn broadcast_round_trip(message in any_broadcast()) {
            prop_assert_eq!(WireBroadcast::decode(message.encode()), Ok(message));
        }
    }
}
