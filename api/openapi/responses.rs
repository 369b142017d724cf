//! The answers every operation of a kind can give, added once from the route table instead of on each handler:
//! the extractors, the rate limiter and the database answer them before or around any handler's own logic.
//! A handler's own wording for a status wins; this pass only fills in what it left out.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, Ref, RefOr};

use crate::routes;

const UNAUTHORIZED: &str = "No valid access token or API token: missing, expired, revoked, or of an ended \
    session (`unauthorized`, `invalid_token`, `token_expired`, `token_revoked`, `session_revoked`)";
const INSUFFICIENT_SCOPE: &str = "`insufficient_scope`: an API token without the scope this needs (or any API \
    token where a login session is needed)";
const RATE_LIMITED: &str = "Too many REST calls for this user or API token (`rate_limited`, see Retry-After)";
const MALFORMED: &str = "The body is not JSON (`malformed_json`), or could not be read (`bad_request`)";
const TOO_LARGE: &str = "The body is larger than 64 KiB (`payload_too_large`)";
const NOT_JSON: &str = "The body was not sent as `application/json` (`unsupported_media_type`)";
const BAD_SHAPE: &str = "The body does not fit the schema: a field missing, of the wrong type, or breaking a \
    rule of its schema (`validation_failed`, with `field`)";
const BAD_QUERY: &str = "A query parameter is of the wrong type or out of range (`validation_failed`)";
const NO_SUCH_PATH: &str = "No such resource: a path parameter names nothing the caller may see, or is not a \
    number where one is expected (`not_found`)";
const UNAVAILABLE: &str = "The database or the broker cannot be reached for a moment (`service_unavailable`), \
    or the server is too busy hashing passwords (`busy`, see Retry-After)";

/// Adds to every operation of the route table what it can answer without its handler saying so.
pub fn add_common(doc: &mut OpenApi) {
    for &(method, path, open) in routes::ROUTES {
        let Some(operation) = doc.paths.paths.get_mut(&format!("/api{path}")).and_then(|item| operation(item, method))
        else {
            continue;
        };
        let (json, in_path, in_query) = (
            takes_json(operation),
            has_parameter(operation, ParameterIn::Path),
            has_parameter(operation, ParameterIn::Query),
        );
        let mut add = |status: &str, description: &str| {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error_response(description));
        };
        if !open {
            add("401", UNAUTHORIZED);
            add("403", INSUFFICIENT_SCOPE);
            add("429", RATE_LIMITED);
        }
        if json {
            add("400", MALFORMED);
            add("413", TOO_LARGE);
            add("415", NOT_JSON);
            add("422", BAD_SHAPE);
        }
        if in_path {
            add("404", NO_SUCH_PATH);
        }
        if in_query {
            add("422", BAD_QUERY);
        }
        add("503", UNAVAILABLE);
        if !open {
            operation
                .security
                .get_or_insert_with(Vec::new)
                .push(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        // Whoever wrote the 429 or 503, the waiting time comes in the same header.
        for status in ["429", "503"] {
            if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) {
                response.headers.entry("Retry-After".to_owned()).or_insert_with(|| RefOr::T(retry_after()));
            }
        }
        if let Some(RefOr::T(response)) = operation.responses.responses.get_mut("401") {
            response.headers.entry("WWW-Authenticate".to_owned()).or_insert_with(|| RefOr::T(www_authenticate()));
        }
    }
}

pub fn operation<'a>(item: &'a mut PathItem, method: &str) -> Option<&'a mut Operation> {
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "put" => item.put.as_mut(),
        "patch" => item.patch.as_mut(),
        "delete" => item.delete.as_mut(),
        _ => None,
    }
}

fn takes_json(operation: &Operation) -> bool {
    matches!(&operation.request_body, Some(RefOr::T(body)) if body.content.contains_key("application/json"))
}

fn has_parameter(operation: &Operation, place: ParameterIn) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == place))
}

fn error_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

fn retry_after() -> utoipa::openapi::header::Header {
    let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
    HeaderBuilder::new().schema(Some(seconds)).description(Some("Seconds to wait before trying again")).build()
}

fn www_authenticate() -> utoipa::openapi::header::Header {
    let scheme = ObjectBuilder::new().schema_type(Type::String);
    HeaderBuilder::new().schema(Some(scheme)).description(Some("`Bearer`")).build()
}
