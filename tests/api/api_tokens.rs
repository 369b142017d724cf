//! API tokens: shown once and stored hashed, scopes enforced on REST and on the socket, revocation at once (REST,
//! open sockets, new sockets, other instances), expiry, the per-user cap and the per-token rate limit.

use chat_server::db::DbPool;
use chat_server::db::schema::sessions;
use chat_server::protocol::{ApiTokenList, CreatedApiToken, ServerFrame, close_code};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::*;

pub async fn create_token(app: &TestApp, session: &str, scopes: &[&str]) -> CreatedApiToken {
    let reply = app.post("/api/tokens", Some(session), &json!({"name": "script", "scopes": scopes})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn pool(app: &TestApp) -> DbPool {
    DbPool::connect(&app.store.as_ref().expect("own store").database_url(), 1).await.expect("pool")
}

async fn age_tokens(app: &TestApp) {
    let mut conn = pool(app).await.get().await.expect("conn");
    chat_server::with_conn!(&mut conn, |c| diesel_async::SimpleAsyncConnection::batch_execute(
        c,
        "UPDATE sessions SET expires_at = '2000-01-01 00:00:00' WHERE api_token_hash IS NOT NULL"
    )
    .await)
    .expect("age");
}

on_both_backends! {
    async fn a_token_is_shown_once_listed_without_its_secret_and_stored_only_hashed(app) {
        let alice = app.register("alice").await;
        let reply = app.post("/api/tokens", Some(&alice.access_token),
            &json!({"name": " nightly backup ", "scopes": ["read", "send"], "expires_in_days": 7})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let created: CreatedApiToken = reply.json();
        assert!(created.secret.starts_with("chat_pat_") && created.secret.len() > 40);
        assert_eq!(created.token.name, "nightly backup");
        let days = (created.token.expires_at - created.token.created_at).num_days();
        assert_eq!(days, 7);
        assert_eq!(app.get("/api/users/me", &created.secret).await.body["username"], "alice");

        let listed = app.get("/api/tokens", &alice.access_token).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(!listed.body.to_string().contains(&created.secret), "the secret is never shown again");
        let list: ApiTokenList = listed.json();
        assert_eq!(list.tokens.len(), 1);
        assert_eq!(list.tokens[0].id, created.token.id);
        assert!(list.tokens[0].last_used_at.is_some(), "the use above is recorded");
        // Tokens are not login sessions: the sessions list does not show them.
        let sessions = app.get("/api/auth/sessions", &alice.access_token).await;
        assert_eq!(sessions.body["sessions"].as_array().map(Vec::len), Some(1));

        let mut conn = pool(&app).await.get().await.expect("conn");
        let stored: Vec<(Option<String>, Option<String>, Option<String>)> = chat_server::with_conn!(&mut conn, |c| {
            sessions::table
                .filter(sessions::api_token_hash.is_not_null())
                .select((sessions::api_token_hash, sessions::scopes, sessions::device))
                .load(c)
                .await
        })
        .expect("rows");
        let hash = chat_server::auth::service::hash_token(&created.secret);
        assert_eq!(stored, vec![(Some(hash), Some("read,send".to_owned()), Some("nightly backup".to_owned()))]);
    }

    async fn a_read_token_reads_but_cannot_send_and_a_send_token_sends_but_cannot_read(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "ops", &[]).await;
        let read = create_token(&app, &alice.access_token, &["read"]).await.secret;
        let send = create_token(&app, &alice.access_token, &["send"]).await.secret;
        let messages = format!("/api/conversations/{}/messages", group.id);
        let body = json!({"body": "hi", "client_id": "c1"});

        assert_eq!(app.get(&messages, &read).await.status, StatusCode::OK);
        assert_eq!(app.post(&messages, Some(&read), &body).await.error_code(403), "insufficient_scope");
        assert_eq!(app.post(&messages, Some(&send), &body).await.status, StatusCode::CREATED);
        assert_eq!(app.get(&messages, &send).await.error_code(403), "insufficient_scope");
        assert_eq!(app.get("/api/conversations", &send).await.error_code(403), "insufficient_scope");
        // Shaping conversations is `manage`, which neither has.
        let create = json!({"kind": "group", "title": "new"});
        assert_eq!(app.post("/api/conversations", Some(&read), &create).await.error_code(403), "insufficient_scope");
        let manage = create_token(&app, &alice.access_token, &["manage"]).await.secret;
        assert_eq!(app.post("/api/conversations", Some(&manage), &create).await.status, StatusCode::CREATED);
    }

    async fn hostile_a_token_cannot_mint_tokens_touch_the_account_sessions_or_webhooks(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "ops", &[]).await;
        let all = create_token(&app, &alice.access_token, &["read", "send", "manage"]).await.secret;
        let refused = [
            app.post("/api/tokens", Some(&all), &json!({"name": "more", "scopes": ["read"]})).await,
            app.get("/api/tokens", &all).await,
            app.patch("/api/users/me", &all, &json!({"display_name": "Mallory"})).await,
            app.post("/api/users/me/password", Some(&all),
                &json!({"current_password": "password-alice", "new_password": "stolen-password"})).await,
            app.get("/api/auth/sessions", &all).await,
            app.request(Method::POST, "/api/auth/logout-all", Some(&all), None).await,
            app.post(&format!("/api/conversations/{}/webhooks", group.id), Some(&all), &json!({"name": "x"})).await,
        ];
        for reply in refused {
            assert_eq!(reply.error_code(403), "insufficient_scope");
        }
        assert_eq!(app.get("/api/tokens", &alice.access_token).await.json::<ApiTokenList>().tokens.len(), 1);
        assert_eq!(app.get("/api/users/me", &alice.access_token).await.body["display_name"], "alice");
    }

    async fn a_revoked_token_is_refused_at_once_on_rest_its_open_socket_closes_and_no_new_socket_opens(app) {
        let alice = app.register("alice").await;
        let token = create_token(&app, &alice.access_token, &["read"]).await;
        let mut socket = app.ws(&token.secret).await;
        let reply = app.delete(&format!("/api/tokens/{}", token.token.id), &alice.access_token).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/users/me", &token.secret).await.error_code(401), "token_revoked");
        let (_, ended) = socket.until_end(WAIT).await;
        assert_eq!(ended, Ended::Closed(Some(close_code::TOKEN_EXPIRED)));
        let refused = app.try_ws(&token.secret).await.err().expect("refused");
        assert_eq!((refused.status, refused.code()), (401, "token_revoked"));
        // Revoking twice, or someone else's, is a 404.
        assert_eq!(app.delete(&format!("/api/tokens/{}", token.token.id), &alice.access_token).await.status,
            StatusCode::NOT_FOUND);
        let bob = app.register("bob").await;
        let bobs = create_token(&app, &bob.access_token, &["read"]).await;
        assert_eq!(app.delete(&format!("/api/tokens/{}", bobs.token.id), &alice.access_token).await.status,
            StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/users/me", &bobs.secret).await.status, StatusCode::OK);
    }

    async fn an_expired_token_is_refused_with_token_expired(app) {
        let alice = app.register("alice").await;
        let token = create_token(&app, &alice.access_token, &["read"]).await;
        age_tokens(&app).await;
        assert_eq!(app.get("/api/users/me", &token.secret).await.error_code(401), "token_expired");
        assert_eq!(app.try_ws(&token.secret).await.err().expect("refused").code(), "token_expired");
        // It stays listed (as expired) until revoked, and no longer counts against the cap.
        let list: ApiTokenList = app.get("/api/tokens", &alice.access_token).await.json();
        assert_eq!(list.tokens.len(), 1);
        let unknown = format!("chat_pat_{}", random_hex(20));
        assert_eq!(app.get("/api/users/me", &unknown).await.error_code(401), "invalid_token");
    }

    async fn a_user_holds_at_most_twenty_live_tokens(app) {
        let alice = app.register("alice").await;
        let mut first = None;
        for _ in 0..20 {
            first.get_or_insert(create_token(&app, &alice.access_token, &["read"]).await.token.id);
        }
        let reply = app.post("/api/tokens", Some(&alice.access_token), &json!({"name": "21st", "scopes": ["read"]})).await;
        assert_eq!(reply.error_code(429), "too_many_tokens");
        app.delete(&format!("/api/tokens/{}", first.expect("one")), &alice.access_token).await;
        create_token(&app, &alice.access_token, &["read"]).await;
        // Another user's cap is their own.
        let bob = app.register("bob").await;
        create_token(&app, &bob.access_token, &["read"]).await;
    }

    async fn bad_token_requests_name_the_field_at_fault(app) {
        let alice = app.register("alice").await;
        for (body, field) in [
            (json!({"name": "x", "scopes": []}), "scopes"),
            (json!({"name": "x", "scopes": ["admin"]}), "scopes[0]"),
            (json!({"name": "  ", "scopes": ["read"]}), "name"),
            (json!({"name": "x", "scopes": ["read"], "expires_in_days": 0}), "expires_in_days"),
            (json!({"name": "x", "scopes": ["read"], "expires_in_days": 367}), "expires_in_days"),
        ] {
            let reply = app.post("/api/tokens", Some(&alice.access_token), &body).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{body}");
            assert_eq!(reply.body["error"]["field"], field, "{body}");
        }
    }

    async fn a_token_socket_receives_live_messages_and_sends_only_with_the_send_scope(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let group = app.group(&alice.access_token, "ops", &[bob.user.id]).await;
        let read = create_token(&app, &bob.access_token, &["read"]).await.secret;
        let mut socket = app.ws(&read).await;
        socket.send_json(new_message(group.id, "c1", "from a read token")).await;
        let code = socket.expect("error", |f| match f {
            ServerFrame::Error { code, client_id, .. } => Some((code.clone(), client_id.clone())),
            _ => None,
        }).await;
        assert_eq!(code, ("insufficient_scope".to_owned(), Some("c1".to_owned())));
        app.send(&alice.access_token, group.id, "hello bot").await;
        socket.expect("message", |f| match f {
            ServerFrame::Message { message } if message.body == "hello bot" => Some(()),
            _ => None,
        }).await;

        let both = create_token(&app, &bob.access_token, &["read", "send"]).await.secret;
        let mut socket = app.ws(&both).await;
        socket.send_json(new_message(group.id, "c2", "from a send token")).await;
        socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
        // A send-only token cannot open a socket: the socket receives everything.
        let send = create_token(&app, &bob.access_token, &["send"]).await.secret;
        assert_eq!(app.try_ws(&send).await.err().expect("refused").code(), "insufficient_scope");
    }

    async fn a_socket_ticket_asked_for_with_a_token_opens_a_socket_of_that_token(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "ops", &[]).await;
        let token = create_token(&app, &alice.access_token, &["read"]).await;
        let reply = app.request(Method::POST, "/api/ws-ticket", Some(&token.secret), None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let ticket = reply.body["ticket"].as_str().expect("ticket").to_owned();
        let url = format!("ws://127.0.0.1:{}/ws?ticket={ticket}", app.port);
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("the ticket opens a socket");
        let mut socket = WsClient { stream };
        // The socket has the token's scopes, not a login session's.
        socket.send_json(new_message(group.id, "t1", "via a ticket")).await;
        let code = socket.expect("error", |f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }).await;
        assert_eq!(code, "insufficient_scope");
        app.delete(&format!("/api/tokens/{}", token.token.id), &alice.access_token).await;
        let (_, ended) = socket.until_end(WAIT).await;
        assert_eq!(ended, Ended::Closed(Some(close_code::TOKEN_EXPIRED)));
        let send = create_token(&app, &alice.access_token, &["send"]).await.secret;
        let refused = app.request(Method::POST, "/api/ws-ticket", Some(&send), None).await;
        assert_eq!(refused.error_code(403), "insufficient_scope");
    }

    async fn logging_out_everywhere_revokes_api_tokens_too(app) {
        let alice = app.register("alice").await;
        let token = create_token(&app, &alice.access_token, &["read"]).await.secret;
        app.request(Method::POST, "/api/auth/logout-all", Some(&alice.access_token), None).await;
        assert_eq!(app.get("/api/users/me", &token).await.error_code(401), "token_revoked");
    }

    async fn a_token_revoked_on_one_instance_is_refused_on_another_at_once(app) {
        let other = app.sibling().await;
        let alice = app.register("alice").await;
        let token = create_token(&app, &alice.access_token, &["read"]).await;
        assert_eq!(other.get("/api/users/me", &token.secret).await.status, StatusCode::OK);
        app.delete(&format!("/api/tokens/{}", token.token.id), &alice.access_token).await;
        assert_eq!(other.get("/api/users/me", &token.secret).await.error_code(401), "token_revoked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_calls_are_limited_per_token_within_the_users_allowance() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.token_rest_per_second = 1;
    let app = spawn_with(store, settings).await;
    let alice = app.register("alice").await;
    let busy = create_token(&app, &alice.access_token, &["read"]).await.secret;
    let calm = create_token(&app, &alice.access_token, &["read"]).await.secret;
    let mut limited: Option<Reply> = None;
    for _ in 0..30 {
        let reply = app.get("/api/users/me", &busy).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("a burst of ten, then refused");
    assert_eq!(limited.error_code(429), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(app.get("/api/users/me", &calm).await.status, StatusCode::OK, "another token has its own allowance");
    assert_eq!(app.get("/api/users/me", &alice.access_token).await.status, StatusCode::OK);
}
