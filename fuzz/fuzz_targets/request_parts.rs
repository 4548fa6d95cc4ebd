//! Fuzzes the small parsers every request's parts go through before any
//! decoder: session and node ids, the engine.io query, subject tokens, and
//! the JSON depth bound.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchyard_shared::{
    cluster::{escape_token, unescape_token},
    engine::{RequestQuery, Transport},
    sid::{NodeId, Sid},
    socket::json_depth,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_ids(text);
    check_query(text);
    check_tokens(text);
    check_depth(text);
});

/// An id that parses prints back as itself, and a sid's node part is a
/// node id.
fn check_ids(text: &str) {
    if let Ok(sid) = Sid::parse(text) {
        assert_eq!(sid.as_str(), text, "a sid changed in parsing");
        assert!(
            NodeId::parse(sid.node()).is_ok(),
            "a sid's node is no node id"
        );
    }
    if let Ok(node) = NodeId::parse(text) {
        assert_eq!(node.as_str(), text, "a node id changed in parsing");
    }
}

/// The query's three values, split from the input on `&`, parse or fail
/// without panicking, and a parsed sid is the one given.
fn check_query(text: &str) {
    let mut parts = text.splitn(3, '&');
    let (eio, transport, sid) = (parts.next(), parts.next(), parts.next());
    let enabled = [Transport::Polling, Transport::WebSocket];
    if let Ok(query) = RequestQuery::parse(eio, transport, sid, &enabled) {
        assert_eq!(query.sid.as_ref().map(Sid::as_str), sid);
    }
}

/// Escaping round-trips, and a token that unescapes is what escaping that
/// name gives.
fn check_tokens(text: &str) {
    assert_eq!(unescape_token(&escape_token(text)).as_deref(), Some(text));
    if let Some(name) = unescape_token(text) {
        assert_eq!(escape_token(&name), text, "two tokens name one name");
    }
}

/// The depth bound never exceeds the number of opening brackets.
fn check_depth(text: &str) {
    let openings = text.bytes().filter(|b| *b == b'[' || *b == b'{').count();
    assert!(json_depth(text) <= openings);
}
