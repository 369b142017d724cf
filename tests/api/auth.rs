use chat_server::protocol::{Session, User, UserList};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::tokens::bad_tokens;

on_both_backends! {
    async fn register_answers_201_with_a_session_whose_token_works(app) {
        let reply = app.post("/api/auth/register", None,
            &json!({"username": "Alice", "password": "password-alice", "display_name": "Alice A."})).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        let session: Session = reply.json();
        assert_eq!(session.user.username, "alice");
        assert_eq!(session.user.display_name, "Alice A.");
        assert_eq!(session.expires_in, 900);
        assert!(!session.refresh_token.is_empty());
        let me: User = app.get("/api/users/me", &session.access_token).await.json();
        assert_eq!(me, session.user);
    }

    async fn register_defaults_the_display_name_to_the_username(app) {
        assert_eq!(app.register("bob").await.user.display_name, "bob");
    }

    async fn register_refuses_a_taken_username_whatever_its_case(app) {
        app.register("carol").await;
        let reply = app.post("/api/auth/register", None, &json!({"username": "CAROL", "password": "password-x1"})).await;
        assert_eq!(reply.error_code(409), "username_taken");
    }

    async fn register_names_the_invalid_field(app) {
        let cases = [
            (json!({"username": "ab", "password": "password-1"}), "username"),
            (json!({"username": "has space", "password": "password-1"}), "username"),
            (json!({"username": "dave", "password": "short"}), "password"),
            (json!({"username": "dave", "password": "password-1", "display_name": "  "}), "display_name"),
            (json!({"username": "dave", "password": "password-1", "display_name": "x".repeat(65)}), "display_name"),
            (json!({"username": "dave"}), "password"),
            (json!({"username": 7, "password": "password-1"}), "username"),
        ];
        for (body, field) in cases {
            let reply = app.post("/api/auth/register", None, &body).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{body}");
            assert_eq!(reply.body["error"]["field"], field, "{body}");
        }
        // Nothing was created by the refused attempts.
        assert_eq!(app.register("dave").await.user.username, "dave");
    }

    async fn login_accepts_the_username_in_any_case(app) {
        app.register("erin").await;
        let reply = app.post("/api/auth/login", None, &json!({"username": "ERIN", "password": "password-erin"})).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json::<Session>().user.username, "erin");
    }

    async fn login_answers_the_same_401_for_unknown_user_and_wrong_password(app) {
        app.register("frank").await;
        let wrong_password =
            app.post("/api/auth/login", None, &json!({"username": "frank", "password": "password-nope"})).await;
        let unknown_user =
            app.post("/api/auth/login", None, &json!({"username": "nobody", "password": "password-nope"})).await;
        assert_eq!(wrong_password.error_code(401), "invalid_credentials");
        assert_eq!(unknown_user.error_body(), wrong_password.error_body());
    }

    async fn refresh_rotates_the_refresh_token_and_spends_the_old_one(app) {
        let first = app.register("gina").await;
        let reply = app.post("/api/auth/refresh", None, &json!({"refresh_token": first.refresh_token})).await;
        assert_eq!(reply.status, StatusCode::OK);
        let second: Session = reply.json();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(app.get("/api/users/me", &second.access_token).await.status, StatusCode::OK);
        let third = app.post("/api/auth/refresh", None, &json!({"refresh_token": second.refresh_token})).await;
        assert_eq!(third.status, StatusCode::OK);
    }

    async fn reusing_a_spent_refresh_token_revokes_its_whole_family(app) {
        let first = app.register("hank").await;
        let second: Session =
            app.post("/api/auth/refresh", None, &json!({"refresh_token": first.refresh_token})).await.json();
        let reuse = app.post("/api/auth/refresh", None, &json!({"refresh_token": first.refresh_token})).await;
        assert_eq!(reuse.error_code(401), "refresh_token_reused");
        // The legitimate-looking newest token is revoked with the family.
        let newest = app.post("/api/auth/refresh", None, &json!({"refresh_token": second.refresh_token})).await;
        assert_eq!(newest.error_code(401), "invalid_refresh_token");
        // Another login is its own family and still works.
        let login = app.post("/api/auth/login", None, &json!({"username": "hank", "password": "password-hank"})).await;
        assert_eq!(login.status, StatusCode::OK);
    }

    async fn refresh_refuses_an_unknown_token(app) {
        let reply = app.post("/api/auth/refresh", None, &json!({"refresh_token": "made-up"})).await;
        assert_eq!(reply.error_code(401), "invalid_refresh_token");
    }

    async fn logout_revokes_the_refresh_token(app) {
        let session = app.register("ivy").await;
        let reply = app.post("/api/auth/logout", Some(&session.access_token),
            &json!({"refresh_token": session.refresh_token})).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let refresh = app.post("/api/auth/refresh", None, &json!({"refresh_token": session.refresh_token})).await;
        assert_eq!(refresh.error_code(401), "invalid_refresh_token");
    }

    async fn logout_cannot_revoke_another_users_token(app) {
        let victim = app.register("jack").await;
        let attacker = app.register("kate").await;
        let reply = app.post("/api/auth/logout", Some(&attacker.access_token),
            &json!({"refresh_token": victim.refresh_token})).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let refresh = app.post("/api/auth/refresh", None, &json!({"refresh_token": victim.refresh_token})).await;
        assert_eq!(refresh.status, StatusCode::OK);
    }

    async fn logout_requires_an_access_token(app) {
        let session = app.register("liam").await;
        let reply = app.post("/api/auth/logout", None, &json!({"refresh_token": session.refresh_token})).await;
        assert_eq!(reply.error_code(401), "unauthorized");
    }

    async fn me_refuses_every_kind_of_bad_token(app) {
        let session = app.register("mia").await;
        for (case, token) in bad_tokens(session.user.id) {
            let reply = app.request(Method::GET, "/api/users/me", token.as_deref(), None).await;
            let code = reply.error_code(401);
            let expected = match case {
                "no token" => "unauthorized",
                "expired" => "token_expired",
                _ => "invalid_token",
            };
            assert_eq!(code, expected, "{case}");
        }
    }

    async fn hostile_twenty_concurrent_logins_queue_for_one_hashing_permit_and_all_complete(app) {
        let one_at_a_time = app.sibling_with(|s| s.password_hashes = Some(1)).await;
        one_at_a_time.register("rush").await;
        let logins = (0..20).map(|_| one_at_a_time.login_with("rush", "password-rush", &[]));
        let replies = futures_util::future::join_all(logins).await;
        let mut sessions = std::collections::BTreeSet::new();
        for reply in replies {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            sessions.insert(reply.json::<Session>().session_id);
        }
        assert_eq!(sessions.len(), 20, "each login is its own session");
    }

    async fn user_search_matches_literally_without_the_caller(app) {
        let me = app.register("a_b").await;
        app.register("a_bc").await;
        app.register("axbd").await;
        app.register("zed").await;
        let found: UserList = app.get("/api/users?query=A_B", &me.access_token).await.json();
        let names: Vec<_> = found.users.iter().map(|u| u.username.as_str()).collect();
        // `_` is literal (so "axbd" does not match) and the caller is left out.
        assert_eq!(names, ["a_bc"]);
    }

    async fn user_search_returns_at_most_twenty(app) {
        let me = app.register("searcher").await;
        for i in 0..22 {
            app.register(&format!("user{i:02}")).await;
        }
        let found: UserList = app.get("/api/users?query=user", &me.access_token).await.json();
        assert_eq!(found.users.len(), 20);
        assert_eq!(found.users[0].username, "user00");
    }

    async fn user_search_refuses_an_empty_or_missing_query(app) {
        let me = app.register("nora").await;
        assert_eq!(app.get("/api/users?query=", &me.access_token).await.error_code(422), "validation_failed");
        assert_eq!(app.get("/api/users", &me.access_token).await.error_code(422), "validation_failed");
    }
}
