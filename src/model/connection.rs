//! How a host was reached, as plain data the transport finds and the reports show: what happened
//! to its SSH host key, which way the Docker API was reached, and how an address is written.

use serde::Serialize;

/// What happened to the host key during the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum HostKeyCheck {
    /// Found in known_hosts.
    Verified { fingerprint: String },
    /// Unknown, trusted on first use (`accept-new`) and appended to known_hosts.
    Added { fingerprint: String },
    /// Not checked (`--host-key-checking off`).
    Unchecked { fingerprint: String },
    /// A host certificate signed by a `@cert-authority` known_hosts lists for the host.
    Certified {
        fingerprint: String,
        /// The CA key's fingerprint.
        authority: String,
    },
}

/// Which way the Docker API reached the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// An SSH `direct-streamlocal@openssh.com` channel to the socket.
    StreamLocal,
    /// `docker system dial-stdio` in an SSH exec channel.
    DialStdio,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::StreamLocal => "stream-local",
            TransportKind::DialStdio => "dial-stdio",
        })
    }
}

/// `host:port`, with IPv6 addresses in brackets (`[::1]:22`).
pub fn endpoint(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}
