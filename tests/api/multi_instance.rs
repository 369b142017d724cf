//! Scale-out: two instances sharing PostgreSQL and Redis.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chat_server::protocol::ServerFrame;
use serde_json::json;

use crate::helpers::*;
use crate::own_services::OwnRedis;
use crate::ws_client::*;

async fn ack_seq(socket: &mut WsClient) -> i64 {
    socket
        .expect("ack", |f| match f {
            ServerFrame::Ack { message, .. } => Some(message.seq),
            _ => None,
        })
        .await
}

async fn next_message_seq(socket: &mut WsClient) -> i64 {
    socket.expect("message", message_seq).await
}

/// A socket answers only once its subscriptions are in effect: after an answer, it misses nothing.
async fn ready_for_events(socket: &mut WsClient) {
    socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}

async fn two_instances() -> Option<(TestApp, TestApp)> {
    let a = spawn_app(Backend::Postgres).await?;
    if a.settings.redis_url.is_none() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_REDIS_URL");
        return None;
    }
    let b = a.sibling().await;
    Some((a, b))
}

async fn wait_ready(app: &TestApp, ready: bool) -> Duration {
    let began = Instant::now();
    loop {
        let reply = app.raw(reqwest::Method::GET, "/readyz", None, vec![]).await;
        if (reply.status.as_u16() == 200) == ready {
            return began.elapsed();
        }
        assert!(began.elapsed() < Duration::from_secs(20), "readiness never became {ready}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_message_sent_on_one_instance_reaches_a_member_on_the_other_in_order() {
    let Some((a, b)) = two_instances().await else { return };
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let chat = a.direct(&alice.access_token, bob.user.id).await;
    let mut on_a = a.ws(&alice.access_token).await;
    let mut on_b = b.ws(&bob.access_token).await;
    ready_for_events(&mut on_b).await;
    // Within one socket's burst allowance.
    const COUNT: i64 = 50;
    for i in 0..COUNT {
        on_a.send_json(new_message(chat.id, &format!("x{i}"), &format!("hello {i}"))).await;
    }
    let mut seen = Vec::new();
    while seen.len() < COUNT as usize {
        seen.push(next_message_seq(&mut on_b).await);
    }
    assert_eq!(seen, (1..=COUNT).collect::<Vec<_>>(), "in order, each once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_conversation_created_on_one_instance_routes_live_to_the_other() {
    let Some((a, b)) = two_instances().await else { return };
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    // Bob is connected before the conversation exists, on the other instance.
    let mut on_b = b.ws(&bob.access_token).await;
    ready_for_events(&mut on_b).await;
    let group = a.group(&alice.access_token, "late", &[bob.user.id]).await;
    on_b.expect("conversation", |f| {
        matches!(f, ServerFrame::Conversation { conversation } if conversation.id == group.id).then_some(())
    })
    .await;
    let sent = a.send(&alice.access_token, group.id, "routed").await;
    assert_eq!(next_message_seq(&mut on_b).await, sent.seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn presence_crosses_instances_and_counts_sockets_on_both() {
    let Some((a, b)) = two_instances().await else { return };
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    a.direct(&alice.access_token, bob.user.id).await;
    let mut watcher = a.ws(&alice.access_token).await;
    let presence = |f: &ServerFrame| match f {
        ServerFrame::Presence { user_id, online, .. } if *user_id == bob.user.id => Some(*online),
        _ => None,
    };
    let bob_on_b = b.ws(&bob.access_token).await;
    assert!(watcher.expect("online from the other instance", presence).await);
    let mut bob_on_a = a.ws(&bob.access_token).await;
    // Any answer on the socket proves it was counted (the count happens before a socket serves).
    bob_on_a.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    bob_on_a.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
    drop(bob_on_b);
    // Bob still has a socket on A: no "offline" while it lives.
    watcher
        .expect_none(Duration::from_millis(500), "offline while a socket remains", |f| presence(f) == Some(false))
        .await;
    drop(bob_on_a);
    assert!(!watcher.expect("offline", presence).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn redis_restarted_mid_conversation_degrades_to_local_then_resumes_and_nothing_is_lost() {
    let Some(mut redis) = OwnRedis::start().await else { return };
    let Some(store) = Store::fresh(Backend::Postgres).await else { return };
    let mut settings = settings_for(&store);
    settings.redis_url = Some(redis.url());
    let a = spawn_with(store, settings).await;
    let b = a.sibling().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let chat = a.direct(&alice.access_token, bob.user.id).await;
    let mut alice_phone = a.ws(&alice.access_token).await;
    let mut alice_laptop = a.ws(&alice.access_token).await;
    let mut bob_ws = b.ws(&bob.access_token).await;
    ready_for_events(&mut bob_ws).await;
    let mut live_at_bob = BTreeSet::new();
    let send = async |socket: &mut WsClient, i: usize| {
        socket.send_json(new_message(chat.id, &format!("r{i}"), &format!("m{i}"))).await;
        ack_seq(socket).await
    };

    for i in 0..10 {
        let seq = send(&mut alice_phone, i).await;
        assert_eq!(next_message_seq(&mut alice_laptop).await, seq);
        live_at_bob.insert(next_message_seq(&mut bob_ws).await);
    }
    let outage = Instant::now();
    redis.down();
    let noticed = wait_ready(&a, false).await;
    // Redis is gone: storing, acking and local delivery go on.
    for i in 10..20 {
        let seq = send(&mut alice_phone, i).await;
        assert_eq!(next_message_seq(&mut alice_laptop).await, seq, "local delivery during the outage");
    }
    redis.up().await;
    let recovered_a = wait_ready(&a, true).await;
    let recovered_b = wait_ready(&b, true).await;
    let outage = outage.elapsed();
    for i in 20..30 {
        let seq = send(&mut alice_phone, i).await;
        loop {
            let got = next_message_seq(&mut bob_ws).await;
            live_at_bob.insert(got);
            if got == seq {
                break;
            }
        }
    }
    // What bob missed, he fetches by seq.
    let caught_up = b.history(&bob.access_token, chat.id, "?after_seq=10&limit=100").await;
    let fetched: BTreeSet<i64> = caught_up.messages.iter().map(|m| m.seq).collect();
    let all: BTreeSet<i64> = live_at_bob.union(&fetched).copied().collect();
    assert_eq!(all.into_iter().collect::<Vec<_>>(), (1..=30).collect::<Vec<_>>(), "nothing lost");
    println!(
        "redis outage {outage:?}: noticed in {noticed:?}, ready again after {:?}/{:?}; bob got {} of 30 live, {} by catch-up",
        recovered_a,
        recovered_b,
        live_at_bob.len(),
        30 - live_at_bob.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn concurrent_senders_on_two_instances_reach_everyone_in_seq_order() {
    let Some((a, b)) = two_instances().await else { return };
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let carol = a.register("carol").await;
    let dave = b.register("dave").await;
    let group = a.group(&alice.access_token, "busy", &[bob.user.id, carol.user.id, dave.user.id]).await;
    let mut readers = Vec::new();
    for (app, who) in [(&a, &carol), (&b, &dave)] {
        let mut socket = app.ws(&who.access_token).await;
        ready_for_events(&mut socket).await;
        readers.push(socket);
    }
    const EACH: usize = 40;
    let mut senders = Vec::new();
    for (app, who, tag) in [(&a, &alice, "a"), (&b, &bob, "b")] {
        let mut socket = app.ws(&who.access_token).await;
        ready_for_events(&mut socket).await;
        let conversation_id = group.id;
        senders.push(tokio::spawn(async move {
            for i in 0..EACH {
                socket.send_json(new_message(conversation_id, &format!("{tag}{i}"), &format!("{tag} says {i}"))).await;
            }
            let mut acked = 0;
            while acked < EACH {
                socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. }).then_some(())).await;
                acked += 1;
            }
        }));
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    for (i, mut reader) in readers.into_iter().enumerate() {
        let mut seen = Vec::new();
        while seen.len() < 2 * EACH {
            seen.push(next_message_seq(&mut reader).await);
        }
        // Seq 1 is the group's created event, which readers had before the sends.
        assert_eq!(
            seen,
            (2..=(2 * EACH) as i64 + 1).collect::<Vec<_>>(),
            "reader {i}: every message once, in seq order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_dead_instances_presence_claims_expire_instead_of_keeping_users_online() {
    let Some((a, _b)) = two_instances().await else { return };
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    a.direct(&alice.access_token, bob.user.id).await;
    // An instance that died long ago still "claims" bob: its claim expired a minute back.
    let client = redis::Client::open(a.settings.redis_url.clone().expect("redis")).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    let key = format!("{}:online:{}", a.settings.redis_prefix, bob.user.id);
    let expired = chrono::Utc::now().timestamp() - 60;
    let _: () = redis::cmd("ZADD").arg(&key).arg(expired).arg(424242).query_async(&mut conn).await.expect("zadd");
    let list: chat_server::protocol::ConversationList = a.get("/api/conversations", &alice.access_token).await.json();
    let member = list.conversations[0].members.iter().find(|m| m.user.id == bob.user.id).expect("bob");
    assert_eq!(member.user.online, Some(false), "an expired claim does not count");
    // Bob's first real socket is news: the stale claim does not make it look like a second one.
    let mut watcher = a.ws(&alice.access_token).await;
    ready_for_events(&mut watcher).await;
    let _bob_socket = a.ws(&bob.access_token).await;
    let online = watcher
        .expect("presence", |f| match f {
            ServerFrame::Presence { user_id, online, .. } if *user_id == bob.user.id => Some(*online),
            _ => None,
        })
        .await;
    assert!(online);
}
