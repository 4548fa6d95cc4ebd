//! The binary envelope every message travels in: framing a JSON header and
//! blobs, and the checked decoding that refuses bad input without panicking.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{de::DeserializeOwned, Serialize};

use super::{WireError, VERSION};
use crate::engine::Frame;

/// Blob kind of a text frame; its bytes must be UTF-8.
pub(super) const BLOB_TEXT: u8 = 0;
/// Blob kind of a binary frame.
pub(super) const BLOB_BINARY: u8 = 1;
/// Blob kind of an HTTP body (a POST body or a polling payload).
pub(super) const BLOB_BODY: u8 = 2;
/// The highest blob kind this version knows.
const BLOB_MAX: u8 = BLOB_BODY;
/// Bytes before a blob's data: its kind and its length.
const BLOB_PREFIX_LEN: usize = 5;
/// Bytes before the header JSON: the version and the header length.
const ENVELOPE_PREFIX_LEN: usize = 5;

/// The blobs of encoded frames: text frames as text blobs, binary as binary.
pub(super) fn frame_blobs<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<(u8, &'a [u8])> {
    frames
        .into_iter()
        .map(|frame| match frame {
            Frame::Text(text) => (BLOB_TEXT, text.as_bytes().as_ref()),
            Frame::Binary(bytes) => (BLOB_BINARY, bytes.as_ref()),
        })
        .collect()
}

/// Frames a header and blobs, or an empty buffer (which no decode accepts)
/// when a part cannot be framed.
pub(super) fn envelope<H: Serialize>(header: &H, blobs: &[(u8, &[u8])]) -> Bytes {
    try_envelope(header, blobs).unwrap_or_default()
}

/// Frames a header and blobs; None if the header fails to serialize (it
/// holds only strings, numbers and booleans, so it cannot) or a part is
/// longer than a u32 length can say.
fn try_envelope<H: Serialize>(header: &H, blobs: &[(u8, &[u8])]) -> Option<Bytes> {
    let json = serde_json::to_vec(header).ok()?;
    let header_len = u32::try_from(json.len()).ok()?;
    let mut total = ENVELOPE_PREFIX_LEN.checked_add(json.len())?;
    for (_, data) in blobs {
        total = total
            .checked_add(BLOB_PREFIX_LEN)?
            .checked_add(data.len())?;
    }
    let mut out = BytesMut::with_capacity(total);
    out.put_u8(VERSION);
    out.put_u32(header_len);
    out.put_slice(&json);
    for &(kind, data) in blobs {
        out.put_u8(kind);
        out.put_u32(u32::try_from(data.len()).ok()?);
        out.put_slice(data);
    }
    Some(out.freeze())
}

/// Checks the envelope prefix and parses the header, leaving the blobs in the
/// returned reader.
pub(super) fn open<H: DeserializeOwned>(input: Bytes) -> Result<(H, Reader), WireError> {
    let mut reader = Reader { rest: input };
    let version = reader.u8().ok_or(WireError::Empty)?;
    if version != VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let len = reader.u32().ok_or(WireError::TruncatedHeaderLength)?;
    let available = reader.rest.len();
    let json = usize::try_from(len)
        .ok()
        .and_then(|len| reader.take(len))
        .ok_or(WireError::HeaderPastEnd { len, available })?;
    let header =
        serde_json::from_slice(&json).map_err(|err| WireError::BadHeader(err.to_string()))?;
    Ok((header, reader))
}

/// A cursor over the unread part of a payload; every read checks the length
/// first, so none can panic.
pub(super) struct Reader {
    rest: Bytes,
}

impl Reader {
    /// The next `len` bytes, sharing the payload's buffer, or None if fewer remain.
    fn take(&mut self, len: usize) -> Option<Bytes> {
        (len <= self.rest.len()).then(|| self.rest.split_to(len))
    }

    /// The next byte, or None at the end.
    fn u8(&mut self) -> Option<u8> {
        let byte = *self.rest.first()?;
        self.rest.advance(1);
        Some(byte)
    }

    /// The next big-endian u32, or None if fewer than 4 bytes remain.
    fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.rest.get(..4)?.try_into().ok()?;
        self.rest.advance(4);
        Some(u32::from_be_bytes(bytes))
    }

    /// The next blob's kind (one this version knows) and data.
    pub(super) fn blob(&mut self) -> Result<(u8, Bytes), WireError> {
        let kind = self.u8().ok_or(WireError::MissingBlob)?;
        if kind > BLOB_MAX {
            return Err(WireError::UnknownBlobKind(kind));
        }
        let len = self.u32().ok_or(WireError::TruncatedBlob)?;
        let data = usize::try_from(len)
            .ok()
            .and_then(|len| self.take(len))
            .ok_or(WireError::TruncatedBlob)?;
        Ok((kind, data))
    }

    /// The next `count` blobs as engine.io frames. The count is untrusted:
    /// it bounds the loop, never an allocation, and the loop stops at the
    /// first missing blob.
    pub(super) fn frames(&mut self, count: u64) -> Result<Vec<Frame>, WireError> {
        let mut frames = Vec::new();
        for _ in 0..count {
            let frame = match self.blob()? {
                (BLOB_TEXT, data) => Frame::Text(
                    bytestring::ByteString::try_from(data).map_err(|_| WireError::InvalidUtf8)?,
                ),
                (BLOB_BINARY, data) => Frame::Binary(data),
                (kind, _) => return Err(WireError::UnexpectedBlob(kind)),
            };
            frames.push(frame);
        }
        Ok(frames)
    }

    /// The next blob, which must be an HTTP body.
    pub(super) fn body(&mut self) -> Result<Bytes, WireError> {
        match self.blob()? {
            (BLOB_BODY, data) => Ok(data),
            (kind, _) => Err(WireError::UnexpectedBlob(kind)),
        }
    }

    /// Checks that the message used up the whole payload.
    pub(super) fn finish(self) -> Result<(), WireError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes(self.rest.len()))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::wire::{
        broadcast::tests::broadcast,
        forward::tests::post,
        header::tests::{any_encoded, decode_all},
        heartbeat::tests::heartbeat,
        ForwardKind, ForwardReply, ForwardRequest, Heartbeat, WireBroadcast,
    };
    use proptest::prelude::*;

    /// Builds an envelope by hand, to feed decode what encode never writes.
    pub(crate) fn raw(version: u8, header: &str, blobs: &[(u8, &[u8])]) -> Bytes {
        let mut out = Vec::new();
        out.push(version);
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(header.as_bytes());
        for (kind, data) in blobs {
            out.push(*kind);
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(data);
        }
        Bytes::from(out)
    }

    /// Appends bytes to an encoded message.
    pub(crate) fn with_tail(message: Bytes, tail: &[u8]) -> Bytes {
        let mut out = message.to_vec();
        out.extend_from_slice(tail);
        Bytes::from(out)
    }

    #[test]
    fn heartbeat_has_the_documented_layout() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false}"#;
        assert_eq!(heartbeat().encode(), raw(1, header, &[]));
        let encoded = heartbeat().encode();
        assert_eq!(encoded.first(), Some(&1));
        assert_eq!(encoded.get(1..5), Some(&[0, 0, 0, header.len() as u8][..]));
    }

    #[test]
    fn poll_reply_has_the_documented_layout() {
        let header = r#"{"type":"reply","reply":"polled"}"#;
        assert_eq!(
            ForwardReply::Polled(Bytes::from_static(b"4x")).encode(),
            raw(1, header, &[(2, b"4x")])
        );
    }

    #[test]
    fn binary_data_stays_out_of_the_header() {
        let encoded = post(b"SECRET-BODY").encode();
        let header_len = encoded
            .get(1..5)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes);
        assert_eq!(
            header_len.map(|len| len as usize + 5 + 5 + 11),
            Some(encoded.len())
        );
        let header = encoded.get(5..5 + header_len.unwrap_or(0) as usize);
        let header = header.map(String::from_utf8_lossy).unwrap_or_default();
        assert!(!header.contains("SECRET"), "{header}");
        assert!(header.contains(r#""binary_content":true"#), "{header}");
    }

    #[test]
    fn decoded_blobs_share_the_input_buffer() {
        let encoded = post(b"shared body").encode();
        let base = encoded.as_ptr() as usize;
        let end = base + encoded.len();
        match ForwardRequest::decode(encoded) {
            Ok(ForwardRequest {
                kind: ForwardKind::Post { body, .. },
                ..
            }) => {
                assert_eq!(body, "shared body");
                let start = body.as_ptr() as usize;
                assert!(start > base && start + body.len() == end);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn refuses_broken_envelopes() {
        let header = r#"{"type":"heartbeat","node":"n1","seq":7,"leaving":false}"#;
        assert_eq!(Heartbeat::decode(Bytes::new()), Err(WireError::Empty));
        assert_eq!(
            Heartbeat::decode(raw(0, header, &[])),
            Err(WireError::UnsupportedVersion(0))
        );
        assert_eq!(
            Heartbeat::decode(raw(2, header, &[])),
            Err(WireError::UnsupportedVersion(2))
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1])),
            Err(WireError::TruncatedHeaderLength)
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0, 0, 0])),
            Err(WireError::TruncatedHeaderLength)
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0, 0, 0, 3, b'{', b'}'])),
            Err(WireError::HeaderPastEnd {
                len: 3,
                available: 2
            })
        );
        assert_eq!(
            Heartbeat::decode(Bytes::from_static(&[1, 0xff, 0xff, 0xff, 0xff])),
            Err(WireError::HeaderPastEnd {
                len: u32::MAX,
                available: 0
            })
        );
        // An encoded message cut anywhere is refused.
        let encoded = heartbeat().encode();
        for len in 0..encoded.len() {
            assert!(Heartbeat::decode(encoded.slice(..len)).is_err(), "{len}");
        }
    }

    #[test]
    fn refuses_trailing_bytes() {
        assert_eq!(
            Heartbeat::decode(with_tail(heartbeat().encode(), &[0])),
            Err(WireError::TrailingBytes(1))
        );
        assert_eq!(
            Heartbeat::decode(with_tail(heartbeat().encode(), &[1, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        assert_eq!(
            WireBroadcast::decode(with_tail(broadcast().encode(), b"junk")),
            Err(WireError::TrailingBytes(4))
        );
        assert_eq!(
            ForwardRequest::decode(with_tail(post(b"body").encode(), &[2, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        let poll = ForwardRequest {
            kind: ForwardKind::Poll,
            ..post(b"")
        };
        assert_eq!(
            ForwardRequest::decode(with_tail(poll.encode(), &[2, 0, 0, 0, 0])),
            Err(WireError::TrailingBytes(5))
        );
        assert_eq!(
            ForwardReply::decode(with_tail(ForwardReply::Posted.encode(), &[9])),
            Err(WireError::TrailingBytes(1))
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(input in proptest::collection::vec(any::<u8>(), 0..256)) {
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn decode_never_panics_on_versioned_input(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            len in 0u32..80,
        ) {
            let mut input = vec![VERSION];
            input.extend_from_slice(&len.to_be_bytes());
            input.extend_from_slice(&body);
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn decode_never_panics_on_mutated_messages(
            encoded in any_encoded(),
            index in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let mut input = encoded.to_vec();
            if !input.is_empty() {
                let at = index.index(input.len());
                if let Some(slot) = input.get_mut(at) {
                    *slot = byte;
                }
            }
            decode_all(&Bytes::from(input));
        }

        #[test]
        fn cut_messages_are_refused(encoded in any_encoded(), index in any::<prop::sample::Index>()) {
            let cut = encoded.slice(..index.index(encoded.len()));
            prop_assert!(WireBroadcast::decode(cut.clone()).is_err());
            prop_assert!(ForwardRequest::decode(cut.clone()).is_err());
            prop_assert!(ForwardReply::decode(cut.clone()).is_err());
            prop_assert!(Heartbeat::decode(cut.clone()).is_err());
            prop_assert!(crate::cluster::wire::OpsRequest::decode(cut.clone()).is_err());
            prop_assert!(crate::cluster::wire::OpsReply::decode(cut).is_err());
        }
    }
}
