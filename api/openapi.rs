//! The OpenAPI 3.1 document, generated from the handlers and the protocol types.

use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};

use crate::protocol;
use crate::routes;

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

/// The whole document: the shared parts above, every route of the table (`routes::RestApi`), and what every
/// route that needs a token has in common — the bearer requirement, 401 and 429 — added here once instead of
/// on each handler.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::RestApi::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    // Attachment downloads also take a media token in the query, for `<img src>` (POST /api/media-token).
    components
        .add_security_scheme("media_token", SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("media_token"))));
    for &(method, path, open) in routes::ROUTES {
        if open {
            continue;
        }
        let Some(operation) = doc.paths.paths.get_mut(&format!("/api{path}")).and_then(|item| operation(item, method))
        else {
            continue;
        };
        operation.security.get_or_insert_with(Vec::new).push(SecurityRequirement::new("bearer", Vec::<String>::new()));
        for (status, description) in [
            (
                "401",
                "No valid access token or API token: missing, expired, revoked, or of an ended session (`unauthorized`, `invalid_token`, `token_expired`, `token_revoked`, `session_revoked`)",
            ),
            (
                "403",
                "`insufficient_scope`: an API token without the scope this needs (or any API token where a login session is needed)",
            ),
            ("429", "Too many REST calls for this user or API token (`rate_limited`, see Retry-After)"),
        ] {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
        }
    }
    doc
}

fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "put" => item.put.as_mut(),
        "patch" => item.patch.as_mut(),
        "delete" => item.delete.as_mut(),
        _ => None,
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

/// The spec as committed at `openapi/openapi.json` (pretty, newline-terminated).
pub fn spec_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}
