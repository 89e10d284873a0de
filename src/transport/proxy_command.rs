//! `ProxyCommand`: a child process whose stdin and stdout carry the SSH connection, as OpenSSH
//! runs it (`sh -c 'exec COMMAND'`). Its stderr is kept (the first few kB) to explain a command
//! that exits before the SSH handshake; the child is killed when the session ends.

use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How much of the command's stderr is kept.
const STDERR_KEPT: usize = 4096;

/// The command's stdio as one stream; owns the child, which is killed when this is dropped.
pub struct ProxyCommandStream {
    /// Held only to be killed on drop.
    _child: Child,
    stdout: ChildStdout,
    stdin: ChildStdin,
}

/// What the command printed on stderr, filled in as it runs.
pub type CommandStderr = Arc<Mutex<Vec<u8>>>;

/// Starts `command` under `sh -c`.
pub fn spawn(command: &str) -> std::io::Result<(ProxyCommandStream, CommandStderr)> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(std::io::Error::other(
            "the proxy command's stdio was not piped",
        ));
    };
    let kept: CommandStderr = Arc::default();
    let sink = Arc::clone(&kept);
    tokio::spawn(async move {
        let mut buffer = [0u8; 1024];
        while let Ok(read) = stderr.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            if let Ok(mut kept) = sink.lock() {
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..read.min(room)]);
            }
        }
    });
    Ok((
        ProxyCommandStream {
            _child: child,
            stdout,
            stdin,
        },
        kept,
    ))
}

/// The kept stderr as one line of text.
pub fn stderr_text(stderr: &CommandStderr) -> String {
    let bytes = stderr.lock().map(|b| b.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl AsyncRead for ProxyCommandStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for ProxyCommandStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn the_commands_stdio_is_the_stream_and_its_stderr_is_kept() {
        let (mut stream, stderr) = spawn("sh -c 'echo oops >&2; cat'").unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut echoed = [0u8; 4];
        stream.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"ping");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(stderr_text(&stderr), "oops");
    }
}
