//! Reactions: one emoji per reaction, counted per message, live for every member, bounded per message.

use chat_server::protocol::{MessageReactions, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

fn encoded(emoji: &str) -> String {
    emoji.bytes().map(|b| format!("%{b:02X}")).collect()
}

impl TestApp {
    pub async fn react(&self, token: &str, conversation: i64, seq: i64, emoji: &str, on: bool) -> Reply {
        let path = format!("/api/conversations/{conversation}/messages/{seq}/reactions/{}", encoded(emoji));
        self.request(if on { Method::PUT } else { Method::DELETE }, &path, Some(token), None).await
    }
}

on_both_backends! {
    async fn reactions_are_counted_per_emoji_with_who_reacted_and_shown_in_history(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let message = app.send(&ann.access_token, group.id, "ship it?").await;
        app.react(&ann.access_token, group.id, message.seq, "👍", true).await;
        app.react(&bob.access_token, group.id, message.seq, "🎉", true).await;
        let both: MessageReactions = app.react(&bob.access_token, group.id, message.seq, "👍", true).await.json();
        let summary: Vec<(String, i64, Vec<i64>)> = both.reactions.iter().map(|r| (r.emoji.clone(), r.count, r.user_ids.clone())).collect();
        assert_eq!(summary, [("👍".to_owned(), 2, vec![ann.user.id, bob.user.id]), ("🎉".to_owned(), 1, vec![bob.user.id])]);
        let page = app.history(&ann.access_token, group.id, "").await;
        assert_eq!(page.messages.iter().find(|m| m.seq == message.seq).expect("the message").reactions, both.reactions);
        // Taking one back.
        let after: MessageReactions = app.react(&bob.access_token, group.id, message.seq, "👍", false).await.json();
        assert_eq!(after.reactions[0].user_ids, [ann.user.id]);
    }

    async fn a_reaction_is_live_for_every_member_and_repeating_it_tells_no_one(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let message = app.send(&ann.access_token, chat.id, "hi").await;
        let mut ann_socket = app.ws(&ann.access_token).await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        bob_socket.send_json(json!({"type": "react", "conversation_id": chat.id, "seq": message.seq, "emoji": "❤", "on": true})).await;
        for socket in [&mut ann_socket, &mut bob_socket] {
            let (user_id, emoji, added, count) = socket.expect("the reaction frame", |f| match f {
                ServerFrame::Reaction { user_id, emoji, added, reactions, .. } => Some((*user_id, emoji.clone(), *added, reactions[0].count)),
                _ => None,
            }).await;
            assert_eq!((user_id, emoji.as_str(), added, count), (bob.user.id, "❤️", true, 1));
        }
        for _ in 0..3 {
            assert_eq!(app.react(&bob.access_token, chat.id, message.seq, "❤️", true).await.status, StatusCode::OK);
        }
        ann_socket.expect_none(std::time::Duration::from_millis(300), "no event for a repeat", |f| matches!(f, ServerFrame::Reaction { .. })).await;
    }

    async fn hostile_an_emoji_that_is_not_one_is_refused(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        for bad in ["a", "+1", "👍👍", "<b>", "%F0%9F", "🏽"] {
            let path = format!("/api/conversations/{}/messages/{}/reactions/{}", group.id, message.seq, if bad.starts_with('%') { bad.to_owned() } else { encoded(bad) });
            let refused = app.request(Method::PUT, &path, Some(&ann.access_token), None).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", refused.body);
            assert_eq!(refused.body["error"]["field"], "emoji", "{bad}");
        }
        let mut socket = app.ws(&ann.access_token).await;
        socket.send_json(json!({"type": "react", "conversation_id": group.id, "seq": message.seq, "emoji": "lol", "on": true})).await;
        let code = socket.expect("an error frame", |f| match f {
            ServerFrame::Error { code, .. } => Some(code.clone()),
            _ => None,
        }).await;
        assert_eq!(code, "validation_failed");
    }

    async fn hostile_a_reaction_on_another_conversations_message_a_missing_or_deleted_one_is_refused(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let mine = app.group(&ann.access_token, "mine", &[]).await;
        let theirs = app.group(&bob.access_token, "theirs", &[]).await;
        app.send(&bob.access_token, theirs.id, "private").await;
        let only = app.send(&ann.access_token, mine.id, "only").await;
        assert_eq!(app.react(&ann.access_token, theirs.id, 1, "👍", true).await.error_code(404), "not_found");
        assert_eq!(app.react(&ann.access_token, mine.id, 3, "👍", true).await.error_code(404), "not_found");
        assert_eq!(app.react(&ann.access_token, mine.id, 0, "👍", true).await.error_code(404), "not_found");
        app.delete(&format!("/api/conversations/{}/messages/{}", mine.id, only.seq), &ann.access_token).await;
        assert_eq!(app.react(&ann.access_token, mine.id, only.seq, "👍", true).await.error_code(422), "validation_failed");
        // Bob's message never learnt of Ann.
        assert!(app.history(&bob.access_token, theirs.id, "").await.messages[0].reactions.is_empty());
    }

    async fn hostile_a_removed_member_can_no_longer_react(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        app.delete(&format!("/api/conversations/{}/members/{}", group.id, bob.user.id), &ann.access_token).await;
        assert_eq!(app.react(&bob.access_token, group.id, message.seq, "👍", true).await.error_code(404), "not_found");
    }

    async fn hostile_a_message_holds_at_most_twenty_different_emojis_and_a_thousand_repeats_change_nothing(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        let palette = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚", "🙂", "🤗"];
        for emoji in &palette[..20] {
            assert_eq!(app.react(&ann.access_token, group.id, message.seq, emoji, true).await.status, StatusCode::OK);
        }
        assert_eq!(app.react(&ann.access_token, group.id, message.seq, palette[20], true).await.error_code(409), "too_many_reactions");
        // An emoji already there may still be used by others.
        assert_eq!(app.react(&bob.access_token, group.id, message.seq, palette[0], true).await.status, StatusCode::OK);
        // A thousand repeats, fifty at a time (the test pool holds eight connections).
        for _ in 0..20 {
            let repeats = (0..50).map(|_| app.react(&bob.access_token, group.id, message.seq, palette[0], true));
            for reply in futures_util::future::join_all(repeats).await {
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            }
        }
        let page = app.history(&ann.access_token, group.id, "").await;
        let stored = page.messages.iter().find(|m| m.seq == message.seq).expect("the message");
        assert_eq!(stored.reactions.len(), 20);
        assert_eq!(stored.reactions[0].count, 2);
    }

    async fn deleting_a_message_takes_its_reactions_with_it(app) {
        let ann = app.register("ann").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let message = app.send(&ann.access_token, group.id, "x").await;
        app.react(&ann.access_token, group.id, message.seq, "👍", true).await;
        app.delete(&format!("/api/conversations/{}/messages/{}", group.id, message.seq), &ann.access_token).await;
        assert!(app.history(&ann.access_token, group.id, "").await.messages[0].reactions.is_empty());
    }
}
