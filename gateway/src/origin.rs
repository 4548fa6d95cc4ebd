//! Which browser origins may connect, and the CORS headers that say so.

use actix_cors::Cors;
use actix_web::http::header::HeaderValue;

/// The origin policy of an endpoint, from `cors.origins` and `cors.credentials`.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Listed origins; `None` when the list is empty (no CORS at all).
    allowed: Option<Vec<String>>,
    /// Whether `*` was listed: every origin is welcome.
    any: bool,
    /// Whether browsers may send credentials.
    credentials: bool,
}

impl OriginPolicy {
    /// Builds the policy from the configured list (`*` means any origin).
    pub fn new(origins: &[String], credentials: bool) -> Self {
        let any = origins.iter().any(|o| o == "*");
        let allowed = (!origins.is_empty()).then(|| origins.to_vec());
        Self {
            allowed,
            any,
            credentials,
        }
    }

    /// Whether a request with this `Origin` header may proceed.
    ///
    /// Requests without an `Origin` (non-browser clients) always may. A
    /// browser on an unlisted origin is refused, WebSocket included, which
    /// CORS alone would not stop.
    pub fn allows(&self, origin: Option<&HeaderValue>) -> bool {
        match (&self.allowed, origin) {
            (None, _) | (_, None) => true,
            (Some(_), Some(_)) if self.any => true,
            (Some(list), Some(origin)) => list.iter().any(|o| o.as_bytes() == origin.as_bytes()),
        }
    }

    /// The CORS middleware for this policy, or `None` when no origins are set.
    ///
    /// A mismatched origin is not blocked here: the engine answers it with
    /// its own `403 {"code":4,"message":"Forbidden"}`.
    pub fn cors(&self) -> Option<Cors> {
        self.allowed.as_ref()?;
        let policy = self.clone();
        let mut cors = Cors::default()
            .allowed_origin_fn(move |origin, _| policy.allows(Some(origin)))
            .allowed_methods(["GET", "POST", "OPTIONS"])
            .allow_any_header()
            .block_on_origin_mismatch(false)
            .max_age(86_400);
        if self.credentials {
            cors = cors.supports_credentials();
        }
        Some(cors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_exact_and_star_is_any() {
        let good = HeaderValue::from_static("https://app.example");
        let bad = HeaderValue::from_static("https://evil.example");
        let listed = OriginPolicy::new(&["https://app.example".into()], false);
        assert!(listed.allows(Some(&good)));
        assert!(!listed.allows(Some(&bad)));
        assert!(listed.allows(None));
        assert!(OriginPolicy::new(&["*".into()], true).allows(Some(&bad)));
        assert!(OriginPolicy::new(&[], false).allows(Some(&bad)));
        assert!(OriginPolicy::new(&[], false).cors().is_none());
    }
}
