//! How OpenSSH would reach a host, as plain data: its client configuration (`ssh_config(5)`), its
//! command-line options (`-o`, `-p`, `-J`, `-F`, ...), docker's `ssh://` URLs, its `%` tokens and
//! `*`/`?` patterns, its algorithm lists, home directories and `~`, and the route (direct, jump
//! hosts, proxy command) these add up to. Everything here is read and checked before any host is
//! contacted; nothing here opens a connection: the SSH session is [`crate::transport`]'s job, and
//! it imports this module, never the other way round.

pub mod algorithms;
pub mod args;
pub mod config;
pub(crate) mod home;
pub(crate) mod pattern;
pub mod route;
pub mod tokens;
pub mod url;
