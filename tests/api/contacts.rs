use chat_server::protocol::{ContactList, User};
use reqwest::StatusCode;
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn contacts_are_added_once_listed_and_removed(app) {
        let me = app.register("uma").await;
        let friend = app.register("una").await;
        let add = app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": friend.user.id})).await;
        assert_eq!(add.status, StatusCode::CREATED);
        assert_eq!(add.json::<User>().username, "una");
        let again = app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": friend.user.id})).await;
        assert_eq!(again.status, StatusCode::OK);
        let list: ContactList = app.get("/api/contacts", &me.access_token).await.json();
        assert_eq!(list.contacts.iter().map(|u| u.id).collect::<Vec<_>>(), [friend.user.id]);
        // Presence only for people who share a conversation: adding a contact does not let you watch them.
        assert_eq!(list.contacts[0].online, None);
        // Contacts are one-way: the friend's list is untouched.
        let theirs: ContactList = app.get("/api/contacts", &friend.access_token).await.json();
        assert!(theirs.contacts.is_empty());
        let remove = app.delete(&format!("/api/contacts/{}", friend.user.id), &me.access_token).await;
        assert_eq!(remove.status, StatusCode::NO_CONTENT);
        let gone = app.delete(&format!("/api/contacts/{}", friend.user.id), &me.access_token).await;
        assert_eq!(gone.error_code(404), "not_found");
    }

    async fn a_contact_must_be_another_existing_user(app) {
        let me = app.register("vic").await;
        let myself = app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": me.user.id})).await;
        assert_eq!(myself.error_code(422), "validation_failed");
        let ghost = app.post("/api/contacts", Some(&me.access_token), &json!({"user_id": 55555})).await;
        assert_eq!(ghost.error_code(422), "validation_failed");
        let not_a_number = app.delete("/api/contacts/abc", &me.access_token).await;
        assert_eq!(not_a_number.error_code(404), "not_found");
    }
}
