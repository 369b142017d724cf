//! Hostile uploads and sends: not a member, someone else's upload, an upload reused or raced, a type that is
//! refused whatever the client claims, a body over the limit (refused before it is read), the per-user
//! bounds, a removed member, an ended session.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::attachments::png;
#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn hostile_a_non_member_can_neither_upload_nor_download_and_learns_nothing(app) {
        let a = app.register("ann").await;
        let b = app.register("abe").await;
        let c = app.register("cid").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let outsider = app.upload(&c.access_token, chat.id, "x.png", png(4, 4)).await;
        assert_eq!(outsider.error_code(404), "not_found");
        let uploaded = app.uploaded(&a.access_token, chat.id, "x.png", png(4, 4)).await;
        app.send_with(&a.access_token, chat.id, "", &[&uploaded.id], "m").await;
        let theirs = app.get(&uploaded.url, &c.access_token).await;
        let nothing = app.get("/api/attachments/no-such-id", &c.access_token).await;
        assert_eq!(theirs.error_body(), nothing.error_body());
        assert_eq!(theirs.error_code(404), "not_found");
        // Before it is sent, an upload is its uploader's alone, even for the other member.
        let unsent = app.uploaded(&a.access_token, chat.id, "y.png", png(4, 4)).await;
        assert_eq!(app.get(&unsent.url, &b.access_token).await.error_code(404), "not_found");
    }

    async fn hostile_someone_elses_upload_cannot_be_attached_and_nothing_is_stored(app) {
        let a = app.register("bea").await;
        let b = app.register("boa").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let other = app.group(&a.access_token, "other", &[b.user.id]).await;
        let hers = app.uploaded(&a.access_token, chat.id, "h.png", png(4, 4)).await;
        let stolen = app.send_with(&b.access_token, chat.id, "mine now", &[&hers.id], "steal").await;
        assert_eq!(stolen.error_code(403), "attachment_unavailable");
        assert_eq!(stolen.body["error"]["field"], "attachment_ids");
        let elsewhere = app.send_with(&a.access_token, other.id, "", &[&hers.id], "move").await;
        assert_eq!(elsewhere.error_code(403), "attachment_unavailable");
        let unknown = app.send_with(&a.access_token, chat.id, "", &["doesnotexist"], "ghost").await;
        assert_eq!(unknown.error_code(403), "attachment_unavailable");
        // No message, no seq spent: the next message is number 1.
        assert_eq!(app.send(&a.access_token, chat.id, "first").await.seq, 1);
        let page = app.history(&a.access_token, other.id, "").await;
        assert!(page.messages.iter().all(|m| m.event.is_some()), "nothing but the group's created event");
    }

    async fn hostile_an_attached_upload_cannot_be_reused_by_another_message(app) {
        let a = app.register("cyd").await;
        let b = app.register("cam").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let file = app.uploaded(&a.access_token, chat.id, "f.png", png(4, 4)).await;
        let first = app.send_with(&a.access_token, chat.id, "one", &[&file.id], "c1").await;
        assert_eq!(first.status, StatusCode::CREATED);
        let second = app.send_with(&a.access_token, chat.id, "two", &[&file.id], "c2").await;
        assert_eq!(second.error_code(403), "attachment_unavailable");
        for (ids, why) in [(json!([file.id, file.id]), "twice"), (json!(vec!["a"; 11]), "eleven"), (json!(["bad id!"]), "bad-id")] {
            let path = format!("/api/conversations/{}/messages", chat.id);
            let reply = app.post(&path, Some(&a.access_token), &json!({"body": "x", "client_id": why, "attachment_ids": ids})).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{why}");
            assert_eq!(reply.body["error"]["field"], "attachment_ids", "{why}");
        }
    }

    async fn hostile_concurrent_sends_of_one_upload_attach_it_exactly_once(app) {
        let a = app.register("dee").await;
        let b = app.register("dix").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let file = app.uploaded(&a.access_token, chat.id, "race.png", png(4, 4)).await;
        let client_ids: Vec<String> = (0..20).map(|i| format!("race-{i}")).collect();
        let ids = [file.id.as_str()];
        let sends = client_ids.iter().map(|client_id| app.send_with(&a.access_token, chat.id, "race", &ids, client_id));
        let replies = futures_util::future::join_all(sends).await;
        let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
        let refused = replies.iter().filter(|r| r.status == StatusCode::FORBIDDEN).count();
        assert_eq!((created, refused), (1, 19));
        let page = app.history(&a.access_token, chat.id, "").await;
        assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1]);
    }

    async fn hostile_a_refused_type_gets_415_whatever_the_client_claims(app) {
        let a = app.register("eda").await;
        let b = app.register("ebb").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        for (name, bytes) in [
            ("cute.png", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()),
            ("page.jpg", b"<!doctype html><script>alert(1)</script>".to_vec()),
            ("tool.pdf", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec()),
            ("run.txt", b"#!/bin/sh\necho hi\n".to_vec()),
        ] {
            let reply = app.upload(&a.access_token, chat.id, name, bytes).await;
            assert_eq!(reply.error_code(415), "unsupported_attachment_type", "{name}");
        }
        let empty = app.upload(&a.access_token, chat.id, "empty.png", Vec::new()).await;
        assert_eq!(empty.error_code(422), "validation_failed");
        for name in ["", "a\u{7}b"] {
            let reply = app.upload(&a.access_token, chat.id, name, png(4, 4)).await;
            assert_eq!(reply.body["error"]["field"], "name", "{name:?}: {}", reply.body);
        }
        // A path is cut to its last part.
        let cut = app.uploaded(&a.access_token, chat.id, "../../etc/passwd.png", png(4, 4)).await;
        assert_eq!(cut.name, "passwd.png");
    }

    async fn hostile_a_removed_member_loses_access_at_once_with_either_token(app) {
        let a = app.register("fin").await;
        let b = app.register("flo").await;
        let group = app.group(&a.access_token, "team", &[b.user.id]).await;
        let file = app.uploaded(&a.access_token, group.id, "plan.png", png(4, 4)).await;
        app.send_with(&a.access_token, group.id, "", &[&file.id], "p").await;
        let media: chat_server::protocol::MediaToken = app.post("/api/media-token", Some(&b.access_token), &json!({})).await.json();
        let with_media = format!("{}?media_token={}", file.url, media.token);
        assert_eq!(app.fetch(&with_media, None, &[]).await.status, StatusCode::OK);
        let removed = app.delete(&format!("/api/conversations/{}/members/{}", group.id, b.user.id), &a.access_token).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        assert_eq!(app.fetch(&file.url, Some(&b.access_token), &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.fetch(&with_media, None, &[]).await.status, StatusCode::NOT_FOUND);
    }

    async fn hostile_the_same_upload_a_thousand_times_stops_at_the_unsent_bound(app) {
        let a = app.register("kit").await;
        let b = app.register("kai").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let mut codes = std::collections::BTreeMap::new();
        let mut last = None;
        for i in 0..1000 {
            let reply = app.upload(&a.access_token, chat.id, &format!("{i}.png"), png(2, 2)).await;
            let code = if reply.status == StatusCode::CREATED {
                last = Some(reply.json::<chat_server::protocol::Attachment>().id);
                "created".to_owned()
            } else {
                reply.error_code(429)
            };
            *codes.entry(code).or_insert(0) += 1;
        }
        assert_eq!(codes, [("created".to_owned(), 100), ("too_many_unsent_uploads".to_owned(), 900)].into());
        // Sending one frees a place.
        let sent = app.send_with(&a.access_token, chat.id, "", &[&last.expect("an upload")], "frees").await;
        assert_eq!(sent.status, StatusCode::CREATED);
        assert_eq!(app.upload(&a.access_token, chat.id, "one-more.png", png(2, 2)).await.status, StatusCode::CREATED);
    }

    async fn hostile_only_ones_own_unsent_upload_can_be_taken_back(app) {
        let a = app.register("lea").await;
        let b = app.register("lou").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let mine = app.uploaded(&a.access_token, chat.id, "m.png", png(4, 4)).await;
        let sent = app.uploaded(&a.access_token, chat.id, "s.png", png(4, 4)).await;
        app.send_with(&a.access_token, chat.id, "", &[&sent.id], "keep").await;
        assert_eq!(app.delete(&mine.url, &b.access_token).await.error_code(404), "not_found");
        assert_eq!(app.delete(&sent.url, &a.access_token).await.error_code(404), "not_found");
        assert_eq!(app.delete("/api/attachments/unknown", &a.access_token).await.error_code(404), "not_found");
        assert_eq!(app.delete(&mine.url, &a.access_token).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&mine.url, &a.access_token).await.error_code(404), "not_found");
        assert!(!app.settings.data_dir.join("attachments").join(&mine.id).exists());
        let late = app.send_with(&a.access_token, chat.id, "", &[&mine.id], "late").await;
        assert_eq!(late.error_code(403), "attachment_unavailable");
        assert_eq!(app.get(&sent.url, &b.access_token).await.status, StatusCode::OK);
    }

    async fn hostile_a_media_token_of_an_ended_session_is_refused(app) {
        let a = app.register("gia").await;
        let b = app.register("gem").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let file = app.uploaded(&a.access_token, chat.id, "g.png", png(4, 4)).await;
        let media: chat_server::protocol::MediaToken = app.post("/api/media-token", Some(&a.access_token), &json!({})).await.json();
        let url = format!("{}?media_token={}", file.url, media.token);
        assert_eq!(app.fetch(&url, None, &[]).await.status, StatusCode::OK);
        assert_eq!(app.post("/api/auth/logout", Some(&a.access_token), &json!({})).await.status, StatusCode::NO_CONTENT);
        let refused = app.fetch(&url, None, &[]).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let forged = app.fetch(&format!("{}?media_token=not.a.token", file.url), None, &[]).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    }
}

/// A server with 1 MiB files and a 3 MiB quota.
async fn small_limits(backend: Backend) -> Option<TestApp> {
    let store = Store::fresh(backend).await?;
    let mut settings = settings_for(&store);
    settings.max_upload_mb = 1;
    settings.upload_quota_mb = 3;
    Some(spawn_with(store, settings).await)
}

/// Request headers declaring `length` bytes, and no body: what comes back before anything more is sent.
async fn declare_and_wait(app: &TestApp, token: &str, conversation: i64, length: u64) -> String {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.expect("connect");
    let head = format!(
        "POST /api/conversations/{conversation}/attachments?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("headers sent");
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("answered without the body")
        .expect("read");
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

/// An upload sent in chunks without a declared length (`Transfer-Encoding: chunked`); the answer's head.
async fn send_chunked(app: &TestApp, token: &str, conversation: i64, body: &[u8]) -> String {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.expect("connect");
    let head = format!(
        "POST /api/conversations/{conversation}/attachments?name=over.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("headers sent");
    for chunk in body.chunks(64 * 1024) {
        // The server may stop reading once the limit is passed: a failed write is its refusal arriving.
        if socket.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
            || socket.write_all(chunk).await.is_err()
            || socket.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 4096];
    let read =
        tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer)).await.expect("answered").expect("read");
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

macro_rules! with_small_limits {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = small_limits(Backend::Sqlite).await.expect("app");
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
            async fn postgres() {
                let Some($app) = small_limits(Backend::Postgres).await else { return };
                $body
            }
        }
    )*};
}

with_small_limits! {
    async fn hostile_a_body_declared_over_the_limit_is_refused_before_it_is_read(app) {
        let a = app.register("hex").await;
        let b = app.register("hob").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let answer = declare_and_wait(&app, &a.access_token, chat.id, 100 * 1024 * 1024).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("payload_too_large"), "{answer}");
        // Exactly at the limit is fine; one byte more, sent without a length, is refused as it arrives.
        let mut at_limit = b"%PDF-1.4\n".to_vec();
        at_limit.resize(1024 * 1024, b'.');
        assert_eq!(app.upload(&a.access_token, chat.id, "max.pdf", at_limit.clone()).await.status, StatusCode::CREATED);
        at_limit.push(b'!');
        let answer = send_chunked(&app, &a.access_token, chat.id, &at_limit).await;
        assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("payload_too_large"), "{answer}");
    }

    async fn hostile_uploads_beyond_the_quota_are_refused_until_the_window_passes(app) {
        let a = app.register("ida").await;
        let b = app.register("ike").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        let mut file = b"%PDF-1.4\n".to_vec();
        file.resize(900 * 1024, b'.');
        for i in 0..3 {
            let reply = app.upload(&a.access_token, chat.id, &format!("{i}.pdf"), file.clone()).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{i}: {}", reply.body);
        }
        let over = app.upload(&a.access_token, chat.id, "3.pdf", file.clone()).await;
        assert_eq!(over.error_code(429), "upload_quota_exceeded");
        // Another user has a quota of their own.
        assert_eq!(app.upload(&b.access_token, chat.id, "b.pdf", file).await.status, StatusCode::CREATED);
    }

    async fn hostile_many_uploads_at_once_are_bounded_per_user(app) {
        let a = app.register("joe").await;
        let b = app.register("jay").await;
        let chat = app.direct(&a.access_token, b.user.id).await;
        // Eight uploads that declare 100 KiB and send nothing yet: four are let in, the rest refused at once.
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..8 {
            let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.expect("connect");
            let head = format!(
                "POST /api/conversations/{}/attachments?name=slow.bin HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Bearer {}\r\nContent-Length: 102400\r\n\r\n%PDF-1.4\n",
                chat.id, a.access_token
            );
            socket.write_all(head.as_bytes()).await.expect("sent");
            let mut answer = vec![0u8; 2048];
            match tokio::time::timeout(Duration::from_millis(1500), socket.read(&mut answer)).await {
                Ok(Ok(n)) if String::from_utf8_lossy(&answer[..n]).contains("too_many_uploads") => refused += 1,
                Ok(other) => panic!("unexpected answer: {other:?}"),
                Err(_) => held.push(socket),
            }
        }
        assert_eq!((held.len(), refused), (4, 4));
        // Clients that go away mid-body give their places back.
        drop(held);
        let began = std::time::Instant::now();
        loop {
            let reply = app.upload(&a.access_token, chat.id, "after.png", png(4, 4)).await;
            if reply.status == StatusCode::CREATED {
                break;
            }
            assert_eq!(reply.error_code(429), "too_many_uploads");
            assert!(began.elapsed() < Duration::from_secs(10), "the dropped uploads still hold their places");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
