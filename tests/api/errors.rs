//! Malformed requests of every kind get the JSON error shape and the fitting status.

use reqwest::Method;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn malformed_json_is_a_400(app) {
        let reply = app.raw(Method::POST, "/api/auth/login", Some("application/json"), b"{\"username\":".to_vec()).await;
        assert_eq!(reply.error_code(400), "malformed_json");
    }

    async fn a_body_that_is_not_json_by_content_type_is_a_415(app) {
        let reply = app.raw(Method::POST, "/api/auth/login", Some("text/plain"), b"{}".to_vec()).await;
        assert_eq!(reply.error_code(415), "unsupported_media_type");
        let reply = app.raw(Method::POST, "/api/auth/login", None, b"{}".to_vec()).await;
        assert_eq!(reply.error_code(415), "unsupported_media_type");
    }

    async fn a_body_over_64_kib_is_a_413(app) {
        let big = format!("{{\"username\":\"{}\",\"password\":\"password\"}}", "a".repeat(70 * 1024));
        let reply = app.raw(Method::POST, "/api/auth/register", Some("application/json"), big.into_bytes()).await;
        assert_eq!(reply.error_code(413), "payload_too_large");
    }

    async fn an_unknown_api_route_is_a_json_404(app) {
        let session = app.register("olga").await;
        let reply = app.get("/api/no/such/route", &session.access_token).await;
        assert_eq!(reply.error_code(404), "not_found");
    }

    async fn an_unknown_route_outside_the_api_is_a_json_404_without_a_web_client(app) {
        let reply = app.raw(Method::GET, "/definitely-not-here", None, vec![]).await;
        assert_eq!(reply.error_code(404), "not_found");
    }

    async fn a_wrong_method_on_a_known_route_is_a_json_405_that_names_the_allowed_ones(app) {
        let session = app.register("pete").await;
        let reply = app.request(Method::DELETE, "/api/users/me", Some(&session.access_token), None).await;
        assert_eq!(reply.error_code(405), "method_not_allowed");
        assert_eq!(reply.headers.get("allow").and_then(|v| v.to_str().ok()), Some("GET, PATCH"));
        let reply = app.request(Method::PUT, "/api/auth/login", None, None).await;
        assert_eq!(reply.error_code(405), "method_not_allowed");
        assert_eq!(reply.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    }

    async fn hostile_a_nul_character_in_a_user_search_is_a_422_not_a_database_error(app) {
        let session = app.register("nelly").await;
        let reply = app.get("/api/users?query=ab%00cd", &session.access_token).await;
        assert_eq!(reply.error_code(422), "validation_failed");
    }

    async fn health_answers_and_readiness_sees_the_database(app) {
        let health = app.raw(Method::GET, "/healthz", None, vec![]).await;
        assert_eq!(health.status.as_u16(), 200);
        let ready = app.raw(Method::GET, "/readyz", None, vec![]).await;
        assert_eq!(ready.status.as_u16(), 200, "{}", ready.body);
        assert_eq!(ready.body["database"], "ok");
    }
}
