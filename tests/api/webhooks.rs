//! Incoming webhooks: created by a group's owner or admins only, a post is an ordinary message of the hook's bot
//! (stored, sequenced, idempotent, live), bad posts get clear JSON errors, a revoked or made-up URL is a plain
//! 404, and posts are rate-limited per hook.

use chat_server::protocol::{Conversation, CreatedWebhook, Message, ServerFrame, WebhookList};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

async fn create_hook(app: &TestApp, token: &str, conversation: i64, name: &str) -> CreatedWebhook {
    let reply =
        app.post(&format!("/api/conversations/{conversation}/webhooks"), Some(token), &json!({"name": name})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn post_hook(app: &TestApp, path: &str, body: &Value) -> Reply {
    app.post(path, None, body).await
}

async fn members(app: &TestApp, token: &str, conversation: i64) -> Vec<i64> {
    let reply = app.get(&format!("/api/conversations/{conversation}"), token).await;
    reply.json::<Conversation>().members.iter().map(|m| m.user.id).collect()
}

on_both_backends! {
    async fn a_webhook_posts_as_its_bot_with_the_same_storage_seq_and_live_fan_out_as_any_message(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let group = app.group(&alice.access_token, "deploys", &[bob.user.id]).await;
        let mut bobs_socket = app.ws(&bob.access_token).await;
        let hook = create_hook(&app, &alice.access_token, group.id, "CI").await;
        assert!(hook.path.starts_with("/api/hooks/chat_hook_"));
        assert_eq!(hook.url, format!("{}{}", app.address, hook.path));
        assert!(members(&app, &alice.access_token, group.id).await.contains(&hook.webhook.bot_user_id));

        let reply = post_hook(&app, &hook.path, &json!({"text": "deploy done"})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let posted: Message = reply.json();
        assert_eq!((posted.sender_id, posted.sender_name.as_str()), (hook.webhook.bot_user_id, "CI"));
        assert_eq!(posted.body, "deploy done");
        // The bot's joining took a seq of the conversation's stream before it.
        let page = app.history(&bob.access_token, group.id, "").await;
        assert_eq!(page.messages.last(), Some(&posted));
        assert_eq!(posted.seq, page.messages.len() as i64);
        let live = bobs_socket.expect("the post, live", |f| match f {
            ServerFrame::Message { message } if message.body == "deploy done" => Some(message.clone()),
            _ => None,
        }).await;
        assert_eq!(live.seq, posted.seq);
        // The answer is the message and nothing else.
        assert_eq!(reply.body.as_object().map(|o| o.contains_key("members")), Some(false));
    }

    async fn a_client_id_makes_a_post_idempotent(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "deploys", &[]).await;
        let hook = create_hook(&app, &alice.access_token, group.id, "CI").await;
        let body = json!({"text": "build 42 passed", "client_id": "build-42"});
        let first = post_hook(&app, &hook.path, &body).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let again = post_hook(&app, &hook.path, &body).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json::<Message>(), first.json::<Message>());
        // Without one, every post is a message of its own.
        post_hook(&app, &hook.path, &json!({"text": "tick"})).await;
        post_hook(&app, &hook.path, &json!({"text": "tick"})).await;
        let bodies: Vec<String> = app.history(&alice.access_token, group.id, "").await.messages.into_iter()
            .filter(|m| m.event.is_none()).map(|m| m.body).collect();
        assert_eq!(bodies, ["build 42 passed", "tick", "tick"]);
    }

    async fn hostile_strangers_plain_members_and_removed_admins_cannot_create_list_or_revoke_webhooks(app) {
        let owner = app.register("owner").await;
        let member = app.register("member").await;
        let stranger = app.register("stranger").await;
        let admin = app.register("admin").await;
        let group = app.group(&owner.access_token, "ops", &[member.user.id, admin.user.id]).await;
        let id = group.id;
        app.patch(&format!("/api/conversations/{id}/members/{}", admin.user.id), &owner.access_token,
            &json!({"role": "admin"})).await;
        let by_admin = create_hook(&app, &admin.access_token, id, "admin's").await;
        let hooks = format!("/api/conversations/{id}/webhooks");
        let one = format!("{hooks}/{}", by_admin.webhook.id);
        let name = json!({"name": "x"});

        assert_eq!(app.post(&hooks, Some(&stranger.access_token), &name).await.error_code(404), "not_found");
        assert_eq!(app.get(&hooks, &stranger.access_token).await.error_code(404), "not_found");
        assert_eq!(app.delete(&one, &stranger.access_token).await.error_code(404), "not_found");
        assert_eq!(app.post(&hooks, Some(&member.access_token), &name).await.error_code(403), "forbidden");
        assert_eq!(app.get(&hooks, &member.access_token).await.error_code(403), "forbidden");
        assert_eq!(app.delete(&one, &member.access_token).await.error_code(403), "forbidden");
        app.delete(&format!("/api/conversations/{id}/members/{}", admin.user.id), &owner.access_token).await;
        assert_eq!(app.post(&hooks, Some(&admin.access_token), &name).await.error_code(404), "not_found");
        assert_eq!(app.delete(&one, &admin.access_token).await.error_code(404), "not_found");
        // A hook outlives its creator's membership; the owner still sees it.
        let list: WebhookList = app.get(&hooks, &owner.access_token).await.json();
        assert_eq!(list.webhooks.len(), 1);
        assert!(!app.get(&hooks, &owner.access_token).await.body.to_string().contains("chat_hook_"));
        assert_eq!(post_hook(&app, &by_admin.path, &json!({"text": "still here"})).await.status, StatusCode::CREATED);
        // Another conversation's hook id is no hook here.
        let other = app.group(&stranger.access_token, "elsewhere", &[]).await;
        let theirs = create_hook(&app, &stranger.access_token, other.id, "theirs").await;
        let cross = format!("{hooks}/{}", theirs.webhook.id);
        assert_eq!(app.delete(&cross, &owner.access_token).await.error_code(404), "not_found");
    }

    async fn a_revoked_webhook_is_a_plain_404_and_its_bot_leaves(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "deploys", &[]).await;
        let hook = create_hook(&app, &alice.access_token, group.id, "CI").await;
        let reply = app.delete(&format!("/api/conversations/{}/webhooks/{}", group.id, hook.webhook.id),
            &alice.access_token).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let revoked = post_hook(&app, &hook.path, &json!({"text": "late"})).await;
        let made_up = post_hook(&app, &format!("/api/hooks/chat_hook_{}", random_hex(20)), &json!({"text": "x"})).await;
        assert_eq!(revoked.error_code(404), "not_found");
        assert_eq!(revoked.error_body(), made_up.error_body(), "a revoked URL says no more than a made-up one");
        assert!(!members(&app, &alice.access_token, group.id).await.contains(&hook.webhook.bot_user_id));
        let list: WebhookList = app.get(&format!("/api/conversations/{}/webhooks", group.id), &alice.access_token).await.json();
        assert!(list.webhooks.is_empty());
    }

    async fn hostile_bad_posts_get_clear_json_errors(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "deploys", &[]).await;
        let path = create_hook(&app, &alice.access_token, group.id, "CI").await.path;
        for (body, field) in [
            (json!({"text": "   "}), "text"),
            (json!({"text": "x".repeat(4001)}), "text"),
            (json!({"body": "not the field"}), "text"),
            (json!({"text": "hi", "client_id": ""}), "client_id"),
            (json!({"text": 5}), "text"),
        ] {
            let reply = post_hook(&app, &path, &body).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{body}");
            assert_eq!(reply.body["error"]["field"], field, "{body}");
        }
        let malformed = app.raw(Method::POST, &path, Some("application/json"), b"{\"text\": ".to_vec()).await;
        assert_eq!(malformed.error_code(400), "malformed_json");
        let plain = app.raw(Method::POST, &path, Some("text/plain"), b"{\"text\": \"hi\"}".to_vec()).await;
        assert_eq!(plain.error_code(415), "unsupported_media_type");
        let none = app.raw(Method::POST, &path, None, b"{\"text\": \"hi\"}".to_vec()).await;
        assert_eq!(none.error_code(415), "unsupported_media_type");
        let huge = app.raw(Method::POST, &path, Some("application/json"), vec![b' '; 70 * 1024]).await;
        assert_eq!(huge.error_code(413), "payload_too_large");
        // What `curl -d '{"text":…}' URL` sends (a form content type), and Slack's `payload=` form field.
        let curl = app.raw(Method::POST, &path, Some("application/x-www-form-urlencoded"),
            b"{\"text\":\"deploy done\"}".to_vec()).await;
        assert_eq!(curl.status, StatusCode::CREATED, "{}", curl.body);
        let slack = app.raw(Method::POST, &path, Some("application/x-www-form-urlencoded"),
            b"payload=%7B%22text%22%3A%22from+slack%22%7D".to_vec()).await;
        assert_eq!(slack.json::<Message>().body, "from slack");
        let texts: Vec<String> = app.history(&alice.access_token, group.id, "").await.messages.into_iter()
            .filter(|m| m.event.is_none()).map(|m| m.body).collect();
        assert_eq!(texts, ["deploy done", "from slack"], "nothing else was stored");
    }

    async fn a_direct_conversation_takes_no_webhooks_and_bots_are_no_one_to_find(app) {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let direct = app.direct(&alice.access_token, bob.user.id).await;
        let reply = app.post(&format!("/api/conversations/{}/webhooks", direct.id), Some(&alice.access_token),
            &json!({"name": "CI"})).await;
        assert_eq!(reply.error_code(422), "validation_failed");
        let group = app.group(&alice.access_token, "g", &[]).await;
        create_hook(&app, &alice.access_token, group.id, "hook").await;
        let found = app.get("/api/users?query=hook", &bob.access_token).await;
        assert_eq!(found.body["users"], json!([]), "{}", found.body);
        let empty = app.post(&format!("/api/conversations/{}/webhooks", group.id), Some(&alice.access_token),
            &json!({"name": ""})).await;
        assert_eq!(empty.body["error"]["field"], "name");
    }

    async fn a_conversation_has_at_most_ten_webhooks(app) {
        let alice = app.register("alice").await;
        let group = app.group(&alice.access_token, "g", &[]).await;
        for n in 0..10 {
            create_hook(&app, &alice.access_token, group.id, &format!("hook {n}")).await;
        }
        let reply = app.post(&format!("/api/conversations/{}/webhooks", group.id), Some(&alice.access_token),
            &json!({"name": "eleventh"})).await;
        assert_eq!(reply.error_code(429), "too_many_webhooks");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_are_rate_limited_per_webhook() {
    let store = Store::fresh(Backend::Sqlite).await.expect("store");
    let mut settings = settings_for(&store);
    settings.webhook_posts_per_minute = 2;
    let app = spawn_with(store, settings).await;
    let alice = app.register("alice").await;
    let group = app.group(&alice.access_token, "g", &[]).await;
    let busy = create_hook(&app, &alice.access_token, group.id, "busy").await.path;
    let calm = create_hook(&app, &alice.access_token, group.id, "calm").await.path;
    for _ in 0..2 {
        assert_eq!(post_hook(&app, &busy, &json!({"text": "x"})).await.status, StatusCode::CREATED);
    }
    let limited = post_hook(&app, &busy, &json!({"text": "x"})).await;
    assert_eq!(limited.error_code(429), "rate_limited");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(post_hook(&app, &calm, &json!({"text": "x"})).await.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(chat_pg_tests), ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL + Redis)")]
async fn a_post_to_one_instance_reaches_a_socket_on_another_and_a_revocation_holds_on_both() {
    let Some(a) = spawn_app(Backend::Postgres).await else { return };
    let b = a.sibling().await;
    let alice = a.register("alice").await;
    let bob = a.register("bob").await;
    let group = a.group(&alice.access_token, "deploys", &[bob.user.id]).await;
    let hook = create_hook(&a, &alice.access_token, group.id, "CI").await;
    let mut on_b = b.ws(&bob.access_token).await;
    assert_eq!(post_hook(&a, &hook.path, &json!({"text": "across"})).await.status, StatusCode::CREATED);
    on_b.expect("the post on the other instance", |f| match f {
        ServerFrame::Message { message } if message.body == "across" => Some(()),
        _ => None,
    })
    .await;
    a.delete(&format!("/api/conversations/{}/webhooks/{}", group.id, hook.webhook.id), &alice.access_token).await;
    assert_eq!(post_hook(&b, &hook.path, &json!({"text": "late"})).await.error_code(404), "not_found");
}
