//! `GET /ready`: whether the node should get traffic.

use actix::Addr;
use actix_web::{web, HttpResponse};

use crate::cluster::{MembershipActor, Readiness};

/// 200 once the cluster bus is connected and membership is joined; 503 with
/// the reason otherwise, so a load balancer or orchestrator holds traffic back.
pub async fn ready(membership: web::Data<Addr<MembershipActor>>) -> HttpResponse {
    match membership.send(Readiness).await {
        Ok(Ok(members)) => HttpResponse::Ok()
            .content_type("text/plain")
            .body(format!("ready: {members} cluster member(s)\n")),
        Ok(Err(reason)) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {reason}\n")),
        Err(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("not ready: membership is not running\n"),
    }
}
