//! NATS subject naming for one cluster, with user names escaped into tokens.
//!
//! A NATS subject is a list of tokens joined by `.`; `*` and `>` are
//! wildcards, and whitespace or empty tokens are illegal. Namespace and room
//! names are user data, so each one is escaped into exactly one token with
//! [`escape_token`]: bytes `A-Z a-z 0-9 _ -` stay as they are, every other
//! byte becomes `~` and two lowercase hex digits, and the empty name becomes
//! `~` alone. The mapping is injective, so no name can reach another name's
//! subject, widen a subscription or add a token (`"a.b"` is `a~2eb`, `"*"` is
//! `~2a`).

/// The prefix used when the operator configures none.
pub const DEFAULT_PREFIX: &str = "switchyard";

/// The token standing for the empty name, which would otherwise be an
/// illegal empty token; no non-empty name escapes to it.
const EMPTY_TOKEN: &str = "~";

/// The byte that starts an escape sequence; it is never kept as itself.
const ESCAPE: u8 = b'~';

/// Lowercase hex digits, indexed by nibble.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether a byte stands for itself in a token, so that tokens stay readable
/// for the common names while every other byte is escaped.
fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Escapes any name into one legal NATS token: bytes A-Z a-z 0-9 '_' '-'
/// stay; every other byte of the UTF-8 encoding becomes '~' + two lowercase
/// hex digits; the empty name becomes "~" alone.
pub fn escape_token(name: &str) -> String {
    if name.is_empty() {
        return EMPTY_TOKEN.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if is_plain(byte) {
            out.push(char::from(byte));
        } else {
            out.push(char::from(ESCAPE));
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
    out
}

/// The inverse of [`escape_token`], so a node can tell which name a received
/// subject names; None for anything escape_token never produces (uppercase
/// hex, escaped plain bytes, stray `~`, illegal bytes, invalid UTF-8).
pub fn unescape_token(token: &str) -> Option<String> {
    if token == EMPTY_TOKEN {
        return Some(String::new());
    }
    if token.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(token.len());
    let mut bytes = token.bytes();
    while let Some(byte) = bytes.next() {
        if is_plain(byte) {
            out.push(byte);
        } else if byte == ESCAPE {
            let high = bytes.next().and_then(hex_value)?;
            let low = bytes.next().and_then(hex_value)?;
            let decoded = (high << 4) | low;
            // A plain byte is always written as itself, so its escaped form
            // would be a second spelling of the same name.
            if is_plain(decoded) {
                return None;
            }
            out.push(decoded);
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

/// The lowercase hex digit for a nibble (values above 15 are masked).
fn hex_digit(nibble: u8) -> char {
    let index = usize::from(nibble & 0x0f);
    HEX.get(index).map_or('0', |&digit| char::from(digit))
}

/// The value of one lowercase hex digit; uppercase is refused so that each
/// name has exactly one spelling.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Why a subject prefix was refused; the prefix comes from configuration, so
/// a bad one is an operator error reported at startup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// The prefix is not one or more tokens of `[A-Za-z0-9_-]+` joined by single dots.
    #[error(
        "invalid subject prefix {0:?}: expected one or more tokens of A-Z, a-z, 0-9, _ or - separated by single dots"
    )]
    BadPrefix(String),
}

/// The subjects of one cluster, all under a prefix (default "switchyard"), so
/// that several clusters can share one NATS server without hearing each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Default for Subjects {
    /// The subjects under [`DEFAULT_PREFIX`].
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
        }
    }
}

impl Subjects {
    /// Checks the prefix, which must be one or more tokens of `[A-Za-z0-9_-]+`
    /// separated by single dots (e.g. "switchyard", "prod.sy"), so it can
    /// neither hold a wildcard nor an empty token.
    pub fn new(prefix: &str) -> Result<Self, SubjectError> {
        let valid = prefix
            .split('.')
            .all(|token| !token.is_empty() && token.bytes().all(is_plain));
        if valid {
            Ok(Self {
                prefix: prefix.to_owned(),
            })
        } else {
            Err(SubjectError::BadPrefix(prefix.to_owned()))
        }
    }

    /// The prefix every subject starts with, e.g. for logging or for a
    /// subscription to the whole cluster.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where every node publishes its [`super::Heartbeat`] and listens for the others'.
    pub fn heartbeat(&self) -> String {
        format!("{}.cluster.heartbeat", self.prefix)
    }

    /// Where a node receives engine.io requests forwarded to it, because it
    /// owns the session they name.
    pub fn node_engine(&self, node: &str) -> String {
        format!("{}.node.{}.engine", self.prefix, escape_token(node))
    }

    /// Where a node hears about sessions moving to or from it: the steps of
    /// a WebSocket upgrade handover, and relays from or to a tombstone.
    pub fn node_session(&self, node: &str) -> String {
        format!("{}.node.{}.session", self.prefix, escape_token(node))
    }

    /// Where broadcasts to one room of a namespace are published, so only
    /// nodes with members in that room need to subscribe.
    pub fn room(&self, nsp: &str, room: &str) -> String {
        format!(
            "{}.room.{}.{}",
            self.prefix,
            escape_token(nsp),
            escape_token(room)
        )
    }

    /// Where broadcasts to a whole namespace are published.
    pub fn namespace(&self, nsp: &str) -> String {
        format!("{}.nsp.{}", self.prefix, escape_token(nsp))
    }

    /// Where cluster-wide server operations (fetch sockets, join, leave,
    /// disconnect, broadcasts with acks, server-side events) are scattered:
    /// every node subscribes, so one message reaches them all.
    pub fn ops(&self) -> String {
        format!("{}.cluster.ops", self.prefix)
    }

    /// Where the `bridge` app publishes a client's event `event` on
    /// namespace `nsp`, for back-end services; a back-end subscribes to
    /// one event, or to `<prefix>.events.>` for all.
    pub fn events(&self, nsp: &str, event: &str) -> String {
        format!(
            "{}.events.{}.{}",
            self.prefix,
            escape_token(nsp),
            escape_token(event)
        )
    }

    /// Where the `bridge` app asks a back-end whether a client may join
    /// namespace `nsp`.
    pub fn auth(&self, nsp: &str) -> String {
        format!("{}.auth.{}", self.prefix, escape_token(nsp))
    }

    /// Where the `bridge` app says that a socket of `nsp` has gone.
    pub fn disconnects(&self, nsp: &str) -> String {
        format!("{}.disconnects.{}", self.prefix, escape_token(nsp))
    }

    /// Where back-ends request operation `op` (emit, join, …) of the
    /// `bridge` app's API; one node of the cluster serves each request.
    pub fn api(&self, op: &str) -> String {
        format!("{}.api.{}", self.prefix, escape_token(op))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whether `token` is one legal, wildcard-free NATS token.
    fn is_legal_token(token: &str) -> bool {
        !token.is_empty()
            && !token
                .chars()
                .any(|c| c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control())
    }

    /// Whether `token` uses only the characters escape_token may write.
    fn uses_token_alphabet(token: &str) -> bool {
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'~')
    }

    #[test]
    fn escapes_examples() {
        let cases = [
            ("a.b", "a~2eb"),
            ("", "~"),
            ("*", "~2a"),
            (">", "~3e"),
            ("x y", "x~20y"),
            ("~", "~7e"),
            ("é", "~c3~a9"),
            ("/", "~2f"),
            ("/chat", "~2fchat"),
            ("Room_1-a", "Room_1-a"),
            ("\n", "~0a"),
            ("\u{7f}", "~7f"),
        ];
        for (name, token) in cases {
            assert_eq!(escape_token(name), token, "{name:?}");
            assert_eq!(unescape_token(token).as_deref(), Some(name), "{token:?}");
        }
    }

    #[test]
    fn unescape_refuses_what_escape_never_writes() {
        for token in [
            "",        // escape never writes an empty token
            "~~",      // "~" is only the empty name when alone
            "a~",      // escape cut short
            "a~2",     // escape cut short
            "~2E",     // uppercase hex
            "~61",     // 'a' escaped although it is plain
            "~5f",     // '_' escaped although it is plain
            "~2d",     // '-' escaped although it is plain
            "a.b",     // illegal byte
            "a b",     // illegal byte
            "*",       // illegal byte
            "é",       // non-ASCII must be escaped
            "~c3",     // lone UTF-8 lead byte
            "~ff",     // never valid UTF-8
            "~zz",     // not hex
            "~c3~a9~", // trailing stray escape
        ] {
            assert_eq!(unescape_token(token), None, "{token:?}");
        }
    }

    #[test]
    fn every_ascii_char_escapes_to_a_legal_token() {
        for byte in 0u8..=127 {
            let name = char::from(byte).to_string();
            let token = escape_token(&name);
            assert!(is_legal_token(&token), "{byte}: {token:?}");
            assert!(uses_token_alphabet(&token), "{byte}: {token:?}");
            assert_eq!(unescape_token(&token), Some(name), "{byte}");
        }
    }

    #[test]
    fn every_utf8_length_class_escapes_to_a_legal_token() {
        // Samples cover every lead byte range (C2-DF, E0-EF, F0-F4) and the
        // edges of each length class, so every byte value UTF-8 uses appears.
        let mut samples: Vec<char> = vec![
            '\u{80}',
            '\u{7ff}',
            '\u{800}',
            '\u{fff}',
            '\u{1000}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fffd}',
            '\u{ffff}',
            '\u{10000}',
            '\u{3ffff}',
            '\u{40000}',
            '\u{fffff}',
            '\u{100000}',
            '\u{10ffff}',
        ];
        // Every continuation byte value 80-BF, in two-byte characters.
        samples.extend(('\u{80}'..='\u{bf}').chain('\u{7c0}'..='\u{7ff}'));
        // Every two-byte lead byte C2-DF.
        samples.extend((0xc2u32..=0xdf).filter_map(|lead| char::from_u32((lead & 0x1f) << 6)));
        // Every three-byte lead byte E0-EF (ED via U+D000, below the surrogates).
        samples.extend((0u32..16).filter_map(|lead| char::from_u32((lead << 12).max(0x800))));
        // Every four-byte lead byte F0-F4.
        samples.extend((0u32..5).filter_map(|lead| char::from_u32((lead << 18).max(0x10000))));

        let mut seen = [false; 256];
        for c in samples {
            let name = c.to_string();
            for byte in name.bytes() {
                if let Some(slot) = seen.get_mut(usize::from(byte)) {
                    *slot = true;
                }
            }
            let token = escape_token(&name);
            assert!(is_legal_token(&token), "{c:?}: {token:?}");
            assert!(uses_token_alphabet(&token), "{c:?}: {token:?}");
            assert_eq!(unescape_token(&token), Some(name), "{c:?}");
        }
        for (byte, seen) in seen.iter().enumerate().skip(0x80) {
            let used_by_utf8 = !matches!(byte, 0xc0 | 0xc1 | 0xf5..=0xff);
            assert_eq!(*seen, used_by_utf8, "byte {byte:#x}");
        }
    }

    #[test]
    fn default_subjects() {
        let subjects = Subjects::default();
        assert_eq!(Subjects::new(DEFAULT_PREFIX), Ok(subjects.clone()));
        assert_eq!(subjects.prefix(), "switchyard");
        assert_eq!(subjects.heartbeat(), "switchyard.cluster.heartbeat");
        assert_eq!(subjects.ops(), "switchyard.cluster.ops");
        assert_eq!(subjects.node_engine("n1"), "switchyard.node.n1.engine");
        assert_eq!(subjects.namespace("/"), "switchyard.nsp.~2f");
        assert_eq!(
            subjects.room("/chat", "lobby"),
            "switchyard.room.~2fchat.lobby"
        );
        assert_eq!(subjects.events("/", "say"), "switchyard.events.~2f.say");
        assert_eq!(subjects.auth("/chat"), "switchyard.auth.~2fchat");
        assert_eq!(subjects.disconnects("/"), "switchyard.disconnects.~2f");
        assert_eq!(subjects.api("emit"), "switchyard.api.emit");
    }

    #[test]
    fn names_never_add_tokens() {
        for prefix in ["switchyard", "prod.sy"] {
            let Ok(subjects) = Subjects::new(prefix) else {
                panic!("{prefix:?} refused");
            };
            let prefix_tokens = prefix.split('.').count();

            let room = subjects.room("/", "a.b");
            let tokens: Vec<&str> = room.split('.').collect();
            assert_eq!(tokens.len(), prefix_tokens + 3, "{room}");
            assert!(tokens.iter().all(|t| is_legal_token(t)), "{room}");
            assert_eq!(tokens.last().copied(), Some("a~2eb"));
            assert_eq!(unescape_token("a~2eb").as_deref(), Some("a.b"));

            let empty = subjects.room("", "");
            assert_eq!(empty.split('.').count(), prefix_tokens + 3, "{empty}");

            let nsp = subjects.namespace("*.>");
            assert_eq!(nsp.split('.').count(), prefix_tokens + 2, "{nsp}");
            assert!(!nsp.contains('*') && !nsp.contains('>'), "{nsp}");

            let node = subjects.node_engine("x y.z");
            assert_eq!(node.split('.').count(), prefix_tokens + 3, "{node}");

            let event = subjects.events("/a.b", "*.> x");
            assert_eq!(event.split('.').count(), prefix_tokens + 3, "{event}");
            assert!(event.split('.').all(is_legal_token), "{event}");
        }
        assert_eq!(
            Subjects::new("prod.sy").map(|s| s.room("/", "a.b")),
            Ok("prod.sy.room.~2f.a~2eb".to_owned())
        );
    }

    #[test]
    fn accepts_good_prefixes() {
        for prefix in ["switchyard", "prod.sy", "a", "A-b_c.0.z"] {
            assert_eq!(
                Subjects::new(prefix).map(|s| s.prefix().to_owned()),
                Ok(prefix.to_owned())
            );
        }
    }

    #[test]
    fn refuses_bad_prefixes() {
        for prefix in [
            "", ".", "a..b", "a.", ".a", "a b", "a.*", ">", "a.>", "é", "a~b", "a\n",
        ] {
            assert_eq!(
                Subjects::new(prefix),
                Err(SubjectError::BadPrefix(prefix.to_owned())),
                "{prefix:?}"
            );
        }
    }

    #[test]
    fn bad_prefix_message_names_the_prefix() {
        let message = SubjectError::BadPrefix("a..b".to_owned()).to_string();
        assert!(message.contains("\"a..b\""), "{message}");
    }

    proptest! {
        #[test]
        fn escape_is_a_legal_token_and_round_trips(name in any::<String>()) {
            let token = escape_token(&name);
            prop_assert!(!token.is_empty());
            prop_assert!(uses_token_alphabet(&token), "{:?}", token);
            prop_assert!(is_legal_token(&token), "{:?}", token);
            prop_assert_eq!(unescape_token(&token), Some(name));
        }

        #[test]
        fn escape_is_injective(a in any::<String>(), b in any::<String>()) {
            prop_assert_eq!(escape_token(&a) == escape_token(&b), a == b);
        }

        #[test]
        fn escape_is_injective_on_similar_names(a in "[a~.* 2e_]{0,6}", b in "[a~.* 2e_]{0,6}") {
            prop_assert_eq!(escape_token(&a) == escape_token(&b), a == b);
        }

        #[test]
        fn unescape_never_panics(token in any::<String>()) {
            let _ = unescape_token(&token);
        }

        #[test]
        fn unescape_accepts_only_what_escape_writes(token in "[a-f0-9~A_.]{0,12}") {
            if let Some(name) = unescape_token(&token) {
                prop_assert_eq!(escape_token(&name), token);
            }
        }

        #[test]
        fn subjects_keep_names_in_one_token(nsp in any::<String>(), room in any::<String>()) {
            let subjects = Subjects::default();
            let subject = subjects.room(&nsp, &room);
            let tokens: Vec<&str> = subject.split('.').collect();
            prop_assert_eq!(tokens.len(), 4);
            prop_assert!(tokens.iter().all(|t| is_legal_token(t)));
            prop_assert_eq!(tokens.get(2).and_then(|t| unescape_token(t)), Some(nsp));
            prop_assert_eq!(tokens.get(3).and_then(|t| unescape_token(t)), Some(room));
        }

        #[test]
        fn new_never_panics(prefix in any::<String>()) {
            let _ = Subjects::new(&prefix);
        }
    }
}
