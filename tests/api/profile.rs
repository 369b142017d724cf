//! The profile: a display name changed live for the people who share a conversation; "last seen" under the
//! presence rules; people found by any part of their username or display name.

use std::time::Duration;

use chat_server::protocol::{ContactList, Conversation, ServerFrame, User, UserList};
use reqwest::StatusCode;
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

impl TestApp {
    pub async fn rename_me(&self, token: &str, display_name: &str) -> Reply {
        self.patch("/api/users/me", token, &json!({"display_name": display_name})).await
    }

    pub async fn find_people(&self, token: &str, query: &str) -> Vec<String> {
        let url = reqwest::Url::parse_with_params("http://x/api/users", &[("query", query)]).expect("url");
        let reply = self.get(&format!("/api/users?{}", url.query().unwrap_or_default()), token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json::<UserList>().users.into_iter().map(|u| u.username).collect()
    }
}

on_both_backends! {
    async fn a_new_display_name_reaches_people_who_share_a_conversation_live_and_shows_in_history(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        app.send(&ann.access_token, group.id, "hello").await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        let mut ann_other_tab = app.ws(&ann.access_token).await;
        let reply = app.rename_me(&ann.access_token, "  Ann Smith ").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json::<User>().display_name, "Ann Smith");
        for socket in [&mut bob_socket, &mut ann_other_tab] {
            let live = socket.expect("the user frame", |f| match f {
                ServerFrame::User { user } => Some(user.clone()),
                _ => None,
            }).await;
            assert_eq!((live.id, live.display_name.as_str()), (ann.user.id, "Ann Smith"));
        }
        let page = app.history(&bob.access_token, group.id, "").await;
        assert_eq!(page.messages[0].sender_name, "Ann Smith", "history shows the current name");
        let me: User = app.get("/api/users/me", &ann.access_token).await.json();
        assert_eq!(me.display_name, "Ann Smith");
    }

    async fn a_quote_names_its_original_sender_as_they_are_called_now(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let original = app.send(&ann.access_token, group.id, "the plan").await;
        let reply = app.post(&format!("/api/conversations/{}/messages", group.id), Some(&bob.access_token),
            &json!({"body": "agreed", "client_id": "q1", "reply_to_seq": original.seq})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(app.rename_me(&ann.access_token, "Ann Smith").await.status, StatusCode::OK);
        let page = app.history(&bob.access_token, group.id, "").await;
        let quote = page.messages.iter().find_map(|m| m.reply_to.as_ref()).expect("the quote");
        assert_eq!(quote.sender_name, "Ann Smith");
        let found: chat_server::protocol::SearchPage = app.get("/api/search?q=agreed", &bob.access_token).await.json();
        assert_eq!(found.results[0].message.reply_to.as_ref().map(|q| q.sender_name.as_str()), Some("Ann Smith"));
    }

    async fn hostile_a_stranger_is_not_told_of_a_rename(app) {
        let ann = app.register("ann").await;
        let eve = app.register("eve").await;
        let mut eve_socket = app.ws(&eve.access_token).await;
        assert_eq!(app.rename_me(&ann.access_token, "Ann").await.status, StatusCode::OK);
        eve_socket.expect_none(Duration::from_millis(300), "a user frame", |f| matches!(f, ServerFrame::User { .. })).await;
    }

    async fn hostile_bad_display_names_are_refused_and_change_nothing(app) {
        let ann = app.register("ann").await;
        let long = "x".repeat(65);
        for bad in ["", "   ", long.as_str(), "two\nlines", "tab\there", "bell\u{7}", "nul\0"] {
            let reply = app.rename_me(&ann.access_token, bad).await;
            assert_eq!(reply.error_code(422), "validation_failed", "{bad:?}");
            assert_eq!(reply.body["error"]["field"], "display_name", "{bad:?}");
        }
        let missing = app.patch("/api/users/me", &ann.access_token, &json!({})).await;
        assert_eq!(missing.status.as_u16(), 422, "{}", missing.body);
        let anonymous = app.request(reqwest::Method::PATCH, "/api/users/me", None, Some(&json!({"display_name": "x"}))).await;
        assert_eq!(anonymous.error_code(401), "unauthorized");
        let me: User = app.get("/api/users/me", &ann.access_token).await.json();
        assert_eq!(me.display_name, "ann");
        assert_eq!(app.rename_me(&ann.access_token, &"é".repeat(64)).await.status, StatusCode::OK, "64 characters, not bytes");
    }

    async fn hostile_renaming_a_hundred_times_keeps_the_last_name(app) {
        let ann = app.register("ann").await;
        for i in 0..100 {
            assert_eq!(app.rename_me(&ann.access_token, &format!("Ann {i}")).await.status, StatusCode::OK);
        }
        let me: User = app.get("/api/users/me", &ann.access_token).await.json();
        assert_eq!(me.display_name, "Ann 99");
    }

    async fn last_seen_is_when_the_last_socket_closed_and_only_for_people_who_share_a_conversation(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        app.post("/api/contacts", Some(&eve.access_token), &json!({"user_id": bob.user.id})).await;
        let mut ann_socket = app.ws(&ann.access_token).await;
        let bob_socket = app.ws(&bob.access_token).await;
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        drop(bob_socket);
        let seen = ann_socket.expect("bob offline", |f| match f {
            ServerFrame::Presence { user_id, online: false, last_seen_at } if *user_id == bob.user.id => Some(*last_seen_at),
            _ => None,
        }).await;
        let seen = seen.expect("last_seen_at in the presence frame");
        assert!(seen >= before && seen <= chrono::Utc::now(), "{seen}");
        let conversation: Conversation = app.get(&format!("/api/conversations/{}", group.id), &ann.access_token).await.json();
        let member = conversation.members.iter().find(|m| m.user.id == bob.user.id).expect("bob");
        assert_eq!((member.user.online, member.user.last_seen_at), (Some(false), Some(seen)));
        let contacts: ContactList = app.get("/api/contacts", &eve.access_token).await.json();
        let bob_for_eve = contacts.contacts.iter().find(|u| u.id == bob.user.id).expect("contact");
        assert_eq!((bob_for_eve.online, bob_for_eve.last_seen_at), (None, None), "a contact alone does not see presence");
        let found = app.get("/api/users?query=bob", &eve.access_token).await;
        assert!(!found.body.to_string().contains("last_seen_at"), "{}", found.body);
    }

    async fn people_are_found_by_any_part_of_their_username_or_display_name_best_match_first(app) {
        let me = app.register("searcher").await;
        for (username, display) in [("bob", "Robert Smith"), ("bobby", "B"), ("jimbob", "Jim"), ("rob", "Rob Jones"), ("carol", "Carol Robson")] {
            let user = app.register(username).await;
            assert_eq!(app.rename_me(&user.access_token, display).await.status, StatusCode::OK);
        }
        assert_eq!(app.find_people(&me.access_token, "bob").await, ["bob", "bobby", "jimbob"]);
        assert_eq!(app.find_people(&me.access_token, "ROB").await, ["rob", "bob", "carol"], "username, then word starts, alphabetically");
        assert_eq!(app.find_people(&me.access_token, "smith").await, ["bob"]);
        assert_eq!(app.find_people(&me.access_token, "ob").await, ["bob", "bobby", "carol", "jimbob", "rob"]);
        assert!(app.find_people(&me.access_token, "%").await.is_empty(), "wildcards are literal");
        assert!(app.find_people(&me.access_token, "searcher").await.is_empty(), "never the caller");
    }
}
