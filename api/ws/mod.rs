//! The WebSocket at `/ws`: the upgrade (authentication, limits, registration with the hub before the 101), and
//! the socket actor that serves it. Above the chat rules, beside the REST routes: it calls `chat`, `realtime`,
//! `auth`, `limits` and `db`; nothing below calls it.

mod actor;
mod outlet;
pub mod session;
mod upgrade;

pub use session::{SessionContext, SocketLimits};
pub use upgrade::upgrade;
