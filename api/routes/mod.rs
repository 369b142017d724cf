//! HTTP routes: thin handlers that parse, call a rule, and answer. One file per resource.

pub mod attachments;
pub mod auth;
pub mod blocks;
pub mod contacts;
pub mod conversations;
pub mod extract;
pub mod health;
pub mod json;
pub mod messages;
pub mod middleware;
pub mod pins;
pub mod reactions;
pub mod search;
pub mod users;
pub mod web_session;

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Largest accepted JSON body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The REST API, in one table: each line registers a route under `/api` and puts its handler's
/// `#[utoipa::path]` documentation into the spec (`RestApi`), so a route cannot be served undocumented or
/// documented unserved. `open` marks the routes callable without a token. Unknown methods on a known path get the JSON 405.
macro_rules! rest_api {
    (@open open) => { true };
    (@open token) => { false };
    ($( $path:literal => $access:ident [ $( $method:ident $handler:path ),+ $(,)? ] ),* $(,)?) => {
        fn register(cfg: &mut web::ServiceConfig) {
            $( cfg.service(resource($path, &[$( stringify!($method) ),+]) $( .route(web::$method().to($handler)) )+ ); )*
        }

        /// The documentation of every route in the table (`openapi` adds the shared parts).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths( $( $( $handler ),+ ),* ))]
        pub struct RestApi;

        /// Every route as (method, path under `/api`, open to callers without a token). The spec takes the
        /// bearer requirement and the shared error answers from it; a test holds the spec to it.
        pub const ROUTES: &[(&str, &str, bool)] = &[ $( $( (stringify!($method), $path, rest_api!(@open $access)) ),+ ),* ];
    };
}

rest_api! {
    "/auth/register" => open [post auth::register],
    "/auth/login" => open [post auth::login],
    "/auth/refresh" => open [post auth::refresh],
    "/auth/logout" => token [post auth::logout],
    "/auth/logout-all" => token [post auth::logout_all],
    "/auth/sessions" => token [get auth::list_sessions],
    "/auth/web/register" => open [post web_session::register],
    "/auth/web/login" => open [post web_session::login],
    "/auth/web/refresh" => open [post web_session::refresh],
    "/auth/web/logout" => token [post web_session::logout],
    "/auth/sessions/{id}" => token [delete auth::end_session],
    "/ws-ticket" => token [post auth::ws_ticket],
    "/users/me" => token [get users::me, patch users::update_me],
    "/users/me/password" => token [post users::change_password],
    "/users" => token [get users::search],
    "/users/me/blocks" => token [get blocks::list],
    "/users/me/blocks/{user_id}" => token [put blocks::block, delete blocks::unblock],
    "/contacts" => token [get contacts::list, post contacts::add],
    "/contacts/{user_id}" => token [delete contacts::remove],
    "/conversations" => token [get conversations::list, post conversations::create],
    "/conversations/{id}" => token [get conversations::get, patch conversations::rename],
    "/conversations/{id}/members" => token [post conversations::add_member],
    "/conversations/{id}/members/{user_id}" => token [patch conversations::change_role, delete conversations::remove_member],
    "/conversations/{id}/notifications" => token [put conversations::set_notifications],
    "/conversations/{id}/read" => token [post conversations::mark_read],
    "/conversations/{id}/messages" => token [get messages::history, post messages::send],
    "/conversations/{id}/messages/{seq}" => token [patch messages::edit, delete messages::delete],
    "/conversations/{id}/messages/{seq}/reactions/{emoji}" => token [put reactions::add, delete reactions::remove],
    "/conversations/{id}/pins" => token [get pins::list],
    "/conversations/{id}/pins/{seq}" => token [put pins::pin, delete pins::unpin],
    "/conversations/{id}/attachments" => token [post attachments::upload],
    "/attachments/{id}" => token [get attachments::download, delete attachments::discard],
    "/attachments/{id}/thumbnail" => token [get attachments::thumbnail],
    "/media-token" => token [post attachments::media_token],
    "/search" => token [get search::search],
}

/// The `/api` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(register);
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::Validation { field: "query".into(), message: format!("The query string is not valid: {err}.") }.into()
}

fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// A resource whose other methods get the JSON 405, with `Allow` naming `methods`, rather than the scope's 404.
pub fn resource(path: &str, methods: &[&str]) -> actix_web::Resource {
    let allow = methods.iter().map(|method| method.to_uppercase()).collect::<Vec<_>>().join(", ");
    web::resource(path).default_service(web::to(move || {
        let refusal = ApiError::MethodNotAllowed(allow.clone());
        async move { actix_web::ResponseError::error_response(&refusal) }
    }))
}

/// The JSON 404 for a path that exists elsewhere (metrics on the public listener) or nowhere.
pub async fn not_here(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NoRoute(format!("{} {}", req.method(), req.path())))
}

pub async fn api_not_found(req: HttpRequest) -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NoRoute(format!("{} {}", req.method(), req.path())))
}
