//! A client that asks and never reads.

use std::time::{Duration, Instant};

use chat_server::protocol::ServerFrame;
use futures_util::SinkExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::process::ServerProcess;
use crate::helpers::*;
use crate::own_services::restartable_port;
use crate::ws_client::*;

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn stalled_reader(backend: Backend) {
    let Some(store) = Store::fresh(backend).await else { return };
    let mut server = ServerProcess::new(&store);
    let admin = restartable_port();
    server.env.push(("CHAT_WS_DRAIN_SECS", "3".to_owned()));
    server.env.push(("CHAT_ADMIN_BIND", format!("127.0.0.1:{admin}")));
    server.start().await;
    let pid = server.child.as_ref().expect("running").id();
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let (status, chat) = server
        .call(
            Method::POST,
            "/api/conversations",
            Some(&alice.access_token),
            Some(json!({"kind": "direct", "user_id": bob.user.id})),
        )
        .await;
    assert!(status.is_success(), "{chat}");
    let chat = chat["id"].as_i64().expect("id");
    // 100 long messages: a page of them is most of a megabyte of JSON.
    let body = "é".repeat(4000);
    for i in 0..100 {
        let path = format!("/api/conversations/{chat}/messages");
        let (status, _) = server
            .call(
                Method::POST,
                &path,
                Some(&alice.access_token),
                Some(json!({"body": body, "client_id": format!("long-{i}")})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // A well-behaved socket of bob's, to show the server keeps serving.
    let mut steady = server.ws(&bob.access_token).await;
    steady.send_json(json!({"type": "fetch_messages", "conversation_id": chat, "limit": 100})).await;
    steady.expect("a page", |f| matches!(f, ServerFrame::Messages { .. }).then_some(())).await;
    let before = rss_kib(pid);

    // The hostile one: a tiny receive buffer, 60 page requests one after another, and no reading at all. The
    // first pages fill the kernel's buffers; after that they would pile up in the server.
    let tcp_socket = tokio::net::TcpSocket::new_v4().expect("socket");
    tcp_socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = tcp_socket.connect(format!("127.0.0.1:{}", server.port).parse().expect("addr")).await.expect("connect");
    let url = format!("ws://127.0.0.1:{}/ws?token={}", server.port, bob.access_token);
    let (mut stalled, _) =
        tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.expect("handshake");
    for i in 0..60 {
        let frame = json!({"type": "fetch_messages", "conversation_id": chat, "before_seq": 101 - i, "limit": 100});
        stalled.send(WsMessage::Text(frame.to_string().into())).await.expect("sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = Instant::now();
    let mut peak = before;
    let closes = async || {
        let text =
            server.client.get(format!("http://127.0.0.1:{admin}/metrics")).send().await.ok()?.text().await.ok()?;
        text.lines().find_map(|l| l.strip_prefix("chat_slow_consumer_closes_total ")?.trim().parse::<f64>().ok())
    };
    loop {
        peak = peak.max(rss_kib(pid));
        if closes().await.unwrap_or(0.0) >= 1.0 {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(20), "the stalled socket was never closed:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed_after = began.elapsed();
    // The server goes on serving the other socket meanwhile.
    steady.send_json(json!({"type": "fetch_messages", "conversation_id": chat, "limit": 1})).await;
    steady.expect("a page", |f| matches!(f, ServerFrame::Messages { .. }).then_some(())).await;
    // The allocator gives freed pages back after a short delay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let mut stalled = WsClient { stream: stalled };
    let (frames, ended) = stalled.until_end(Duration::from_secs(30)).await;
    let pages = frames.iter().filter(|f| matches!(f, ServerFrame::Messages { .. })).count();
    println!(
        "stalled reader [{backend:?}]: 60 page requests, {pages} pages written before the close after {closed_after:.1?} \
         ({ended:?}); server RSS {} MiB before, {} MiB peak, {} MiB after",
        before / 1024,
        peak / 1024,
        after / 1024
    );
    assert!(matches!(ended, Ended::Closed(Some(4008)) | Ended::Dropped), "{ended:?}");
    assert!(pages < 60, "a client that reads nothing is not served every page");
    assert!(peak < before + 64 * 1024, "a stalled socket made the server hold {} MiB", (peak - before) / 1024);
    assert!(after < before + 16 * 1024, "memory was not given back: {} KiB before, {after} KiB after", before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_a_socket_that_never_reads_is_closed_and_its_memory_freed_sqlite() {
    stalled_reader(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn hostile_a_socket_that_never_reads_is_closed_and_its_memory_freed_postgres() {
    stalled_reader(Backend::Postgres).await;
}
