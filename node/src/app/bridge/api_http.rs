//! The API over HTTP: `POST /api/v1/<op>` with a JSON body and a bearer
//! token, on every node.

use std::sync::Arc;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::json;
use subtle::ConstantTimeEq as _;

use super::api::{execute, Operation};
use crate::{server::Routes, socketio::SocketIo};

/// The routes, checking every request against `token`; `headers` are the
/// request headers that fetched handshakes keep.
pub(super) fn routes(token: String, headers: Arc<[String]>) -> Routes {
    let token: Arc<[u8]> = token.into_bytes().into();
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        let (token, headers) = (token.clone(), headers.clone());
        cfg.route(
            "/api/v1/{op}",
            web::post().to(
                move |request: HttpRequest,
                      op: web::Path<String>,
                      body: web::Bytes,
                      io: web::Data<SocketIo>| {
                    let (token, headers) = (token.clone(), headers.clone());
                    async move { serve(&request, &op, &body, &io, &token, &headers).await }
                },
            ),
        );
    })
}

async fn serve(
    request: &HttpRequest,
    op: &str,
    body: &[u8],
    io: &SocketIo,
    token: &[u8],
    headers: &[String],
) -> HttpResponse {
    if !authorized(request, token) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .json(json!({ "ok": false, "error": "a valid bearer token is required" }));
    }
    let Some(op) = Operation::parse(op) else {
        return HttpResponse::NotFound()
            .json(json!({ "ok": false, "error": format!("no operation {op:?}") }));
    };
    match execute(io, op, body, headers).await {
        Ok(answer) => HttpResponse::Ok().json(answer),
        Err(error) => {
            HttpResponse::BadRequest().json(json!({ "ok": false, "error": error.to_string() }))
        }
    }
}

/// Whether the request carries `Authorization: Bearer <token>`. The
/// comparison takes the same time wherever the tokens differ.
fn authorized(request: &HttpRequest, token: &[u8]) -> bool {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    bool::from(presented.ct_eq(token))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::authorized;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let with = |value: &str| {
            TestRequest::default()
                .insert_header(("authorization", value))
                .to_http_request()
        };
        assert!(authorized(&with("Bearer s3cret"), b"s3cret"));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "bearer s3cret",
            "s3cret",
            "Bearer ",
        ] {
            assert!(!authorized(&with(wrong), b"s3cret"), "{wrong:?}");
        }
        assert!(!authorized(
            &TestRequest::default().to_http_request(),
            b"s3cret"
        ));
    }
}
