//! The socket: authentication, delivery rules, live events, bad frames, and protection.

use std::time::Duration;

use chat_server::protocol::{Conversation, ServerFrame};
use serde_json::json;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::tokens::bad_tokens;
use crate::ws_client::*;

on_both_backends! {
    async fn the_upgrade_is_refused_with_401_for_a_missing_or_bad_token(app) {
        let user = app.register("wsauth").await;
        for (case, token) in bad_tokens(user.user.id) {
            let url = match &token {
                Some(t) => format!("ws://127.0.0.1:{}/ws?token={t}", app.port),
                None => format!("ws://127.0.0.1:{}/ws", app.port),
            };
            match connect_async(url).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status().as_u16(), 401, "{case}");
                    let body: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default()).expect("json body");
                    assert!(body["error"]["code"].is_string(), "{case}");
                }
                other => panic!("{case}: expected a 401, got {:?}", other.map(|_| ())),
            }
        }
        // The header works as well as the query string.
        let mut request = format!("ws://127.0.0.1:{}/ws", app.port).into_client_request().expect("request");
        request.headers_mut().insert("authorization", format!("Bearer {}", user.access_token).parse().expect("header"));
        assert!(connect_async(request).await.is_ok());
    }

    async fn a_socket_message_is_acked_to_its_sender_and_delivered_to_every_other_socket(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let mut alice_phone = app.ws(&alice.access_token).await;
        let mut alice_laptop = app.ws(&alice.access_token).await;
        let mut bob_ws = app.ws(&bob.access_token).await;
        alice_phone.send_json(new_message(chat.id, "c-1", " hello ")).await;
        let acked = alice_phone
            .expect("ack", |f| match f {
                ServerFrame::Ack { client_id, message } if client_id == "c-1" => Some(message.clone()),
                _ => None,
            })
            .await;
        assert_eq!((acked.seq, acked.body.as_str()), (1, "hello"));
        // Stored before the ack: history has it.
        assert_eq!(app.history(&bob.access_token, chat.id, "").await.messages[0], acked);
        assert_eq!(bob_ws.expect("message", message_seq).await, 1);
        assert_eq!(alice_laptop.expect("message on the sender's other device", message_seq).await, 1);
        // The sending socket gets the ack, not a copy of its own message.
        alice_phone.expect_none(Duration::from_millis(300), "own message echoed", |f| message_seq(f).is_some()).await;
    }

    async fn a_resent_client_id_is_acked_with_the_original_and_not_delivered_again(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let mut a = app.ws(&alice.access_token).await;
        let mut b = app.ws(&bob.access_token).await;
        a.send_json(new_message(chat.id, "same", "once")).await;
        a.send_json(new_message(chat.id, "same", "twice")).await;
        for _ in 0..2 {
            let message = a.expect("ack", |f| match f { ServerFrame::Ack { message, .. } => Some(message.clone()), _ => None }).await;
            assert_eq!((message.seq, message.body.as_str()), (1, "once"));
        }
        assert_eq!(b.expect("message", message_seq).await, 1);
        b.expect_none(Duration::from_millis(300), "a second delivery", |f| message_seq(f).is_some()).await;
    }

    async fn a_message_sent_over_rest_is_fanned_out_to_sockets(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let mut a = app.ws(&alice.access_token).await;
        let mut b = app.ws(&bob.access_token).await;
        let sent = app.send(&alice.access_token, chat.id, "via rest").await;
        assert_eq!(b.expect("message", message_seq).await, sent.seq);
        assert_eq!(a.expect("message on the sender's socket", message_seq).await, sent.seq);
    }

    async fn fetch_messages_pages_and_catches_up_after_a_seq(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        for i in 1..=5 {
            app.send(&alice.access_token, chat.id, &format!("m{i}")).await;
        }
        let mut b = app.ws(&bob.access_token).await;
        b.send_json(json!({"type": "fetch_messages", "conversation_id": chat.id, "after_seq": 2, "limit": 2})).await;
        let (seqs, more) = b.expect("messages", |f| match f {
            ServerFrame::Messages { messages, has_more, .. } => Some((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), *has_more)),
            _ => None,
        }).await;
        assert_eq!((seqs, more), (vec![3, 4], true));
        b.send_json(json!({"type": "fetch_messages", "conversation_id": chat.id, "before_seq": 3})).await;
        let (seqs, more) = b.expect("messages", |f| match f {
            ServerFrame::Messages { messages, has_more, .. } => Some((messages.iter().map(|m| m.seq).collect::<Vec<_>>(), *has_more)),
            _ => None,
        }).await;
        assert_eq!((seqs, more), (vec![1, 2], false));
    }

    async fn typing_reaches_the_other_members_and_the_server_expires_it(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let mut a = app.ws(&alice.access_token).await;
        let mut b = app.ws(&bob.access_token).await;
        a.send_json(json!({"type": "typing", "conversation_id": chat.id, "is_typing": true})).await;
        let started = b.expect("typing", |f| match f {
            ServerFrame::Typing { user_id, is_typing, .. } if *user_id == alice.user.id => Some(*is_typing),
            _ => None,
        }).await;
        assert!(started);
        // Alice never says she stopped: the server does, after its time-to-live.
        let began = std::time::Instant::now();
        b.expect("typing expiry", |f| match f {
            ServerFrame::Typing { user_id, is_typing: false, .. } if *user_id == alice.user.id => Some(()),
            _ => None,
        }).await;
        assert!(began.elapsed() >= Duration::from_secs(3), "expired after the time-to-live, not at once");
        a.expect_none(Duration::from_millis(200), "own typing echoed", |f| matches!(f, ServerFrame::Typing { .. })).await;
    }

    async fn reading_updates_the_readers_unread_count_and_sends_a_receipt_to_the_others(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        for i in 1..=3 {
            app.send(&alice.access_token, chat.id, &format!("m{i}")).await;
        }
        let mut a = app.ws(&alice.access_token).await;
        let mut b_phone = app.ws(&bob.access_token).await;
        let mut b_laptop = app.ws(&bob.access_token).await;
        b_phone.send_json(json!({"type": "read", "conversation_id": chat.id, "up_to_seq": 2})).await;
        let receipt = a.expect("read receipt", |f| match f {
            ServerFrame::Read { user_id, up_to_seq, .. } if *user_id == bob.user.id => Some(*up_to_seq),
            _ => None,
        }).await;
        assert_eq!(receipt, 2);
        for socket in [&mut b_phone, &mut b_laptop] {
            let unread = socket.expect("unread", |f| match f {
                ServerFrame::Unread { unread_count, .. } => Some(*unread_count),
                _ => None,
            }).await;
            assert_eq!(unread, 1);
        }
    }

    async fn presence_tells_people_who_share_a_conversation_and_nobody_else(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let stranger = app.register("stranger").await;
        app.direct(&alice.access_token, bob.user.id).await;
        let mut a = app.ws(&alice.access_token).await;
        let mut s = app.ws(&stranger.access_token).await;
        let b = app.ws(&bob.access_token).await;
        let online = a.expect("presence online", |f| match f {
            ServerFrame::Presence { user_id, online, .. } if *user_id == bob.user.id => Some(*online),
            _ => None,
        }).await;
        assert!(online);
        drop(b);
        let online = a.expect("presence offline", |f| match f {
            ServerFrame::Presence { user_id, online, .. } if *user_id == bob.user.id => Some(*online),
            _ => None,
        }).await;
        assert!(!online);
        s.expect_none(Duration::from_millis(300), "presence for a stranger", |f| matches!(f, ServerFrame::Presence { .. })).await;
        // REST shows it too.
        let conversations: chat_server::protocol::ConversationList = app.get("/api/conversations", &alice.access_token).await.json();
        let me = conversations.conversations[0].members.iter().find(|m| m.user.id == alice.user.id).expect("member");
        assert_eq!(me.user.online, Some(true));
    }

    async fn conversation_lifecycle_events_reach_members_and_a_removed_member_hears_nothing_more(app) {
        let owner = app.register("owner").await;
        let member = app.register("member").await;
        let mut o = app.ws(&owner.access_token).await;
        let mut m = app.ws(&member.access_token).await;
        let group = app.group(&owner.access_token, "plans", &[]).await;
        o.expect("created", |f| matches!(f, ServerFrame::Conversation { conversation } if conversation.id == group.id).then_some(())).await;
        // Added after connecting: the socket starts receiving the group's events.
        let add = app.post(&format!("/api/conversations/{}/members", group.id), Some(&owner.access_token), &json!({"user_id": member.user.id})).await;
        assert!(add.status.is_success());
        let seen: Conversation = m.expect("added", |f| match f {
            ServerFrame::Conversation { conversation } if conversation.id == group.id => Some(conversation.clone()),
            _ => None,
        }).await;
        assert_eq!(seen.members.len(), 2);
        app.patch(&format!("/api/conversations/{}", group.id), &owner.access_token, &json!({"title": "new plans"})).await;
        m.expect("renamed", |f| match f {
            ServerFrame::Conversation { conversation } if conversation.title.as_deref() == Some("new plans") => Some(()),
            _ => None,
        }).await;
        let first = app.send(&owner.access_token, group.id, "for both").await;
        let said = |f: &ServerFrame| match f {
            ServerFrame::Message { message } if message.event.is_none() => Some(message.seq),
            _ => None,
        };
        assert_eq!(m.expect("message", said).await, first.seq);
        app.patch(&format!("/api/conversations/{}/messages/{}", group.id, first.seq), &owner.access_token, &json!({"body": "edited"})).await;
        let edited = m.expect("edit", |f| match f {
            ServerFrame::MessageUpdated { message } => Some(message.body.clone()),
            _ => None,
        }).await;
        assert_eq!(edited, "edited");
        let kick = app.delete(&format!("/api/conversations/{}/members/{}", group.id, member.user.id), &owner.access_token).await;
        assert_eq!(kick.status.as_u16(), 204);
        m.expect("removed", |f| matches!(f, ServerFrame::Removed { conversation_id } if *conversation_id == group.id).then_some(())).await;
        app.send(&owner.access_token, group.id, "after removal").await;
        m.expect_none(Duration::from_millis(500), "an event after removal", |f| match f {
            ServerFrame::Message { message } => message.conversation_id == group.id,
            ServerFrame::Typing { conversation_id, .. } => *conversation_id == group.id,
            _ => false,
        }).await;
    }

    async fn every_bad_frame_gets_an_error_frame_and_the_socket_stays_open(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let outsider = app.register("outsider").await;
        let chat = app.direct(&alice.access_token, bob.user.id).await;
        let other = app.direct(&bob.access_token, outsider.user.id).await;
        let mut a = app.ws(&alice.access_token).await;
        let long = "x".repeat(4001);
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            ("not json".into(), "malformed_json", None),
            (json!({"type": "shout"}).to_string(), "validation_failed", None),
            (json!({"type": "new_message", "conversation_id": chat.id, "body": "hi"}).to_string(), "validation_failed", None),
            (new_message(other.id, "n-1", "not mine").to_string(), "not_found", Some("n-1")),
            (new_message(987654, "n-2", "nowhere").to_string(), "not_found", Some("n-2")),
            (new_message(chat.id, "n-3", &long).to_string(), "validation_failed", Some("n-3")),
            (new_message(chat.id, "n-4", "   ").to_string(), "validation_failed", Some("n-4")),
            (json!({"type": "fetch_messages", "conversation_id": other.id}).to_string(), "not_found", None),
            (json!({"type": "fetch_messages", "conversation_id": chat.id, "limit": 500}).to_string(), "validation_failed", None),
            (json!({"type": "typing", "conversation_id": other.id, "is_typing": true}).to_string(), "not_found", None),
            (json!({"type": "read", "conversation_id": other.id, "up_to_seq": 1}).to_string(), "not_found", None),
            (json!({"type": "auth", "token": "garbage"}).to_string(), "invalid_token", None),
        ];
        for (text, code, client_id) in cases {
            a.send_text(&text).await;
            let (got_code, got_client_id) = a.expect("error frame", |f| match f {
                ServerFrame::Error { code, client_id, .. } => Some((code.clone(), client_id.clone())),
                _ => None,
            }).await;
            assert_eq!(got_code, code, "{text:.80}");
            assert_eq!(got_client_id.as_deref(), client_id, "{text:.80}");
        }
        // Still open, and nothing bad was stored.
        a.send_json(new_message(chat.id, "ok-1", "still here")).await;
        let seq = a.expect("ack", |f| match f { ServerFrame::Ack { message, .. } => Some(message.seq), _ => None }).await;
        assert_eq!(seq, 1);
        assert_eq!(app.history(&bob.access_token, other.id, "").await.messages.len(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_socket_gets_rate_limited_errors_then_is_closed_with_4029() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.ws_frames_per_sec = 5.0;
    let app = spawn_with(store, settings).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice.access_token, bob.user.id).await;
    let mut a = app.ws(&alice.access_token).await;
    for i in 0..200 {
        a.send_json(json!({"type": "typing", "conversation_id": chat.id, "is_typing": i % 2 == 0})).await;
    }
    let (frames, ended) = a.until_end(WAIT).await;
    assert!(frames.iter().any(|f| matches!(f, ServerFrame::Error { code, .. } if code == "rate_limited")));
    assert_eq!(ended, Ended::Closed(Some(4029)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_refused_and_the_socket_closed() {
    let app = spawn_app(Backend::Sqlite).await.expect("app");
    let alice = app.register("alice").await;
    let mut a = app.ws(&alice.access_token).await;
    a.send_text(&format!("{{\"type\":\"typing\",\"pad\":\"{}\"}}", "x".repeat(70 * 1024))).await;
    let (frames, ended) = a.until_end(WAIT).await;
    assert!(frames.iter().any(|f| matches!(f, ServerFrame::Error { code, .. } if code == "frame_too_large")));
    assert_eq!(ended, Ended::Closed(Some(1009)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_closes_the_socket_with_4001_unless_a_fresh_one_arrives() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.access_token_ttl_secs = 4;
    let app = spawn_with(store, settings).await;
    let alice = app.register("alice").await;
    let mut kept = app.ws(&alice.access_token).await;
    let mut lapsed = app.ws(&alice.access_token).await;
    // Refresh for the socket that stays: a new access token over the open socket.
    let fresh: chat_server::protocol::Session =
        app.post("/api/auth/refresh", None, &json!({"refresh_token": alice.refresh_token})).await.json();
    // JWT times are whole seconds: wait long enough that the next token expires in a later second.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let newer: chat_server::protocol::Session =
        app.post("/api/auth/refresh", None, &json!({"refresh_token": fresh.refresh_token})).await.json();
    kept.send_json(json!({"type": "auth", "token": newer.access_token})).await;
    let began = std::time::Instant::now();
    let (_, ended) = lapsed.until_end(WAIT).await;
    assert_eq!(ended, Ended::Closed(Some(4001)));
    assert!(began.elapsed() < Duration::from_secs(3));
    // The refreshed socket outlived the first token.
    kept.expect_none(Duration::from_millis(400), "a close", |_| false).await;
    kept.send_json(json!({"type": "fetch_messages", "conversation_id": 1})).await;
    kept.expect("an answer on the refreshed socket", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_closed_with_4008_while_others_get_everything() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.ws_mailbox = 32;
    let app = spawn_with(store, settings).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice.access_token, bob.user.id).await;
    // Bob's slow device: a tiny receive buffer, and it reads nothing while the messages pour in.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = socket.connect(format!("127.0.0.1:{}", app.port).parse().expect("addr")).await.expect("connect");
    let url = format!("ws://127.0.0.1:{}/ws?token={}", app.port, bob.access_token);
    let (slow, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.expect("handshake");
    const COUNT: i64 = 1500;
    let mut fast = app.ws(&bob.access_token).await;
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < COUNT as usize {
            seen.push(fast.expect("message", message_seq).await);
        }
        seen
    });
    let body = "y".repeat(4000);
    let url = format!("{}/api/conversations/{}/messages", app.address, chat.id);
    for i in 0..COUNT {
        let reply = app
            .client
            .post(&url)
            .bearer_auth(&alice.access_token)
            .json(&json!({"body": body, "client_id": format!("flood-{i}")}))
            .send()
            .await
            .expect("send");
        assert_eq!(reply.status().as_u16(), 201);
    }
    let seen = reader.await.expect("reader");
    assert_eq!(seen, (1..=COUNT).collect::<Vec<_>>(), "the fast device got every message in order");
    let mut slow = WsClient { stream: slow };
    let (frames, ended) = slow.until_end(Duration::from_secs(30)).await;
    assert!(frames.len() < COUNT as usize, "the slow device was cut off ({} frames)", frames.len());
    assert!(matches!(ended, Ended::Closed(Some(4008)) | Ended::Dropped), "{ended:?}");
    println!("slow consumer: {} of {COUNT} frames before the close ({ended:?})", frames.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_closes_sockets_with_1001_after_storing_what_was_acked() {
    let mut app = spawn_app(Backend::Sqlite).await.expect("app");
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.direct(&alice.access_token, bob.user.id).await;
    let mut a = app.ws(&alice.access_token).await;
    let mut b = app.ws(&bob.access_token).await;
    for i in 0..20 {
        a.send_json(new_message(chat.id, &format!("s{i}"), "before shutdown")).await;
    }
    let mut acked = Vec::new();
    while acked.len() < 20 {
        acked.push(
            a.expect("ack", |f| match f {
                ServerFrame::Ack { message, .. } => Some(message.seq),
                _ => None,
            })
            .await,
        );
    }
    let store = app.settings.database_url.clone();
    app.shutdown.begin().await;
    let (_, ended) = b.until_end(WAIT).await;
    assert_eq!(ended, Ended::Closed(Some(1001)));
    // The run ends with the writer drained: nothing (a background task) still holds it open.
    let served = app.served.take().expect("the server was running");
    served.await.expect("the run ended").expect("the message writer drained");
    // Every acked message is stored: a fresh server on the same database has them all.
    let pool = chat_server::db::DbPool::connect(&store, 1).await.expect("db");
    let mut conn = pool.get().await.expect("conn");
    let page = chat_server::chat::messages::history(
        &mut conn,
        chat_server::ids::UserId(bob.user.id),
        chat_server::ids::ConversationId(chat.id),
        chat_server::domain::Page::parse(
            chat_server::domain::PageCursors { after_seq: Some(0), ..Default::default() },
            Some(100),
        )
        .expect("page"),
    )
    .await
    .expect("history");
    assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), acked);
}
