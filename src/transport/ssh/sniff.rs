//! The first bytes a peer sends, kept while russh reads its identification line, so a handshake
//! that fails on a peer that is not sshd (a web server, a Docker TCP port) says what answered.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{SshError, SshTarget};

/// How much of what the server sends first is kept, to explain a peer that is not sshd.
const FIRST_BYTES_KEPT: usize = 256;

/// Keeps the first bytes read from the server while russh reads its identification line.
pub(super) struct FirstBytes<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<S> FirstBytes<S> {
    pub(super) fn record(inner: S) -> (FirstBytes<S>, Arc<Mutex<Vec<u8>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        (
            FirstBytes {
                inner,
                seen: Arc::clone(&seen),
            },
            seen,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Ok(mut seen) = self.seen.lock()
            && seen.len() < FIRST_BYTES_KEPT
        {
            let fresh = &buf.filled()[before..];
            let room = FIRST_BYTES_KEPT - seen.len();
            seen.extend_from_slice(&fresh[..fresh.len().min(room)]);
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `NotSsh` when the server's first line is not an SSH identification string.
pub(super) fn not_ssh(target: &SshTarget, first_bytes: &Mutex<Vec<u8>>) -> Option<SshError> {
    let seen = first_bytes.lock().ok()?;
    if seen.is_empty() || seen.starts_with(b"SSH-") {
        return None;
    }
    let text = String::from_utf8_lossy(&seen);
    let first_line = text.lines().next().unwrap_or_default().trim().to_string();
    Some(SshError::NotSsh {
        address: target.endpoint(),
        first_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::failure::{Classify, ErrorClass};

    fn target() -> SshTarget {
        SshTarget::new("10.0.0.7".into(), 22, "ops".into(), None)
    }

    #[test]
    fn http_answer_on_the_ssh_port_is_named_as_such() {
        let seen = Mutex::new(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec());
        let error = not_ssh(&target(), &seen).unwrap();
        assert_eq!(error.class(), ErrorClass::Protocol);
        assert_eq!(
            error.to_string(),
            "10.0.0.7:22 does not speak SSH: it answered \"HTTP/1.1 400 Bad Request\" (an HTTP server, not sshd: is the port a Docker or web port?)"
        );
    }

    #[test]
    fn a_real_ssh_banner_or_silence_is_not_blamed_on_the_peer() {
        assert!(not_ssh(&target(), &Mutex::new(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec())).is_none());
        assert!(not_ssh(&target(), &Mutex::new(Vec::new())).is_none());
    }
}
