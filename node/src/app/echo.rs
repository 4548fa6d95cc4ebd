//! The raw engine.io echo served at `/engine.io/` by the echo app.

use switchyard_shared::engine::{Data, Frame, Packet};

use super::EngineApp;
use crate::session::AppCx;

/// Sends every message back as it came, text or binary.
///
/// It is the engine layer alone, with no socket.io on top, which lets
/// engine.io clients and benchmarks talk to the transport directly.
pub struct EngineEcho;

/// The frame that echoes `data`.
fn echo_frame(data: Data) -> Frame {
    Packet::Message(data).encode()
}

impl EngineApp for EngineEcho {
    fn on_message(&mut self, data: Data, cx: &mut AppCx<'_>) {
        cx.send(echo_frame(data));
    }

    /// Stateless, so it moves with nothing to carry.
    fn export(&mut self) -> Option<String> {
        Some(String::new())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn echoes_text_and_binary_unchanged() {
        let out = vec![
            echo_frame(Data::Text("héllo".into())),
            echo_frame(Data::Binary(Bytes::from_static(&[0, 1, 255]))),
        ];
        assert_eq!(
            out,
            vec![
                Frame::Text("4héllo".into()),
                Frame::Binary(Bytes::from_static(&[0, 1, 255]))
            ]
        );
    }
}
