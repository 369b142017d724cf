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
