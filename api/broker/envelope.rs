//! What travels between instances: an envelope with its route and payload, and its encoding for the wire.
//! The broker's own vocabulary: the hub above it builds and consumes envelopes, the broker only carries them.

use serde::{Deserialize, Serialize};

use super::Topic;
use crate::ids::{ConversationId, Seq, SessionId, UserId};

/// How a frame is treated when a socket falls behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    /// Must arrive (messages, acks, replies, lifecycle): if it does not fit, the socket is closed instead.
    Reliable,
    /// Typing and presence: shed once the queue is three quarters full.
    Ephemeral,
    /// A read receipt of (conversation, reader): replaces that reader's receipt still queued, else like
    /// ephemeral (the next conversation view carries every member's read position anyway).
    Receipt { conversation_id: ConversationId, user_id: UserId },
}

/// Where an event goes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Route {
    /// The members of a conversation (as the receiving instance's routing has them).
    Conversation(ConversationId),
    /// Named users.
    Users(Vec<UserId>),
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
    pub seq: Option<Seq>,
    /// The conversation's membership version the publisher acted under; 0 when none applies.
    #[serde(default)]
    pub version: i64,
    pub delivery: Delivery,
    /// The socket that caused it (a sender gets an ack instead of its own message).
    #[serde(default)]
    pub skip_session: Option<u64>,
    /// Users who must not receive it (the reader of their own receipt; the other side of a block).
    #[serde(default)]
    pub skip_users: Vec<UserId>,
}

/// A conversation's membership after a change: the whole list, so an instance that missed an earlier change
/// is still right after this one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipEvent {
    pub conversation_id: ConversationId,
    pub version: i64,
    pub last_seq: Seq,
    /// (user, last_read_seq) of every member.
    pub members: Vec<(UserId, Seq)>,
    /// Who this change took out: they get `removed`.
    pub left: Vec<UserId>,
    /// The seq of the timeline event the change stored, if any: an instance that starts watching the
    /// conversation because of this change hands that event out rather than treating it as history.
    #[serde(default)]
    pub timeline_seq: Option<Seq>,
    /// The conversation as members see it without the viewer's own fields (`protocol::conversation_frame`
    /// completes it per member); empty when the change has no view to announce.
    pub view: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Payload {
    Frame(FrameEvent),
    Membership(MembershipEvent),
    /// These sessions of the user were ended: their sockets close (4001) and their tokens are refused.
    Revoked {
        user_id: UserId,
        sessions: Vec<SessionId>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_survives_the_broker_encoding_with_its_frame_unescaped() {
        let json = r#"{"type":"message","message":{"body":"a \"quote\"\nand a newline"}}"#.to_owned();
        let envelope = Envelope {
            origin: 7,
            route: Route::Conversation(ConversationId(3)),
            payload: Payload::Frame(FrameEvent {
                json: json.clone(),
                stored_at: None,
                seq: Some(Seq(12)),
                version: 4,
                delivery: Delivery::Reliable,
                skip_session: Some(9),
                skip_users: vec![UserId(5)],
            }),
        };
        let bytes = envelope.encode();
        assert!(bytes.ends_with(json.as_bytes()), "the frame travels as it is");
        let back = Envelope::decode(&bytes).expect("decodes");
        assert_eq!(back.origin, 7);
        assert_eq!(back.route, Route::Conversation(ConversationId(3)));
        match back.payload {
            Payload::Frame(frame) => {
                assert_eq!(
                    (frame.json, frame.seq, frame.version, frame.skip_session, frame.skip_users),
                    (json, Some(Seq(12)), 4, Some(9), vec![UserId(5)])
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_membership_event_carries_its_view_after_the_header() {
        let event = MembershipEvent {
            conversation_id: ConversationId(3),
            version: 8,
            last_seq: Seq(20),
            members: vec![(UserId(1), Seq(20)), (UserId(2), Seq(15))],
            left: vec![UserId(9)],
            timeline_seq: None,
            view: r#"{"id":3,"title":"a \"b\""#.into(),
        };
        let envelope =
            Envelope { origin: 1, route: Route::Users(vec![UserId(9)]), payload: Payload::Membership(event) };
        match Envelope::decode(&envelope.encode()).expect("decodes").payload {
            Payload::Membership(back) => {
                assert_eq!(
                    (back.version, back.members, back.left),
                    (8, vec![(UserId(1), Seq(20)), (UserId(2), Seq(15))], vec![UserId(9)])
                );
                assert_eq!(back.view, r#"{"id":3,"title":"a \"b\""#);
            }
            other => panic!("{other:?}"),
        }
    }
}
