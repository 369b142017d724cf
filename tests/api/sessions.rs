//! Sessions: listing and ending them, refusal of a revoked session's tokens within a second (on every
//! instance), the absolute lifetime, the per-user cap.

use std::time::Duration;

use chat_server::protocol::{Session, SessionList};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

const WITHIN: Duration = Duration::from_secs(1);

async fn sessions(app: &TestApp, token: &str) -> SessionList {
    let reply = app.get("/api/auth/sessions", token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.post("/api/auth/refresh", None, &json!({"refresh_token": refresh_token})).await
}

async fn login_on(app: &TestApp, name: &str, device: &str) -> Session {
    let reply = app.login_with(name, &format!("password-{name}"), &[("user-agent", device)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

on_both_backends! {
    async fn logout_ends_the_callers_session_at_once_and_no_other(app) {
        let first = app.register("alice").await;
        let second = app.login("alice").await;
        assert_ne!(first.session_id, second.session_id);
        // No body: the access token says which session.
        let reply = app.request(Method::POST, "/api/auth/logout", Some(&first.access_token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let refused = app.refused_within(&first.access_token, WITHIN).await;
        assert_eq!(refused.error_code(401), "session_revoked");
        assert_eq!(refresh(&app, &first.refresh_token).await.error_code(401), "invalid_refresh_token");
        assert_eq!(app.get("/api/users/me", &second.access_token).await.status, StatusCode::OK);
        assert_eq!(refresh(&app, &second.refresh_token).await.status, StatusCode::OK);
    }

    async fn logout_ignores_a_refresh_token_in_its_body(app) {
        let phone = app.register("bob").await;
        let laptop = app.login("bob").await;
        let reply = app.post("/api/auth/logout", Some(&laptop.access_token),
            &json!({"refresh_token": phone.refresh_token})).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        app.refused_within(&laptop.access_token, WITHIN).await;
        // The session named in the body was not the caller's: it goes on.
        assert_eq!(refresh(&app, &phone.refresh_token).await.status, StatusCode::OK);
    }

    async fn logout_all_ends_every_session_of_the_user_only(app) {
        let one = app.register("carol").await;
        let two = app.login("carol").await;
        let other = app.register("dan").await;
        let reply = app.request(Method::POST, "/api/auth/logout-all", Some(&two.access_token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        for session in [&one, &two] {
            assert_eq!(app.refused_within(&session.access_token, WITHIN).await.error_code(401), "session_revoked");
            assert_eq!(refresh(&app, &session.refresh_token).await.error_code(401), "invalid_refresh_token");
        }
        assert_eq!(app.get("/api/users/me", &other.access_token).await.status, StatusCode::OK);
        // Logging in again starts a new session.
        let again = app.login("carol").await;
        assert_eq!(app.get("/api/users/me", &again.access_token).await.status, StatusCode::OK);
    }

    async fn sessions_are_listed_most_recently_used_first_with_the_callers_marked(app) {
        // The registration is a session too (without a User-Agent: reqwest sends none).
        app.register("erin").await;
        let phone = login_on(&app, "erin", "Phone/1.0").await;
        let laptop = login_on(&app, "erin", &format!("  Laptop/2.0 {}\t", "x".repeat(200))).await;
        let list = sessions(&app, &laptop.access_token).await;
        assert_eq!(list.sessions.len(), 3);
        let first = &list.sessions[0];
        assert_eq!(first.id, laptop.session_id);
        assert!(first.current);
        let device = first.device.as_deref().expect("a device label");
        assert!(device.starts_with("Laptop/2.0 xxx") && device.chars().count() == 120, "{device}");
        assert_eq!(list.sessions[1].id, phone.session_id);
        assert_eq!(list.sessions[1].device.as_deref(), Some("Phone/1.0"));
        assert!(!list.sessions[1].current);
        assert_eq!(list.sessions[2].device, None, "the registration sent no User-Agent");
        assert!(first.expires_at > first.last_used_at && first.last_used_at >= first.created_at);
        // A refresh uses the session: it moves to the top, keeping its id.
        let refreshed: Session = refresh(&app, &phone.refresh_token).await.json();
        assert_eq!(refreshed.session_id, phone.session_id);
        let list = sessions(&app, &laptop.access_token).await;
        assert_eq!(list.sessions[0].id, phone.session_id);
        assert!(list.sessions[0].last_used_at > list.sessions[1].last_used_at);
        assert!(list.sessions.iter().all(|s| s.current == (s.id == laptop.session_id)));
    }

    async fn deleting_a_session_ends_that_session_only(app) {
        app.register("fay").await;
        let phone = app.login("fay").await;
        let laptop = app.login("fay").await;
        let reply = app.delete(&format!("/api/auth/sessions/{}", phone.session_id), &laptop.access_token).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(app.refused_within(&phone.access_token, WITHIN).await.error_code(401), "session_revoked");
        assert_eq!(refresh(&app, &phone.refresh_token).await.error_code(401), "invalid_refresh_token");
        assert_eq!(app.get("/api/users/me", &laptop.access_token).await.status, StatusCode::OK);
        let list = sessions(&app, &laptop.access_token).await;
        assert!(list.sessions.iter().all(|s| s.id != phone.session_id), "an ended session is not listed");
        // Ending the caller's own session works too, like logout.
        let reply = app.delete(&format!("/api/auth/sessions/{}", laptop.session_id), &laptop.access_token).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        app.refused_within(&laptop.access_token, WITHIN).await;
    }

    async fn hostile_someone_elses_unknown_and_ended_sessions_answer_the_same_404(app) {
        let alice = app.register("gail").await;
        let ended = app.login("gail").await;
        let mallory = app.register("mallory").await;
        let gone = app.delete(&format!("/api/auth/sessions/{}", ended.session_id), &alice.access_token).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
        let unknown = app.delete("/api/auth/sessions/987654", &mallory.access_token).await;
        assert_eq!(unknown.error_code(404), "not_found");
        let theirs = app.delete(&format!("/api/auth/sessions/{}", alice.session_id), &mallory.access_token).await;
        assert_eq!(theirs.error_body(), unknown.error_body());
        let twice = app.delete(&format!("/api/auth/sessions/{}", ended.session_id), &alice.access_token).await;
        assert_eq!(twice.error_body(), unknown.error_body());
        // Mallory's attempt changed nothing.
        assert_eq!(app.get("/api/users/me", &alice.access_token).await.status, StatusCode::OK);
        assert_eq!(refresh(&app, &alice.refresh_token).await.status, StatusCode::OK);
        let listed = sessions(&app, &mallory.access_token).await;
        assert_eq!(listed.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), [mallory.session_id]);
    }

    async fn hostile_a_reused_refresh_token_ends_the_session_and_its_access_tokens(app) {
        let first = app.register("hank").await;
        let second: Session = refresh(&app, &first.refresh_token).await.json();
        assert_eq!(second.session_id, first.session_id);
        let reuse = refresh(&app, &first.refresh_token).await;
        assert_eq!(reuse.error_code(401), "refresh_token_reused");
        // The thief's (or owner's) newer tokens die with the session.
        assert_eq!(app.refused_within(&second.access_token, WITHIN).await.error_code(401), "session_revoked");
        assert_eq!(refresh(&app, &second.refresh_token).await.error_code(401), "invalid_refresh_token");
        assert_eq!(app.login("hank").await.user.username, "hank");
    }

    async fn a_revoked_sessions_token_is_refused_on_every_route_and_socket(app) {
        let ivy = app.register("ivy").await;
        let friend = app.register("jay").await;
        let chat = app.direct(&ivy.access_token, friend.user.id).await;
        app.request(Method::POST, "/api/auth/logout", Some(&ivy.access_token), None).await;
        app.refused_within(&ivy.access_token, WITHIN).await;
        let c = chat.id;
        for (method, path) in [
            (Method::GET, "/api/contacts".to_owned()),
            (Method::GET, "/api/conversations".to_owned()),
            (Method::GET, format!("/api/conversations/{c}/messages")),
            (Method::GET, "/api/auth/sessions".to_owned()),
            (Method::POST, "/api/auth/logout-all".to_owned()),
        ] {
            let reply = app.request(method.clone(), &path, Some(&ivy.access_token), None).await;
            assert_eq!(reply.error_code(401), "session_revoked", "{method} {path}");
        }
        let url = format!("ws://127.0.0.1:{}/ws?token={}", app.port, ivy.access_token);
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 401),
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }

    async fn a_session_never_outlives_its_absolute_lifetime_however_often_it_is_refreshed(app) {
        // A session of 4 seconds (the setting takes fractions of a day), refreshed every 200 ms.
        let short = app.sibling_with(|s| s.session_max_days = 4.0 / 86_400.0).await;
        let started = short.register("kim").await;
        assert!(started.expires_in <= 4, "the access token ends with the session: {}", started.expires_in);
        let ends = sessions(&short, &started.access_token).await.sessions[0].expires_at;
        let mut current = started;
        let began = std::time::Instant::now();
        let refused = loop {
            let reply = refresh(&short, &current.refresh_token).await;
            if reply.status != StatusCode::OK {
                break reply;
            }
            current = reply.json();
            // Listed while live (the session, and the token asking, may end between the refresh and the listing).
            let listed = short.get("/api/auth/sessions", &current.access_token).await;
            if listed.status == StatusCode::OK
                && let Some(session) = listed.json::<SessionList>().sessions.first()
            {
                assert_eq!(session.expires_at, ends, "refreshing never moves the end");
            }
            assert!(began.elapsed() < Duration::from_secs(15), "the session outlived its lifetime");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(refused.error_code(401), "invalid_refresh_token");
        assert!(chrono::Utc::now() >= ends, "refused only at the end");
        // The access token issued last expires with the session (to the second).
        let me = short.refused_within(&current.access_token, Duration::from_secs(2)).await;
        assert_eq!(me.error_code(401), "token_expired");
    }

    async fn the_per_user_cap_ends_the_least_recently_used_session(app) {
        let capped = app.sibling_with(|s| s.max_sessions_per_user = 3).await;
        let s1 = capped.register("lee").await;
        let s2 = capped.login("lee").await;
        let s3 = capped.login("lee").await;
        // s1 is used again: s2 becomes the least recently used.
        let s1: Session = refresh(&capped, &s1.refresh_token).await.json();
        let s4 = capped.login("lee").await;
        assert_eq!(capped.refused_within(&s2.access_token, WITHIN).await.error_code(401), "session_revoked");
        assert_eq!(refresh(&capped, &s2.refresh_token).await.error_code(401), "invalid_refresh_token");
        let mut listed: Vec<i64> = sessions(&capped, &s4.access_token).await.sessions.iter().map(|s| s.id).collect();
        listed.sort();
        assert_eq!(listed, [s1.session_id, s3.session_id, s4.session_id]);
        for session in [&s1, &s3, &s4] {
            assert_eq!(capped.get("/api/users/me", &session.access_token).await.status, StatusCode::OK);
        }
    }

    async fn a_restarted_instance_still_refuses_tokens_revoked_before_it_started(app) {
        let mo = app.register("moe").await;
        app.request(Method::POST, "/api/auth/logout", Some(&mo.access_token), None).await;
        app.refused_within(&mo.access_token, WITHIN).await;
        let restarted = app.sibling_with(|s| s.redis_url = None).await;
        let reply = restarted.get("/api/users/me", &mo.access_token).await;
        assert_eq!(reply.error_code(401), "session_revoked");
    }
}

/// Instances share PostgreSQL: a revocation on one is refused on the other within a second, both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_revocation_on_one_instance_is_refused_on_another_within_a_second() {
    let Some(a) = spawn_app(Backend::Postgres).await else { return };
    let b = a.sibling().await;
    let nia = a.register("nia").await;
    let other = a.login("nia").await;
    assert_eq!(b.get("/api/users/me", &nia.access_token).await.status, StatusCode::OK);
    a.request(Method::POST, "/api/auth/logout", Some(&nia.access_token), None).await;
    assert_eq!(b.refused_within(&nia.access_token, WITHIN).await.error_code(401), "session_revoked");
    // And the other way round, for a session ended from the list.
    let reply = b.delete(&format!("/api/auth/sessions/{}", other.session_id), &other.access_token).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(a.refused_within(&other.access_token, WITHIN).await.error_code(401), "session_revoked");
}
