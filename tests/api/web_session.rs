//! Browser sessions: the refresh token only in an HttpOnly, Secure, SameSite=Strict cookie scoped to
//! `/api/auth/web`, rotated on every refresh; every call refused without the web client's own `Origin`.

use chat_server::protocol::WebSession;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

struct WebReply {
    status: StatusCode,
    set_cookie: Option<String>,
    body: Value,
}

impl WebReply {
    /// The refresh token the `Set-Cookie` sets (None when it removes the cookie or there is none).
    fn token(&self) -> Option<String> {
        let value = self.set_cookie.as_deref()?.strip_prefix("chat_refresh=")?.split(';').next()?.to_owned();
        (!value.is_empty()).then_some(value)
    }

    fn session(&self) -> WebSession {
        serde_json::from_value(self.body.clone()).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl TestApp {
    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn web(
        &self,
        path: &str,
        origin: Option<&str>,
        cookie: Option<&str>,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> WebReply {
        let mut req = self.client.request(Method::POST, format!("{}/api/auth/web/{path}", self.address));
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        if let Some(token) = cookie {
            req = req.header("cookie", format!("theme=dark; chat_refresh={token}"));
        }
        if let Some(bearer) = bearer {
            req = req.bearer_auth(bearer);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let set_cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = res.text().await.unwrap_or_default();
        WebReply { status, set_cookie, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    async fn web_login(&self, name: &str) -> WebReply {
        self.register(name).await;
        let body = json!({"username": name, "password": format!("password-{name}")});
        let reply = self.web("login", Some(&self.origin()), None, None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply
    }
}

on_both_backends! {
    async fn a_web_login_keeps_the_refresh_token_in_an_http_only_strict_cookie_never_in_the_body(app) {
        let reply = app.web_login("ann").await;
        let cookie = reply.set_cookie.clone().expect("a cookie");
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth/web", "Max-Age="] {
            assert!(cookie.contains(part), "{part} missing from {cookie}");
        }
        assert!(reply.body.get("refresh_token").is_none(), "{}", reply.body);
        let session = reply.session();
        assert_eq!(app.get("/api/users/me", &session.access_token).await.status, StatusCode::OK);
    }

    async fn a_web_refresh_rotates_the_cookie_and_a_spent_one_ends_the_session(app) {
        let login = app.web_login("ann").await;
        let first = login.token().expect("first token");
        let origin = app.origin();
        let refreshed = app.web("refresh", Some(&origin), Some(&first), None, None).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        let second = refreshed.token().expect("a new cookie");
        assert_ne!(first, second);
        assert_eq!(refreshed.session().session_id, login.session().session_id, "the same session goes on");
        // The spent cookie again (a thief's copy): refused, the cookie removed, and the session over.
        let replayed = app.web("refresh", Some(&origin), Some(&first), None, None).await;
        assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{}", replayed.body);
        assert!(replayed.set_cookie.as_deref().is_some_and(|c| c.contains("Max-Age=0")), "{:?}", replayed.set_cookie);
        let after = app.web("refresh", Some(&origin), Some(&second), None, None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "reuse ended the whole session: {}", after.body);
    }

    async fn a_web_register_starts_a_session_with_a_cookie(app) {
        let body = json!({"username": "newbie", "password": "password-newbie"});
        let reply = app.web("register", Some(&app.origin()), None, None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert!(reply.token().is_some());
        assert_eq!(reply.session().user.username, "newbie");
    }

    async fn web_logout_ends_the_session_and_removes_the_cookie(app) {
        let login = app.web_login("ann").await;
        let (token, access) = (login.token().expect("token"), login.session().access_token);
        let origin = app.origin();
        let out = app.web("logout", Some(&origin), Some(&token), Some(&access), None).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert!(out.set_cookie.as_deref().is_some_and(|c| c.starts_with("chat_refresh=;") && c.contains("Max-Age=0")));
        assert_eq!(app.web("refresh", Some(&origin), Some(&token), None, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/users/me", &access).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn hostile_cross_site_or_origin_less_calls_are_refused_before_anything_happens(app) {
        let login = app.web_login("ann").await;
        let token = login.token().expect("token");
        let body = || Some(json!({"username": "ann", "password": "password-ann"}));
        for origin in [None, Some("https://evil.example"), Some("null"), Some("http://127.0.0.1:1")] {
            let refreshed = app.web("refresh", origin, Some(&token), None, None).await;
            assert_eq!(refreshed.status, StatusCode::FORBIDDEN, "{origin:?}: {}", refreshed.body);
            assert_eq!(refreshed.body["error"]["code"], "bad_origin");
            assert!(refreshed.set_cookie.is_none());
            assert_eq!(app.web("login", origin, None, None, body()).await.status, StatusCode::FORBIDDEN);
            let access = login.session().access_token;
            assert_eq!(app.web("logout", origin, Some(&token), Some(&access), None).await.status, StatusCode::FORBIDDEN);
        }
        // None of that spent the cookie or ended the session.
        let refreshed = app.web("refresh", Some(&app.origin()), Some(&token), None, None).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    }

    async fn hostile_refresh_without_a_cookie_or_with_garbage_is_refused(app) {
        let origin = app.origin();
        let none = app.web("refresh", Some(&origin), None, None, None).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{}", none.body);
        for junk in ["x", "%00", &"a".repeat(4000)] {
            let reply = app.web("refresh", Some(&origin), Some(junk), None, None).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{junk:?}: {}", reply.body);
            assert!(reply.body["error"]["code"].is_string());
        }
        let json_refresh = app.request(Method::POST, "/api/auth/refresh", None, Some(&json!({"refresh_token": "x"}))).await;
        assert_eq!(json_refresh.status, StatusCode::UNAUTHORIZED, "the JSON-body refresh is unchanged for other clients");
    }
}
