//! Operations: metrics, request ids, rate limits, CORS and origins, security headers, the bundled client.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

async fn app_with(change: impl FnOnce(&mut chat_server::config::Settings)) -> TestApp {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    change(&mut settings);
    spawn_with(store, settings).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_sockets_messages_store_time_fan_out_requests_broker_and_pool() {
    let app = app_with(|s| s.admin_bind = Some("127.0.0.1:0".into())).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice.access_token, bob.user.id).await;
    let mut b = app.ws(&bob.access_token).await;
    app.send(&alice.access_token, chat.id, "counted").await;
    b.expect("message", |f| matches!(f, chat_server::protocol::ServerFrame::Message { .. }).then_some(())).await;
    app.uploaded(&alice.access_token, chat.id, "counted.png", crate::attachments::png(4, 4)).await;
    let admin = app.admin_address.clone().expect("an admin listener");
    let text = app.client.get(format!("{admin}/metrics")).send().await.expect("metrics").text().await.expect("text");
    for name in [
        "chat_open_sockets",
        "chat_messages_stored_total",
        "chat_message_batch_store_seconds_bucket",
        "chat_attachments_stored_total",
        "chat_attachment_bytes_stored_total",
        "chat_fanout_seconds_bucket",
        "chat_http_requests_total",
        "chat_http_request_duration_seconds_bucket",
        "chat_broker_state",
        "chat_broker_reconnects_total",
        "chat_mailbox_shed_total",
        "chat_slow_consumer_closes_total",
        "chat_db_pool_wait_seconds_bucket",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    assert!(text.contains(r#"route="/api/conversations/{id}/messages""#), "requests are labelled by route pattern");
    assert!(text.contains(r#"chat_broker_state{state="local"} 1"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_that_error_bodies_quote() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let reply = app.raw(Method::GET, "/api/users/me", None, vec![]).await;
    let header = reply.headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("header").to_owned();
    assert_eq!(reply.body["error"]["request_id"], header.as_str());
    // A sane incoming id is kept, so a proxy's id follows the request through.
    let res = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "edge-42")
        .send()
        .await
        .expect("health");
    assert_eq!(res.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("edge-42"));
    let res = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "bad id\twith junk")
        .send()
        .await
        .expect("health");
    assert_ne!(res.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("bad id\twith junk"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_address_with_retry_after() {
    let app = app_with(|s| s.auth_per_minute = 3).await;
    for i in 0..3 {
        let reply = app
            .post("/api/auth/login", None, &json!({"username": format!("nobody{i}"), "password": "password-x"}))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app.post("/api/auth/register", None, &json!({"username": "late", "password": "password-late"})).await;
    assert_eq!(limited.error_code(429), "rate_limited");
    let retry: u64 = limited
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_are_limited_per_user() {
    let app = app_with(|s| s.rest_per_second = 1).await;
    let busy = app.register("busy").await;
    let calm = app.register("calm").await;
    let mut limited = None;
    for _ in 0..30 {
        let reply = app.get("/api/users/me", &busy.access_token).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("the busy user was limited within its burst of 10");
    assert_eq!(limited.error_code(429), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(app.get("/api/users/me", &calm.access_token).await.status, StatusCode::OK, "per user, not global");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_calls_get_cors_headers_only_for_listed_origins() {
    let app = app_with(|s| s.allowed_origins = vec!["https://chat.example".into()]).await;
    let listed = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("origin", "https://chat.example")
        .send()
        .await
        .expect("req");
    assert_eq!(
        listed.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("https://chat.example")
    );
    let stranger = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("req");
    assert!(stranger.headers().get("access-control-allow-origin").is_none());
    let default_app = spawn_app(Backend::Sqlite).await.expect("app");
    let plain = default_app
        .client
        .get(format!("{}/healthz", default_app.address))
        .header("origin", "https://chat.example")
        .send()
        .await
        .expect("req");
    assert!(plain.headers().get("access-control-allow-origin").is_none(), "same-origin only by default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_from_a_foreign_origin_is_refused_and_same_origin_is_welcome() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let user = app.register("origin").await;
    let url = format!("ws://127.0.0.1:{}/ws?token={}", app.port, user.access_token);
    let mut foreign = url.clone().into_client_request().expect("request");
    foreign.headers_mut().insert("origin", "https://evil.example".parse().expect("header"));
    match connect_async(foreign).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let mut same = url.into_client_request().expect("request");
    same.headers_mut().insert("origin", format!("http://127.0.0.1:{}", app.port).parse().expect("header"));
    assert!(connect_async(same).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_client_is_served_with_spa_fallback_and_security_headers() {
    let web = std::env::temp_dir().join(format!("chat-web-{}", random_hex(6)));
    std::fs::create_dir_all(web.join("assets")).expect("dir");
    std::fs::write(web.join("index.html"), "<!doctype html><title>Chat</title><script src=/assets/app.js></script>")
        .expect("index");
    std::fs::write(web.join("assets/app.js"), "console.log('chat')").expect("js");
    let dir = web.clone();
    let app = app_with(move |s| s.web_dir = dir).await;
    let index = app.client.get(format!("{}/", app.address)).send().await.expect("index");
    assert_eq!(index.status(), 200);
    let csp = index.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).expect("CSP").to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(index.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    let deep = app.client.get(format!("{}/chats/42", app.address)).send().await.expect("deep link");
    assert_eq!(deep.status(), 200);
    assert!(deep.text().await.expect("text").contains("<title>Chat</title>"), "SPA fallback to index.html");
    let asset = app.client.get(format!("{}/assets/app.js", app.address)).send().await.expect("asset");
    assert_eq!(asset.status(), 200);
    let api = app.raw(Method::GET, "/api/nope", None, vec![]).await;
    assert_eq!(api.error_code(404), "not_found");
    let docs = app.client.get(format!("{}/docs/", app.address)).send().await.expect("docs");
    assert_eq!(
        docs.headers().get("content-security-policy").and_then(|v| v.to_str().ok()),
        Some("frame-ancestors 'none'")
    );
    let _ = std::fs::remove_dir_all(web);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_the_database_and_the_broker() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let ready = app.raw(Method::GET, "/readyz", None, vec![]).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], "ok");
    assert_eq!(ready.body["broker"], "local");
}
