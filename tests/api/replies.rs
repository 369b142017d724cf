//! Replies and mentions: a message answering another carries a preview of it, kept current; `@username` resolves
//! to members when stored or edited; a member's mention count and notification level.

use chat_server::protocol::{
    Conversation, ConversationList, Message, NotificationLevel, NotificationSettings, ReadState, ServerFrame,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

impl TestApp {
    pub async fn reply(&self, token: &str, conversation: i64, to: i64, body: &str) -> Reply {
        self.post(
            &format!("/api/conversations/{conversation}/messages"),
            Some(token),
            &json!({"body": body, "client_id": random_hex(8), "reply_to_seq": to}),
        )
        .await
    }

    pub async fn mine(&self, token: &str, conversation: i64) -> Conversation {
        let list: ConversationList = self.get("/api/conversations", token).await.json();
        list.conversations.into_iter().find(|c| c.id == conversation).expect("listed")
    }
}

on_both_backends! {
    async fn a_reply_carries_a_preview_of_the_original_in_the_ack_history_and_live(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let original = app.send(&ann.access_token, chat.id, &"long question ".repeat(20)).await;
        let reply = app.reply(&bob.access_token, chat.id, original.seq, "answer").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let reply: Message = reply.json();
        let preview = reply.reply_to.clone().expect("a preview");
        assert_eq!((preview.seq, preview.sender_id, preview.sender_name.as_str()), (original.seq, ann.user.id, "ann"));
        assert_eq!(preview.excerpt.chars().count(), 100);
        assert!(original.body.starts_with(&preview.excerpt));
        assert!(!preview.deleted);
        let page = app.history(&ann.access_token, chat.id, "").await;
        assert_eq!(page.messages.last().and_then(|m| m.reply_to.clone()), Some(preview));
        let mut ann_socket = app.ws(&ann.access_token).await;
        app.reply(&bob.access_token, chat.id, original.seq, "again").await;
        let live = ann_socket.expect("the reply live", |f| match f {
            ServerFrame::Message { message } => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!(live.reply_to.map(|p| p.seq), Some(original.seq));
    }

    async fn a_reply_over_the_socket_is_acked_with_its_preview(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let original = app.send(&ann.access_token, chat.id, "hello").await;
        let mut socket = app.ws(&bob.access_token).await;
        socket.send_json(json!({"type": "new_message", "conversation_id": chat.id, "client_id": "r1", "body": "hi", "reply_to_seq": original.seq})).await;
        let ack = socket.expect("the ack", |f| match f {
            ServerFrame::Ack { message, .. } => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!(ack.reply_to.map(|p| p.excerpt), Some("hello".to_owned()));
    }

    async fn hostile_a_reply_to_a_missing_seq_or_another_conversations_message_stores_nothing(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let cyd = app.register("cyd").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let other = app.direct(&ann.access_token, cyd.user.id).await;
        app.send(&ann.access_token, chat.id, "one").await;
        for _ in 0..5 {
            app.send(&ann.access_token, other.id, "elsewhere").await;
        }
        // Seq 4 exists in the other conversation only; 0 and -1 are no seqs; 2 would be the reply's own.
        for to in [4, 2, 0, -1, i64::MAX] {
            let refused = app.reply(&ann.access_token, chat.id, to, "?").await;
            assert_eq!(refused.error_code(422), "validation_failed", "{to}");
            assert_eq!(refused.body["error"]["field"], "reply_to_seq", "{to}");
        }
        // Nothing was stored and no seq was used up.
        let next = app.send(&ann.access_token, chat.id, "two").await;
        assert_eq!(next.seq, 2);
        let mut socket = app.ws(&ann.access_token).await;
        socket.send_json(json!({"type": "new_message", "conversation_id": chat.id, "client_id": "bad", "body": "x", "reply_to_seq": 99})).await;
        let code = socket.expect("an error frame", |f| match f {
            ServerFrame::Error { code, client_id, .. } if client_id.as_deref() == Some("bad") => Some(code.clone()),
            _ => None,
        }).await;
        assert_eq!(code, "validation_failed");
    }

    async fn editing_or_deleting_the_original_updates_the_previews_of_its_replies(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        let original = app.send(&ann.access_token, chat.id, "first draft").await;
        app.reply(&bob.access_token, chat.id, original.seq, "noted").await;
        let path = format!("/api/conversations/{}/messages/{}", chat.id, original.seq);
        app.patch(&path, &ann.access_token, &json!({"body": "final words"})).await;
        let preview = |page: chat_server::protocol::MessagePage| page.messages.last().and_then(|m| m.reply_to.clone()).expect("preview");
        assert_eq!(preview(app.history(&bob.access_token, chat.id, "").await).excerpt, "final words");
        assert_eq!(app.delete(&path, &ann.access_token).await.status, StatusCode::NO_CONTENT);
        let gone = preview(app.history(&bob.access_token, chat.id, "").await);
        assert!(gone.deleted);
        assert_eq!(gone.excerpt, "");
        assert_eq!(gone.sender_name, "ann");
    }

    async fn mentions_resolve_to_members_only_and_follow_edits(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let cyd = app.register("cyd").await;
        let outsider = app.register("dan").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id, cyd.user.id]).await;
        let message = app.send(&ann.access_token, group.id, "@Bob and @dan and @ann and @nobody, mail ann@cyd.org").await;
        assert_eq!(message.mentions, [bob.user.id], "members only, not the author, not an address");
        assert!(outsider.user.id > 0);
        let path = format!("/api/conversations/{}/messages/{}", group.id, message.seq);
        let edited: Message = app.patch(&path, &ann.access_token, &json!({"body": "sorry, I meant @cyd"})).await.json();
        assert_eq!(edited.mentions, [cyd.user.id]);
        assert_eq!(app.mine(&bob.access_token, group.id).await.mention_count, Some(0));
        assert_eq!(app.mine(&cyd.access_token, group.id).await.mention_count, Some(1));
    }

    async fn the_mention_count_counts_unread_mentions_and_clears_on_read(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        app.send(&ann.access_token, group.id, "hey @bob").await;
        app.send(&ann.access_token, group.id, "no mention").await;
        let third = app.send(&ann.access_token, group.id, "@bob again").await;
        let view = app.mine(&bob.access_token, group.id).await;
        // The created event is unread too (seq 1); the messages are 2, 3 and 4.
        assert_eq!((view.unread_count, view.mention_count), (4, Some(2)));
        let mut socket = app.ws(&bob.access_token).await;
        let read: ReadState = app.post(&format!("/api/conversations/{}/read", group.id), Some(&bob.access_token), &json!({"up_to_seq": 3})).await.json();
        assert_eq!((read.unread_count, read.mention_count), (1, 1));
        let unread = socket.expect("the unread frame", |f| match f {
            ServerFrame::Unread { mention_count, .. } => Some(*mention_count),
            _ => None,
        }).await;
        assert_eq!(unread, 1);
        // Deleting a mention takes it out of the count.
        app.delete(&format!("/api/conversations/{}/messages/{}", group.id, third.seq), &ann.access_token).await;
        assert_eq!(app.mine(&bob.access_token, group.id).await.mention_count, Some(0));
    }

    async fn a_notification_level_is_kept_per_member_and_told_to_their_other_sockets(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        assert_eq!(app.mine(&bob.access_token, group.id).await.notifications.map(|n| n.level), Some(NotificationLevel::All));
        let mut other_tab = app.ws(&bob.access_token).await;
        let until = chrono::Utc::now() + chrono::Duration::hours(8);
        let path = format!("/api/conversations/{}/notifications", group.id);
        let set = app.request(Method::PUT, &path, Some(&bob.access_token), Some(&json!({"level": "mentions", "until": until}))).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        let settings: NotificationSettings = set.json();
        assert_eq!(settings.level, NotificationLevel::Mentions);
        let told = other_tab.expect("the notifications frame", |f| match f {
            ServerFrame::Notifications { notifications, .. } => Some(notifications.clone()),
            _ => None,
        }).await;
        assert_eq!(told, settings);
        assert_eq!(app.mine(&bob.access_token, group.id).await.notifications, Some(settings));
        assert_eq!(app.mine(&ann.access_token, group.id).await.notifications.map(|n| n.level), Some(NotificationLevel::All));
        // Unread counts tick whatever the level.
        app.send(&ann.access_token, group.id, "still counted").await;
        assert_eq!(app.mine(&bob.access_token, group.id).await.unread_count, 2, "the created event and the message");
    }

    async fn hostile_bad_notification_levels_are_refused_and_strangers_get_404(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[]).await;
        let path = format!("/api/conversations/{}/notifications", group.id);
        let past = chrono::Utc::now() - chrono::Duration::hours(1);
        let far = chrono::Utc::now() + chrono::Duration::days(800);
        for body in [
            json!({"level": "loud"}),
            json!({"level": "all", "until": chrono::Utc::now() + chrono::Duration::hours(1)}),
            json!({"level": "nothing", "until": past}),
            json!({"level": "nothing", "until": far}),
            json!({"level": "nothing", "until": "tomorrow"}),
        ] {
            let refused = app.request(Method::PUT, &path, Some(&ann.access_token), Some(&body)).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", refused.body);
        }
        let stranger = app.request(Method::PUT, &path, Some(&bob.access_token), Some(&json!({"level": "nothing"}))).await;
        assert_eq!(stranger.error_code(404), "not_found");
    }
}
