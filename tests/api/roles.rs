//! Roles: the owner promotes, demotes and hands over; admins manage members and pins; members chat. Every rule as
//! a matrix of owner / admin / member / non-member × action, each cell on a fresh group.

use chat_server::protocol::{Conversation, Role, ServerFrame, Session};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[allow(unused_imports)]
use crate::helpers::*;
use crate::on_both_backends;

#[derive(Debug, Clone, Copy)]
enum Action {
    Rename,
    AddMember,
    RemoveMember,
    RemoveAdmin,
    Promote,
    Demote,
    HandOver,
    Pin,
    Unpin,
    ListPins,
    Send,
    Reply,
    React,
    EditOthers,
    DeleteOthers,
}

/// A group with an owner, an admin, a member, a second member and a second admin (the targets), a pinned
/// message of the second member's, and the people acting on it.
struct Cast {
    owner: Session,
    admin: Session,
    member: Session,
    stranger: Session,
    target_member: Session,
    target_admin: Session,
    newcomer: Session,
}

impl TestApp {
    async fn set_role(&self, token: &str, group: i64, user: i64, role: &str) -> Reply {
        self.patch(&format!("/api/conversations/{group}/members/{user}"), token, &json!({"role": role})).await
    }
}

async fn cast(app: &TestApp) -> Cast {
    Cast {
        owner: app.register("owner").await,
        admin: app.register("admin").await,
        member: app.register("member").await,
        stranger: app.register("stranger").await,
        target_member: app.register("target_m").await,
        target_admin: app.register("target_a").await,
        newcomer: app.register("newcomer").await,
    }
}

async fn stage(app: &TestApp, cast: &Cast) -> i64 {
    let members = [cast.admin.user.id, cast.member.user.id, cast.target_member.user.id, cast.target_admin.user.id];
    let group = app.group(&cast.owner.access_token, "stage", &members).await.id;
    for admin in [&cast.admin, &cast.target_admin] {
        assert_eq!(app.set_role(&cast.owner.access_token, group, admin.user.id, "admin").await.status, StatusCode::OK);
    }
    app.send(&cast.target_member.access_token, group, "a message").await;
    // Seq 1 is the created event; the message is seq 2.
    assert_eq!(app.pin(&cast.owner.access_token, group, 2, true).await.status, StatusCode::OK);
    group
}

async fn perform(app: &TestApp, cast: &Cast, group: i64, actor: &Session, action: Action) -> StatusCode {
    let token = actor.access_token.as_str();
    let reply = match action {
        Action::Rename => app.patch(&format!("/api/conversations/{group}"), token, &json!({"title": "new"})).await,
        Action::AddMember => {
            app.post(
                &format!("/api/conversations/{group}/members"),
                Some(token),
                &json!({"user_id": cast.newcomer.user.id}),
            )
            .await
        }
        Action::RemoveMember => {
            app.delete(&format!("/api/conversations/{group}/members/{}", cast.target_member.user.id), token).await
        }
        Action::RemoveAdmin => {
            app.delete(&format!("/api/conversations/{group}/members/{}", cast.target_admin.user.id), token).await
        }
        Action::Promote => app.set_role(token, group, cast.target_member.user.id, "admin").await,
        Action::Demote => app.set_role(token, group, cast.target_admin.user.id, "member").await,
        Action::HandOver => app.set_role(token, group, cast.target_member.user.id, "owner").await,
        Action::Pin => {
            // The stage has its message (seq 2) pinned: unpin it as the owner first, so that pinning is a change.
            app.pin(&cast.owner.access_token, group, 2, false).await;
            app.pin(token, group, 2, true).await
        }
        Action::Unpin => app.pin(token, group, 2, false).await,
        Action::ListPins => app.get(&format!("/api/conversations/{group}/pins"), token).await,
        Action::Send => {
            app.post(
                &format!("/api/conversations/{group}/messages"),
                Some(token),
                &json!({"body": "hi", "client_id": random_hex(6)}),
            )
            .await
        }
        Action::Reply => app.reply(token, group, 2, "re").await,
        Action::React => app.react(token, group, 2, "👍", true).await,
        Action::EditOthers => {
            app.patch(&format!("/api/conversations/{group}/messages/2"), token, &json!({"body": "mine now"})).await
        }
        Action::DeleteOthers => app.delete(&format!("/api/conversations/{group}/messages/2"), token).await,
    };
    reply.status
}

on_both_backends! {
    async fn every_role_may_do_exactly_what_its_row_of_the_matrix_says(app) {
        let cast = cast(&app).await;
        const OK: u16 = 200;
        const CREATED: u16 = 201;
        const GONE: u16 = 204;
        use Action::*;
        // owner, admin, member, non-member
        let matrix: [(Action, [u16; 4]); 15] = [
            (Rename, [OK, OK, 403, 404]),
            (AddMember, [OK, OK, 403, 404]),
            (RemoveMember, [GONE, GONE, 403, 404]),
            (RemoveAdmin, [GONE, 403, 403, 404]),
            (Promote, [OK, 403, 403, 404]),
            (Demote, [OK, 403, 403, 404]),
            (HandOver, [OK, 403, 403, 404]),
            (Pin, [OK, OK, 403, 404]),
            (Unpin, [GONE, GONE, 403, 404]),
            (ListPins, [OK, OK, OK, 404]),
            (Send, [CREATED, CREATED, CREATED, 404]),
            (Reply, [CREATED, CREATED, CREATED, 404]),
            (React, [OK, OK, OK, 404]),
            (EditOthers, [403, 403, 403, 404]),
            (DeleteOthers, [403, 403, 403, 404]),
        ];
        let actors = [&cast.owner, &cast.admin, &cast.member, &cast.stranger];
        let mut wrong = Vec::new();
        for (action, expected) in matrix {
            for (actor, want) in actors.iter().zip(expected) {
                let group = stage(&app, &cast).await;
                let got = perform(&app, &cast, group, actor, action).await;
                if got.as_u16() != want {
                    wrong.push(format!("{action:?} by {}: {got}, expected {want}", actor.user.username));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    async fn handing_over_makes_the_old_owner_an_admin_and_every_member_sees_it(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        let mut bob_socket = app.ws(&bob.access_token).await;
        let after: Conversation = app.set_role(&ann.access_token, group.id, bob.user.id, "owner").await.json();
        let role_of = |c: &Conversation, id: i64| c.members.iter().find(|m| m.user.id == id).map(|m| m.role);
        assert_eq!((role_of(&after, ann.user.id), role_of(&after, bob.user.id)), (Some(Role::Admin), Some(Role::Owner)));
        let live = bob_socket.expect("the conversation frame", |f| match f {
            ServerFrame::Conversation { conversation } => Some(conversation.clone()),
            _ => None,
        }).await;
        assert_eq!(role_of(&live, bob.user.id), Some(Role::Owner));
        // The new owner rules now; the old one does not.
        assert_eq!(app.set_role(&ann.access_token, group.id, bob.user.id, "member").await.error_code(403), "forbidden");
        assert_eq!(app.set_role(&bob.access_token, group.id, ann.user.id, "member").await.status, StatusCode::OK);
    }

    async fn hostile_roles_cannot_be_set_on_oneself_in_a_direct_chat_to_strangers_or_to_nonsense(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let eve = app.register("eve").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        assert_eq!(app.set_role(&ann.access_token, group.id, ann.user.id, "member").await.error_code(422), "validation_failed");
        assert_eq!(app.set_role(&ann.access_token, group.id, eve.user.id, "admin").await.error_code(404), "not_found");
        assert_eq!(app.set_role(&ann.access_token, group.id, bob.user.id, "superuser").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let chat = app.direct(&ann.access_token, bob.user.id).await;
        assert_eq!(app.set_role(&ann.access_token, chat.id, bob.user.id, "admin").await.error_code(422), "validation_failed");
        // Promoting someone who is already admin changes nothing and is not an error.
        app.set_role(&ann.access_token, group.id, bob.user.id, "admin").await;
        let again = app.request(Method::PATCH, &format!("/api/conversations/{}/members/{}", group.id, bob.user.id), Some(&ann.access_token), Some(&json!({"role": "admin"}))).await;
        assert_eq!(again.status, StatusCode::OK);
    }

    async fn hostile_a_demoted_admin_loses_pinning_at_once(app) {
        let ann = app.register("ann").await;
        let bob = app.register("bob").await;
        let group = app.group(&ann.access_token, "g", &[bob.user.id]).await;
        app.send(&ann.access_token, group.id, "x").await;
        app.set_role(&ann.access_token, group.id, bob.user.id, "admin").await;
        assert_eq!(app.pin(&bob.access_token, group.id, 2, true).await.status, StatusCode::OK);
        app.set_role(&ann.access_token, group.id, bob.user.id, "member").await;
        assert_eq!(app.pin(&bob.access_token, group.id, 2, false).await.error_code(403), "forbidden");
    }
}
