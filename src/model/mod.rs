//! Plain data every floor shares, importing no other part of fleetprune: a failure's stage and
//! class, how a host was reached (host key, transport kind), filesystem usage, bounded remote
//! text. The transport, the engine, the outcome and the reports all build on it.

pub mod connection;
pub mod engine_kind;
pub mod failure;
pub mod filesystem;
pub mod remote_text;
