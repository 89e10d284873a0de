//! One SSH session per host: connect, verify the host key, authenticate, all within the connect
//! timeout. Each step has its file: what a session is opened with (`settings.rs`), what carries
//! the connection (`carrier.rs`: TCP, jump hosts, a proxy command's stdio) and what its first
//! bytes tell when the peer is not sshd (`sniff.rs`), the algorithms offered (`algorithms.rs`),
//! the host key (`host_key.rs`, also scanned alone for `ping --print-host-keys`), public-key
//! authentication (`auth.rs`), and failures typed by stage (`error.rs`).
//! Carrying the Docker API over the session is [`super::tunnel`]'s job.

mod algorithms;
mod auth;
mod carrier;
mod error;
mod host_key;
mod settings;
mod sniff;

use std::sync::Arc;

use russh::client::{self, Handle};
use tokio::io::{AsyncRead, AsyncWrite};

pub(crate) use carrier::tcp_connect;
pub use error::SshError;
pub use host_key::{HostKeyVerifier, scan_host_key};
pub use settings::{HostKeyChecking, SshSettings, SshTarget, Via};

use algorithms::{configured_algorithms, preferred_host_key_algorithms};
use auth::authenticate;
use carrier::carry;

use crate::model::connection::HostKeyCheck;

/// An authenticated session.
pub struct SshSession {
    pub handle: Handle<HostKeyVerifier>,
    pub host_key: HostKeyCheck,
}

/// Connects, verifies the host key and authenticates, all within the connect timeout: a host
/// that accepts TCP but never speaks SSH must not hold the run for the whole per-host timeout.
pub async fn connect(target: &SshTarget, settings: &SshSettings) -> Result<SshSession, SshError> {
    tokio::time::timeout(settings.connect_timeout, establish(target, settings))
        .await
        .unwrap_or_else(|_| {
            Err(SshError::ConnectTimeout {
                address: target.endpoint(),
                seconds: settings.connect_timeout.as_secs(),
            })
        })
}

async fn establish(target: &SshTarget, settings: &SshSettings) -> Result<SshSession, SshError> {
    // A key file named for this host that cannot be used fails it before it is contacted.
    settings.identities.candidates(target.identity.as_deref())?;
    let (stream, carrier) = carry(target, settings).await?;
    handshake(stream, target, settings)
        .await
        .map_err(|error| carrier.explain(error, target))
}

/// The SSH handshake over `stream`: host key verification, then authentication.
pub(crate) async fn handshake<S>(
    stream: S,
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<SshSession, SshError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (key_name, key_port) = target.key_name();
    let (handler, verdict) = HostKeyVerifier::new(key_name.to_string(), key_port, settings.clone());
    let key = preferred_host_key_algorithms(settings, target);
    // Host certificates are asked for only from hosts with a known authority, as OpenSSH does.
    let host_key_certificates = if settings.known_hosts.has_authority_for(key_name, key_port) {
        key.clone()
    } else {
        Vec::new()
    };
    let config = client::Config {
        preferred: russh::Preferred {
            key: key.into(),
            host_key_certificates: host_key_certificates.into(),
            ..configured_algorithms(&target.algorithms)
        },
        keepalive_interval: target.keepalive.0,
        keepalive_max: target.keepalive.1,
        nodelay: true,
        ..client::Config::default()
    };
    let mut handle = client::connect_stream(Arc::new(config), stream, handler).await?;
    let host_key = verdict
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
        .ok_or(SshError::HostKeyNotChecked)?;
    authenticate(&mut handle, target, settings).await?;
    Ok(SshSession { handle, host_key })
}
