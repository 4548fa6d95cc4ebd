//! The bounded buffer of packets waiting for a long-poll GET.

use std::collections::VecDeque;

use bytes::Bytes;
use switchyard_shared::engine::{encode_payload, Frame};

/// Frames queued for a polling client, at most `capacity` of them.
pub(crate) struct Outbox {
    frames: VecDeque<Frame>,
    capacity: usize,
}

/// The outbox is full; the session must close rather than grow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            frames: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn push(&mut self, frame: Frame) -> Result<(), Full> {
        if self.frames.len() >= self.capacity {
            return Err(Full);
        }
        self.frames.push_back(frame);
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Everything queued, as one polling payload; the frames stay queued
    /// until [`Outbox::clear`], in case the GET is gone.
    pub(crate) fn payload(&self) -> Bytes {
        encode_payload(&self.frames)
    }

    pub(crate) fn clear(&mut self) {
        self.frames.clear();
    }

    /// Takes every queued frame, oldest first.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Frame> + '_ {
        self.frames.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_kept_until_cleared() {
        let mut outbox = Outbox::new(2);
        outbox.push(Frame::Text("4a".into())).unwrap();
        outbox.push(Frame::Text("4b".into())).unwrap();
        assert_eq!(outbox.push(Frame::Text("4c".into())), Err(Full));
        assert_eq!(&outbox.payload()[..], b"4a\x1e4b");
        assert!(!outbox.is_empty());
        outbox.clear();
        assert!(outbox.is_empty());
    }
}
