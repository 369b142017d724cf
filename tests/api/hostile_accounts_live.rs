//! The live side of accounts: an ended session's sockets close at once on every instance, a revoked token
//! cannot keep a socket alive, and blocks reach typing, presence and existing direct chats.

use std::time::{Duration, Instant};

use chat_server::protocol::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::*;

/// A socket answers only once its subscriptions are in effect: after an answer, it misses nothing.
async fn ready_for_events(socket: &mut WsClient) {
    socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}

/// The other instance on PostgreSQL + Redis; the same one on SQLite.
async fn far(app: &TestApp) -> Option<TestApp> {
    match app.backend {
        Backend::Postgres => Some(app.sibling().await),
        Backend::Sqlite => None,
    }
}

/// How the socket ended, and how long after `since`.
async fn closed(socket: &mut WsClient, since: Instant) -> (Ended, Duration) {
    let (_, ended) = socket.until_end(WAIT).await;
    (ended, since.elapsed())
}

on_both_backends! {
    async fn hostile_an_ended_sessions_sockets_close_at_once_on_every_instance(app) {
        let other = far(&app).await;
        let far = other.as_ref().unwrap_or(&app);
        let phone = app.user("alice").await;
        let laptop = app.login("alice").await;
        let mut laptop_near = app.ws(&laptop.access_token).await;
        let mut laptop_far = far.ws(&laptop.access_token).await;
        let mut phone_socket = far.ws(&phone.access_token).await;
        for socket in [&mut laptop_near, &mut laptop_far, &mut phone_socket] {
            ready_for_events(socket).await;
        }
        // The phone ends the laptop's session.
        let began = Instant::now();
        let reply = app.delete(&format!("/api/auth/sessions/{}", laptop.session_id), &phone.access_token).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        for socket in [&mut laptop_near, &mut laptop_far] {
            let (ended, after) = closed(socket, began).await;
            assert_eq!(ended, Ended::Closed(Some(4001)));
            assert!(after < Duration::from_secs(1), "closed {after:?} after the session ended");
        }
        // The phone's own socket is untouched.
        phone_socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
        phone_socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
        // And the ended session cannot come back through another upgrade, on either instance.
        for instance in [&app, far] {
            let refused = instance.try_ws(&laptop.access_token).await.err().expect("refused");
            assert_eq!((refused.status, refused.code()), (401, "session_revoked"));
        }
    }

    async fn hostile_logout_and_a_password_change_close_the_sockets_they_end(app) {
        let other = far(&app).await;
        let far = other.as_ref().unwrap_or(&app);
        let first = app.user("bob").await;
        let second = app.login("bob").await;
        let third = app.login("bob").await;
        let mut first_socket = first.socket_on(far).await;
        let mut second_socket = far.ws(&second.access_token).await;
        let mut third_socket = app.ws(&third.access_token).await;
        for socket in [&mut first_socket, &mut second_socket, &mut third_socket] {
            ready_for_events(socket).await;
        }
        let reply = app.request(Method::POST, "/api/auth/logout", Some(&first.access_token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(closed(&mut first_socket, Instant::now()).await.0, Ended::Closed(Some(4001)));
        // A password change from the third session ends the second, and keeps the third.
        let reply = app
            .post(
                "/api/users/me/password",
                Some(&third.access_token),
                &json!({"current_password": "password-bob", "new_password": "a brand new password"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        assert_eq!(closed(&mut second_socket, Instant::now()).await.0, Ended::Closed(Some(4001)));
        third_socket.expect_none(Duration::from_millis(300), "a close of the session that changed it", |_| false).await;
    }

    async fn hostile_a_revoked_token_cannot_keep_a_socket_alive(app) {
        let kept = app.user("carol").await;
        let ended = app.login("carol").await;
        let mut socket = kept.socket().await;
        ready_for_events(&mut socket).await;
        let reply = app.request(Method::POST, "/api/auth/logout", Some(&ended.access_token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        // Offering the ended session's token over a live socket is refused, and the socket stays on its own.
        socket.send_json(json!({"type": "auth", "token": ended.access_token})).await;
        let code = socket
            .expect("an error", |f| match f {
                ServerFrame::Error { code, .. } => Some(code.clone()),
                _ => None,
            })
            .await;
        assert_eq!(code, "session_revoked");
        // A ticket of the ended session opens nothing either.
        let refused = app.post("/api/ws-ticket", Some(&ended.access_token), &json!({})).await;
        assert_eq!(refused.error_code(401), "session_revoked");
    }

    async fn hostile_a_blocked_user_sees_no_typing_or_presence_of_the_blocker_and_is_not_seen(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let group = alice.group("three", &[&bob, &carol]).await;
        let reply = app.request(Method::PUT, &format!("/api/users/me/blocks/{}", bob.user.id), Some(&alice.access_token), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let mut a = alice.socket().await;
        let mut c = carol.socket().await;
        ready_for_events(&mut a).await;
        ready_for_events(&mut c).await;
        // Bob comes online and types in the group they all share.
        let mut b = bob.socket().await;
        ready_for_events(&mut b).await;
        b.send_json(json!({"type": "typing", "conversation_id": group.id, "is_typing": true})).await;
        c.expect("bob online", |f| matches!(f, ServerFrame::Presence { user_id, online: true, .. } if *user_id == bob.user.id).then_some(())).await;
        c.expect("bob typing", |f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == bob.user.id).then_some(())).await;
        a.expect_none(Duration::from_millis(400), "bob's presence or typing at alice, who blocked him", |f| {
            matches!(f, ServerFrame::Presence { user_id, .. } | ServerFrame::Typing { user_id, .. } if *user_id == bob.user.id)
        })
        .await;
        // The other way round too: alice's typing does not reach bob; messages of the shared group still do.
        a.send_json(json!({"type": "typing", "conversation_id": group.id, "is_typing": true})).await;
        c.expect("alice typing", |f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == alice.user.id).then_some(())).await;
        alice.send(group.id, "the group goes on").await;
        let frames = b.drain_for(Duration::from_millis(400)).await;
        assert!(!frames.iter().any(|f| matches!(f, ServerFrame::Typing { user_id, .. } if *user_id == alice.user.id)), "{frames:?}");
        assert!(frames.iter().any(|f| matches!(f, ServerFrame::Message { .. })), "groups they share stay: {frames:?}");
    }

    async fn hostile_a_direct_chat_takes_no_new_message_across_a_block(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let chat = alice.direct_with(&bob).await;
        bob.send(chat.id, "before the block").await;
        let block = format!("/api/users/me/blocks/{}", bob.user.id);
        assert_eq!(app.request(Method::PUT, &block, Some(&alice.access_token), None).await.status, StatusCode::NO_CONTENT);
        let path = format!("/api/conversations/{}/messages", chat.id);
        // The blocked side learns only that it cannot.
        let reply = app.post(&path, Some(&bob.access_token), &json!({"body": "hello?", "client_id": "b-1"})).await;
        assert_eq!(reply.error_code(403), "forbidden");
        assert!(!reply.body.to_string().contains("block"), "the blocked side is not told of the block: {}", reply.body);
        // The blocker is reminded of their own block.
        let reply = app.post(&path, Some(&alice.access_token), &json!({"body": "hi", "client_id": "a-1"})).await;
        assert_eq!(reply.error_code(403), "blocked_by_you");
        // Over the socket: an error frame carrying the client_id, nothing stored.
        let mut b = bob.socket().await;
        b.send_json(new_message(chat.id, "b-2", "still there?")).await;
        let (code, client_id) = b.expect("an error", |f| match f {
            ServerFrame::Error { code, client_id, .. } => Some((code.clone(), client_id.clone())),
            _ => None,
        }).await;
        assert_eq!((code.as_str(), client_id.as_deref()), ("forbidden", Some("b-2")));
        assert_eq!(alice.history(chat.id, "").await.messages.len(), 1, "nothing new stored");
        // Unblocked, they talk again; the old resend of an already stored message still answers.
        assert_eq!(app.request(Method::DELETE, &block, Some(&alice.access_token), None).await.status, StatusCode::NO_CONTENT);
        let reply = app.post(&path, Some(&bob.access_token), &json!({"body": "hello?", "client_id": "b-1"})).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
}
