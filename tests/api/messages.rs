use std::collections::BTreeSet;

use chat_server::protocol::{Message, MessagePage, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::new_message;

on_both_backends! {
    async fn messages_are_numbered_one_two_three_per_conversation(app) {
        let a = app.register("nia").await;
        let b = app.register("noa").await;
        let first = app.direct(&a.access_token, b.user.id).await;
        let second = app.group(&a.access_token, "g", &[b.user.id]).await;
        let seqs: Vec<i64> = [
            app.send(&a.access_token, first.id, "1").await.seq,
            app.send(&b.access_token, first.id, "2").await.seq,
            app.send(&a.access_token, second.id, "1").await.seq,
            app.send(&a.access_token, first.id, "3").await.seq,
        ]
        .into();
        assert_eq!(seqs, [1, 2, 2, 3], "a group's seq 1 is the event that created it");
    }

    async fn a_resend_with_the_same_client_id_returns_the_original_with_200(app) {
        let a = app.register("rex").await;
        let b = app.register("roy").await;
        let c = app.direct(&a.access_token, b.user.id).await;
        let path = format!("/api/conversations/{}/messages", c.id);
        let first = app.post(&path, Some(&a.access_token), &json!({"body": "once", "client_id": "abc-1"})).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again = app.post(&path, Some(&a.access_token), &json!({"body": "changed", "client_id": "abc-1"})).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json::<Message>(), first.json::<Message>());
        let page = app.history(&a.access_token, c.id, "").await;
        assert_eq!(page.messages.len(), 1);
    }

    // At most 4000 characters as sent (the spec's `maxLength`), not all blank; stored without the blanks around.
    async fn bodies_are_trimmed_and_must_hold_1_to_4000_characters(app) {
        let a = app.register("sam").await;
        let b = app.register("sue").await;
        let c = app.direct(&a.access_token, b.user.id).await;
        let path = format!("/api/conversations/{}/messages", c.id);
        for (body, client_id, field) in [
            (json!("   "), json!("k1"), "body"),
            (json!("x".repeat(4001)), json!("k2"), "body"),
            (json!(format!(" {} ", "x".repeat(3999))), json!("k5"), "body"),
            (json!(17), json!("k3"), "body"),
            (json!("fine"), json!(""), "client_id"),
            (json!("fine"), json!("has space"), "client_id"),
        ] {
            let reply = app.post(&path, Some(&a.access_token), &json!({"body": body, "client_id": client_id})).await;
            assert_eq!(reply.error_code(422), "validation_failed");
            assert_eq!(reply.body["error"]["field"], field);
        }
        let ok = app.post(&path, Some(&a.access_token), &json!({"body": format!("  {}  ", "é".repeat(3996)), "client_id": "k4"})).await;
        assert_eq!(ok.status, StatusCode::CREATED);
        assert_eq!(ok.json::<Message>().body.chars().count(), 3996);
        // Nothing the refused sends carried was stored, and no seq was spent on them.
        let page = app.history(&a.access_token, c.id, "").await;
        assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1]);
    }

    async fn history_pages_back_with_before_seq_and_catches_up_with_after_seq(app) {
        let a = app.register("pia").await;
        let b = app.register("pim").await;
        let c = app.direct(&a.access_token, b.user.id).await;
        for i in 1..=7 {
            app.send(&a.access_token, c.id, &format!("m{i}")).await;
        }
        let seqs = |p: &MessagePage| p.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
        let latest = app.history(&b.access_token, c.id, "?limit=3").await;
        assert_eq!((seqs(&latest), latest.has_more), (vec![5, 6, 7], true));
        let older = app.history(&b.access_token, c.id, "?before_seq=5&limit=3").await;
        assert_eq!((seqs(&older), older.has_more), (vec![2, 3, 4], true));
        let oldest = app.history(&b.access_token, c.id, "?before_seq=2&limit=3").await;
        assert_eq!((seqs(&oldest), oldest.has_more), (vec![1], false));
        let missed = app.history(&b.access_token, c.id, "?after_seq=4&limit=2").await;
        assert_eq!((seqs(&missed), missed.has_more), (vec![5, 6], true));
        let rest = app.history(&b.access_token, c.id, "?after_seq=6").await;
        assert_eq!((seqs(&rest), rest.has_more), (vec![7], false));
        let none = app.history(&b.access_token, c.id, "?after_seq=7").await;
        assert_eq!((seqs(&none), none.has_more), (vec![], false));
    }

    async fn history_refuses_bad_cursors_and_limits(app) {
        let a = app.register("qin").await;
        let b = app.register("qua").await;
        let c = app.direct(&a.access_token, b.user.id).await;
        for query in ["?limit=0", "?limit=101", "?before_seq=3&after_seq=1", "?before_seq=0", "?after_seq=-1", "?limit=ten"] {
            let reply = app.get(&format!("/api/conversations/{}/messages{query}", c.id), &a.access_token).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{query}");
        }
    }

    async fn senders_edit_and_delete_their_own_messages_only(app) {
        let a = app.register("tia").await;
        let b = app.register("tom").await;
        let c = app.direct(&a.access_token, b.user.id).await;
        let sent = app.send(&a.access_token, c.id, "typo").await;
        let path = format!("/api/conversations/{}/messages/{}", c.id, sent.seq);
        let by_other = app.patch(&path, &b.access_token, &json!({"body": "hijack"})).await;
        assert_eq!(by_other.error_code(403), "forbidden");
        let edited: Message = app.patch(&path, &a.access_token, &json!({"body": "fixed"})).await.json();
        assert_eq!(edited.body, "fixed");
        assert!(edited.edited_at.is_some());
        assert_eq!(app.delete(&path, &b.access_token).await.error_code(403), "forbidden");
        assert_eq!(app.delete(&path, &a.access_token).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.delete(&path, &a.access_token).await.status, StatusCode::NO_CONTENT);
        let page = app.history(&b.access_token, c.id, "").await;
        assert_eq!(page.messages.len(), 1, "the tombstone keeps the seq");
        assert!(page.messages[0].deleted);
        assert_eq!(page.messages[0].body, "");
        let edit_deleted = app.patch(&path, &a.access_token, &json!({"body": "back"})).await;
        assert_eq!(edit_deleted.error_code(422), "validation_failed");
        let missing = app.patch(&format!("/api/conversations/{}/messages/99", c.id), &a.access_token, &json!({"body": "x"})).await;
        assert_eq!(missing.error_code(404), "not_found");
    }

    async fn twenty_concurrent_senders_get_gapless_unique_seqs(app) {
        const SENDERS: usize = 20;
        const EACH: usize = 10;
        let owner = app.register("hub").await;
        let mut sessions = Vec::new();
        for i in 0..SENDERS {
            sessions.push(app.register(&format!("s{i:02}")).await);
        }
        let ids: Vec<i64> = sessions.iter().map(|s| s.user.id).collect();
        let group = app.group(&owner.access_token, "busy", &ids).await;
        let started = std::time::Instant::now();
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|session| {
                let client = app.client.clone();
                let url = format!("{}/api/conversations/{}/messages", app.address, group.id);
                tokio::spawn(async move {
                    let mut seqs = Vec::new();
                    for i in 0..EACH {
                        let reply = client
                            .post(&url)
                            .bearer_auth(&session.access_token)
                            .json(&json!({"body": format!("{} #{i}", session.user.username), "client_id": format!("{}-{i}", session.user.id)}))
                            .send()
                            .await
                            .expect("send");
                        assert_eq!(reply.status(), StatusCode::CREATED);
                        seqs.push(reply.json::<Message>().await.expect("message").seq);
                    }
                    seqs
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            let seqs = task.await.expect("sender task");
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "each sender's seqs rise");
            all.extend(seqs);
        }
        let elapsed = started.elapsed();
        let total = SENDERS * EACH;
        let unique: BTreeSet<i64> = all.iter().copied().collect();
        assert_eq!(unique.len(), total, "no duplicates");
        // Seq 1 is the group's created event.
        assert_eq!(unique.into_iter().collect::<Vec<_>>(), (2..=total as i64 + 1).collect::<Vec<_>>(), "no gaps");
        let mut stored = Vec::new();
        let mut after = 0;
        loop {
            let page = app.history(&owner.access_token, group.id, &format!("?after_seq={after}&limit=100")).await;
            stored.extend(page.messages.iter().map(|m| m.seq));
            after = *stored.last().unwrap_or(&0);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(stored, (1..=total as i64 + 1).collect::<Vec<_>>());
        println!("{:?}: {total} concurrent REST sends from {SENDERS} senders stored gapless in {elapsed:?}", app.backend);
    }

    // The writer stores whatever queued in one batch (one database call): every send in it must still get its
    // own answer. A burst over one socket mixes new sends, resends of sends earlier in the same burst, resends
    // of stored ones, sends to a conversation the sender is not in and sends across a block.
    async fn hostile_a_burst_mixing_new_sends_resends_strangers_and_blocks_gets_one_right_answer_each(app) {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let carol = app.user("carol").await;
        let group = alice.group("burst", &[&bob]).await;
        let strangers = bob.group("not alice's", &[&carol]).await;
        let blocked = alice.direct_with(&carol).await;
        let stored_before = alice.send(group.id, "already stored").await;
        let path = format!("/api/users/me/blocks/{}", alice.id());
        let reply = app.request(Method::PUT, &path, Some(carol.token()), None).await;
        assert!(reply.status.is_success(), "carol blocks alice: {}", reply.status);
        let mut socket = alice.socket().await;
        for round in 0..8 {
            for (conversation, client_id) in [
                (strangers.id, format!("stranger-{round}")),
                (blocked.id, format!("blocked-{round}")),
                (group.id, format!("new-{round}")),
                (group.id, format!("new-{round}")),
                (group.id, stored_before.client_id.clone()),
            ] {
                socket.send_json(new_message(conversation, &client_id, &format!("burst {round}"))).await;
            }
        }
        let mut acks: std::collections::HashMap<String, Vec<i64>> = std::collections::HashMap::new();
        let mut errors: Vec<(String, String)> = Vec::new();
        while acks.values().map(Vec::len).sum::<usize>() + errors.len() < 40 {
            let frame = socket.expect("an answer", |f| match f {
                ServerFrame::Ack { client_id, message } => Some((client_id.clone(), Ok(message.seq))),
                ServerFrame::Error { client_id: Some(client_id), code, .. } => Some((client_id.clone(), Err(code.clone()))),
                _ => None,
            }).await;
            match frame {
                (client_id, Ok(seq)) => acks.entry(client_id).or_default().push(seq),
                (client_id, Err(code)) => errors.push((client_id, code)),
            }
        }
        assert_eq!(errors.len(), 16, "each send to a stranger's chat or across the block is refused: {errors:?}");
        assert!(errors.iter().all(|(id, code)| (id.starts_with("stranger-") && code == "not_found")
            || (id.starts_with("blocked-") && code == "forbidden")), "{errors:?}");
        assert_eq!(acks[&stored_before.client_id], vec![stored_before.seq; 8], "resends of a stored send get the original");
        let history = alice.history(group.id, "?limit=100").await;
        let seqs: Vec<i64> = history.messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "the created event, the stored one and eight new ones, once each, gapless");
        let mut new_seqs = BTreeSet::new();
        for round in 0..8 {
            let seqs = &acks[&format!("new-{round}")];
            assert_eq!(seqs.len(), 2, "a send and its resend in the same burst are both answered");
            assert_eq!(seqs[0], seqs[1], "the resend is answered with the original");
            new_seqs.insert(seqs[0]);
        }
        assert_eq!(new_seqs, (3..=10).collect(), "each new send has a seq of its own");
        let strangers_page = bob.history(strangers.id, "").await;
        assert!(strangers_page.messages.iter().all(|m| m.event.is_some()), "nothing reached the strangers' chat");
    }
}

/// SQLite's message writer has a connection of its own (not the pool's): it must wait out another connection's
/// write lock (a backup, a long write) like the pool does, instead of failing the sends queued behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_queued_behind_another_connections_sqlite_write_lock_are_stored_in_order_once_it_is_released() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let group = alice.group("locked", &[&bob]).await;
    let mut socket = alice.socket().await;
    let Some(Store::Sqlite(dir)) = &app.store else { panic!("a SQLite store") };
    let path = dir.join("chat.db").to_string_lossy().into_owned();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        use diesel::connection::SimpleConnection;
        let mut other = <diesel::SqliteConnection as diesel::Connection>::establish(&path).expect("open the file");
        other.batch_execute("BEGIN IMMEDIATE").expect("take the write lock");
        locked.send(()).expect("tell the test");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        other.batch_execute("COMMIT").expect("release the write lock");
    });
    is_locked.recv().expect("the lock is held");
    for i in 1..=5 {
        socket.send_json(new_message(group.id, &format!("held-{i}"), &format!("sent while locked {i}"))).await;
    }
    let mut acked = Vec::new();
    while acked.len() < 5 {
        let (client_id, seq) = socket
            .expect("an ack", |f| match f {
                ServerFrame::Ack { client_id, message } => Some((client_id.clone(), message.seq)),
                ServerFrame::Error { code, message, .. } => panic!("a send failed behind the lock: {code} {message}"),
                _ => None,
            })
            .await;
        acked.push((client_id, seq));
    }
    holder.join().expect("the lock holder ends");
    let expected: Vec<(String, i64)> = (1..=5).map(|i| (format!("held-{i}"), i + 1)).collect();
    assert_eq!(acked, expected, "every send acked, in order, numbered 2..6 after the created event");
    let history = alice.history(group.id, "?limit=10").await;
    let bodies: Vec<&str> = history.messages.iter().filter(|m| m.event.is_none()).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, (1..=5).map(|i| format!("sent while locked {i}")).collect::<Vec<_>>());
}
