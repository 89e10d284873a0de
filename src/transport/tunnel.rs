//! A byte stream to the host's Docker socket, carried by the SSH session: a `direct-streamlocal`
//! channel (what `ssh -L local.sock:/var/run/docker.sock` uses) or, when the server refuses
//! stream-local forwarding, `docker system dial-stdio` in an exec channel (what
//! `docker -H ssh://` runs). Speaking HTTP over the stream is [`crate::engine`]'s job; telling
//! why the socket could not be reached is this module's.

use std::sync::{Arc, Mutex};

use russh::ChannelMsg;
use russh::client::Handle;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::shell::{HostShell, PathKind};
use super::ssh::HostKeyVerifier;
use crate::model::connection::TransportKind;
use crate::model::failure::{Classify, ErrorClass, HostFailure, Stage};

/// A bidirectional stream to the Docker socket.
pub trait DockerStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> DockerStream for T {}

/// An open tunnel, with what the remote side said if it is a command.
pub struct Tunnel {
    pub stream: Box<dyn DockerStream>,
    pub kind: TransportKind,
    /// The socket `docker_socket: auto` found on the host; `None` when the socket was named.
    pub found_socket: Option<String>,
    /// For `dial-stdio`: its stderr and exit status, to explain a closed stream.
    pub remote_command: Option<Arc<Mutex<RemoteCommandStatus>>>,
}

/// What the remote `docker system dial-stdio` printed on stderr and how it exited, and why it
/// was used instead of stream-local forwarding.
#[derive(Debug, Default, Clone)]
pub struct RemoteCommandStatus {
    pub stderr: String,
    pub exit_status: Option<u32>,
    pub fallback_reason: String,
}

impl RemoteCommandStatus {
    /// A one-line explanation, when the command said anything.
    pub fn explain(&self) -> Option<String> {
        let stderr = self.stderr.trim();
        let what = match (stderr.is_empty(), self.exit_status) {
            (true, None) => return None,
            (true, Some(code)) => format!("docker system dial-stdio exited with {code}"),
            (false, Some(code)) => format!("docker system dial-stdio exited with {code}: {stderr}"),
            (false, None) => format!("docker system dial-stdio: {stderr}"),
        };
        if self.fallback_reason.is_empty() {
            Some(what)
        } else {
            Some(format!("{what} (used because {})", self.fallback_reason))
        }
    }
}

impl RemoteCommandStatus {
    /// What the remote docker client's words say about the socket.
    pub fn class(&self) -> ErrorClass {
        let stderr = self.stderr.to_ascii_lowercase();
        if stderr.contains("no such file or directory") {
            ErrorClass::SocketMissing
        } else if stderr.contains("permission denied") {
            ErrorClass::PermissionDenied
        } else {
            ErrorClass::EngineUnavailable
        }
    }
}

/// Why the exec fallback could not start `docker system dial-stdio`.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0}")]
    Channel(#[from] russh::Error),
    #[error("the server refused to run commands")]
    Refused,
    #[error("the channel closed before the command started")]
    ClosedEarly,
}

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error(
        "cannot open a channel to {socket} ({streamlocal}), and the exec fallback failed: {exec}"
    )]
    BothFailed {
        socket: String,
        streamlocal: russh::Error,
        exec: ExecError,
    },
}

impl Classify for TunnelError {
    fn class(&self) -> ErrorClass {
        // OpenSSH answers "open failed" whatever the reason; without the docker client's words
        // the socket cannot be told missing from forbidden.
        ErrorClass::EngineUnavailable
    }
}

/// A failure to reach the Docker socket, told apart by what its path is on the host: the docker
/// client says "permission denied" for a directory and "connection refused" for a regular file,
/// but neither is a socket (`socket_missing`, naming what is there). A socket that refuses or
/// forbids, a missing path, and a host that runs no commands keep the class they had.
pub async fn name_what_is_there(
    shell: &HostShell<'_>,
    socket: &str,
    failure: HostFailure,
) -> HostFailure {
    if failure.stage != Stage::Tunnel
        || !matches!(
            failure.class,
            ErrorClass::PermissionDenied | ErrorClass::EngineUnavailable
        )
    {
        return failure;
    }
    let what = match shell.path_kind(socket).await {
        Some(PathKind::Directory) => "a directory",
        Some(PathKind::RegularFile) => "a regular file",
        Some(PathKind::Other) => "neither a socket, a directory nor a regular file",
        Some(PathKind::Socket | PathKind::Missing) | None => return failure,
    };
    HostFailure::new(
        Stage::Tunnel,
        ErrorClass::SocketMissing,
        format!("cannot reach the Docker socket: {socket} on the host is {what}, not a socket"),
    )
}

/// Keeps at most this much of the remote command's stderr.
const STDERR_LIMIT: usize = 4096;
/// Buffer between the exec channel pump and the HTTP client.
const PUMP_BUFFER: usize = 16 * 1024;

/// Opens a stream to `socket`, preferring stream-local forwarding.
pub async fn open(handle: &Handle<HostKeyVerifier>, socket: &str) -> Result<Tunnel, TunnelError> {
    let streamlocal = match handle.channel_open_direct_streamlocal(socket).await {
        Ok(channel) => {
            return Ok(Tunnel {
                stream: Box::new(channel.into_stream()),
                kind: TransportKind::StreamLocal,
                remote_command: None,
                found_socket: None,
            });
        }
        Err(error) => error,
    };
    tracing::debug!(
        "stream-local forwarding to {} refused ({streamlocal}); trying dial-stdio",
        socket.escape_debug()
    );
    let fallback_reason = format!("stream-local forwarding to {socket} failed: {streamlocal}");
    open_dial_stdio(handle, socket, fallback_reason)
        .await
        .map_err(|exec| TunnelError::BothFailed {
            socket: socket.to_string(),
            streamlocal,
            exec,
        })
}

async fn open_dial_stdio(
    handle: &Handle<HostKeyVerifier>,
    socket: &str,
    fallback_reason: String,
) -> Result<Tunnel, ExecError> {
    let mut channel = handle.channel_open_session().await?;
    let command = format!(
        "docker -H {} system dial-stdio",
        shell_quote(&format!("unix://{socket}"))
    );
    channel.exec(true, command.as_bytes()).await?;
    loop {
        match channel.wait().await {
            Some(ChannelMsg::Success) => break,
            Some(ChannelMsg::Failure) => return Err(ExecError::Refused),
            Some(ChannelMsg::WindowAdjusted { .. }) => {}
            Some(other) => tracing::debug!("before exec reply: {other:?}"),
            None => return Err(ExecError::ClosedEarly),
        }
    }
    let status = Arc::new(Mutex::new(RemoteCommandStatus {
        fallback_reason,
        ..RemoteCommandStatus::default()
    }));
    let (local, remote) = tokio::io::duplex(PUMP_BUFFER);
    let (mut from_client, mut to_client) = tokio::io::split(remote);
    let (mut reader, writer) = channel.split();
    let pump_status = Arc::clone(&status);
    tokio::spawn(async move {
        while let Some(message) = reader.wait().await {
            match message {
                ChannelMsg::Data { data } if to_client.write_all(&data).await.is_err() => break,
                ChannelMsg::Data { .. } => {}
                ChannelMsg::ExtendedData { data, .. } => {
                    if let Ok(mut status) = pump_status.lock()
                        && status.stderr.len() < STDERR_LIMIT
                    {
                        let room = STDERR_LIMIT - status.stderr.len();
                        let kept = &data[..data.len().min(room)];
                        status.stderr.push_str(&String::from_utf8_lossy(kept));
                    }
                }
                ChannelMsg::ExitStatus { exit_status } => {
                    if let Ok(mut status) = pump_status.lock() {
                        status.exit_status = Some(exit_status);
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close => {
                    let _ = to_client.shutdown().await;
                }
                _ => {}
            }
        }
        let _ = to_client.shutdown().await;
    });
    tokio::spawn(async move {
        let mut sink = writer.make_writer();
        let _ = tokio::io::copy(&mut from_client, &mut sink).await;
        let _ = writer.eof().await;
    });
    Ok(Tunnel {
        stream: Box::new(local),
        kind: TransportKind::DialStdio,
        remote_command: Some(status),
        found_socket: None,
    })
}

/// Quotes a word for a POSIX shell.
pub(super) fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_protects_spaces_and_quotes() {
        assert_eq!(
            shell_quote("unix:///run/a b.sock"),
            "'unix:///run/a b.sock'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn remote_status_explains_exit_and_stderr() {
        let mut status = RemoteCommandStatus {
            stderr: "sh: docker: not found\n".into(),
            exit_status: Some(127),
            fallback_reason: String::new(),
        };
        assert_eq!(
            status.explain().unwrap(),
            "docker system dial-stdio exited with 127: sh: docker: not found"
        );
        status.fallback_reason = "stream-local forwarding to /s failed: refused".into();
        assert_eq!(
            status.explain().unwrap(),
            "docker system dial-stdio exited with 127: sh: docker: not found (used because stream-local forwarding to /s failed: refused)"
        );
        assert_eq!(RemoteCommandStatus::default().explain(), None);
    }
}
