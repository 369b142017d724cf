//! A registered user bound to the app they live on, so a test reads as what people do:
//! `let alice = app.user("alice").await; let chat = alice.direct_with(&bob).await; alice.send(chat.id, "hi")`.
//! It derefs to the `Session`, so `alice.user.id` and `alice.access_token` still work.

use std::ops::Deref;

use chat_server::protocol::{Conversation, Message, MessagePage, Session};

use crate::helpers::{Reply, TestApp};
use crate::ws_client::WsClient;

pub struct TestUser<'a> {
    pub app: &'a TestApp,
    pub session: Session,
}

impl Deref for TestUser<'_> {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl TestApp {
    /// Registers `name` (password `password-<name>`).
    pub async fn user(&self, name: &str) -> TestUser<'_> {
        TestUser { app: self, session: self.register(name).await }
    }
}

impl TestUser<'_> {
    pub fn id(&self) -> i64 {
        self.session.user.id
    }

    pub fn token(&self) -> &str {
        &self.session.access_token
    }

    /// A socket on the user's own instance.
    pub async fn socket(&self) -> WsClient {
        self.app.ws(self.token()).await
    }

    /// A socket on another instance of the same deployment.
    pub async fn socket_on(&self, instance: &TestApp) -> WsClient {
        instance.ws(self.token()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.app.get(path, self.token()).await
    }

    pub async fn direct_with(&self, other: &TestUser<'_>) -> Conversation {
        self.app.direct(self.token(), other.id()).await
    }

    pub async fn group(&self, title: &str, members: &[&TestUser<'_>]) -> Conversation {
        let ids: Vec<i64> = members.iter().map(|member| member.id()).collect();
        self.app.group(self.token(), title, &ids).await
    }

    /// Sends over REST with a fresh client id and returns the stored message.
    pub async fn send(&self, conversation: i64, body: &str) -> Message {
        self.app.send(self.token(), conversation, body).await
    }

    pub async fn history(&self, conversation: i64, query: &str) -> MessagePage {
        self.app.history(self.token(), conversation, query).await
    }
}
