//! The raw engine.io echo served at `/engine.io/` by the echo app.

use switchyard_shared::engine::{Data, Frame, Packet};

use super::EngineApp;

/// Sends every message back as it came, text or binary.
///
/// It is the engine layer alone, with no socket.io on top, which lets
/// engine.io clients and benchmarks talk to the transport directly.
pub struct EngineEcho;

impl EngineApp for EngineEcho {
    fn on_message(&mut self, data: Data, out: &mut Vec<Frame>) {
        out.push(Packet::Message(data).encode());
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn echoes_text_and_binary_unchanged() {
        let mut out = Vec::new();
        EngineEcho.on_message(Data::Text("héllo".into()), &mut out);
        EngineEcho.on_message(Data::Binary(Bytes::from_static(&[0, 1, 255])), &mut out);
        assert_eq!(
            out,
            vec![
                Frame::Text("4héllo".into()),
                Frame::Binary(Bytes::from_static(&[0, 1, 255]))
            ]
        );
    }
}
