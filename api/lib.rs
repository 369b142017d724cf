//! The chat server as a library: the binary (`main.rs`) and the integration tests start it the same way.
//!
//! Modules depend one way, from the bottom up (a test in `tests/api/architecture.rs` refuses cycles):
//! values (`ids`, `domain`, `protocol`) and bytes (`media`) → storage (`db`, and `storage` for files) → live delivery (`broker`, `realtime`) → accounts
//! (`auth`) → rules (`chat`) → per-caller limits (`limits`, `origins`) → HTTP mapping (`error`, `json`,
//! `state`) → the two front doors (`routes` for REST, `ws` for sockets) and `web`, `metrics`, `openapi` →
//! `startup`, which wires them.

pub mod auth;
pub(crate) mod broker;
pub mod chat;
pub mod config;
pub mod db;
pub mod domain;
pub(crate) mod error;
pub mod ids;
pub(crate) mod json;
pub(crate) mod limits;
pub(crate) mod media;
pub(crate) mod metrics;
pub mod openapi;
pub(crate) mod origins;
pub(crate) mod private_files;
pub mod protocol;
pub mod realtime;
pub(crate) mod routes;
pub mod startup;
pub(crate) mod state;
pub mod storage;
pub mod telemetry;
pub(crate) mod web;
pub(crate) mod ws;
