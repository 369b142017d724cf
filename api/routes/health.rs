use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::db::DbPool;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: &'static str,
}

/// The process can serve: its database answers.
pub async fn readyz(db: web::Data<DbPool>) -> HttpResponse {
    let database_ok = db.ping().await.is_ok();
    let body = Readiness {
        status: if database_ok { "ready" } else { "unavailable" },
        database: if database_ok { "ok" } else { "unreachable" },
    };
    if database_ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
