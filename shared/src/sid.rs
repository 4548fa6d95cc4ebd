//! Node ids and engine.io session ids.
//!
//! A [`Sid`] is `<node id>-<22 base64url chars>`: the owner's [`NodeId`]
//! followed by 128 bits from the caller's random source. Any node can read
//! the owner straight off a sid, so routing a request needs no lookup, and
//! the random part keeps sids unguessable.

use std::{fmt, sync::Arc};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

/// The longest node id accepted; sids and NATS subjects stay short.
pub const MAX_NODE_ID_LEN: usize = 32;
/// Length of a sid's random part: 16 bytes in unpadded base64url.
const RANDOM_LEN: usize = 22;

/// Why a node id or sid was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    /// Node ids are 1 to 32 characters of `A-Z a-z 0-9 _`.
    #[error("a node id must be 1 to {MAX_NODE_ID_LEN} characters of A-Z, a-z, 0-9 or _")]
    BadNodeId,
    /// The text is not `<node id>-<22 base64url chars>`.
    #[error("malformed session id")]
    Malformed,
}

/// The name of one node in the cluster, carried in every sid it issues.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// Checks an operator-supplied id, so that it can never break a sid or a subject.
    pub fn parse(text: &str) -> Result<Self, SidError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_NODE_ID_LEN
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(Self(text.into()))
        } else {
            Err(SidError::BadNodeId)
        }
    }

    /// A fresh id from 6 random bytes (12 hex digits), used when none is configured.
    pub fn from_random(bytes: [u8; 6]) -> Self {
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(text.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An engine.io session id that names its owning node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sid(Arc<str>);

impl Sid {
    /// Builds a sid for `node` from 16 bytes of the caller's random source.
    pub fn new(node: &NodeId, random: [u8; 16]) -> Self {
        let text = format!("{node}-{}", URL_SAFE_NO_PAD.encode(random));
        Self(text.into())
    }

    /// Parses a sid from a request; anything else than our own format is refused.
    pub fn parse(text: &str) -> Result<Self, SidError> {
        let (node, random) = text.split_once('-').ok_or(SidError::Malformed)?;
        NodeId::parse(node).map_err(|_| SidError::Malformed)?;
        let random_ok = random.len() == RANDOM_LEN
            && random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if random_ok {
            Ok(Self(text.into()))
        } else {
            Err(SidError::Malformed)
        }
    }

    /// The owner's node id, read off the sid itself.
    pub fn node(&self) -> &str {
        self.0.split_once('-').map_or("", |(node, _)| node)
    }

    /// The sid as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_sid_names_its_node() {
        let node = NodeId::parse("node_1").unwrap();
        let sid = Sid::new(&node, [0xfb; 16]);
        assert_eq!(sid.node(), "node_1");
        assert_eq!(Sid::parse(sid.as_str()), Ok(sid.clone()));
        assert_eq!(sid.as_str().len(), "node_1-".len() + RANDOM_LEN);
    }

    #[test]
    fn malformed_sids_are_refused() {
        for bad in [
            "",
            "-",
            "abc",
            "node-short",
            "no de-AAAAAAAAAAAAAAAAAAAAAA",
            "n-AAAAAAAAAAAAAAAAAAAAA!",
        ] {
            assert_eq!(Sid::parse(bad), Err(SidError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn node_ids_are_checked() {
        assert!(NodeId::parse("a-b").is_err());
        assert!(NodeId::parse("").is_err());
        assert!(NodeId::parse(&"x".repeat(33)).is_err());
        assert_eq!(
            NodeId::from_random([0, 1, 2, 3, 4, 255]).as_str(),
            "0001020304ff"
        );
    }

    proptest! {
        #[test]
        fn every_random_sid_parses_back(random in any::<[u8; 16]>(), node in "[A-Za-z0-9_]{1,32}") {
            let node = NodeId::parse(&node).unwrap();
            let sid = Sid::new(&node, random);
            let parsed = Sid::parse(sid.as_str()).unwrap();
            prop_assert_eq!(parsed.node(), node.as_str());
        }

        #[test]
        fn parse_never_panics(text in ".*") {
            let _ = Sid::parse(&text);
        }
    }
}
