//! Integration tests: the real server on a random port, over real HTTP and WebSocket.

mod helpers;

mod access;
mod architecture;
mod attachments;
mod auth;
mod blocks;
mod contacts;
mod conversations;
mod errors;
mod faults;
mod hostile_accounts_live;
mod hostile_attachments;
mod hostile_live;
mod lockout;
mod messages;
mod multi_instance;
mod openapi;
mod ops;
mod own_services;
mod passwords;
mod pins;
mod presence;
mod reactions;
mod replies;
mod roles;
mod schema;
mod sessions;
mod storage_s3;
mod surface;
mod test_user;
mod tickets;
mod tokens;
mod ws;
mod ws_client;
