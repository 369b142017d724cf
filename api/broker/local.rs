//! The in-process broker of the embedded default: with one instance there is nothing to carry.

use std::collections::HashSet;

use futures_util::future::{BoxFuture, FutureExt, ready};

use super::Envelope;
use super::{Broker, BrokerState, Topic};
use crate::ids::UserId;

/// The embedded default: one instance, so the hub's local delivery is all the delivery there is.
pub struct LocalBroker;

impl Broker for LocalBroker {
    fn publish(&self, _envelope: Envelope) {}

    fn subscribe(&self, _topic: Topic) {}

    fn unsubscribe(&self, _topic: Topic) {}

    fn settle(&self) -> BoxFuture<'static, ()> {
        ready(()).boxed()
    }

    fn state(&self) -> BrokerState {
        BrokerState::Local
    }

    fn presence_delta(&self, _user_id: UserId, _delta: i64) -> BoxFuture<'static, Option<i64>> {
        ready(None).boxed()
    }

    fn online_among(&self, _user_ids: Vec<UserId>) -> BoxFuture<'static, Option<HashSet<UserId>>> {
        ready(None).boxed()
    }
}
