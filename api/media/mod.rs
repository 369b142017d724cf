//! What is done to an attachment's bytes, apart from storing them: receiving a body (counted, hashed, sniffed),
//! the type policy, thumbnails, and HTTP byte ranges. Plain functions, unit-tested; the rules of who may
//! upload and read live in `chat::attachments`.

pub mod policy;
pub mod range;
pub mod receive;
pub mod thumbnail;
