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
pub mod tokens;
pub mod users;
pub mod web_session;
pub mod webhooks;

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::Need;
use crate::auth::access::Scope;
use crate::error::ApiError;

/// Largest accepted JSON body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The REST API, in one table: each line registers a route under `/api` and puts its handler's
/// `#[utoipa::path]` documentation into the spec (`RestApi`), so a route cannot be served undocumented or
/// documented unserved. Each method says what it needs: `open` (no credentials), a scope an API token must hold
/// (`read`, `send`, `manage`; a login session holds them all), or `session` (a login session only: the
/// account, its sessions and credentials). Unknown methods on a known path get the JSON 405.
macro_rules! rest_api {
    (@need open) => { Need::Open };
    (@need session) => { Need::Session };
    (@need read) => { Need::Scope(Scope::Read) };
    (@need send) => { Need::Scope(Scope::Send) };
    (@need manage) => { Need::Scope(Scope::Manage) };
    ($( $path:literal => [ $( $method:ident ( $need:ident ) $handler:path ),+ $(,)? ] ),* $(,)?) => {
        fn register(cfg: &mut web::ServiceConfig) {
            $( cfg.service(resource($path, &[$( stringify!($method) ),+]) $( .route(web::$method().to($handler)) )+ ); )*
        }

        /// The documentation of every route in the table (`openapi` adds the shared parts).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths( $( $( $handler ),+ ),* ))]
        pub struct RestApi;

        /// Every route as (method, path under `/api`, what it needs).
        pub const ACCESS: &[(&str, &str, Need)] = &[ $( $( (stringify!($method), $path, rest_api!(@need $need)) ),+ ),* ];

        /// Every route as (method, path under `/api`, open to callers without a token). The spec takes the
        /// bearer requirement and the shared error answers from it; a test holds the spec to it.
        pub const ROUTES: &[(&str, &str, bool)] = &[ $( $( (stringify!($method), $path, matches!(rest_api!(@need $need), Need::Open)) ),+ ),* ];
    };
}

rest_api! {
    "/auth/register" => [post(open) auth::register],
    "/auth/login" => [post(open) auth::login],
    "/auth/refresh" => [post(open) auth::refresh],
    "/auth/logout" => [post(session) auth::logout],
    "/auth/logout-all" => [post(session) auth::logout_all],
    "/auth/sessions" => [get(session) auth::list_sessions],
    "/auth/web/register" => [post(open) web_session::register],
    "/auth/web/login" => [post(open) web_session::login],
    "/auth/web/refresh" => [post(open) web_session::refresh],
    "/auth/web/logout" => [post(session) web_session::logout],
    "/auth/sessions/{id}" => [delete(session) auth::end_session],
    "/tokens" => [get(session) tokens::list, post(session) tokens::create],
    "/tokens/{id}" => [delete(session) tokens::revoke],
    "/ws-ticket" => [post(read) auth::ws_ticket],
    "/users/me" => [get(read) users::me, patch(session) users::update_me],
    "/users/me/password" => [post(session) users::change_password],
    "/users" => [get(read) users::search],
    "/users/me/blocks" => [get(read) blocks::list],
    "/users/me/blocks/{user_id}" => [put(manage) blocks::block, delete(manage) blocks::unblock],
    "/contacts" => [get(read) contacts::list, post(manage) contacts::add],
    "/contacts/{user_id}" => [delete(manage) contacts::remove],
    "/conversations" => [get(read) conversations::list, post(manage) conversations::create],
    "/conversations/{id}" => [get(read) conversations::get, patch(manage) conversations::rename],
    "/conversations/{id}/members" => [post(manage) conversations::add_member],
    "/conversations/{id}/members/{user_id}" => [patch(manage) conversations::change_role, delete(manage) conversations::remove_member],
    "/conversations/{id}/notifications" => [put(manage) conversations::set_notifications],
    "/conversations/{id}/read" => [post(read) conversations::mark_read],
    "/conversations/{id}/messages" => [get(read) messages::history, post(send) messages::send],
    "/conversations/{id}/messages/{seq}" => [patch(send) messages::edit, delete(send) messages::delete],
    "/conversations/{id}/messages/{seq}/reactions/{emoji}" => [put(send) reactions::add, delete(send) reactions::remove],
    "/conversations/{id}/pins" => [get(read) pins::list],
    "/conversations/{id}/pins/{seq}" => [put(send) pins::pin, delete(send) pins::unpin],
    "/conversations/{id}/attachments" => [post(send) attachments::upload],
    "/conversations/{id}/webhooks" => [get(session) webhooks::list, post(session) webhooks::create],
    "/conversations/{id}/webhooks/{webhook_id}" => [delete(session) webhooks::revoke],
    "/hooks/{secret}" => [post(open) webhooks::post],
    "/attachments/{id}" => [get(read) attachments::download, delete(send) attachments::discard],
    "/attachments/{id}/thumbnail" => [get(read) attachments::thumbnail],
    "/media-token" => [post(read) attachments::media_token],
    "/search" => [get(read) search::search],
}

/// What the route matched by `pattern` (as actix reports it, `/api` included) needs for `method`. A route
/// missing from the table needs a login session: the safe default.
pub fn need_of(method: &actix_web::http::Method, pattern: Option<&str>) -> Need {
    let path = pattern.and_then(|p| p.strip_prefix("/api"));
    ACCESS
        .iter()
        .find(|(m, p, _)| Some(*p) == path && m.eq_ignore_ascii_case(method.as_str()))
        .map_or(Need::Session, |(_, _, need)| *need)
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
