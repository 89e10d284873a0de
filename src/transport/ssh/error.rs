//! Why a session could not be established, by stage (connect, host key, auth) and class, so a
//! host's row can say what went wrong and `--retries` knows what is worth another attempt.

use std::sync::Arc;

use crate::model::failure::{Classify, ErrorClass, Stage};
use crate::transport::identity::IdentityError;
use crate::transport::known_hosts::{CertificateProblem, KnownHostsError};

/// A failure to establish a session, by stage.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot resolve {host}: {source}")]
    Dns {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("no SSH session with {address} within {seconds}s")]
    ConnectTimeout { address: String, seconds: u64 },
    #[error(
        "{address} does not speak SSH: it answered {first_line:?}{}",
        http_hint(first_line)
    )]
    NotSsh { address: String, first_line: String },
    #[error("SSH protocol error: {0}")]
    Protocol(#[from] russh::Error),
    #[error("jump host {hop}: {source}")]
    Jump { hop: String, source: Arc<SshError> },
    #[error("jump host {hop} could not open a connection to {target}: {source}")]
    JumpChannel {
        hop: String,
        target: String,
        source: Box<russh::Error>,
    },
    #[error("cannot run ProxyCommand {command:?}: {source}")]
    ProxyCommandSpawn {
        command: String,
        source: std::io::Error,
    },
    #[error(
        "ProxyCommand {command:?} closed the connection before SSH started{}",
        stderr_suffix(stderr)
    )]
    ProxyCommandClosed { command: String, stderr: String },
    #[error("the host key of {name} ({fingerprint}) is marked as revoked in {path}:{line}")]
    HostKeyRevoked {
        name: String,
        fingerprint: String,
        path: String,
        line: usize,
    },
    #[error(
        "REMOTE HOST IDENTIFICATION HAS CHANGED for {name}! Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed. The key sent is {fingerprint}; the known key is in {path} line {lines}. Refusing to connect."
    )]
    HostKeyChanged {
        name: String,
        fingerprint: String,
        path: String,
        lines: String,
    },
    #[error(
        "no host key is known for {name} in {path} (server key {fingerprint}); add it (ssh-keyscan) or use --host-key-checking accept-new"
    )]
    HostKeyUnknown {
        name: String,
        fingerprint: String,
        path: String,
    },
    #[error("the host certificate of {name} is not trusted: {problem}")]
    HostCertificate {
        name: String,
        problem: CertificateProblem,
    },
    #[error("the server's host key was never checked")]
    HostKeyNotChecked,
    #[error(transparent)]
    RecordHostKey(#[from] KnownHostsError),
    #[error("permission denied (publickey) for {user}@{address}: {tried}")]
    Auth {
        user: String,
        address: String,
        tried: String,
    },
    #[error(
        "the server closed the connection after refusing {refused} keys ({tried}): too many authentication attempts for its MaxAuthTries; name the right key (IdentityFile) and set IdentitiesOnly yes"
    )]
    AuthCutOff { refused: usize, tried: String },
    #[error(transparent)]
    KeyUnusable(#[from] IdentityError),
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// A hint when the peer on the SSH port is a web server (a Docker daemon's TCP port, say).
fn http_hint(first_line: &str) -> &'static str {
    if first_line.starts_with("HTTP/") {
        " (an HTTP server, not sshd: is the port a Docker or web port?)"
    } else {
        ""
    }
}

impl SshError {
    /// Worth another attempt with `--retries`: the host may come up or accept connections.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::ConnectRefused | ErrorClass::ConnectTimeout
        )
    }

    /// The stage this error belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            SshError::Dns { .. }
            | SshError::Connect { .. }
            | SshError::ConnectTimeout { .. }
            | SshError::NotSsh { .. }
            | SshError::JumpChannel { .. }
            | SshError::ProxyCommandSpawn { .. }
            | SshError::ProxyCommandClosed { .. }
            | SshError::Protocol(_) => Stage::Connect,
            SshError::Jump { source, .. } => source.stage(),
            SshError::HostKeyRevoked { .. }
            | SshError::HostKeyChanged { .. }
            | SshError::HostKeyUnknown { .. }
            | SshError::HostCertificate { .. }
            | SshError::HostKeyNotChecked
            | SshError::RecordHostKey(_) => Stage::HostKey,
            SshError::Auth { .. } | SshError::AuthCutOff { .. } | SshError::KeyUnusable(_) => {
                Stage::Auth
            }
        }
    }
}

impl Classify for SshError {
    fn class(&self) -> ErrorClass {
        match self {
            SshError::Dns { .. } => ErrorClass::Dns,
            SshError::Connect { source, .. } => match source.kind() {
                std::io::ErrorKind::ConnectionRefused => ErrorClass::ConnectRefused,
                // Timed out, host or network unreachable: no answer from the host at all.
                _ => ErrorClass::ConnectTimeout,
            },
            SshError::ConnectTimeout { .. } => ErrorClass::ConnectTimeout,
            SshError::Jump { source, .. } => source.class(),
            SshError::JumpChannel { source, .. }
                if matches!(
                    **source,
                    russh::Error::ChannelOpenFailure(russh::ChannelOpenFailure::ConnectFailed)
                ) =>
            {
                ErrorClass::ConnectRefused
            }
            SshError::JumpChannel { .. }
            | SshError::ProxyCommandSpawn { .. }
            | SshError::ProxyCommandClosed { .. } => ErrorClass::ProxyFailed,
            SshError::Protocol(russh::Error::NoCommonAlgo { .. }) => ErrorClass::NoCommonAlgorithm,
            SshError::NotSsh { .. } | SshError::Protocol(_) => ErrorClass::Protocol,
            SshError::HostCertificate {
                problem: CertificateProblem::Revoked { .. },
                ..
            } => ErrorClass::HostKeyRevoked,
            SshError::HostCertificate {
                problem: CertificateProblem::UnknownAuthority { .. },
                ..
            } => ErrorClass::HostKeyUnknown,
            SshError::HostCertificate { .. } => ErrorClass::HostCertificateInvalid,
            SshError::HostKeyRevoked { .. } => ErrorClass::HostKeyRevoked,
            SshError::HostKeyChanged { .. } => ErrorClass::HostKeyChanged,
            SshError::HostKeyUnknown { .. }
            | SshError::HostKeyNotChecked
            | SshError::RecordHostKey(_) => ErrorClass::HostKeyUnknown,
            SshError::Auth { .. } | SshError::AuthCutOff { .. } => ErrorClass::AuthFailed,
            SshError::KeyUnusable(_) => ErrorClass::KeyUnusable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_connections_are_retried_but_host_key_problems_are_not() {
        let refused = SshError::Connect {
            address: "h:22".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(refused.is_transient());
        let unknown = SshError::HostKeyUnknown {
            name: "h".into(),
            fingerprint: "SHA256:x".into(),
            path: "kh".into(),
        };
        assert!(!unknown.is_transient());
        assert_eq!(unknown.stage(), Stage::HostKey);
    }
}
