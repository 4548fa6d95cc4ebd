//! Fuzzes the decoders of every message nodes exchange: the same bytes go to
//! each of them, at most one may accept them, and what it accepts must
//! survive encoding and decoding again.
#![no_main]
#![forbid(unsafe_code)]

use std::fmt::Debug;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use switchyard_shared::cluster::{
    ForwardReply, ForwardRequest, Heartbeat, OpsReply, OpsRequest, PeerMessage, WireBroadcast,
    WireError,
};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let accepted = [
        accepts::<WireBroadcast>(&input),
        accepts::<ForwardRequest>(&input),
        accepts::<ForwardReply>(&input),
        accepts::<Heartbeat>(&input),
        accepts::<PeerMessage>(&input),
        accepts::<OpsRequest>(&input),
        accepts::<OpsReply>(&input),
    ];
    let count = accepted.iter().filter(|&&ok| ok).count();
    assert!(count <= 1, "{count} message kinds accepted the same bytes");
});

/// A message kind of the cluster wire, so every kind gets the same checks.
trait Message: Sized + PartialEq + Debug {
    /// The kind's decoder.
    fn decode(input: Bytes) -> Result<Self, WireError>;
    /// The kind's encoder.
    fn encode(&self) -> Bytes;
}

/// Implements [`Message`] with the kinds' own `decode` and `encode`.
macro_rules! message {
    ($($kind:ty),*) => {$(
        impl Message for $kind {
            fn decode(input: Bytes) -> Result<Self, WireError> {
                <$kind>::decode(input)
            }
            fn encode(&self) -> Bytes {
                <$kind>::encode(self)
            }
        }
    )*};
}

message!(
    WireBroadcast,
    ForwardRequest,
    ForwardReply,
    Heartbeat,
    PeerMessage,
    OpsRequest,
    OpsReply
);

/// Whether kind `M` accepts `input`; what it accepts must encode to bytes
/// that decode to the same message, and encode again to the same bytes.
fn accepts<M: Message>(input: &Bytes) -> bool {
    let Ok(message) = M::decode(input.clone()) else {
        return false;
    };
    let encoded = message.encode();
    let decoded = M::decode(encoded.clone());
    assert_eq!(decoded.as_ref(), Ok(&message), "message did not round-trip");
    if let Ok(decoded) = decoded {
        assert_eq!(decoded.encode(), encoded, "message encoding is not stable");
    }
    true
}
