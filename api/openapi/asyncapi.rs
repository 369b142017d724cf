//! The AsyncAPI 3 document of the socket at `/ws`, built from the OpenAPI document's components so that the
//! frames have one definition: the Rust enums, through utoipa and the union pass. Each frame variant becomes a
//! message whose payload is its named schema; the server receives `ClientFrame`s and sends `ServerFrame`s.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// The components the socket carries, each with the server's part in it.
const DIRECTIONS: &[(&str, &str, &str)] = &[
    ("ClientFrame", "receive", "Frames a client sends; the server answers some (`new_message` → `ack`)"),
    ("ServerFrame", "send", "Frames the server sends: answers, live events, errors"),
];

const DESCRIPTION: &str = "The WebSocket of chat-server: one socket per client session at `/ws`, JSON text \
    frames both ways, each an object whose `type` names it. Open it with `?ticket=` (a single-use ticket from \
    `POST /api/ws-ticket`, for browsers), an `Authorization: Bearer` header or `?token=`. The server closes \
    with 4001 when the access token expires, 4008 when the client reads too slowly, 4029 when it floods, and \
    1001 on shutdown. The readable guide is PROTOCOL.md beside this file; the REST side is openapi.json.";

#[derive(Debug, thiserror::Error)]
pub enum AsyncApiError {
    #[error("the OpenAPI document could not be read as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the OpenAPI document has no discriminated component {0}")]
    MissingUnion(&'static str),
}

/// The AsyncAPI 3.1 document.
pub fn document() -> Result<Value, AsyncApiError> {
    let openapi = serde_json::to_value(super::document())?;
    let all_schemas = &openapi["components"]["schemas"];
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    for &(union, action, summary) in DIRECTIONS {
        let mapping =
            all_schemas[union]["discriminator"]["mapping"].as_object().ok_or(AsyncApiError::MissingUnion(union))?;
        let mut refs = Vec::new();
        for (tag, target) in mapping {
            let Some(name) = target.as_str().and_then(|t| t.strip_prefix("#/components/schemas/")) else {
                return Err(AsyncApiError::MissingUnion(union));
            };
            let mut message = json!({
                "name": tag,
                "title": name,
                "contentType": "application/json",
                "payload": {"$ref": format!("#/components/schemas/{name}")},
            });
            if let Some(text) = all_schemas[name]["description"].as_str() {
                message["summary"] = Value::from(text);
            }
            messages.insert(name.to_owned(), message);
            channel_messages.insert(name.to_owned(), json!({"$ref": format!("#/components/messages/{name}")}));
            refs.push(json!({"$ref": format!("#/channels/socket/messages/{name}")}));
        }
        let operation = format!("{action}{union}s");
        operations.insert(
            operation,
            json!({"action": action, "channel": {"$ref": "#/channels/socket"}, "summary": summary, "messages": refs}),
        );
    }
    let roots = DIRECTIONS.iter().map(|&(union, _, _)| union.to_owned()).collect();
    let schemas = reachable(all_schemas, roots)
        .into_iter()
        .map(|name| {
            let schema = as_asyncapi_schema(all_schemas[&name].clone());
            (name, schema)
        })
        .collect::<Map<_, _>>();
    Ok(json!({
        "asyncapi": "3.1.0",
        "info": {
            "title": "chat-server socket",
            "version": openapi["info"]["version"],
            "description": DESCRIPTION,
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8080",
                "protocol": "ws",
                "description": "A server on its default address (`CHAT_BIND`); behind TLS the protocol is `wss`.",
            },
        },
        "channels": {
            "socket": {
                "address": "/ws",
                "title": "The socket",
                "description": "Everything live: one channel, frames told apart by `type`.",
                "messages": channel_messages,
                "bindings": {"ws": {"bindingVersion": "0.1.0", "method": "GET", "query": {
                    "type": "object",
                    "properties": {
                        "ticket": {"type": "string", "description": "A single-use ticket from POST /api/ws-ticket"},
                        "token": {"type": "string", "description": "An access token, where no header can be sent"},
                    },
                }}},
            },
        },
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }))
}

/// The document as committed at `openapi/asyncapi.json` (pretty, newline-terminated).
pub fn asyncapi_json() -> String {
    let mut json = document()
        .and_then(|doc| Ok(serde_json::to_string_pretty(&doc)?))
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    json.push('\n');
    json
}

/// The names of `roots` and of every schema they refer to, directly or not.
fn reachable(schemas: &Value, roots: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = roots;
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            refs_in(&schemas[&name], &mut pending);
        }
    }
    seen
}

fn refs_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str().and_then(|r| r.strip_prefix("#/components/schemas/"))) {
                    ("$ref", Some(name)) => out.push(name.to_owned()),
                    _ => refs_in(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs_in(item, out)),
        _ => {}
    }
}

/// An OpenAPI 3.1 schema as an AsyncAPI schema: the same JSON Schema, except that AsyncAPI's `discriminator`
/// is the property's name alone (OpenAPI's mapping is implied by the variants' single-valued tags).
fn as_asyncapi_schema(mut schema: Value) -> Value {
    if let Some(map) = schema.as_object_mut() {
        if let Some(name) = map.get("discriminator").and_then(|d| d.get("propertyName")).cloned() {
            map.insert("discriminator".into(), name);
        }
        for inner in map.values_mut() {
            *inner = as_asyncapi_schema(inner.take());
        }
    } else if let Some(items) = schema.as_array_mut() {
        for item in items {
            *item = as_asyncapi_schema(item.take());
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_variant_is_a_message_of_the_socket_and_each_direction_an_operation() {
        let doc = document().expect("asyncapi");
        let messages = doc["components"]["messages"].as_object().expect("messages");
        for name in ["NewMessageFrame", "ClientTypingFrame", "AckFrame", "ServerTypingFrame", "ErrorFrame"] {
            assert!(messages.contains_key(name), "{name}");
            assert!(doc["components"]["schemas"][name].is_object(), "{name} schema");
        }
        assert_eq!(doc["operations"]["receiveClientFrames"]["action"], "receive");
        assert_eq!(doc["operations"]["sendServerFrames"]["action"], "send");
        assert_eq!(doc["components"]["schemas"]["ServerFrame"]["discriminator"], "type");
    }

    #[test]
    fn only_the_schemas_the_frames_use_are_carried() {
        let doc = document().expect("asyncapi");
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        assert!(schemas.contains_key("Message") && schemas.contains_key("Attachment"));
        assert!(!schemas.contains_key("LoginRequest"), "REST bodies stay in openapi.json");
    }
}
