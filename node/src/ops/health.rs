//! `GET /health`: the process is up and serving HTTP.

use actix_web::HttpResponse;

/// Liveness for load balancers and container health checks (GET or HEAD).
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
