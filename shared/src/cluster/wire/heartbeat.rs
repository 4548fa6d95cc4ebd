//! [`Heartbeat`], a node's periodic sign of life, and its encoding: a header
//! and no blobs.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{
    envelope::{envelope, open},
    header::{Header, KIND_HEARTBEAT},
    WireError,
};

/// A node's periodic sign of life, so that others can tell live owners from
/// dead ones; `leaving` when it shuts down on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The node's id.
    pub node: String,
    /// Increases with every heartbeat, so reordered ones can be spotted.
    pub seq: u64,
    /// Whether the node is shutting down on purpose, so others can forget it
    /// at once instead of waiting for a timeout.
    pub leaving: bool,
}

/// All of [`Heartbeat`].
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct HeartbeatHeader<'a> {
    node: Cow<'a, str>,
    seq: u64,
    leaving: bool,
}

impl Heartbeat {
    /// Encodes for publishing on the heartbeat subject.
    pub fn encode(&self) -> Bytes {
        let header = Header::Heartbeat(HeartbeatHeader {
            node: Cow::Borrowed(&self.node),
            seq: self.seq,
            leaving: self.leaving,
        });
        envelope(&header, &[])
    }

    /// Decodes a received payload.
    pub fn decode(input: Bytes) -> Result<Self, WireError> {
        let (header, reader) = open(input)?;
        let header = match header {
            Header::Heartbeat(header) => header,
            other => return Err(other.wrong_kind(KIND_HEARTBEAT)),
        };
        reader.finish()?;
        Ok(Self {
            node: header.node.into_owned(),
            seq: header.seq,
            leaving: header.leaving,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn heartbeat() -> Heartbeat {
        Heartbeat {
            node: "n1".to_owned(),
            seq: 7,
            leaving: false,
        }
    }

    #[test]
    fn heartbeat_round_trips() {
        for message in [
            heartbeat(),
            Heartbeat {
                node: String::new(),
                seq: u64::MAX,
                leaving: true,
            },
            Heartbeat {
                node: "ñ~".to_owned(),
                seq: 0,
                leaving: false,
            },
        ] {
            assert_eq!(Heartbeat::decode(message.encode()), Ok(message));
        }
    }

    pub(crate) fn any_heartbeat() -> impl Strategy<Value = Heartbeat> {
        (any::<String>(), any::<u64>(), any::<bool>()).prop_map(|(node, seq, leaving)| Heartbeat {
            node,
            seq,
            leaving,
        })
    }

    proptest! {
        #[test]
        fn heartbeat_round_trip(message in any_heartbeat()) {
            prop_assert_eq!(Heartbeat::decode(message.encode()), Ok(message));
        }
    }
}
