//! The OpenAPI 3.1 document, generated from the handlers and the protocol types.

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

use crate::protocol;
use crate::routes;

pub mod asyncapi;
pub mod responses;
pub mod unions;

/// The route table the document is built from (method, path under `/api`, open without a token).
pub use crate::routes::ROUTES;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chat-server",
        description = "Real-time chat backend. REST for accounts, contacts, conversations and history; \
            the WebSocket at /ws carries live events (frames: ClientFrame and ServerFrame below). \
            Every error is {\"error\":{\"code\",\"message\"}}.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(protocol::ClientFrame, protocol::ServerFrame, protocol::ErrorBody)),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "People"),
        (name = "contacts", description = "The caller's address book"),
        (name = "conversations", description = "Direct chats and groups, members, read positions"),
        (name = "messages", description = "History and sending (the socket sends too)"),
        (name = "attachments", description = "Files: upload into a conversation, attach to a message, download"),
        (name = "tokens", description = "API tokens: scoped, revocable credentials for scripts and bots"),
        (name = "webhooks", description = "Incoming webhooks: a secret URL that posts into a group as a bot"),
    )
)]
pub struct ApiDoc;

/// The whole document: the shared parts above, every route of the table (`routes::RestApi`), the unions'
/// variants as named components with discriminators (`unions`), and what every route of a kind can answer —
/// the bearer requirement, 401, 415, 429 and the rest — added once (`responses`) instead of on each handler.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = generated();
    let components = doc.components.get_or_insert_with(Default::default);
    // The unions are the protocol's own types: a failure here is a change to them, which the unit tests catch.
    unions::name_variants(components).expect("the protocol's tagged enums are oneOfs of tagged objects");
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    // Attachment downloads also take a media token in the query, for `<img src>` (POST /api/media-token).
    components
        .add_security_scheme("media_token", SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("media_token"))));
    responses::add_common(&mut doc);
    doc
}

/// What utoipa generates from the types and handlers, before the passes.
fn generated() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::RestApi::openapi());
    doc
}

/// The spec as committed at `openapi/openapi.json` (pretty, newline-terminated).
pub fn spec_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}
