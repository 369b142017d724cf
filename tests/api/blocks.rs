//! Blocks: either side's block stops direct chats, group adds and contacts; the blocked party learns no more
//! than that it cannot.

use chat_server::db::{DbPool, blocks};
use chat_server::protocol::{BlockList, ConversationList};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use chat_server::ids::UserId;

async fn put_block(app: &TestApp, token: &str, user_id: i64) -> Reply {
    app.request(Method::PUT, &format!("/api/users/me/blocks/{user_id}"), Some(token), None).await
}

async fn blocked(app: &TestApp, token: &str) -> Vec<String> {
    let list: BlockList = app.get("/api/users/me/blocks", token).await.json();
    list.blocked.into_iter().map(|u| u.username).collect()
}

/// The refusal the blocked party gets, and the one the blocker gets.
#[track_caller]
fn assert_refused(reply: &Reply, code: &str, message: &str, field: Option<&str>) {
    assert_eq!(reply.error_code(403), code, "{}", reply.body);
    assert_eq!(reply.body["error"]["message"], message);
    assert_eq!(reply.body["error"].get("field").and_then(Value::as_str), field);
}

const BLOCKER_SEES: &str = "You have blocked this user; unblock them first.";

async fn pool(app: &TestApp) -> DbPool {
    DbPool::connect(&app.store.as_ref().expect("own store").database_url(), 1).await.expect("pool")
}

on_both_backends! {
    async fn blocking_is_idempotent_listed_and_undone(app) {
        let me = app.register("ada").await;
        let pest = app.register("pest").await;
        for _ in 0..1000 {
            assert_eq!(put_block(&app, &me.access_token, pest.user.id).await.status, StatusCode::NO_CONTENT);
        }
        assert_eq!(blocked(&app, &me.access_token).await, ["pest"]);
        assert!(blocked(&app, &pest.access_token).await.is_empty(), "blocks are one-way records");
        for _ in 0..2 {
            let reply = app.delete(&format!("/api/users/me/blocks/{}", pest.user.id), &me.access_token).await;
            assert_eq!(reply.status, StatusCode::NO_CONTENT);
        }
        assert!(blocked(&app, &me.access_token).await.is_empty());
    }

    async fn blocking_an_unknown_user_is_404_and_yourself_422(app) {
        let me = app.register("bea").await;
        assert_eq!(put_block(&app, &me.access_token, 987_654).await.error_code(404), "not_found");
        assert_eq!(put_block(&app, &me.access_token, me.user.id).await.error_code(422), "validation_failed");
        let not_a_number = app.request(Method::PUT, "/api/users/me/blocks/abc", Some(&me.access_token), None).await;
        assert_eq!(not_a_number.error_code(404), "not_found");
        assert!(blocked(&app, &me.access_token).await.is_empty());
    }

    async fn hostile_neither_side_of_a_block_can_open_a_direct_chat_new_or_existing(app) {
        let victim = app.register("cara").await;
        let pest = app.register("pesky").await;
        let stranger = app.register("dee").await;
        let existing = app.direct(&victim.access_token, stranger.user.id).await;
        put_block(&app, &victim.access_token, pest.user.id).await;
        put_block(&app, &victim.access_token, stranger.user.id).await;
        let open = |token: String, other: i64| {
            let app = &app;
            async move {
                app.post("/api/conversations", Some(&token), &json!({"kind": "direct", "user_id": other})).await
            }
        };
        let theirs = open(pest.access_token.clone(), victim.user.id).await;
        assert_refused(&theirs, "forbidden", "You can't start a conversation with this user.", None);
        let mine = open(victim.access_token.clone(), pest.user.id).await;
        assert_refused(&mine, "blocked_by_you", BLOCKER_SEES, None);
        // The existing chat cannot be reopened either way, but it is still there for both.
        let theirs = open(stranger.access_token.clone(), victim.user.id).await;
        assert_refused(&theirs, "forbidden", "You can't start a conversation with this user.", None);
        assert_refused(&open(victim.access_token.clone(), stranger.user.id).await, "blocked_by_you", BLOCKER_SEES, None);
        let listed: ConversationList = app.get("/api/conversations", &stranger.access_token).await.json();
        assert_eq!(listed.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), [existing.id]);
        // Nothing new was created by the refusals.
        let listed: ConversationList = app.get("/api/conversations", &pest.access_token).await.json();
        assert!(listed.conversations.is_empty());
        // Unblocking lifts it.
        app.delete(&format!("/api/users/me/blocks/{}", pest.user.id), &victim.access_token).await;
        assert_eq!(open(pest.access_token.clone(), victim.user.id).await.status, StatusCode::CREATED);
    }

    async fn hostile_a_group_with_someone_on_the_other_side_of_a_block_is_refused_whole(app) {
        let victim = app.register("eve").await;
        let pest = app.register("pester").await;
        let friend = app.register("fran").await;
        put_block(&app, &victim.access_token, pest.user.id).await;
        let create = |token: String, members: Vec<i64>| {
            let app = &app;
            async move {
                app.post("/api/conversations", Some(&token),
                    &json!({"kind": "group", "title": "g", "member_ids": members})).await
            }
        };
        let theirs = create(pest.access_token.clone(), vec![friend.user.id, victim.user.id]).await;
        assert_refused(&theirs, "forbidden", "You can't add one of these users.", Some("member_ids"));
        let mine = create(victim.access_token.clone(), vec![friend.user.id, pest.user.id]).await;
        assert_refused(&mine, "blocked_by_you", "You have blocked one of these users; unblock them first.", Some("member_ids"));
        for who in [&pest, &victim, &friend] {
            let listed: ConversationList = app.get("/api/conversations", &who.access_token).await.json();
            assert!(listed.conversations.is_empty(), "no group was created");
        }
        assert_eq!(create(pest.access_token.clone(), vec![friend.user.id]).await.status, StatusCode::CREATED);
    }

    async fn hostile_neither_side_of_a_block_can_add_the_other_to_a_group(app) {
        let victim = app.register("gwen").await;
        let pest = app.register("pestle").await;
        let friend = app.register("hal").await;
        let pests_group = app.group(&pest.access_token, "theirs", &[friend.user.id]).await;
        let victims_group = app.group(&victim.access_token, "mine", &[friend.user.id]).await;
        let shared = app.group(&friend.access_token, "shared", &[victim.user.id, pest.user.id]).await;
        put_block(&app, &victim.access_token, pest.user.id).await;
        let add = |token: String, group: i64, user: i64| {
            let app = &app;
            async move {
                app.post(&format!("/api/conversations/{group}/members"), Some(&token), &json!({"user_id": user})).await
            }
        };
        let theirs = add(pest.access_token.clone(), pests_group.id, victim.user.id).await;
        assert_refused(&theirs, "forbidden", "You can't add this user.", None);
        let mine = add(victim.access_token.clone(), victims_group.id, pest.user.id).await;
        assert_refused(&mine, "blocked_by_you", BLOCKER_SEES, None);
        // The group they already share stays, with both in it; re-adding a member changes nothing.
        let again = add(friend.access_token.clone(), shared.id, pest.user.id).await;
        assert_eq!(again.status, StatusCode::OK);
        let view: chat_server::protocol::Conversation =
            app.get(&format!("/api/conversations/{}", shared.id), &victim.access_token).await.json();
        assert_eq!(view.members.len(), 3);
        // A third party may still add either of them to their own groups.
        let friends_group = app.group(&friend.access_token, "third", &[]).await;
        assert_eq!(add(friend.access_token.clone(), friends_group.id, pest.user.id).await.status, StatusCode::OK);
        assert_eq!(add(friend.access_token.clone(), friends_group.id, victim.user.id).await.status, StatusCode::OK);
    }

    async fn hostile_neither_side_of_a_block_can_add_the_other_as_a_contact(app) {
        let victim = app.register("iris").await;
        let pest = app.register("pests").await;
        put_block(&app, &pest.access_token, victim.user.id).await;
        let theirs = app.post("/api/contacts", Some(&victim.access_token), &json!({"user_id": pest.user.id})).await;
        assert_refused(&theirs, "forbidden", "You can't add this user.", None);
        let mine = app.post("/api/contacts", Some(&pest.access_token), &json!({"user_id": victim.user.id})).await;
        assert_refused(&mine, "blocked_by_you", BLOCKER_SEES, None);
        let contacts: chat_server::protocol::ContactList = app.get("/api/contacts", &victim.access_token).await.json();
        assert!(contacts.contacts.is_empty());
    }

    async fn no_one_blocks_more_than_a_thousand_users(app) {
        let me = app.register("jill").await;
        let pool = pool(&app).await;
        let mut conn = pool.get().await.expect("conn");
        // Accounts made directly: a thousand registrations would spend minutes hashing passwords.
        let values: Vec<String> =
            (0..1001).map(|i| format!("('many{i:04}', 'Many', 'x', '2026-12-01 00:00:00')")).collect();
        let sql = format!(
            "INSERT INTO users (username, display_name, password_hash, created_at) VALUES {}",
            values.join(", ")
        );
        chat_server::with_conn!(&mut conn, |c| diesel_async::SimpleAsyncConnection::batch_execute(c, &sql).await)
            .expect("users");
        let ids: Vec<i64> = (me.user.id + 1..=me.user.id + 1001).collect();
        for &id in &ids[..1000] {
            assert_eq!(put_block(&app, &me.access_token, id).await.status, StatusCode::NO_CONTENT);
        }
        let over = put_block(&app, &me.access_token, ids[1000]).await;
        assert_eq!(over.error_code(422), "validation_failed");
        assert_eq!(over.body["error"]["field"], "user_id");
        // Repeating an existing block at the cap is still fine.
        assert_eq!(put_block(&app, &me.access_token, ids[0]).await.status, StatusCode::NO_CONTENT);
        assert_eq!(blocks::count(&mut conn, UserId(me.user.id)).await.expect("count"), 1000);
    }

    async fn the_queries_for_the_live_side_see_blocks_both_ways(app) {
        let a = UserId(app.register("kay").await.user.id);
        let b = UserId(app.register("lou").await.user.id);
        let c = UserId(app.register("max").await.user.id);
        let d = UserId(app.register("ned").await.user.id);
        let pool = pool(&app).await;
        let mut conn = pool.get().await.expect("conn");
        blocks::add(&mut conn, a, b).await.expect("block");
        blocks::add(&mut conn, c, a).await.expect("block");
        assert_eq!(blocks::related_to(&mut conn, a).await.expect("q"), [b, c]);
        assert_eq!(blocks::related_to(&mut conn, b).await.expect("q"), [a]);
        assert!(blocks::related_to(&mut conn, d).await.expect("q").is_empty());
    }
}
