//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::broker::BrokerState;
use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: &'static str,
    broker: &'static str,
}

/// The process can serve: its database answers and its broker is connected (or knowingly in-process).
pub async fn readyz(app: web::Data<AppState>) -> HttpResponse {
    let database_ok = app.db.ping().await.is_ok();
    let broker = app.realtime.broker.state();
    let ready = database_ok && broker != BrokerState::Reconnecting;
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        database: if database_ok { "ok" } else { "unreachable" },
        broker: broker.as_str(),
    };
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
