//! Live delivery: who is connected here (the hub), how events travel between instances (the broker), and
//! the socket actors themselves (session).

pub mod hub;
pub mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use crate::broker::{Broker, Topic};
use crate::protocol::ServerFrame;
pub use hub::{Hub, KillSwitch};

/// Where an event goes: every member of a conversation, or named users.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Route {
    Conversation(i64),
    Users(Vec<i64>),
}

/// What an event does on arrival.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Payload {
    /// A frame for the routed sockets. `json` is serialised once, at the source, and shared by every socket.
    Frame {
        json: String,
        /// When the message was stored (for the fan-out latency metric); local only, not sent between instances.
        #[serde(skip)]
        stored_at: Option<std::time::Instant>,
        /// A stored message's seq: the hub hands a conversation's messages out in seq order.
        #[serde(default)]
        seq: Option<i64>,
        /// Typing and presence: shed first when a socket falls behind.
        ephemeral: bool,
        /// The socket that caused it (a sender gets an ack instead of its own message).
        skip_session: Option<u64>,
        /// A user who must not receive it (the reader of a read receipt).
        skip_user: Option<i64>,
    },
    /// The user joined the conversation: route its events to their sockets from now on.
    Joined { conversation_id: i64, user_id: i64 },
    /// The user left or was removed: stop routing at once, then hand them `json` (a `removed` frame).
    Left { conversation_id: i64, user_id: i64, json: String },
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
    /// The payload with an empty `json`: the frame follows the header's newline as it is.
    payload: Payload,
}

impl Envelope {
    /// Encoded for the broker as a JSON header line followed by the frame text: the frame, already JSON,
    /// is not escaped into a string a second time (it is most of the bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = self.payload.clone();
        let frame = match &mut payload {
            Payload::Frame { json, .. } | Payload::Left { json, .. } => std::mem::take(json),
            Payload::Joined { .. } => String::new(),
        };
        let header = WireHeader { origin: self.origin, route: self.route.clone(), payload };
        let mut bytes = serde_json::to_vec(&header).unwrap_or_default();
        bytes.push(b'\n');
        bytes.extend_from_slice(frame.as_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Envelope> {
        let split = bytes.iter().position(|&b| b == b'\n')?;
        let header: WireHeader = serde_json::from_slice(&bytes[..split]).ok()?;
        let frame = std::str::from_utf8(&bytes[split + 1..]).ok()?.to_owned();
        let mut payload = header.payload;
        match &mut payload {
            Payload::Frame { json, .. } | Payload::Left { json, .. } => *json = frame,
            Payload::Joined { .. } => {}
        }
        Some(Envelope { origin: header.origin, route: header.route, payload })
    }

    pub fn topics(&self) -> Vec<Topic> {
        match &self.route {
            Route::Conversation(id) => vec![Topic::Conversation(*id)],
            Route::Users(ids) => ids.iter().map(|id| Topic::User(*id)).collect(),
        }
    }
}

/// What a socket actor's mailbox carries: frames already serialised (shared by every socket they go to), and
/// for stored messages the moment they were stored.
#[derive(Debug)]
pub enum Outbound {
    Text(ByteString, Option<std::time::Instant>),
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

    /// Sessions of `user_id` were revoked just now (logout, password change, reuse of a refresh token, the
    /// per-user cap…): their access tokens are refused from here on. Every place that revokes calls this.
    pub fn sessions_revoked(&self, user_id: i64, session_ids: &[i64]) {
        if session_ids.is_empty() {
            return;
        }
        tracing::debug!(user_id, sessions = session_ids.len(), "sessions revoked");
        self.revocations.record(session_ids, crate::db::now());
    }

    /// A session id unique across instances: the instance id in the high bits.
    pub fn next_session_id(&self) -> u64 {
        (self.instance_id << 32) | (NEXT_SESSION.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff)
    }

    pub fn publish(&self, route: Route, payload: Payload) {
        let envelope = Envelope { origin: self.instance_id, route, payload };
        self.hub.dispatch(&envelope);
        self.broker.publish(envelope);
    }

    pub fn frame(&self, route: Route, frame: &ServerFrame, ephemeral: bool) {
        self.frame_skipping(route, frame, ephemeral, None, None);
    }

    /// A stored message's fan-out, timed from `stored_at` to each socket write.
    pub fn message(
        &self,
        frame: &ServerFrame,
        conversation_id: i64,
        seq: i64,
        skip_session: Option<u64>,
        stored_at: std::time::Instant,
    ) {
        let json = to_json(frame);
        let payload = Payload::Frame {
            json,
            stored_at: Some(stored_at),
            seq: Some(seq),
            ephemeral: false,
            skip_session,
            skip_user: None,
        };
        self.publish(Route::Conversation(conversation_id), payload);
    }

    pub fn frame_skipping(
        &self,
        route: Route,
        frame: &ServerFrame,
        ephemeral: bool,
        skip_session: Option<u64>,
        skip_user: Option<i64>,
    ) {
        let json = to_json(frame);
        self.publish(route, Payload::Frame { json, stored_at: None, seq: None, ephemeral, skip_session, skip_user });
    }
}

impl Realtime {
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
            payload: Payload::Frame {
                json: json.clone(),
                stored_at: None,
                seq: Some(12),
                ephemeral: false,
                skip_session: Some(9),
                skip_user: None,
            },
        };
        let bytes = envelope.encode();
        assert!(bytes.ends_with(json.as_bytes()), "the frame travels as it is");
        let back = Envelope::decode(&bytes).expect("decodes");
        assert_eq!(back.origin, 7);
        assert_eq!(back.route, Route::Conversation(3));
        match back.payload {
            Payload::Frame { json: got, seq, skip_session, .. } => {
                assert_eq!((got, seq, skip_session), (json, Some(12), Some(9)));
            }
            other => panic!("{other:?}"),
        }
    }
}
