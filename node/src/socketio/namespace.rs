//! Namespaces: static names, `{param}` patterns, middleware and the
//! connection handler.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
};

use super::{handshake::Handshake, socket::SocketSetup, Room};

/// Why a middleware refused a connection; the client gets it as CONNECT_ERROR.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// Shown to the client as the error's message.
    pub message: String,
    /// Extra detail for the client (`err.data`).
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message and no data.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`, which the client receives as `err.data`.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// The values a `{param}` pattern captured from a namespace name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of `{name}`, if the pattern has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What a middleware sees of a connection attempt.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The namespace name the client asked for.
    pub nsp: String,
    /// What a `{param}` pattern captured from it.
    pub params: Params,
    /// The client's handshake, with this namespace's `auth`.
    pub handshake: Arc<Handshake>,
    /// What the middleware gives the socket if it is accepted.
    pub(crate) admission: Arc<Mutex<Admission>>,
}

/// The data and rooms a middleware gave a socket it accepted.
#[derive(Debug, Default)]
pub(crate) struct Admission {
    pub(crate) data: Option<serde_json::Value>,
    pub(crate) rooms: Vec<Room>,
}

impl ConnectRequest {
    /// Sets the socket's `socket.data` before its connection handler runs,
    /// as a socket.io middleware that fills `socket.data` does.
    pub fn set_data(&self, data: serde_json::Value) {
        if let Ok(mut admission) = self.admission.lock() {
            admission.data = Some(data);
        }
    }

    /// Puts the socket in `room` as it connects, before its connection
    /// handler runs.
    pub fn join(&self, room: impl Into<Room>) {
        if let Ok(mut admission) = self.admission.lock() {
            admission.rooms.push(room.into());
        }
    }

    /// The data and rooms set so far, leaving none behind.
    pub(crate) fn take_admission(&self) -> Admission {
        self.admission
            .lock()
            .map(|mut admission| std::mem::take(&mut *admission))
            .unwrap_or_default()
    }
}

/// A boxed middleware future.
pub type MiddlewareFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>>>>;
pub(crate) type Middleware = Arc<dyn Fn(ConnectRequest) -> MiddlewareFuture + Send + Sync>;
pub(crate) type ConnectHandler = Arc<dyn Fn(&mut SocketSetup<'_>) + Send + Sync>;

/// How a namespace name is matched.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Pattern(Vec<Part>),
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Param(String),
}

/// One namespace, or a family of them, with its middleware and handler.
#[derive(Clone)]
pub struct Namespace {
    matcher: Matcher,
    /// The name or pattern as written, for metrics: a pattern's sockets are
    /// counted together, so names chosen by clients add no label values.
    pub(crate) label: std::sync::Arc<str>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) on_connection: Option<ConnectHandler>,
}

impl Namespace {
    /// A namespace with a fixed name, such as `/` or `/admin`.
    pub fn new(name: &str) -> Self {
        Self::with(Matcher::Exact(name.to_owned()), name)
    }

    /// A family of namespaces: `{name}` matches one or more characters other
    /// than `/`, so `/tenant-{id}` matches `/tenant-42` with `id` = `42`.
    ///
    /// ```
    /// use switchyard_node::socketio::Namespace;
    ///
    /// let tenants = Namespace::pattern("/tenant-{id}").on_connection(|socket| {
    ///     let tenant = socket.param("id").unwrap_or_default().to_owned();
    ///     socket.join(format!("tenant:{tenant}"));
    /// });
    /// assert_eq!(tenants.matches("/tenant-42").unwrap().get("id"), Some("42"));
    /// assert!(tenants.matches("/tenant-42/x").is_none());
    /// ```
    pub fn pattern(pattern: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            parts.push(Part::Param(rest[open + 1..close].to_owned()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Self::with(Matcher::Pattern(parts), pattern)
    }

    fn with(matcher: Matcher, label: &str) -> Self {
        Self {
            matcher,
            label: label.into(),
            middlewares: Vec::new(),
            on_connection: None,
        }
    }

    /// Adds a connect middleware; they run in the order added, and the first
    /// refusal ends the connection attempt. The client receives the refusal
    /// as a CONNECT_ERROR with its message and data.
    ///
    /// ```
    /// use switchyard_node::socketio::{ConnectError, Namespace};
    ///
    /// let admin = Namespace::new("/admin").middleware(|request| async move {
    ///     let auth: serde_json::Value = serde_json::from_str(request.handshake.auth.get()).unwrap_or_default();
    ///     if auth["token"] == "let me in" {
    ///         Ok(())
    ///     } else {
    ///         Err(ConnectError::new("not authorized").with_data(serde_json::json!({ "retry": false })))
    ///     }
    /// });
    /// # let _ = admin;
    /// ```
    pub fn middleware<F, Fut>(mut self, middleware: F) -> Self
    where
        F: Fn(ConnectRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + 'static,
    {
        self.middlewares
            .push(Arc::new(move |request| Box::pin(middleware(request))));
        self
    }

    /// Sets what runs for every new socket, before any of its events.
    pub fn on_connection(
        mut self,
        handler: impl Fn(&mut SocketSetup<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_connection = Some(Arc::new(handler));
        self
    }

    /// The captured parameters if `name` belongs to this namespace.
    pub fn matches(&self, name: &str) -> Option<Params> {
        match &self.matcher {
            Matcher::Exact(exact) => (exact == name).then(Params::default),
            Matcher::Pattern(parts) => match_parts(parts, name),
        }
    }
}

fn match_parts(parts: &[Part], mut name: &str) -> Option<Params> {
    let mut params = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(literal) => name = name.strip_prefix(literal.as_str())?,
            Part::Param(key) => {
                // A parameter runs to the next literal, or to the end.
                let end = match parts.get(index + 1) {
                    Some(Part::Literal(next)) => name.find(next.as_str())?,
                    _ => name.len(),
                };
                let value = &name[..end];
                if value.is_empty() || value.contains('/') {
                    return None;
                }
                params.push((key.clone(), value.to_owned()));
                name = &name[end..];
            }
        }
    }
    name.is_empty().then_some(Params(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_match_only_themselves() {
        let ns = Namespace::new("/admin");
        assert_eq!(ns.matches("/admin"), Some(Params::default()));
        assert_eq!(ns.matches("/admin2"), None);
    }

    #[test]
    fn patterns_capture_parameters() {
        let ns = Namespace::pattern("/tenant-{id}");
        assert_eq!(ns.matches("/tenant-42").unwrap().get("id"), Some("42"));
        assert_eq!(ns.matches("/tenant-"), None);
        assert_eq!(ns.matches("/tenant-4/2"), None);
        assert_eq!(ns.matches("/other-42"), None);

        let ns = Namespace::pattern("/org/{org}/team/{team}");
        let params = ns.matches("/org/acme/team/red").unwrap();
        assert_eq!(
            (params.get("org"), params.get("team")),
            (Some("acme"), Some("red"))
        );
        assert_eq!(ns.matches("/org/acme/team/red/x"), None);
    }
}
