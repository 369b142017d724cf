//! How events reach other instances. One trait; the in-process broker (one instance, nothing to carry) and
//! the Redis broker (pub/sub, one channel per conversation and per user). The socket code never knows which.

pub mod envelope;
pub mod local;
pub mod redis;

pub use envelope::{Delivery, Envelope, FrameEvent, MembershipEvent, Payload, Route};

use std::collections::HashSet;

use crate::ids::{ConversationId, UserId};
use futures_util::future::BoxFuture;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    User(UserId),
    /// Every instance listens (session revocations).
    Everyone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerState {
    /// In-process: nothing to connect to.
    Local,
    Connected,
    /// Lost; local delivery goes on while it reconnects.
    Reconnecting,
}

impl BrokerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokerState::Local => "local",
            BrokerState::Connected => "connected",
            BrokerState::Reconnecting => "reconnecting",
        }
    }
}

pub trait Broker: Send + Sync + 'static {
    /// Carry an envelope to the other instances that watch its topics (local delivery is the hub's job).
    fn publish(&self, envelope: Envelope);
    /// This instance now has a socket that needs the topic's events.
    fn subscribe(&self, topic: Topic);
    fn unsubscribe(&self, topic: Topic);
    /// Resolves once every subscription asked for so far is in effect (or the broker is away), so a socket
    /// that waited for it receives everything published from then on.
    fn settle(&self) -> BoxFuture<'static, ()>;
    fn state(&self) -> BrokerState;
    /// Count a user's sockets across instances up or down; the new total, or None when only this instance
    /// counts (in-process).
    fn presence_delta(&self, user_id: UserId, delta: i64) -> BoxFuture<'static, Option<i64>>;
    /// Which of these users have a socket on any instance; None when only this instance counts.
    fn online_among(&self, user_ids: Vec<UserId>) -> BoxFuture<'static, Option<HashSet<UserId>>>;
    /// Times the broker reconnected since start.
    fn reconnects(&self) -> u64 {
        0
    }
    /// How often the presence claims of this instance's users must be renewed (None: they never expire).
    fn presence_renewal(&self) -> Option<std::time::Duration> {
        None
    }
    /// Renew the presence claims of these users (those with a socket on this instance).
    fn renew_presence(&self, _users: Vec<UserId>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}
