//! Presence by consent over REST: `online` only for people who share a conversation, never across a block.

use std::time::{Duration, Instant};

use chat_server::protocol::{ContactList, Conversation, User};
use reqwest::Method;
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

async fn contact(app: &TestApp, token: &str, name: &str) -> User {
    let list: ContactList = app.get("/api/contacts", token).await.json();
    list.contacts.into_iter().find(|u| u.username == name).expect("a contact")
}

async fn member(app: &TestApp, token: &str, conversation: i64, name: &str) -> User {
    let view: Conversation = app.get(&format!("/api/conversations/{conversation}"), token).await.json();
    view.members.into_iter().map(|m| m.user).find(|u| u.username == name).expect("a member")
}

/// Waits (at most 5 s) until `name` shows online to the viewer of `conversation`: the socket is registered.
async fn until_online(app: &TestApp, token: &str, conversation: i64, name: &str) {
    let began = Instant::now();
    while member(app, token, conversation, name).await.online != Some(true) {
        assert!(began.elapsed() < Duration::from_secs(5), "{name} never showed online");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends! {
    async fn a_contact_who_shares_no_conversation_is_not_shown_online(app) {
        let me = app.register("olga").await;
        let them = app.register("pete").await;
        let witness = app.register("quin").await;
        app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": them.user.id})).await;
        let _socket = app.ws(&them.access_token).await;
        // The witness shares a chat with them, so it can tell when the socket counts.
        let shared = app.direct(&witness.access_token, them.user.id).await;
        until_online(&app, &witness.access_token, shared.id, "pete").await;
        assert_eq!(contact(&app, &me.access_token, "pete").await.online, None, "no shared conversation: no presence");
        app.direct(&me.access_token, them.user.id).await;
        assert_eq!(contact(&app, &me.access_token, "pete").await.online, Some(true));
    }

    async fn hostile_presence_never_crosses_a_block_either_way(app) {
        let me = app.register("rita").await;
        let them = app.register("sam").await;
        let third = app.register("tess").await;
        let group = app.group(&third.access_token, "shared", &[me.user.id, them.user.id]).await;
        app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": them.user.id})).await;
        let _theirs = app.ws(&them.access_token).await;
        let _mine = app.ws(&me.access_token).await;
        until_online(&app, &me.access_token, group.id, "sam").await;
        until_online(&app, &them.access_token, group.id, "rita").await;
        app.request(Method::PUT, &format!("/api/users/me/blocks/{}", them.user.id), Some(&me.access_token), None).await;
        assert_eq!(member(&app, &me.access_token, group.id, "sam").await.online, None);
        assert_eq!(contact(&app, &me.access_token, "sam").await.online, None);
        assert_eq!(member(&app, &them.access_token, group.id, "rita").await.online, None, "the blocked side too");
        // Others in the group still see both, and each still sees themself.
        assert_eq!(member(&app, &third.access_token, group.id, "sam").await.online, Some(true));
        assert_eq!(member(&app, &third.access_token, group.id, "rita").await.online, Some(true));
        assert_eq!(member(&app, &me.access_token, group.id, "rita").await.online, Some(true));
        assert_eq!(member(&app, &me.access_token, group.id, "tess").await.online, Some(false));
    }
}
