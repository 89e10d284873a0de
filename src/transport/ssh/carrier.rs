//! What carries the connection to a target's sshd, as its route says: TCP from this machine, a
//! `direct-tcpip` channel through jump hosts, or a proxy command's stdio; and, when the handshake
//! over it fails, what the carrier can tell about why.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};

use super::sniff::{FirstBytes, not_ssh};
use super::{SshError, SshSettings, SshTarget, Via};
use crate::transport::proxy_command::{self, CommandStderr};

/// A stream to the target's sshd.
pub(super) trait SshStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> SshStream for T {}

/// What carries the connection, kept to explain a handshake that fails.
pub(super) enum Carrier {
    /// TCP, with the first bytes the peer sent.
    Tcp(Arc<Mutex<Vec<u8>>>),
    Jump,
    Command(String, CommandStderr),
}

impl Carrier {
    /// A clearer error for a failed handshake: a peer that is not sshd, a proxy command that
    /// exited.
    pub(super) fn explain(&self, error: SshError, target: &SshTarget) -> SshError {
        match (self, error) {
            (Carrier::Tcp(first_bytes), error @ SshError::Protocol(_)) => {
                not_ssh(target, first_bytes).unwrap_or(error)
            }
            (Carrier::Command(command, stderr), error) => proxy_closed(error, command, stderr),
            (_, error) => error,
        }
    }
}

/// The connection to the target's sshd, carried as its route says.
pub(super) async fn carry(
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<(Box<dyn SshStream>, Carrier), SshError> {
    match &target.via {
        Via::Direct => {
            let (stream, first_bytes) = FirstBytes::record(tcp_connect(target).await?);
            Ok((Box::new(stream), Carrier::Tcp(first_bytes)))
        }
        Via::Jump(hops) => {
            let (last, jump) = settings.jumps.session(hops, settings).await?;
            let channel = jump
                .channel_open_direct_tcpip(
                    target.address.as_str(),
                    target.port.into(),
                    "127.0.0.1",
                    0,
                )
                .await
                .map_err(|source| SshError::JumpChannel {
                    hop: last.endpoint(),
                    target: target.endpoint(),
                    source: Box::new(source),
                })?;
            Ok((Box::new(channel.into_stream()), Carrier::Jump))
        }
        Via::Command(command) => {
            let (stream, stderr) =
                proxy_command::spawn(command).map_err(|source| SshError::ProxyCommandSpawn {
                    command: command.clone(),
                    source,
                })?;
            Ok((Box::new(stream), Carrier::Command(command.clone(), stderr)))
        }
    }
}

/// A proxy command that ended before the handshake is named, with what it said on stderr.
fn proxy_closed(error: SshError, command: &str, stderr: &CommandStderr) -> SshError {
    match error {
        SshError::Protocol(russh::Error::Disconnect | russh::Error::IO(_) | russh::Error::HUP) => {
            SshError::ProxyCommandClosed {
                command: command.to_string(),
                stderr: proxy_command::stderr_text(stderr),
            }
        }
        other => other,
    }
}

/// A TCP connection to the target, with small exchanges sent at once.
pub(crate) async fn tcp_connect(target: &SshTarget) -> Result<tokio::net::TcpStream, SshError> {
    // Resolved first, so that a name that does not resolve is told apart from a refused port.
    let addresses: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((target.address.as_str(), target.port))
            .await
            .map_err(|source| SshError::Dns {
                host: target.address.clone(),
                source,
            })?
            .collect();
    let stream = tokio::net::TcpStream::connect(addresses.as_slice())
        .await
        .map_err(|source| SshError::Connect {
            address: target.endpoint(),
            source,
        })?;
    // Small request/response exchanges: do not wait for Nagle or delayed ACKs.
    let _ = stream.set_nodelay(true);
    let _ = socket2::SockRef::from(&stream).set_tcp_quickack(true);
    Ok(stream)
}
