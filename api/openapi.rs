//! The OpenAPI 3.1 document, generated from the handlers and the protocol types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::protocol;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chat-server",
        description = "Real-time chat backend. REST for accounts, contacts, conversations and history; \
            the WebSocket at /ws carries live events (frames: ClientFrame and ServerFrame below). \
            Every error is {\"error\":{\"code\",\"message\"}}.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        routes::auth::register,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::logout_all,
        routes::auth::list_sessions,
        routes::auth::end_session,
        routes::auth::ws_ticket,
        routes::users::me,
        routes::users::change_password,
        routes::users::search,
        routes::blocks::list,
        routes::blocks::block,
        routes::blocks::unblock,
        routes::contacts::list,
        routes::contacts::add,
        routes::contacts::remove,
        routes::conversations::create,
        routes::conversations::list,
        routes::conversations::get,
        routes::conversations::rename,
        routes::conversations::add_member,
        routes::conversations::remove_member,
        routes::conversations::mark_read,
        routes::messages::history,
        routes::messages::send,
        routes::messages::edit,
        routes::messages::delete,
    ),
    components(schemas(protocol::ClientFrame, protocol::ServerFrame, protocol::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "People"),
        (name = "contacts", description = "The caller's address book"),
        (name = "conversations", description = "Direct chats and groups, members, read positions"),
        (name = "messages", description = "History and sending (the socket sends too)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The spec as committed at `openapi/openapi.json` (pretty, newline-terminated).
pub fn spec_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}
