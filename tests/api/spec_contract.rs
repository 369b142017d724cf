//! What the spec promises a generated client: named, discriminated unions; every status an operation can
//! answer; the validation rules as schema keywords; and the AsyncAPI document of the socket, committed as
//! the code produces it.

use serde_json::Value;

fn spec() -> Value {
    serde_json::from_str(&chat_server::openapi::spec_json()).expect("the spec is JSON")
}

#[test]
fn the_committed_asyncapi_document_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/asyncapi.json"))
        .expect("openapi/asyncapi.json exists");
    assert!(
        committed == chat_server::openapi::asyncapi::asyncapi_json(),
        "openapi/asyncapi.json is stale: run `cargo run -- asyncapi --out openapi/asyncapi.json`"
    );
}

#[test]
fn every_union_is_a_discriminated_oneof_of_named_components() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    for (union, tag, some_variant) in [
        ("ClientFrame", "type", "NewMessageFrame"),
        ("ServerFrame", "type", "AckFrame"),
        ("CreateConversationRequest", "kind", "CreateGroupRequest"),
        ("TimelineEvent", "type", "MemberAddedEvent"),
    ] {
        let variants = schemas[union]["oneOf"].as_array().expect("oneOf");
        assert!(variants.iter().all(|v| v["$ref"].is_string()), "{union}: every variant is a named component");
        let discriminator = &schemas[union]["discriminator"];
        assert_eq!(discriminator["propertyName"], tag, "{union}");
        assert_eq!(discriminator["mapping"].as_object().expect("mapping").len(), variants.len(), "{union}");
        assert!(schemas[some_variant]["properties"][tag].is_object(), "{some_variant}");
    }
    for name in ["ClientTypingFrame", "ServerTypingFrame", "ClientReadFrame", "ServerReadFrame"] {
        assert!(schemas[name].is_object(), "a tag both directions use is named by direction: {name}");
    }
    assert!(schemas["Message"].is_object() && schemas["ErrorBody"].is_object(), "existing names are kept");
}

#[test]
fn every_json_body_operation_documents_malformed_oversized_unsupported_and_invalid_bodies() {
    let spec = spec();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if operation["requestBody"]["content"]["application/json"].is_null() {
                continue;
            }
            for status in ["400", "413", "415", "422", "503"] {
                assert!(operation["responses"][status].is_object(), "{method} {path} documents {status}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} operations take JSON");
    for path in ["/api/auth/login", "/api/auth/refresh"] {
        assert!(spec["paths"][path]["post"]["responses"]["422"].is_object(), "{path} documents 422");
    }
}

#[test]
fn rate_limited_answers_document_retry_after() {
    let spec = spec();
    let limited = &spec["paths"]["/api/conversations"]["get"]["responses"]["429"];
    assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
}

#[test]
fn the_validation_rules_are_schema_keywords() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let send = &schemas["SendMessageRequest"]["properties"];
    assert_eq!(send["client_id"]["minLength"], 1);
    assert_eq!(send["client_id"]["maxLength"], 64);
    assert_eq!(send["body"]["maxLength"], 4000);
    assert_eq!(send["attachment_ids"]["maxItems"], 10);
    assert_eq!(send["reply_to_seq"]["minimum"], 1);
    assert_eq!(schemas["EditMessageRequest"]["properties"]["body"]["minLength"], 1);
    assert_eq!(schemas["RenameConversationRequest"]["properties"]["title"]["maxLength"], 100);
    assert!(schemas["CreateGroupRequest"]["properties"]["title"]["pattern"].is_string());
    assert_eq!(schemas["ReadRequest"]["properties"]["up_to_seq"]["minimum"], 0);
    assert_eq!(schemas["RegisterRequest"]["properties"]["password"]["minLength"], 8);
    assert_eq!(schemas["FetchMessagesFrame"]["properties"]["limit"]["maximum"], 100);
    let search = spec["paths"]["/api/search"]["get"]["parameters"].as_array().expect("parameters");
    let q = search.iter().find(|p| p["name"] == "q").expect("q");
    assert_eq!(q["schema"]["maxLength"], 200);
}

/// The schemas' patterns are the server's rules: what they refuse, the server refuses, and the reverse.
#[test]
fn the_text_patterns_agree_with_the_servers_parsers() {
    use chat_server::domain::{ClientId, DisplayName, MessageBody, Title};
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let pattern =
        |schema: &str, field: &str| schemas[schema]["properties"][field]["pattern"].as_str().map(str::to_owned);
    let samples = ["hello", "  padded  ", " ", "\t\n", "\u{3000}", "a\u{0}b", "x\u{7}y", "\u{a0}z", "é", "a b"];
    for sample in samples {
        let title = pattern("RenameConversationRequest", "title").expect("title pattern");
        assert_eq!(matches(&title, sample), Title::parse(sample).is_ok(), "title {sample:?}");
        let body = pattern("EditMessageRequest", "body").expect("body pattern");
        assert_eq!(matches(&body, sample), MessageBody::parse(sample).is_ok(), "body {sample:?}");
        let name = pattern("UpdateProfileRequest", "display_name").expect("name pattern");
        assert_eq!(matches(&name, sample), DisplayName::parse(sample).is_ok(), "display name {sample:?}");
        let client_id = pattern("SendMessageRequest", "client_id").expect("client id pattern");
        assert_eq!(matches(&client_id, sample), ClientId::parse(sample).is_ok(), "client id {sample:?}");
    }
}

/// The patterns use `^`, `$`, character classes with `\uXXXX` escapes and ranges, `*` and `{m,n}`; a
/// backtracking matcher of that subset keeps the test free of a regex dependency.
fn matches(pattern: &str, text: &str) -> bool {
    let anchored_start = pattern.starts_with('^');
    let body = pattern.trim_start_matches('^');
    let (body, anchored_end) = match body.strip_suffix('$') {
        Some(body) => (body, true),
        None => (body, false),
    };
    let atoms = parse(body);
    let chars: Vec<char> = text.chars().collect();
    let starts: Vec<usize> = if anchored_start { vec![0] } else { (0..=chars.len()).collect() };
    starts.into_iter().any(|start| match_at(&atoms, &chars, start, anchored_end))
}

struct Atom {
    negated: bool,
    ranges: Vec<(char, char)>,
    min: usize,
    max: usize,
}

fn parse(body: &str) -> Vec<Atom> {
    let chars: Vec<char> = body.chars().collect();
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        assert_eq!(chars[i], '[', "only classes in {body}");
        i += 1;
        let negated = chars[i] == '^';
        if negated {
            i += 1;
        }
        let mut ranges = Vec::new();
        while chars[i] != ']' {
            let (low, next) = class_char(&chars, i);
            i = next;
            if chars[i] == '-' && chars[i + 1] != ']' {
                let (high, next) = class_char(&chars, i + 1);
                ranges.push((low, high));
                i = next;
            } else {
                ranges.push((low, low));
            }
        }
        i += 1;
        let (min, max) = match chars.get(i) {
            Some('*') => {
                i += 1;
                (0, usize::MAX)
            }
            Some('{') => {
                let end = i + chars[i..].iter().position(|&c| c == '}').expect("}");
                let spec: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                let (low, high) = spec.split_once(',').expect("{m,n}");
                (low.parse().expect("m"), high.parse().expect("n"))
            }
            _ => (1, 1),
        };
        atoms.push(Atom { negated, ranges, min, max });
    }
    atoms
}

fn class_char(chars: &[char], i: usize) -> (char, usize) {
    if chars[i] != '\\' {
        return (chars[i], i + 1);
    }
    match chars[i + 1] {
        't' => ('\t', i + 2),
        'r' => ('\r', i + 2),
        'n' => ('\n', i + 2),
        'u' => {
            let hex: String = chars[i + 2..i + 6].iter().collect();
            (char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("char"), i + 6)
        }
        other => (other, i + 2),
    }
}

fn match_at(atoms: &[Atom], chars: &[char], at: usize, anchored_end: bool) -> bool {
    let Some((atom, rest)) = atoms.split_first() else { return !anchored_end || at == chars.len() };
    let fits = |c: char| atom.ranges.iter().any(|&(low, high)| (low..=high).contains(&c)) != atom.negated;
    let mut taken = 0;
    loop {
        if taken >= atom.min && match_at(rest, chars, at + taken, anchored_end) {
            return true;
        }
        if taken == atom.max || at + taken >= chars.len() || !fits(chars[at + taken]) {
            return false;
        }
        taken += 1;
    }
}
