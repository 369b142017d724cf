use chat_server::protocol::{Conversation, ConversationKind, ConversationList, ReadState, Role};
use reqwest::StatusCode;
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn a_direct_conversation_is_created_once_per_pair(app) {
        let a = app.register("ann").await;
        let b = app.register("ben").await;
        let first = app.post("/api/conversations", Some(&a.access_token), &json!({"kind": "direct", "user_id": b.user.id})).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let created: Conversation = first.json();
        assert_eq!(created.kind, ConversationKind::Direct);
        assert_eq!(created.members.len(), 2);
        // The other side opening it gets the same conversation, with 200.
        let again = app.post("/api/conversations", Some(&b.access_token), &json!({"kind": "direct", "user_id": a.user.id})).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json::<Conversation>().id, created.id);
    }

    async fn a_direct_conversation_needs_another_existing_user(app) {
        let a = app.register("amy").await;
        let me = app.post("/api/conversations", Some(&a.access_token), &json!({"kind": "direct", "user_id": a.user.id})).await;
        assert_eq!(me.error_code(422), "validation_failed");
        let ghost = app.post("/api/conversations", Some(&a.access_token), &json!({"kind": "direct", "user_id": 424242})).await;
        assert_eq!(ghost.error_code(422), "validation_failed");
        assert_eq!(ghost.body["error"]["field"], "user_id");
    }

    async fn a_group_makes_the_creator_owner_and_validates_title_and_members(app) {
        let a = app.register("ada").await;
        let b = app.register("bea").await;
        let group = app.group(&a.access_token, "  Book club ", &[b.user.id, b.user.id, a.user.id]).await;
        assert_eq!(group.title.as_deref(), Some("Book club"));
        assert_eq!(group.members.len(), 2);
        assert_eq!(group.members[0].user.id, a.user.id);
        assert_eq!(group.members[0].role, Role::Owner);
        for (body, field) in [
            (json!({"kind": "group", "title": " ", "member_ids": []}), "title"),
            (json!({"kind": "group", "title": "x".repeat(101), "member_ids": []}), "title"),
            (json!({"kind": "group", "title": "ok", "member_ids": [999999]}), "member_ids"),
            (json!({"kind": "channel", "title": "ok"}), "kind"),
        ] {
            let reply = app.post("/api/conversations", Some(&a.access_token), &body).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{body}");
            assert_eq!(reply.body["error"]["field"], field, "{body}");
        }
    }

    async fn the_list_puts_the_most_recent_activity_first(app) {
        let a = app.register("alf").await.access_token;
        let b = app.register("bob").await;
        let c = app.register("cyd").await;
        let older = app.group(&a, "older", &[b.user.id]).await;
        let newer = app.group(&a, "newer", &[c.user.id]).await;
        let list: ConversationList = app.get("/api/conversations", &a).await.json();
        assert_eq!(list.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [newer.id, older.id]);
        app.send(&a, older.id, "bump").await;
        let list: ConversationList = app.get("/api/conversations", &a).await.json();
        assert_eq!(list.conversations[0].id, older.id);
        assert_eq!(list.conversations[0].last_message.as_ref().map(|m| m.body.as_str()), Some("bump"));
    }

    async fn unread_count_is_last_seq_minus_the_read_position_which_never_moves_back(app) {
        let a = app.register("ari").await;
        let b = app.register("bix").await;
        let conversation = app.direct(&a.access_token, b.user.id).await;
        for i in 0..3 {
            app.send(&a.access_token, conversation.id, &format!("m{i}")).await;
        }
        let seen: Conversation = app.get(&format!("/api/conversations/{}", conversation.id), &b.access_token).await.json();
        assert_eq!((seen.last_seq, seen.last_read_seq, seen.unread_count), (3, 0, 3));
        // The sender has read their own messages.
        let own: Conversation = app.get(&format!("/api/conversations/{}", conversation.id), &a.access_token).await.json();
        assert_eq!(own.unread_count, 0);
        let path = format!("/api/conversations/{}/read", conversation.id);
        let read: ReadState = app.post(&path, Some(&b.access_token), &json!({"up_to_seq": 2})).await.json();
        assert_eq!(read, ReadState { last_read_seq: 2, unread_count: 1, mention_count: 0 });
        let back: ReadState = app.post(&path, Some(&b.access_token), &json!({"up_to_seq": 1})).await.json();
        assert_eq!(back, ReadState { last_read_seq: 2, unread_count: 1, mention_count: 0 });
        let past_end: ReadState = app.post(&path, Some(&b.access_token), &json!({"up_to_seq": 99})).await.json();
        assert_eq!(past_end, ReadState { last_read_seq: 3, unread_count: 0, mention_count: 0 });
        let negative = app.post(&path, Some(&b.access_token), &json!({"up_to_seq": -1})).await;
        assert_eq!(negative.error_code(422), "validation_failed");
    }

    async fn owners_and_admins_rename_groups_but_members_cannot(app) {
        let a = app.register("olly").await;
        let b = app.register("moe").await;
        let group = app.group(&a.access_token, "old", &[b.user.id]).await;
        let path = format!("/api/conversations/{}", group.id);
        let by_member = app.patch(&path, &b.access_token, &json!({"title": "mine"})).await;
        assert_eq!(by_member.error_code(403), "forbidden");
        let by_owner = app.patch(&path, &a.access_token, &json!({"title": "new"})).await;
        assert_eq!(by_owner.status, StatusCode::OK);
        assert_eq!(by_owner.json::<Conversation>().title.as_deref(), Some("new"));
        let direct = app.direct(&a.access_token, b.user.id).await;
        let rename_direct = app.patch(&format!("/api/conversations/{}", direct.id), &a.access_token, &json!({"title": "x"})).await;
        assert_eq!(rename_direct.error_code(422), "validation_failed");
    }

    async fn members_are_added_by_admins_and_anyone_can_leave(app) {
        let a = app.register("own").await;
        let b = app.register("mem").await;
        let c = app.register("new").await;
        let group = app.group(&a.access_token, "g", &[b.user.id]).await;
        let members = format!("/api/conversations/{}/members", group.id);
        let by_member = app.post(&members, Some(&b.access_token), &json!({"user_id": c.user.id})).await;
        assert_eq!(by_member.error_code(403), "forbidden");
        let added = app.post(&members, Some(&a.access_token), &json!({"user_id": c.user.id})).await;
        assert_eq!(added.status, StatusCode::OK);
        assert_eq!(added.json::<Conversation>().members.len(), 3);
        // c sees it now, and leaves.
        assert_eq!(app.get(&format!("/api/conversations/{}", group.id), &c.access_token).await.status, StatusCode::OK);
        let leave = app.delete(&format!("{members}/{}", c.user.id), &c.access_token).await;
        assert_eq!(leave.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("/api/conversations/{}", group.id), &c.access_token).await.error_code(404), "not_found");
        // A member cannot remove the owner.
        let coup = app.delete(&format!("{members}/{}", a.user.id), &b.access_token).await;
        assert_eq!(coup.error_code(403), "forbidden");
    }

    async fn the_last_owner_leaving_hands_ownership_on(app) {
        let a = app.register("first").await;
        let b = app.register("second").await;
        let c = app.register("third").await;
        let group = app.group(&a.access_token, "g", &[b.user.id, c.user.id]).await;
        let leave = app.delete(&format!("/api/conversations/{}/members/{}", group.id, a.user.id), &a.access_token).await;
        assert_eq!(leave.status, StatusCode::NO_CONTENT);
        let after: Conversation = app.get(&format!("/api/conversations/{}", group.id), &b.access_token).await.json();
        assert_eq!(after.members.len(), 2);
        assert_eq!(after.members.iter().filter(|m| m.role == Role::Owner).count(), 1);
    }
}
