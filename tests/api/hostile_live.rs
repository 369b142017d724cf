//! Live delivery against hostile and broken clients: membership races, socket floods, shared allowances,
//! amplification, and concurrency that must never surface as a 5xx. Each on both backends; the removal race
//! across two instances on PostgreSQL + Redis.

use std::time::{Duration, Instant};

use chat_server::protocol::{Conversation, ServerFrame};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::*;

/// A socket answers only once its subscriptions are in effect: after an answer, it misses nothing.
async fn ready_for_events(socket: &mut WsClient) {
    socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}

/// The conversation a frame is about, if any.
fn conversation_of(frame: &ServerFrame) -> Option<i64> {
    match frame {
        ServerFrame::Message { message } | ServerFrame::MessageUpdated { message } => Some(message.conversation_id),
        ServerFrame::Ack { message, .. } => Some(message.conversation_id),
        ServerFrame::Messages { conversation_id, .. }
        | ServerFrame::Typing { conversation_id, .. }
        | ServerFrame::Read { conversation_id, .. }
        | ServerFrame::Delivered { conversation_id, .. }
        | ServerFrame::Unread { conversation_id, .. }
        | ServerFrame::Reaction { conversation_id, .. }
        | ServerFrame::Pin { conversation_id, .. }
        | ServerFrame::Notifications { conversation_id, .. }
        | ServerFrame::Removed { conversation_id } => Some(*conversation_id),
        ServerFrame::Conversation { conversation } => Some(conversation.id),
        ServerFrame::Presence { .. } | ServerFrame::User { .. } | ServerFrame::Error { .. } => None,
    }
}

async fn remove(app: &TestApp, token: &str, conversation: i64, user: i64) -> StatusCode {
    app.delete(&format!("/api/conversations/{conversation}/members/{user}"), token).await.status
}

on_both_backends! {
    async fn hostile_removal_racing_a_reconnect_leaks_nothing(app) {
        // On PostgreSQL + Redis the removed member and an observer sit on another instance than the owner.
        let other = match app.backend {
            Backend::Postgres => Some(app.sibling().await),
            Backend::Sqlite => None,
        };
        let far = other.as_ref().unwrap_or(&app);
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let mut carol_socket = carol.socket_on(far).await;
        ready_for_events(&mut carol_socket).await;
        // A socket of bob's open all along: it must be told `removed` every time, and see nothing after.
        let mut bob_steady = bob.socket_on(far).await;
        ready_for_events(&mut bob_steady).await;
        const ROUNDS: u64 = 150;
        let (mut leaks, mut told_racing, mut told_steady) = (Vec::new(), 0, 0);
        for round in 0..ROUNDS {
            let group = alice.group(&format!("race {round}"), &[&bob, &carol]).await;
            // Bob reconnects while alice removes him; the offsets walk the removal across the whole upgrade, from
            // well before it starts to after it is done.
            let offset = Duration::from_micros(round * 97 % 4000);
            let (socket_delay, removal_delay) =
                if round % 2 == 0 { (offset, Duration::ZERO) } else { (Duration::ZERO, offset) };
            let (racing, status) = tokio::join!(
                async {
                    tokio::time::sleep(socket_delay).await;
                    bob.socket_on(far).await
                },
                async {
                    tokio::time::sleep(removal_delay).await;
                    remove(&app, &alice.access_token, group.id, bob.user.id).await
                }
            );
            assert_eq!(status, StatusCode::NO_CONTENT);
            let mut racing = racing;
            // Everything from here on happens after the removal.
            let after = alice.send(group.id, "not for bob").await;
            carol_socket
                .expect("alice's message at carol", |f| match f {
                    ServerFrame::Message { message } if message.id == after.id => Some(()),
                    _ => None,
                })
                .await;
            for (socket, told) in [(&mut racing, &mut told_racing), (&mut bob_steady, &mut told_steady)] {
                let mut removed_seen = false;
                for frame in socket.drain_for(Duration::from_millis(40)).await {
                    if conversation_of(&frame) != Some(group.id) {
                        continue;
                    }
                    match frame {
                        ServerFrame::Removed { .. } => removed_seen = true,
                        // The steady socket learnt of the group when it was made.
                        ServerFrame::Conversation { .. } if !removed_seen => {}
                        leaked => leaks.push((round, leaked)),
                    }
                }
                *told += usize::from(removed_seen);
            }
            drop(racing);
        }
        println!(
            "removal race ({:?}, {}): {ROUNDS} rounds, {} leaks; the racing socket was told `removed` in {told_racing} \
             (the others read a list without the group), the steady one in {told_steady}",
            app.backend,
            if other.is_some() { "owner and member on different instances" } else { "one instance" },
            leaks.len()
        );
        assert!(leaks.is_empty(), "frames of a conversation reached a removed member: {leaks:?}");
        assert_eq!(told_steady, ROUNDS as usize, "a socket open all along is told of every removal");
    }

    async fn hostile_a_removed_member_is_told_and_gets_nothing_after_on_every_socket(app) {
        let other = match app.backend {
            Backend::Postgres => Some(app.sibling().await),
            Backend::Sqlite => None,
        };
        let far = other.as_ref().unwrap_or(&app);
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let group = alice.group("team", &[&bob]).await;
        let mut near_socket = bob.socket().await;
        let mut far_socket = bob.socket_on(far).await;
        let mut alice_socket = alice.socket().await;
        for socket in [&mut near_socket, &mut far_socket, &mut alice_socket] {
            ready_for_events(socket).await;
        }
        assert_eq!(remove(&app, &alice.access_token, group.id, bob.user.id).await, StatusCode::NO_CONTENT);
        alice_socket.send_json(json!({"type": "typing", "conversation_id": group.id, "is_typing": true})).await;
        alice.send(group.id, "after").await;
        // Bob tries to keep listening: a fresh token on the socket changes nothing.
        near_socket.send_json(json!({"type": "auth", "token": bob.access_token})).await;
        for socket in [&mut near_socket, &mut far_socket] {
            socket.expect("removed", |f| matches!(f, ServerFrame::Removed { conversation_id } if *conversation_id == group.id).then_some(())).await;
            socket
                .expect_none(Duration::from_millis(300), "an event of the group after `removed`", |f| {
                    conversation_of(f) == Some(group.id)
                })
                .await;
        }
        // And the socket's own requests are refused like any stranger's.
        near_socket.send_json(json!({"type": "typing", "conversation_id": group.id, "is_typing": true})).await;
        let code = near_socket.expect("an error", |f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }).await;
        assert_eq!(code, "not_found");
    }

    async fn hostile_another_senders_client_id_is_a_new_message_not_a_resend(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let chat = alice.direct_with(&bob).await;
        let path = format!("/api/conversations/{}/messages", chat.id);
        let send = |token: String, body: &'static str| {
            let path = path.clone();
            let app = &app;
            async move { app.post(&path, Some(&token), &json!({"body": body, "client_id": "shared-id"})).await }
        };
        let first = send(alice.access_token.clone(), "from alice").await;
        assert_eq!(first.status, StatusCode::CREATED);
        let bobs = send(bob.access_token.clone(), "from bob").await;
        assert_eq!(bobs.status, StatusCode::CREATED, "bob's text is his own message: {}", bobs.body);
        assert_eq!((bobs.body["seq"].as_i64(), bobs.body["body"].as_str()), (Some(2), Some("from bob")));
        // Each sender's resend still returns their own original.
        let again = send(alice.access_token.clone(), "from alice").await;
        assert_eq!((again.status, again.body["seq"].as_i64()), (StatusCode::OK, Some(1)));
        let again = send(bob.access_token.clone(), "from bob").await;
        assert_eq!((again.status, again.body["seq"].as_i64()), (StatusCode::OK, Some(2)));
        // Over the socket too.
        let mut socket = bob.socket().await;
        ready_for_events(&mut socket).await;
        socket.send_json(new_message(chat.id, "alice-only", "socket from bob")).await;
        app.post(&path, Some(&alice.access_token), &json!({"body": "x", "client_id": "alice-only"})).await;
        let acked = socket.expect("ack", |f| match f {
            ServerFrame::Ack { message, .. } => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!((acked.sender_id, acked.body.as_str()), (bob.user.id, "socket from bob"));
        let history = alice.history(chat.id, "?limit=100").await;
        assert_eq!(history.messages.len(), 4, "nobody's text was dropped");
    }

    async fn hostile_the_same_read_a_thousand_times_reaches_the_others_once(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let chat = alice.direct_with(&bob).await;
        for i in 0..3 {
            alice.send(chat.id, &format!("m{i}")).await;
        }
        let mut alice_socket = alice.socket().await;
        let mut bob_socket = bob.socket().await;
        ready_for_events(&mut alice_socket).await;
        ready_for_events(&mut bob_socket).await;
        for _ in 0..25 {
            bob_socket.send_json(json!({"type": "read", "conversation_id": chat.id, "up_to_seq": 3})).await;
        }
        let read_path = format!("/api/conversations/{}/read", chat.id);
        let body = json!({"up_to_seq": 3});
        let replies = join_all((0..1000).map(|_| app.post(&read_path, Some(&bob.access_token), &body))).await;
        assert!(replies.iter().all(|r| r.status == StatusCode::OK && r.body["last_read_seq"] == 3));
        let receipts: Vec<ServerFrame> = alice_socket
            .drain_for(Duration::from_millis(500))
            .await
            .into_iter()
            .filter(|f| matches!(f, ServerFrame::Read { .. }))
            .collect();
        assert_eq!(receipts.len(), 1, "one receipt for one move: {receipts:?}");
        let unread: Vec<ServerFrame> = bob_socket
            .drain_for(Duration::from_millis(200))
            .await
            .into_iter()
            .filter(|f| matches!(f, ServerFrame::Unread { .. }))
            .collect();
        assert_eq!(unread.len(), 1, "{unread:?}");
    }

    async fn hostile_sockets_beyond_the_cap_are_refused_before_the_upgrade(app) {
        let alice = app.user("alice").await;
        let cap = app.settings.max_sockets_per_user;
        let mut open = Vec::new();
        for _ in 0..cap {
            open.push(alice.socket().await);
        }
        let refused = app.try_ws(&alice.access_token).await.err().expect("one more is refused");
        assert_eq!((refused.status, refused.code()), (429, "too_many_sockets"), "{:?}", refused.body);
        assert!(refused.body["error"]["message"].as_str().is_some_and(|m| m.contains(&cap.to_string())));
        // A browser cannot read an upgrade's refusal: the ticket it asks for first says it.
        let ticket = app.post("/api/ws-ticket", Some(&alice.access_token), &json!({})).await;
        assert_eq!(ticket.error_code(429), "too_many_sockets");
        // Others are not affected, and a closed socket frees its place.
        let bob = app.user("bob").await;
        bob.socket().await;
        drop(open.pop());
        let began = Instant::now();
        loop {
            match app.try_ws(&alice.access_token).await {
                Ok(_) => break,
                Err(refused) => assert_eq!(refused.code(), "too_many_sockets"),
            }
            assert!(began.elapsed() < WAIT, "the closed socket's place was never freed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn hostile_300_sockets_at_once_for_one_user_get_exactly_the_cap(app) {
        let alice = app.user("alice").await;
        let attempts = join_all((0..300).map(|_| app.try_ws(&alice.access_token))).await;
        let opened = attempts.iter().filter(|a| a.is_ok()).count();
        let refusals: Vec<&Refused> = attempts.iter().filter_map(|a| a.as_ref().err()).collect();
        assert_eq!(opened, app.settings.max_sockets_per_user);
        assert!(refusals.iter().all(|r| r.status == 429 && r.code() == "too_many_sockets"));
        println!("300 concurrent upgrades for one user: {opened} opened, {} refused with 429", refusals.len());
    }

    async fn hostile_frames_spread_over_many_sockets_share_one_allowance(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let chat = alice.direct_with(&bob).await;
        let mut sockets = Vec::new();
        for _ in 0..10 {
            sockets.push(alice.socket().await);
        }
        let began = Instant::now();
        for socket in &mut sockets {
            for _ in 0..40 {
                socket.send_json(json!({"type": "fetch_messages", "conversation_id": chat.id, "limit": 1})).await;
            }
        }
        // A second's slack for frames still being processed after the last was sent.
        let seconds = began.elapsed().as_secs_f64() + 1.0;
        let (mut answered, mut limited) = (0usize, 0usize);
        for socket in &mut sockets {
            for frame in socket.drain_for(Duration::from_millis(500)).await {
                match frame {
                    ServerFrame::Messages { .. } => answered += 1,
                    ServerFrame::Error { code, .. } if code == "rate_limited" => limited += 1,
                    _ => {}
                }
            }
        }
        let allowance = app.settings.ws_frames_per_sec * (2.0 + seconds);
        println!("400 fetches over 10 sockets in {seconds:.2} s: {answered} answered, {limited} refused (allowance ≈ {allowance:.0})");
        assert_eq!(answered + limited, 400, "every frame got an answer");
        assert!((answered as f64) <= allowance + 1.0, "{answered} answered: more sockets bought more frames");
    }

    async fn hostile_reads_sends_receipts_and_membership_changes_at_once_never_get_a_5xx(app) {
        let alice = app.user("alice").await;
        let mut others = Vec::new();
        for name in ["bob", "carol", "dan", "erin", "finn"] {
            others.push(app.register(name).await);
        }
        let ids: Vec<i64> = others.iter().map(|s| s.user.id).collect();
        let group = app.group(&alice.access_token, "busy", &ids).await;
        let messages = format!("/api/conversations/{}/messages", group.id);
        let read = format!("/api/conversations/{}/read", group.id);
        let statuses = std::sync::Mutex::new(Vec::new());
        let record = &|status: StatusCode| statuses.lock().unwrap().push(status.as_u16());
        let (app, messages, read) = (&app, &messages, &read);
        let senders = others[..3].iter().map(|s| async move {
            for i in 0..30 {
                let reply = app.post(messages, Some(&s.access_token), &json!({"body": format!("m{i}"), "client_id": random_hex(8)})).await;
                record(reply.status);
            }
        });
        let readers = others[..3].iter().map(|s| async move {
            for seq in 0..30 {
                record(app.post(read, Some(&s.access_token), &json!({"up_to_seq": seq})).await.status);
                record(app.get(&format!("{messages}?limit=20"), &s.access_token).await.status);
            }
        });
        let churn = async {
            let finn = &others[4];
            for i in 0..15 {
                record(app.delete(&format!("/api/conversations/{}/members/{}", group.id, finn.user.id), &alice.access_token).await.status);
                record(app.post(&format!("/api/conversations/{}/members", group.id), Some(&alice.access_token), &json!({"user_id": finn.user.id})).await.status);
                record(app.patch(&format!("/api/conversations/{}", group.id), &alice.access_token, &json!({"title": format!("busy {i}")})).await.status);
            }
        };
        tokio::join!(join_all(senders), join_all(readers), churn);
        let statuses = statuses.lock().unwrap().clone();
        let failures: Vec<&u16> = statuses.iter().filter(|s| **s >= 500).collect();
        assert!(failures.is_empty(), "{} of {} calls failed with 5xx: {failures:?}", failures.len(), statuses.len());
        let mut stored = Vec::new();
        loop {
            let after = stored.last().map_or(0, |m: &chat_server::protocol::Message| m.seq);
            let page = alice.history(group.id, &format!("?after_seq={after}&limit=100")).await;
            stored.extend(page.messages);
            if !page.has_newer {
                break;
            }
        }
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gapless, events and messages alike");
        assert_eq!(stored.iter().filter(|m| m.event.is_none()).count(), 90, "every send stored once");
        assert_eq!(stored.iter().filter(|m| m.event.is_some()).count(), 1 + 45, "the creation and every change recorded");
    }

    async fn ordering_state_lives_only_while_someone_here_watches_the_conversation(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let chat = alice.direct_with(&bob).await;
        let mut a = alice.socket().await;
        let mut b = bob.socket().await;
        ready_for_events(&mut a).await;
        ready_for_events(&mut b).await;
        alice.send(chat.id, "one").await;
        b.expect("message", message_seq).await;
        assert_eq!(app.hub.watched_count(), 1);
        drop(a);
        drop(b);
        let began = Instant::now();
        while app.hub.watched_count() > 0 {
            assert!(began.elapsed() < WAIT, "a conversation nobody watches still holds ordering state");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Messages sent while nobody watched are not replayed to the next socket: it catches up by seq instead.
        alice.send(chat.id, "two").await;
        let mut again = bob.socket().await;
        ready_for_events(&mut again).await;
        again.expect_none(Duration::from_millis(300), "an old message replayed", |f| matches!(f, ServerFrame::Message { .. })).await;
        alice.send(chat.id, "three").await;
        assert_eq!(again.expect("message", message_seq).await, 3);
    }

    async fn a_change_in_a_large_group_sends_each_member_one_view_with_their_own_read_position(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let pool = chat_server::db::DbPool::connect(&app.settings.database_url, 1).await.expect("db");
        let mut conn = pool.get().await.expect("conn");
        let mut extra = Vec::new();
        for i in 0..199 {
            let new = chat_server::db::models::NewUser {
                username: &format!("member{i}"),
                display_name: "Member",
                password_hash: "not-a-hash",
                created_at: chat_server::db::now(),
            };
            extra.push(chat_server::db::users::insert(&mut conn, &new).await.expect("user").id.get());
        }
        let mut figures = Vec::new();
        for size in [2usize, 51, 201] {
            let mut members = vec![bob.user.id];
            members.extend(extra.iter().take(size - 2));
            let group = app.group(&alice.access_token, "big", &members).await;
            alice.send(group.id, "hello").await;
            let mut b = bob.socket().await;
            ready_for_events(&mut b).await;
            let began = Instant::now();
            let reply = app.patch(&format!("/api/conversations/{}", group.id), &alice.access_token, &json!({"title": "renamed"})).await;
            figures.push((size, began.elapsed()));
            assert_eq!(reply.status, StatusCode::OK);
            let views: Vec<Conversation> = b
                .drain_for(Duration::from_millis(300))
                .await
                .into_iter()
                .filter_map(|f| match f {
                    ServerFrame::Conversation { conversation } if conversation.id == group.id => Some(conversation),
                    _ => None,
                })
                .collect();
            assert_eq!(views.len(), 1, "one view per change");
            assert_eq!(views[0].title.as_deref(), Some("renamed"));
            assert_eq!(views[0].members.len(), size);
            // Created event, "hello", renamed event: all unread for bob, all read by alice who made them.
            assert_eq!((views[0].last_read_seq, views[0].unread_count), (0, 3), "bob's own position");
            let alices: Conversation = reply.json();
            assert_eq!((alices.last_read_seq, alices.unread_count), (3, 0), "the sender's own position");
        }
        println!("rename, REST round trip by group size ({:?}): {figures:?}", app.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_upgrade_floods_are_rate_limited_per_user() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.ws_upgrades_per_minute_per_user = 5;
    let app = spawn_with(store, settings).await;
    let alice = app.user("alice").await;
    for _ in 0..5 {
        drop(alice.socket().await);
    }
    let refused = app.try_ws(&alice.access_token).await.err().expect("the sixth upgrade in a minute is refused");
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"));
    assert!(refused.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    let bob = app.user("bob").await;
    bob.socket().await;
}
