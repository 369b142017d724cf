//! Fault tolerance, with figures in the test output, one fault a file:
//! - `kill`: the server process killed with SIGKILL while clients send: nothing acked is lost, seqs have no gap,
//!   resends are stored once, and a catching-up client sees every message once;
//! - `postgres_down`: PostgreSQL stopped and started under a running server: 503s and error frames, then
//!   recovery by itself;
//! - `stalled_reader`: a client that asks and never reads is closed and its memory freed.
//!
//! (Redis stopped and started lives in multi_instance.rs.) `process` runs the real binary as a child.

mod kill;
mod kill_clients;
mod postgres_down;
mod process;
mod stalled_reader;

use chat_server::protocol::ServerFrame;
use serde_json::{Value, json};

use crate::ws_client::WsClient;

pub(super) fn new_message(conversation_id: i64, client_id: &str, body: &str) -> Value {
    json!({"type": "new_message", "conversation_id": conversation_id, "client_id": client_id, "body": body})
}

/// A socket answers only once its subscriptions are in effect: after an answer, it misses nothing.
pub(super) async fn ready_for_events(socket: &mut WsClient) {
    socket.send_json(json!({"type": "read", "conversation_id": 0, "up_to_seq": 0})).await;
    socket.expect("an answer", |f| matches!(f, ServerFrame::Error { .. }).then_some(())).await;
}
