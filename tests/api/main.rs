//! Integration tests: the real server on a random port, over real HTTP and WebSocket.

mod helpers;

mod auth;
mod errors;
mod openapi;
mod schema;
mod tokens;
