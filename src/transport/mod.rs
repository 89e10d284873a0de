//! Reaching a host's Docker Engine: the SSH session (host keys, authentication; directly, through
//! jump hosts or a proxy command) and the tunnel to the Docker socket through it.

pub mod identity;
pub mod jump;
pub mod known_hosts;
pub mod proxy_command;
pub mod shell;
pub mod ssh;
pub mod tunnel;
