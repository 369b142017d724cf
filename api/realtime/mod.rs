//! Live delivery: who is connected here (the hub), how events travel between instances (the broker), and
//! the socket actors themselves (session).
//!
//! Membership is the single truth for routing. Every change of a conversation's membership (or metadata) bumps
//! its version in the same transaction, and every conversation event is stamped with the version its publisher
//! acted under. An instance routes a conversation by the membership of some version; an event stamped with a
//! newer one waits until that change has arrived (or been read from the database). So whatever the interleaving
//! of instances, nothing published after a removal reaches the removed member.

pub mod hub;
pub mod mailbox;
pub mod quota;
pub mod session;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::broker::{Broker, Topic};
use crate::db::conversations::MemberState;
use crate::protocol::ServerFrame;
pub use hub::{Hub, KillSwitch};
pub use mailbox::Delivery;

/// Where an event goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Route {
    /// The members of a conversation (as the receiving instance's routing has them).
    Conversation(i64),
    /// Named users.
    Users(Vec<i64>),
    /// Every instance (session revocations).
    Everyone,
}

/// A frame for sockets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameEvent {
    /// Serialised once, at the source, and shared by every socket.
    pub json: String,
    /// When the message was stored (for the fan-out latency metric); local only.
    #[serde(skip)]
    pub stored_at: Option<std::time::Instant>,
    /// A stored message's seq: the hub hands a conversation's messages out in seq order.
    #[serde(default)]
    pub seq: Option<i64>,
    /// The conversation's membership version the publisher acted under; 0 when none applies.
    #[serde(default)]
    pub version: i64,
    pub delivery: Delivery,
    /// The socket that caused it (a sender gets an ack instead of its own message).
    #[serde(default)]
    pub skip_session: Option<u64>,
    /// Users who must not receive it (the reader of their own receipt; the other side of a block).
    #[serde(default)]
    pub skip_users: Vec<i64>,
}

/// A conversation's membership after a change: the whole list, so an instance that missed an earlier change
/// is still right after this one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipEvent {
    pub conversation_id: i64,
    pub version: i64,
    pub last_seq: i64,
    /// (user, last_read_seq) of every member.
    pub members: Vec<(i64, i64)>,
    /// Who this change took out: they get `removed`.
    pub left: Vec<i64>,
    /// The conversation as members see it without the viewer's own fields (`protocol::conversation_frame`
    /// completes it per member); empty when the change has no view to announce.
    pub view: String,
}

impl MembershipEvent {
    pub fn from_state(state: crate::db::conversations::ConversationState) -> Self {
        MembershipEvent {
            conversation_id: state.id,
            version: state.version,
            last_seq: state.last_seq,
            members: state.members.iter().map(|m: &MemberState| (m.user_id, m.last_read_seq)).collect(),
            left: Vec::new(),
            view: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Payload {
    Frame(FrameEvent),
    Membership(MembershipEvent),
    /// These sessions of the user were ended: their sockets close (4001) and their tokens are refused.
    Revoked {
        user_id: i64,
        sessions: Vec<i64>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The instance that published it (so it does not deliver its own events twice).
    pub origin: u64,
    pub route: Route,
    pub payload: Payload,
}

/// The envelope's fields without the frame text, which travels after it unescaped.
#[derive(Serialize, Deserialize)]
struct WireHeader {
    origin: u64,
    route: Route,
    /// The payload with its text emptied: the text follows the header's newline as it is.
    payload: Payload,
}

impl Payload {
    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Payload::Frame(frame) => Some(&mut frame.json),
            Payload::Membership(event) => Some(&mut event.view),
            Payload::Revoked { .. } => None,
        }
    }
}

impl Envelope {
    /// Encoded for the broker as a JSON header line followed by the frame text: the frame, already JSON,
    /// is not escaped into a string a second time (it is most of the bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = self.payload.clone();
        let text = payload.text_mut().map(std::mem::take).unwrap_or_default();
        let header = WireHeader { origin: self.origin, route: self.route.clone(), payload };
        let mut bytes = serde_json::to_vec(&header).unwrap_or_default();
        bytes.push(b'\n');
        bytes.extend_from_slice(text.as_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Envelope> {
        let split = bytes.iter().position(|&b| b == b'\n')?;
        let header: WireHeader = serde_json::from_slice(&bytes[..split]).ok()?;
        let text = std::str::from_utf8(&bytes[split + 1..]).ok()?.to_owned();
        let mut payload = header.payload;
        if let Some(slot) = payload.text_mut() {
            *slot = text;
        }
        Some(Envelope { origin: header.origin, route: header.route, payload })
    }

    pub fn topics(&self) -> Vec<Topic> {
        match &self.route {
            Route::Conversation(id) => vec![Topic::Conversation(*id)],
            Route::Users(ids) => ids.iter().map(|id| Topic::User(*id)).collect(),
            Route::Everyone => vec![Topic::Everyone],
        }
    }
}

/// Publishes events: to local sockets through the hub at once, and to other instances through the broker.
#[derive(Clone)]
pub struct Realtime {
    pub instance_id: u64,
    pub hub: Arc<Hub>,
    pub broker: Arc<dyn Broker>,
    /// Revoked sessions, shared with the access-token check.
    pub revocations: Arc<crate::auth::Revocations>,
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

impl Realtime {
    pub fn new(
        hub: Arc<Hub>,
        broker: Arc<dyn Broker>,
        instance_id: u64,
        revocations: Arc<crate::auth::Revocations>,
    ) -> Self {
        Realtime { instance_id, hub, broker, revocations }
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
        conversation_id: i64,
        seq: i64,
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
        conversation_id: i64,
        version: i64,
        frame: &ServerFrame,
        delivery: Delivery,
        skip_session: Option<u64>,
        skip_users: Vec<i64>,
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
    pub fn to_users(&self, users: Vec<i64>, frame: &ServerFrame, delivery: Delivery) {
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
    pub fn membership(&self, event: MembershipEvent, joined: &[i64]) {
        let mut users: Vec<i64> = joined.iter().chain(event.left.iter()).copied().collect();
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
    pub fn sessions_revoked(&self, user_id: i64, sessions: &[i64]) {
        if sessions.is_empty() {
            return;
        }
        tracing::debug!(user_id, sessions = sessions.len(), "sessions revoked");
        self.revocations.record(sessions, crate::db::now());
        self.publish(Route::Everyone, Payload::Revoked { user_id, sessions: sessions.to_vec() });
    }

    /// Which of these users have a socket open on any instance.
    pub async fn online_among(&self, user_ids: Vec<i64>) -> std::collections::HashSet<i64> {
        let local: std::collections::HashSet<i64> =
            user_ids.iter().copied().filter(|&id| self.hub.is_online_here(id)).collect();
        match self.broker.online_among(user_ids).await {
            Some(anywhere) => anywhere.union(&local).copied().collect(),
            None => local,
        }
    }
}

pub fn to_json(frame: &ServerFrame) -> String {
    // Serialising our own plain data types cannot fail; an empty object would at worst be ignored by clients.
    serde_json::to_string(frame).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_survives_the_broker_encoding_with_its_frame_unescaped() {
        let json = r#"{"type":"message","message":{"body":"a \"quote\"\nand a newline"}}"#.to_owned();
        let envelope = Envelope {
            origin: 7,
            route: Route::Conversation(3),
            payload: Payload::Frame(FrameEvent {
                json: json.clone(),
                stored_at: None,
                seq: Some(12),
                version: 4,
                delivery: Delivery::Reliable,
                skip_session: Some(9),
                skip_users: vec![5],
            }),
        };
        let bytes = envelope.encode();
        assert!(bytes.ends_with(json.as_bytes()), "the frame travels as it is");
        let back = Envelope::decode(&bytes).expect("decodes");
        assert_eq!(back.origin, 7);
        assert_eq!(back.route, Route::Conversation(3));
        match back.payload {
            Payload::Frame(frame) => {
                assert_eq!(
                    (frame.json, frame.seq, frame.version, frame.skip_session, frame.skip_users),
                    (json, Some(12), 4, Some(9), vec![5])
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_membership_event_carries_its_view_after_the_header() {
        let event = MembershipEvent {
            conversation_id: 3,
            version: 8,
            last_seq: 20,
            members: vec![(1, 20), (2, 15)],
            left: vec![9],
            view: r#"{"id":3,"title":"a \"b\""#.into(),
        };
        let envelope = Envelope { origin: 1, route: Route::Users(vec![9]), payload: Payload::Membership(event) };
        match Envelope::decode(&envelope.encode()).expect("decodes").payload {
            Payload::Membership(back) => {
                assert_eq!((back.version, back.members, back.left), (8, vec![(1, 20), (2, 15)], vec![9]));
                assert_eq!(back.view, r#"{"id":3,"title":"a \"b\""#);
            }
            other => panic!("{other:?}"),
        }
    }
}
