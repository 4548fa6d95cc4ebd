//! `GET /ready`: whether the node should get traffic.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use actix::Addr;
use actix_web::{web, HttpResponse};

use switchyard_gateway::Capacity;

use crate::cluster::{MembershipActor, Readiness};

/// Set once the node starts shutting down; shared with the endpoints, which
/// refuse new sessions from then on.
#[derive(Clone, Default)]
pub struct Draining(pub Arc<AtomicBool>);

/// 200 once the cluster bus is connected and membership is joined; 503 with
/// the reason otherwise (also while shutting down), so a load balancer or
/// orchestrator holds traffic back.
pub async fn ready(
    membership: web::Data<Addr<MembershipActor>>,
    draining: web::Data<Draining>,
    capacity: web::Data<Capacity>,
) -> HttpResponse {
    if draining.0.load(Ordering::Relaxed) {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("not ready: shutting down\n");
    }
    if capacity.is_full() {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!(
                "not ready: at the session limit ({} sessions)\n",
                capacity.max()
            ));
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix::Actor;
    use switchyard_shared::{cluster::Subjects, sid::NodeId};

    use super::*;
    use crate::cluster::{Cluster, InProcessBus};

    #[actix_rt::test]
    async fn a_node_alone_is_ready_until_it_drains() {
        let cluster = Cluster {
            node: NodeId::parse("n0").expect("node id"),
            bus: Arc::new(InProcessBus::alone()),
            subjects: Subjects::default(),
        };
        let membership =
            MembershipActor::new(cluster, Duration::from_secs(1), Duration::from_secs(3)).start();
        let (membership, draining) = (web::Data::new(membership), Draining::default());
        let capacity = web::Data::new(Capacity::default());
        let answer = ready(
            membership.clone(),
            web::Data::new(draining.clone()),
            capacity.clone(),
        )
        .await;
        assert_eq!(answer.status().as_u16(), 200);
        draining.0.store(true, Ordering::Relaxed);
        let answer = ready(membership, web::Data::new(draining), capacity).await;
        assert_eq!(answer.status().as_u16(), 503);
    }
}
