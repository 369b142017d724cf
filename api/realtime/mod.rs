//! Live delivery: who is connected here (the hub), the bounded mailboxes that feed the socket actors (`ws`
//! owns the actors), and the events that come in from other instances through the broker.
//!
//! Membership is the single truth for routing. Every change of a conversation's membership (or metadata) bumps
//! its version in the same transaction, and every conversation event is stamped with the version its publisher
//! acted under. An instance routes a conversation by the membership of some version; an event stamped with a
//! newer one waits until that change has arrived (or been read from the database). So whatever the interleaving
//! of instances, nothing published after a removal reaches the removed member.

pub mod hub;
pub(crate) mod mailbox;
pub(crate) mod ordering;
pub(crate) mod quota;
pub(crate) mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::broker::Broker;
pub use crate::broker::{Delivery, Envelope, FrameEvent, MembershipEvent, Payload, Route};
use crate::db::conversations::ConversationState;
use crate::ids::{ConversationId, Seq, SessionId, UserId};
use crate::protocol::ServerFrame;
pub use hub::{Hub, KillSwitch};

/// Publishes events: to local sockets through the hub at once, and to other instances through the broker.
#[derive(Clone)]
pub struct Realtime {
    pub instance_id: u64,
    pub hub: Arc<Hub>,
    pub broker: Arc<dyn Broker>,
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

impl Realtime {
    pub fn new(hub: Arc<Hub>, broker: Arc<dyn Broker>, instance_id: u64) -> Self {
        Realtime { instance_id, hub, broker }
    }

    /// A socket id unique across instances: the instance id in the high bits.
    pub fn next_socket_id(&self) -> u64 {
        (self.instance_id << 32) | (NEXT_SESSION.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff)
    }

    pub fn publish(&self, route: Route, payload: Payload) {
        let envelope = Envelope { origin: self.instance_id, route, payload };
        self.hub.dispatch(&envelope);
        self.broker.publish(envelope);
    }

    /// A stored message's fan-out, timed from `stored_at` to each socket write.
    pub fn message(
        &self,
        frame: &ServerFrame,
        conversation_id: ConversationId,
        seq: Seq,
        version: i64,
        skip_session: Option<u64>,
        stored_at: std::time::Instant,
    ) {
        let event = FrameEvent {
            json: to_json(frame),
            stored_at: Some(stored_at),
            seq: Some(seq),
            version,
            delivery: Delivery::Reliable,
            skip_session,
            skip_users: Vec::new(),
        };
        self.publish(Route::Conversation(conversation_id), Payload::Frame(event));
    }

    /// A frame for the members of a conversation, as of membership `version`.
    pub fn to_conversation(
        &self,
        conversation_id: ConversationId,
        version: i64,
        frame: &ServerFrame,
        delivery: Delivery,
        skip_session: Option<u64>,
        skip_users: Vec<UserId>,
    ) {
        let event = FrameEvent {
            json: to_json(frame),
            stored_at: None,
            seq: None,
            version,
            delivery,
            skip_session,
            skip_users,
        };
        self.publish(Route::Conversation(conversation_id), Payload::Frame(event));
    }

    /// A frame for named users' sockets.
    pub fn to_users(&self, users: Vec<UserId>, frame: &ServerFrame, delivery: Delivery) {
        let event = FrameEvent {
            json: to_json(frame),
            stored_at: None,
            seq: None,
            version: 0,
            delivery,
            skip_session: None,
            skip_users: Vec::new(),
        };
        self.publish(Route::Users(users), Payload::Frame(event));
    }

    /// A committed membership or metadata change. It goes to the instances that watch the conversation, and to
    /// those where someone it adds or takes out has a socket (which may not watch it yet, or still be reading
    /// their memberships); an instance that gets it twice applies it once.
    pub fn membership(&self, event: MembershipEvent, joined: &[UserId]) {
        let mut users: Vec<UserId> = joined.iter().chain(event.left.iter()).copied().collect();
        users.sort_unstable();
        users.dedup();
        let conversation_id = event.conversation_id;
        if !users.is_empty() {
            self.publish(Route::Users(users), Payload::Membership(event.clone()));
        }
        self.publish(Route::Conversation(conversation_id), Payload::Membership(event));
    }

    /// Sessions of `user_id` were revoked just now (logout, password change, reuse of a refresh token, the
    /// per-user cap…): their access tokens are refused from here on, and every instance closes their sockets
    /// (4001) at once. Every place that revokes calls this. Instances that miss the broadcast still learn it from
    /// the database within a second (`auth::revocations::spawn_poller`).
    pub fn sessions_revoked(&self, user_id: UserId, sessions: &[SessionId]) {
        if sessions.is_empty() {
            return;
        }
        tracing::debug!(user_id = user_id.get(), sessions = sessions.len(), "sessions revoked");
        // Dispatched here first: the hub records them with this instance's access-token check at once.
        self.publish(Route::Everyone, Payload::Revoked { user_id, sessions: sessions.to_vec() });
    }

    /// Which of these users have a socket open on any instance.
    pub async fn online_among(&self, user_ids: Vec<UserId>) -> std::collections::HashSet<UserId> {
        let local: std::collections::HashSet<UserId> =
            user_ids.iter().copied().filter(|&id| self.hub.is_online_here(id)).collect();
        match self.broker.online_among(user_ids).await {
            Some(anywhere) => anywhere.union(&local).copied().collect(),
            None => local,
        }
    }
}

/// Hand other instances' envelopes (from the broker) to the hub, as long as the broker sends them.
pub fn spawn_inbound(hub: Arc<Hub>, mut inbound: tokio::sync::mpsc::Receiver<Envelope>) {
    tokio::spawn(async move {
        while let Some(envelope) = inbound.recv().await {
            hub.dispatch(&envelope);
        }
    });
}

/// Keep this instance's users counted as online across instances (claims that are not renewed expire, so an
/// instance that dies stops counting).
pub fn spawn_presence_renewal(hub: &Arc<Hub>, broker: Arc<dyn Broker>) {
    let Some(every) = broker.presence_renewal() else { return };
    let hub = Arc::downgrade(hub);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(hub) = hub.upgrade() else { return };
            let users = hub.local_users();
            drop(hub);
            broker.renew_presence(users).await;
        }
    });
}

pub fn to_json(frame: &ServerFrame) -> String {
    // Serialising our own plain data types cannot fail; an empty object would at worst be ignored by clients.
    serde_json::to_string(frame).unwrap_or_else(|_| "{}".to_owned())
}

/// A conversation's membership as read from the database, as the event that would carry it.
pub fn membership_of(state: ConversationState) -> MembershipEvent {
    MembershipEvent {
        conversation_id: state.id,
        version: state.version,
        last_seq: state.last_seq,
        members: state.members.iter().map(|m| (m.user_id, m.last_read_seq)).collect(),
        left: Vec::new(),
        timeline_seq: None,
        view: String::new(),
    }
}
