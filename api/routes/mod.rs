//! HTTP routes: thin handlers that parse, call a rule, and answer. One file per resource.

pub mod auth;
pub mod blocks;
pub mod contacts;
pub mod conversations;
pub mod extract;
pub mod health;
pub mod json;
pub mod messages;
pub mod middleware;
pub mod users;

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Largest accepted JSON body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `/api` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(auth::configure)
        .configure(users::configure)
        .configure(blocks::configure)
        .configure(contacts::configure)
        .configure(conversations::configure)
        .configure(messages::configure);
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::Validation { field: "query".into(), message: format!("The query string is not valid: {err}.") }.into()
}

fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// A resource whose unknown methods get the JSON 405 rather than the scope's 404.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed)
}

/// The JSON 404 for a path that exists elsewhere (metrics on the public listener) or nowhere.
pub async fn not_here(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NoRoute(format!("{} {}", req.method(), req.path())))
}

pub async fn api_not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NoRoute(format!("{} {}", req.method(), req.path())))
}
