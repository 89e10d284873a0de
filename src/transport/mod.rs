//! Reaching a host's Docker Engine: the SSH session (host keys, authentication) and the tunnel
//! to the Docker socket through it.

pub mod identity;
pub mod known_hosts;
pub mod ssh;
pub mod tunnel;
