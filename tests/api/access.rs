//! Who may touch what: every conversation route × every kind of caller.

use reqwest::Method;
use serde_json::{Value, json};

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;
use crate::tokens::bad_tokens;

struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Status for an ordinary member (not owner/admin, not the message's sender).
    member: u16,
}

fn routes(conversation: i64, owner_id: i64, stranger_id: i64) -> Vec<Route> {
    let c = conversation;
    let r = |method: Method, path: String, body: Option<Value>, member: u16| Route { method, path, body, member };
    vec![
        r(Method::GET, format!("/api/conversations/{c}"), None, 200),
        r(Method::PATCH, format!("/api/conversations/{c}"), Some(json!({"title": "t"})), 403),
        r(Method::POST, format!("/api/conversations/{c}/members"), Some(json!({"user_id": stranger_id})), 403),
        r(Method::DELETE, format!("/api/conversations/{c}/members/{owner_id}"), None, 403),
        r(Method::POST, format!("/api/conversations/{c}/read"), Some(json!({"up_to_seq": 1})), 200),
        r(Method::GET, format!("/api/conversations/{c}/messages"), None, 200),
        r(
            Method::POST,
            format!("/api/conversations/{c}/messages"),
            Some(json!({"body": "b", "client_id": "matrix"})),
            201,
        ),
        r(Method::PATCH, format!("/api/conversations/{c}/messages/2"), Some(json!({"body": "x"})), 403),
        r(Method::DELETE, format!("/api/conversations/{c}/messages/2"), None, 403),
    ]
}

on_both_backends! {
    async fn every_conversation_route_answers_each_kind_of_caller_as_specified(app) {
        let owner = app.register("owner").await;
        let member = app.register("member").await;
        let removed = app.register("removed").await;
        let stranger = app.register("stranger").await;
        let group = app.group(&owner.access_token, "private", &[member.user.id, removed.user.id]).await;
        app.send(&owner.access_token, group.id, "secret").await;
        let kick = app.delete(&format!("/api/conversations/{}/members/{}", group.id, removed.user.id), &owner.access_token).await;
        assert_eq!(kick.status.as_u16(), 204);

        // What a conversation that does not exist answers: strangers must get exactly this.
        let absent = app.get("/api/conversations/987654", &stranger.access_token).await;
        assert_eq!(absent.error_code(404), "not_found");

        for route in routes(group.id, owner.user.id, stranger.user.id) {
            let call = |token: Option<String>| {
                let (method, path, body) = (route.method.clone(), route.path.clone(), route.body.clone());
                let app = &app;
                async move { app.request(method, &path, token.as_deref(), body.as_ref()).await }
            };
            let label = format!("{} {}", route.method, route.path);
            for (who, token) in [("stranger", &stranger.access_token), ("removed member", &removed.access_token)] {
                let reply = call(Some(token.clone())).await;
                assert_eq!(reply.status.as_u16(), 404, "{who}: {label}: {}", reply.body);
                assert_eq!(reply.error_body(), absent.error_body(), "{who}: {label}: no existence leak");
            }
            for (case, token) in bad_tokens(member.user.id) {
                let reply = call(token).await;
                assert_eq!(reply.status.as_u16(), 401, "{case}: {label}");
                assert!(reply.body["error"]["code"].is_string(), "{case}: {label}");
            }
            let reply = call(Some(member.access_token.clone())).await;
            assert_eq!(reply.status.as_u16(), route.member, "member: {label}: {}", reply.body);
            if route.member == 403 {
                assert_eq!(reply.error_code(403), "forbidden");
            }
        }

        // Nothing the refused callers tried changed the conversation.
        let after: chat_server::protocol::Conversation =
            app.get(&format!("/api/conversations/{}", group.id), &owner.access_token).await.json();
        assert_eq!(after.title.as_deref(), Some("private"));
        assert_eq!(after.members.len(), 2);
        let page = app.history(&owner.access_token, group.id, "").await;
        let said: Vec<&str> = page.messages.iter().filter(|m| m.event.is_none()).map(|m| m.body.as_str()).collect();
        assert_eq!(said.len(), 2, "only the member's send was stored: {said:?}");
        assert_eq!(said[0], "secret");
    }

    async fn every_other_authenticated_route_refuses_bad_tokens(app) {
        let someone = app.register("someone").await;
        let routes = [
            (Method::GET, "/api/users/me", None),
            (Method::GET, "/api/users?query=so", None),
            (Method::GET, "/api/contacts", None),
            (Method::POST, "/api/contacts", Some(json!({"user_id": someone.user.id}))),
            (Method::DELETE, "/api/contacts/1", None),
            (Method::GET, "/api/conversations", None),
            (Method::POST, "/api/conversations", Some(json!({"kind": "group", "title": "t"}))),
            (Method::POST, "/api/auth/logout", Some(json!({"refresh_token": someone.refresh_token}))),
            (Method::POST, "/api/auth/logout", None),
            (Method::POST, "/api/auth/logout-all", None),
            (Method::GET, "/api/auth/sessions", None),
            (Method::DELETE, "/api/auth/sessions/1", None),
            (Method::POST, "/api/ws-ticket", None),
            (Method::POST, "/api/users/me/password",
                Some(json!({"current_password": "password-someone", "new_password": "a new password"}))),
            (Method::GET, "/api/users/me/blocks", None),
            (Method::PUT, "/api/users/me/blocks/1", None),
            (Method::DELETE, "/api/users/me/blocks/1", None),
        ];
        for (method, path, body) in routes {
            for (case, token) in bad_tokens(someone.user.id) {
                let reply = app.request(method.clone(), path, token.as_deref(), body.as_ref()).await;
                assert_eq!(reply.status.as_u16(), 401, "{case}: {method} {path}");
            }
        }
        // None of it ended the session or changed the password.
        assert_eq!(app.get("/api/users/me", &someone.access_token).await.status.as_u16(), 200);
        assert_eq!(app.login_with("someone", "password-someone", &[]).await.status.as_u16(), 200);
    }

    async fn the_owner_may_do_what_a_member_may_not(app) {
        let owner = app.register("boss").await;
        let member = app.register("staff").await;
        let extra = app.register("extra").await;
        let group = app.group(&owner.access_token, "g", &[member.user.id]).await;
        app.send(&owner.access_token, group.id, "mine").await;
        for route in routes(group.id, owner.user.id, extra.user.id) {
            if route.member != 403 || route.method == Method::DELETE && route.path.contains("/members/") {
                continue;
            }
            let reply = app.request(route.method.clone(), &route.path, Some(&owner.access_token), route.body.as_ref()).await;
            assert!(reply.status.is_success(), "owner: {} {}: {}", route.method, route.path, reply.body);
        }
    }
}
