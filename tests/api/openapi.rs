//! The committed spec is what the code produces, and the server serves the same document.

use crate::helpers::*;

#[test]
fn the_committed_spec_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json exists");
    let generated = chat_server::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi --out openapi/openapi.json`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_spec_is_the_committed_one_and_is_openapi_3_1() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let reply = app.raw(reqwest::Method::GET, "/api/openapi.json", None, vec![]).await;
    assert_eq!(reply.status.as_u16(), 200);
    let generated: serde_json::Value = serde_json::from_str(&chat_server::openapi::spec_json()).expect("json");
    assert_eq!(reply.body, generated);
    assert!(reply.body["openapi"].as_str().unwrap_or_default().starts_with("3.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served_offline() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let page = app.client.get(format!("{}/docs/", app.address)).send().await.expect("docs");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("text").contains("swagger"), "the Swagger UI page");
    let bundle = app.client.get(format!("{}/docs/swagger-ui-bundle.js", app.address)).send().await.expect("js");
    assert_eq!(bundle.status().as_u16(), 200, "the vendored bundle is served by the binary");
}

/// Real responses, recorded with their operation and checked against the committed spec by an outside
/// validator (tests/contract/check_responses.py: openapi-spec-validator + jsonschema).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_responses_match_the_documented_schemas() {
    use reqwest::Method;
    use serde_json::json;

    let python = std::env::var("CHAT_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python).args(["-c", "import openapi_spec_validator, jsonschema"]).output();
    if !matches!(&probe, Ok(out) if out.status.success()) {
        assert!(std::env::var("CI").is_err(), "CI must provide openapi-spec-validator (set CHAT_PYTHON)");
        eprintln!("openapi-spec-validator not installed for {python}: contract check skipped");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let mut samples = Vec::new();
    let mut record = |method: &Method, template: &str, reply: &Reply| {
        samples.push(
            json!({"method": method.as_str(), "path": template, "status": reply.status.as_u16(), "body": reply.body}),
        );
    };

    let register = json!({"username": "contract", "password": "password-contract"});
    let reply = app.post("/api/auth/register", None, &register).await;
    record(&Method::POST, "/api/auth/register", &reply);
    let session: chat_server::protocol::Session = reply.json();
    let token = session.access_token.clone();
    let reply = app.post("/api/auth/register", None, &register).await;
    record(&Method::POST, "/api/auth/register", &reply);
    let reply = app.post("/api/auth/register", None, &json!({"username": "x", "password": "p"})).await;
    record(&Method::POST, "/api/auth/register", &reply);
    let reply = app.post("/api/auth/login", None, &json!({"username": "contract", "password": "nope-nope"})).await;
    record(&Method::POST, "/api/auth/login", &reply);
    let reply =
        app.post("/api/auth/login", None, &json!({"username": "contract", "password": "password-contract"})).await;
    record(&Method::POST, "/api/auth/login", &reply);
    let reply = app.post("/api/auth/refresh", None, &json!({"refresh_token": session.refresh_token})).await;
    record(&Method::POST, "/api/auth/refresh", &reply);
    let reply = app.post("/api/auth/refresh", None, &json!({"refresh_token": "nope"})).await;
    record(&Method::POST, "/api/auth/refresh", &reply);
    let web = |path: &str, origin: &str, body: Option<serde_json::Value>| {
        let mut req = app.client.post(format!("{}/api/auth/web/{path}", app.address)).header("origin", origin);
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move { read_reply(req.send().await.expect("request")).await }
    };
    let own = format!("http://127.0.0.1:{}", app.port);
    let credentials = json!({"username": "contract", "password": "password-contract"});
    record(&Method::POST, "/api/auth/web/login", &web("login", &own, Some(credentials.clone())).await);
    record(&Method::POST, "/api/auth/web/login", &web("login", "https://evil.example", Some(credentials)).await);
    let webbie = json!({"username": "webbie", "password": "password-webbie"});
    record(&Method::POST, "/api/auth/web/register", &web("register", &own, Some(webbie)).await);
    record(&Method::POST, "/api/auth/web/refresh", &web("refresh", &own, None).await);
    let reply = app.request(Method::GET, "/api/users/me", None, None).await;
    record(&Method::GET, "/api/users/me", &reply);
    let reply = app.get("/api/users/me", &token).await;
    record(&Method::GET, "/api/users/me", &reply);
    let reply = app.patch("/api/users/me", &token, &json!({"display_name": "Contract"})).await;
    record(&Method::PATCH, "/api/users/me", &reply);
    let reply = app.patch("/api/users/me", &token, &json!({"display_name": ""})).await;
    record(&Method::PATCH, "/api/users/me", &reply);
    let friend = app.register("friend").await;
    let reply = app.get("/api/users?query=fr", &token).await;
    record(&Method::GET, "/api/users", &reply);
    let reply = app.post("/api/contacts", Some(&token), &json!({"user_id": friend.user.id})).await;
    record(&Method::POST, "/api/contacts", &reply);
    let reply = app.get("/api/contacts", &token).await;
    record(&Method::GET, "/api/contacts", &reply);
    let reply =
        app.post("/api/conversations", Some(&token), &json!({"kind": "direct", "user_id": friend.user.id})).await;
    record(&Method::POST, "/api/conversations", &reply);
    let reply = app
        .post(
            "/api/conversations",
            Some(&token),
            &json!({"kind": "group", "title": "g", "member_ids": [friend.user.id]}),
        )
        .await;
    record(&Method::POST, "/api/conversations", &reply);
    let group: chat_server::protocol::Conversation = reply.json();
    let c = group.id;
    let reply = app
        .post(&format!("/api/conversations/{c}/messages"), Some(&token), &json!({"body": "hello", "client_id": "c1"}))
        .await;
    record(&Method::POST, "/api/conversations/{id}/messages", &reply);
    let reply = app
        .post(&format!("/api/conversations/{c}/messages"), Some(&token), &json!({"body": "hello", "client_id": "c1"}))
        .await;
    record(&Method::POST, "/api/conversations/{id}/messages", &reply);
    let reply = app
        .post(&format!("/api/conversations/{c}/messages"), Some(&token), &json!({"body": "", "client_id": "c2"}))
        .await;
    record(&Method::POST, "/api/conversations/{id}/messages", &reply);
    let reply = app.get("/api/conversations", &token).await;
    record(&Method::GET, "/api/conversations", &reply);
    let reply = app.get(&format!("/api/conversations/{c}"), &token).await;
    record(&Method::GET, "/api/conversations/{id}", &reply);
    let reply = app.get("/api/conversations/999", &token).await;
    record(&Method::GET, "/api/conversations/{id}", &reply);
    let reply = app.patch(&format!("/api/conversations/{c}"), &token, &json!({"title": "renamed"})).await;
    record(&Method::PATCH, "/api/conversations/{id}", &reply);
    let reply = app.patch(&format!("/api/conversations/{c}"), &friend.access_token, &json!({"title": "mine"})).await;
    record(&Method::PATCH, "/api/conversations/{id}", &reply);
    let reply = app.get(&format!("/api/conversations/{c}/messages?limit=1"), &token).await;
    record(&Method::GET, "/api/conversations/{id}/messages", &reply);
    let reply = app.get(&format!("/api/conversations/{c}/messages?limit=0"), &token).await;
    record(&Method::GET, "/api/conversations/{id}/messages", &reply);
    let reply = app.patch(&format!("/api/conversations/{c}/messages/1"), &token, &json!({"body": "edited"})).await;
    record(&Method::PATCH, "/api/conversations/{id}/messages/{seq}", &reply);
    let reply =
        app.post(&format!("/api/conversations/{c}/read"), Some(&friend.access_token), &json!({"up_to_seq": 1})).await;
    record(&Method::POST, "/api/conversations/{id}/read", &reply);
    let third = app.register("third").await;
    let reply =
        app.post(&format!("/api/conversations/{c}/members"), Some(&token), &json!({"user_id": third.user.id})).await;
    record(&Method::POST, "/api/conversations/{id}/members", &reply);
    let reply = app.delete(&format!("/api/conversations/{c}/members/{}", third.user.id), &token).await;
    record(&Method::DELETE, "/api/conversations/{id}/members/{user_id}", &reply);
    let reply = app.delete(&format!("/api/conversations/{c}/messages/1"), &token).await;
    record(&Method::DELETE, "/api/conversations/{id}/messages/{seq}", &reply);
    let reply = app.get(&format!("/api/conversations/{c}/messages"), &token).await;
    record(&Method::GET, "/api/conversations/{id}/messages", &reply);
    let reply = app.delete(&format!("/api/contacts/{}", friend.user.id), &token).await;
    record(&Method::DELETE, "/api/contacts/{user_id}", &reply);
    let reply = app.request(Method::PUT, &format!("/api/users/me/blocks/{}", third.user.id), Some(&token), None).await;
    record(&Method::PUT, "/api/users/me/blocks/{user_id}", &reply);
    let reply = app.request(Method::PUT, "/api/users/me/blocks/987654", Some(&token), None).await;
    record(&Method::PUT, "/api/users/me/blocks/{user_id}", &reply);
    let reply = app.get("/api/users/me/blocks", &token).await;
    record(&Method::GET, "/api/users/me/blocks", &reply);
    let reply = app.post("/api/contacts", Some(&third.access_token), &json!({"user_id": session.user.id})).await;
    record(&Method::POST, "/api/contacts", &reply);
    let reply = app.delete(&format!("/api/users/me/blocks/{}", third.user.id), &token).await;
    record(&Method::DELETE, "/api/users/me/blocks/{user_id}", &reply);
    let reply = app.request(Method::POST, "/api/ws-ticket", Some(&token), None).await;
    record(&Method::POST, "/api/ws-ticket", &reply);
    let reply = app.request(Method::POST, "/api/ws-ticket", None, None).await;
    record(&Method::POST, "/api/ws-ticket", &reply);
    let reply = app.get("/api/search?q=hello&limit=5", &token).await;
    record(&Method::GET, "/api/search", &reply);
    let reply = app.get("/api/search?q=a", &token).await;
    record(&Method::GET, "/api/search", &reply);
    let reply = app.get("/api/auth/sessions", &token).await;
    record(&Method::GET, "/api/auth/sessions", &reply);
    let reply = app.delete("/api/auth/sessions/987654", &token).await;
    record(&Method::DELETE, "/api/auth/sessions/{id}", &reply);
    let spare = app.login("contract").await;
    let reply = app.delete(&format!("/api/auth/sessions/{}", spare.session_id), &token).await;
    record(&Method::DELETE, "/api/auth/sessions/{id}", &reply);
    let reply = app.post("/api/auth/logout", Some(&token), &json!({"refresh_token": "whatever"})).await;
    record(&Method::POST, "/api/auth/logout", &reply);
    let reply = app.request(Method::POST, "/api/auth/logout-all", Some(&friend.access_token), None).await;
    record(&Method::POST, "/api/auth/logout-all", &reply);
    let reply = app.request(Method::POST, "/api/auth/logout-all", Some(&friend.access_token), None).await;
    record(&Method::POST, "/api/auth/logout-all", &reply);

    let dir = std::env::temp_dir().join(format!("chat-contract-{}", random_hex(6)));
    std::fs::create_dir_all(&dir).expect("dir");
    let samples_path = dir.join("samples.json");
    std::fs::write(&samples_path, serde_json::to_vec(&samples).expect("json")).expect("write");
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/check_responses.py");
    let out = std::process::Command::new(&python).args([script, spec]).arg(&samples_path).output().expect("run python");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "responses do not match the spec:\n{stdout}");
    assert!(stdout.contains(&format!("responses checked: {} ok, 0 mismatched", samples.len())));
}

/// The route table is the one source: every route it registers is documented with its method, nothing else is,
/// and every route that needs a token says so with the shared 401.
#[test]
fn the_spec_documents_exactly_the_route_table() {
    let spec: serde_json::Value = serde_json::from_str(&chat_server::openapi::spec_json()).expect("json");
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let served: std::collections::BTreeSet<_> = chat_server::openapi::ROUTES
        .iter()
        .map(|(method, path, _)| (method.to_string(), format!("/api{path}")))
        .collect();
    assert_eq!(documented, served);

    for &(method, path, open) in chat_server::openapi::ROUTES {
        let operation = &spec["paths"][format!("/api{path}")][method];
        let bearer = operation["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        assert_eq!(bearer, !open, "{method} {path}: bearer requirement");
        if !open {
            assert!(operation["responses"]["401"].is_object(), "{method} {path}: documents 401");
        }
    }
}

/// Hostile: every route in the table that needs a token refuses one whose session has ended (logged out), at once
/// — routes added since (search, profile, web sessions, pins, reactions) included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_every_token_route_refuses_an_ended_session() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let session = app.register("ended").await;
    let out = app.request(reqwest::Method::POST, "/api/auth/logout", Some(&session.access_token), None).await;
    assert_eq!(out.status.as_u16(), 204, "{}", out.body);
    for &(method, path, open) in chat_server::openapi::ROUTES {
        if open {
            continue;
        }
        let concrete = path.replace("{id}", "1").replace("{user_id}", "1").replace("{seq}", "1");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let body = serde_json::json!({});
        let reply =
            app.request(method.clone(), &format!("/api{concrete}"), Some(&session.access_token), Some(&body)).await;
        assert_eq!(reply.error_code(401), "session_revoked", "{method} {path}");
    }
}

/// Hostile: every route in the table that needs a token refuses a caller without one, with the JSON error —
/// none was registered outside the authentication, and none is missing from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_every_token_route_refuses_a_caller_without_a_token() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    for &(method, path, open) in chat_server::openapi::ROUTES {
        let concrete = path.replace("{id}", "1").replace("{user_id}", "1").replace("{seq}", "1");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let reply = app.request(method.clone(), &format!("/api{concrete}"), None, Some(&serde_json::json!({}))).await;
        if path.contains("{secret}") {
            // A webhook's URL is its own credential: a made-up one is the plain JSON 404, never a 401 or a 405.
            assert_eq!(reply.error_code(404), "not_found", "{method} {path}");
        } else if open {
            assert!(![401, 404, 405].contains(&reply.status.as_u16()), "{method} {path} is served without a token");
        } else {
            assert_eq!(reply.error_code(401), "unauthorized", "{method} {path}");
        }
    }
}
