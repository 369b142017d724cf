//! Timeline events (created, added, removed, left, renamed) in the conversation's seq stream, and delivered
//! receipts.

use chat_server::protocol::{Conversation, Message, ServerFrame, TimelineEvent};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::ws_client::WsClient;

async fn timeline_frame(socket: &mut WsClient) -> Message {
    socket
        .expect("a timeline event", |f| match f {
            ServerFrame::Message { message } if message.event.is_some() => Some(message.clone()),
            _ => None,
        })
        .await
}

fn events(page: &chat_server::protocol::MessagePage) -> Vec<(i64, TimelineEvent)> {
    page.messages.iter().filter_map(|m| Some((m.seq, m.event.clone()?))).collect()
}

async fn conversation(app: &TestApp, token: &str, id: i64) -> Conversation {
    let reply = app.get(&format!("/api/conversations/{id}"), token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

on_both_backends! {
    async fn a_group_starts_with_its_created_event_which_is_unread_for_everyone_but_its_creator(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "Trip", &[bob.user.id]).await;
        let page = app.history(&bob.access_token, group.id, "").await;
        assert_eq!(events(&page), [(1, TimelineEvent::Created { title: Some("Trip".into()) })]);
        let created = &page.messages[0];
        assert_eq!((created.sender_id, created.body.as_str()), (ann.user.id, ""));
        assert_eq!(conversation(&app, &bob.access_token, group.id).await.unread_count, 1);
        assert_eq!(conversation(&app, &ann.access_token, group.id).await.unread_count, 0);
        let first = app.send(&ann.access_token, group.id, "hi").await;
        assert_eq!(first.seq, 2, "messages follow the event, without a gap");
    }

    async fn a_direct_chat_has_no_created_event(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        assert_eq!(chat.last_seq, 0);
        assert_eq!(app.send(&ann.access_token, chat.id, "hi").await.seq, 1);
    }

    async fn adding_a_member_is_an_event_members_see_live_and_the_added_member_has_only_it_unread(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let cat = app.register("cat").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        for i in 0..5 {
            app.send(&bob.access_token, group.id, &format!("before {i}")).await;
        }
        let mut bob_socket = app.ws(&bob.access_token).await;
        let added = app.post(&format!("/api/conversations/{}/members", group.id), Some(&ann.access_token), &json!({"user_id": cat.user.id})).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        let live = timeline_frame(&mut bob_socket).await;
        assert_eq!(live.seq, 7);
        assert_eq!((live.sender_id, live.sender_name.as_str()), (ann.user.id, "ann"));
        assert_eq!(live.event, Some(TimelineEvent::MemberAdded { user_id: cat.user.id, user_name: "cat".into() }));
        let for_cat = conversation(&app, &cat.access_token, group.id).await;
        assert_eq!((for_cat.last_seq, for_cat.unread_count), (7, 1), "the event that added them, not the history");
        assert_eq!(conversation(&app, &ann.access_token, group.id).await.unread_count, 0, "the actor has read their own event");
        let page = app.history(&cat.access_token, group.id, "?after_seq=5").await;
        assert_eq!(page.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [6, 7], "catch-up replays events with messages");
    }

    async fn removing_and_leaving_are_events_the_member_taken_out_does_not_receive(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let cat = app.register("cat").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id, cat.user.id]).await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        let mut cat_socket = app.ws(&cat.access_token).await;
        let kick = app.delete(&format!("/api/conversations/{}/members/{}", group.id, cat.user.id), &ann.access_token).await;
        assert_eq!(kick.status, StatusCode::NO_CONTENT, "{}", kick.body);
        let removed = timeline_frame(&mut bob_socket).await;
        assert_eq!(removed.event, Some(TimelineEvent::MemberRemoved { user_id: cat.user.id, user_name: "cat".into() }));
        let cat_saw = cat_socket.drain_for(Duration::from_millis(500)).await;
        assert!(cat_saw.iter().any(|f| matches!(f, ServerFrame::Removed { .. })), "{cat_saw:?}");
        assert!(!cat_saw.iter().any(|f| matches!(f, ServerFrame::Message { .. })), "the removed member gets no event: {cat_saw:?}");
        let leave = app.delete(&format!("/api/conversations/{}/members/{}", group.id, bob.user.id), &bob.access_token).await;
        assert_eq!(leave.status, StatusCode::NO_CONTENT, "{}", leave.body);
        let page = app.history(&ann.access_token, group.id, "").await;
        let left = page.messages.last().expect("the departure");
        assert_eq!((left.seq, left.sender_id, left.event.clone()), (3, bob.user.id, Some(TimelineEvent::MemberLeft)));
    }

    async fn renaming_is_an_event_and_a_change_that_changes_nothing_is_none(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "old", &[bob.user.id]).await;
        let path = format!("/api/conversations/{}", group.id);
        assert_eq!(app.patch(&path, &ann.access_token, &json!({"title": "new"})).await.status, StatusCode::OK);
        // Adding someone already there changes nothing, so it records nothing.
        app.post(&format!("{path}/members"), Some(&ann.access_token), &json!({"user_id": bob.user.id})).await;
        let page = app.history(&bob.access_token, group.id, "").await;
        assert_eq!(events(&page), [
            (1, TimelineEvent::Created { title: Some("old".into()) }),
            (2, TimelineEvent::Renamed { title: Some("new".into()) }),
        ]);
        assert_eq!(conversation(&app, &bob.access_token, group.id).await.last_message.and_then(|m| m.event), Some(TimelineEvent::Renamed { title: Some("new".into()) }));
    }

    async fn hostile_a_timeline_event_cannot_be_edited_deleted_reacted_to_pinned_or_answered(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let path = format!("/api/conversations/{}/messages/1", group.id);
        assert_eq!(app.patch(&path, &ann.access_token, &json!({"body": "forged"})).await.error_code(422), "validation_failed");
        assert_eq!(app.delete(&path, &ann.access_token).await.error_code(422), "validation_failed");
        assert_eq!(app.react(&ann.access_token, group.id, 1, "👍", true).await.error_code(404), "not_found");
        assert_eq!(app.pin(&ann.access_token, group.id, 1, true).await.error_code(404), "not_found");
        let reply = app.post(&format!("/api/conversations/{}/messages", group.id), Some(&ann.access_token),
            &json!({"body": "re", "client_id": "r1", "reply_to_seq": 1})).await;
        assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
        let page = app.history(&ann.access_token, group.id, "").await;
        assert_eq!(events(&page), [(1, TimelineEvent::Created { title: Some("g".into()) })], "untouched");
    }

    async fn hostile_a_client_id_like_an_events_cannot_be_sent_so_no_send_passes_for_a_resend_of_one(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let forged = app.post(&format!("/api/conversations/{}/messages", group.id), Some(&ann.access_token),
            &json!({"body": "x", "client_id": "event 1"})).await;
        assert_eq!(forged.error_code(422), "validation_failed");
    }

    async fn delivered_receipts_reach_the_other_members_once_and_never_pass_the_last_seq(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let sent = app.send(&ann.access_token, chat.id, "hi").await;
        let mut ann_socket = app.ws(&ann.access_token).await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        bob_socket.send_json(json!({"type": "delivered", "conversation_id": chat.id, "up_to_seq": 99})).await;
        let receipt = ann_socket.expect("a delivered receipt", |f| match f {
            ServerFrame::Delivered { user_id, up_to_seq, .. } => Some((*user_id, *up_to_seq)),
            _ => None,
        }).await;
        assert_eq!(receipt, (bob.user.id, sent.seq), "clamped to the last seq");
        bob_socket.send_json(json!({"type": "delivered", "conversation_id": chat.id, "up_to_seq": 1})).await;
        ann_socket.expect_none(Duration::from_millis(400), "a second receipt for no move", |f| matches!(f, ServerFrame::Delivered { .. })).await;
        let view = conversation(&app, &ann.access_token, chat.id).await;
        let bob_member = view.members.iter().find(|m| m.user.id == bob.user.id).expect("bob");
        assert_eq!((bob_member.last_delivered_seq, bob_member.last_read_seq), (1, 0));
    }

    async fn a_read_implies_delivered(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        app.send(&ann.access_token, chat.id, "a").await;
        app.send(&ann.access_token, chat.id, "b").await;
        let read = app.post(&format!("/api/conversations/{}/read", chat.id), Some(&bob.access_token), &json!({"up_to_seq": 2})).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let view = conversation(&app, &ann.access_token, chat.id).await;
        let bob_member = view.members.iter().find(|m| m.user.id == bob.user.id).expect("bob");
        assert_eq!(bob_member.last_delivered_seq, 2);
        // Behind the read position: moves nothing and tells no one.
        let mut ann_socket = app.ws(&ann.access_token).await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        bob_socket.send_json(json!({"type": "delivered", "conversation_id": chat.id, "up_to_seq": 2})).await;
        ann_socket.expect_none(Duration::from_millis(400), "a receipt for no move", |f| matches!(f, ServerFrame::Delivered { .. })).await;
    }

    async fn hostile_a_stranger_cannot_mark_delivered_nor_a_member_with_a_negative_seq(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let mut eve_socket = app.ws(&eve.access_token).await;
        eve_socket.send_json(json!({"type": "delivered", "conversation_id": chat.id, "up_to_seq": 1})).await;
        let code = eve_socket.expect("an error", |f| match f { ServerFrame::Error { code, .. } => Some(code.clone()), _ => None }).await;
        assert_eq!(code, "not_found");
        let mut bob_socket = app.ws(&bob.access_token).await;
        bob_socket.send_json(json!({"type": "delivered", "conversation_id": chat.id, "up_to_seq": -1})).await;
        let code = bob_socket.expect("an error", |f| match f { ServerFrame::Error { code, .. } => Some(code.clone()), _ => None }).await;
        assert_eq!(code, "validation_failed");
    }
}

/// A member added on one instance whose socket is on another that did not watch the group yet still gets the
/// event that added them, live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_member_added_on_one_instance_gets_the_event_live_on_another() {
    let Some(a) = spawn_app(Backend::Postgres).await else { return };
    if a.settings.redis_url.is_none() {
        assert!(std::env::var("CI").is_err(), "CI must set TEST_REDIS_URL");
        return;
    }
    let b = a.sibling().await;
    let ann = a.register("ann").await;
    let cat = b.register("cat").await;
    let group = a.group(&ann.access_token, "g", &[]).await;
    let mut cat_socket = b.ws(&cat.access_token).await;
    let added = a
        .post(
            &format!("/api/conversations/{}/members", group.id),
            Some(&ann.access_token),
            &json!({"user_id": cat.user.id}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let live = timeline_frame(&mut cat_socket).await;
    assert_eq!(live.event, Some(TimelineEvent::MemberAdded { user_id: cat.user.id, user_name: "cat".into() }));
}
