//! Changing the password: proven by the current one, ends every other session, slowed like logins.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

async fn change(app: &TestApp, token: &str, current: &str, new: &str) -> Reply {
    app.post("/api/users/me/password", Some(token), &json!({"current_password": current, "new_password": new})).await
}

on_both_backends! {
    async fn changing_the_password_ends_every_other_session_and_keeps_the_callers(app) {
        let here = app.register("ana").await;
        let there = app.login("ana").await;
        let reply = change(&app, &here.access_token, "password-ana", "a brand new secret").await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        let refused = app.refused_within(&there.access_token, Duration::from_secs(1)).await;
        assert_eq!(refused.error_code(401), "session_revoked");
        let refresh = app.post("/api/auth/refresh", None, &json!({"refresh_token": there.refresh_token})).await;
        assert_eq!(refresh.error_code(401), "invalid_refresh_token");
        assert_eq!(app.get("/api/users/me", &here.access_token).await.status, StatusCode::OK);
        let refresh = app.post("/api/auth/refresh", None, &json!({"refresh_token": here.refresh_token})).await;
        assert_eq!(refresh.status, StatusCode::OK, "the caller's session goes on");
        assert_eq!(app.login_with("ana", "password-ana", &[]).await.error_code(401), "invalid_credentials");
        assert_eq!(app.login_with("ana", "a brand new secret", &[]).await.status, StatusCode::OK);
    }

    async fn a_wrong_current_password_is_403_and_changes_nothing(app) {
        let here = app.register("ben").await;
        let there = app.login("ben").await;
        let reply = change(&app, &here.access_token, "not-my-password", "a brand new secret").await;
        assert_eq!(reply.error_code(403), "wrong_password");
        assert_eq!(app.get("/api/users/me", &here.access_token).await.status, StatusCode::OK, "the token is kept");
        assert_eq!(app.get("/api/users/me", &there.access_token).await.status, StatusCode::OK);
        assert_eq!(app.login_with("ben", "password-ben", &[]).await.status, StatusCode::OK);
    }

    async fn the_new_password_is_validated_like_a_registration(app) {
        let me = app.register("cleo").await;
        for (body, field) in [
            (json!({"current_password": "password-cleo", "new_password": "short"}), "new_password"),
            (json!({"current_password": "password-cleo", "new_password": "x".repeat(257)}), "new_password"),
            (json!({"current_password": "password-cleo"}), "new_password"),
            (json!({"new_password": "long enough now"}), "current_password"),
        ] {
            let reply = app.post("/api/users/me/password", Some(&me.access_token), &body).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{body}");
            assert_eq!(reply.body["error"]["field"], field, "{body}");
        }
        assert_eq!(app.login_with("cleo", "password-cleo", &[]).await.status, StatusCode::OK, "unchanged");
    }

    async fn hostile_guessing_the_current_password_is_slowed_like_a_login(app) {
        // A stolen access token is not enough to take the account over by guessing.
        let app = app.sibling_with(|s| s.behind_proxy = true).await;
        let me = app.register("dirk").await;
        let from = |ip: &'static str| [("x-forwarded-for", ip)];
        let guess = |i: usize, ip: &'static str| {
            let app = &app;
            let token = me.access_token.clone();
            async move {
                let body = json!({"current_password": format!("guess-{i}"), "new_password": "the thief's choice"});
                let req = app.client.post(format!("{}/api/users/me/password", app.address))
                    .bearer_auth(&token).json(&body);
                let req = from(ip).iter().fold(req, |req, (k, v)| req.header(*k, *v));
                let res = req.send().await.expect("sent");
                res.status().as_u16()
            }
        };
        let mut statuses = Vec::new();
        for i in 0..8 {
            statuses.push(guess(i, "203.0.113.7").await);
        }
        assert_eq!(statuses[..6], [403; 6]);
        assert_eq!(statuses[6..], [429; 2]);
        // The owner, from elsewhere, is not held up.
        let reply = change(&app, &me.access_token, "password-dirk", "owner's new secret").await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
}
