//! Pins: who may pin, the cap, the list, live events, and a deleted message unpinned.

use chat_server::protocol::{Pin, PinList, ServerFrame};
use reqwest::{Method, StatusCode};

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

impl TestApp {
    pub async fn pin(&self, token: &str, conversation: i64, seq: i64, on: bool) -> Reply {
        let path = format!("/api/conversations/{conversation}/pins/{seq}");
        self.request(if on { Method::PUT } else { Method::DELETE }, &path, Some(token), None).await
    }

    pub async fn pins(&self, token: &str, conversation: i64) -> PinList {
        let reply = self.get(&format!("/api/conversations/{conversation}/pins"), token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()
    }
}

on_both_backends! {
    async fn an_admin_pins_every_member_sees_the_pin_live_and_in_the_list(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let first = app.send(&bob.access_token, group.id, "rules: be kind").await;
        let second = app.send(&bob.access_token, group.id, "meeting at 10").await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        let pinned = app.pin(&ann.access_token, group.id, first.seq, true).await;
        assert_eq!(pinned.status, StatusCode::OK, "{}", pinned.body);
        let pin: Pin = pinned.json();
        assert_eq!((pin.message.seq, pin.pinned_by), (first.seq, ann.user.id));
        let live = bob_socket.expect("the pin frame", |f| match f {
            ServerFrame::Pin { seq, pinned, user_id, .. } => Some((*seq, *pinned, *user_id)),
            _ => None,
        }).await;
        assert_eq!(live, (first.seq, true, ann.user.id));
        app.pin(&ann.access_token, group.id, second.seq, true).await;
        let seqs: Vec<i64> = app.pins(&bob.access_token, group.id).await.pins.iter().map(|p| p.message.seq).collect();
        assert_eq!(seqs, [second.seq, first.seq], "newest pin first");
        assert_eq!(app.pin(&ann.access_token, group.id, first.seq, false).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.pins(&bob.access_token, group.id).await.pins.len(), 1);
    }

    async fn hostile_a_group_member_cannot_pin_and_a_stranger_cannot_see_pins(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        assert_eq!(app.pin(&bob.access_token, group.id, message.seq, true).await.error_code(403), "forbidden");
        app.pin(&ann.access_token, group.id, message.seq, true).await;
        assert_eq!(app.pin(&bob.access_token, group.id, message.seq, false).await.error_code(403), "forbidden");
        assert_eq!(app.pin(&eve.access_token, group.id, message.seq, true).await.error_code(404), "not_found");
        assert_eq!(app.get(&format!("/api/conversations/{}/pins", group.id), &eve.access_token).await.error_code(404), "not_found");
        assert_eq!(app.pin(&ann.access_token, group.id, 99, true).await.error_code(404), "not_found");
    }

    async fn either_person_of_a_direct_chat_may_pin(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let message = app.send(&ann.access_token, chat.id, "address: 1 Main St").await;
        assert_eq!(app.pin(&bob.access_token, chat.id, message.seq, true).await.status, StatusCode::OK);
    }

    async fn hostile_a_conversation_holds_at_most_fifty_pins_and_repeats_change_nothing(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        for i in 0..51 {
            app.send(&ann.access_token, group.id, &format!("m{i}")).await;
        }
        // Seq 1 is the created event: the messages are 2..=52.
        for seq in 2..=51 {
            assert_eq!(app.pin(&ann.access_token, group.id, seq, true).await.status, StatusCode::OK);
        }
        assert_eq!(app.pin(&ann.access_token, group.id, 52, true).await.error_code(409), "too_many_pins");
        assert_eq!(app.pin(&ann.access_token, group.id, 7, true).await.status, StatusCode::OK, "pinning again is harmless");
        assert_eq!(app.pins(&ann.access_token, group.id).await.pins.len(), 50);
    }

    async fn deleting_a_pinned_message_unpins_it_and_says_so(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        app.pin(&ann.access_token, group.id, message.seq, true).await;
        let mut socket = app.ws(&ann.access_token).await;
        app.delete(&format!("/api/conversations/{}/messages/{}", group.id, message.seq), &ann.access_token).await;
        let unpinned = socket.expect("the unpin frame", |f| match f {
            ServerFrame::Pin { pinned, .. } => Some(*pinned),
            _ => None,
        }).await;
        assert!(!unpinned);
        assert!(app.pins(&ann.access_token, group.id).await.pins.is_empty());
        assert_eq!(app.pin(&ann.access_token, group.id, message.seq, true).await.error_code(422), "validation_failed");
    }
}
