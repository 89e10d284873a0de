//! Fault injection for end-to-end tests: an HTTP proxy on a unix socket, put in front of a lab
//! host's real Docker socket (the inventory's `fleetprune.docker_socket` points the SSH tunnel
//! at it), that passes requests through untouched or misbehaves at an exact moment.
//!
//! The real daemon still does the work whenever a fault passes a request on, so what is on the
//! host afterwards can be compared with what fleetprune reported.

use std::convert::Infallible;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};

/// What the proxy does to requests whose path contains `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Everything passes through.
    None,
    /// 200 with a chunked body that never ends.
    EndlessChunkedBody { path: &'static str },
    /// 200 announcing a 2 GB body, then a few bytes and silence.
    HugeContentLength { path: &'static str },
    /// `/version` answers with an engine version of `len` bytes.
    HugeVersion { len: usize },
    /// `/version` answers with bidi overrides and CR/LF in the engine version, and requests on
    /// `path` get a 500 whose message carries them too.
    HostileStrings { path: &'static str },
    /// The request is passed to the daemon (which does the work), and the client's connection
    /// is cut before the answer.
    CutAfterForward { path: &'static str },
    /// 409 "a prune operation is already running".
    Conflict { path: &'static str },
    /// The request reaches the daemon only after `millis` (a slow prune).
    Delay { path: &'static str, millis: u64 },
}

/// The text the hostile daemon puts in its engine version and error messages.
pub const HOSTILE_TEXT: &str = "20.10\u{202E}lave\r\nhost99   ok   forged\u{2028}";

/// A running proxy; stops with the runtime when dropped.
pub struct FaultProxy {
    pub socket: PathBuf,
    fault: Arc<Mutex<Fault>>,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    /// Listens on a fresh socket (in a directory the lab's SSH user can reach) and forwards to
    /// `upstream`.
    pub fn start(upstream: &Path) -> FaultProxy {
        let dir = tempfile::Builder::new()
            .prefix("fleetprune-faults-")
            .tempdir_in("/tmp")
            .expect("proxy dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod proxy dir");
        let socket = dir.path().join("docker.sock");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let fault = Arc::new(Mutex::new(Fault::None));
        let listener = {
            let _guard = runtime.enter();
            UnixListener::bind(&socket).expect("bind proxy socket")
        };
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666))
            .expect("chmod proxy socket");
        let upstream = upstream.to_path_buf();
        let shared = Arc::clone(&fault);
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let fault = Arc::clone(&shared);
                tokio::spawn(serve_client(client, upstream, fault));
            }
        });
        FaultProxy {
            socket,
            fault,
            _runtime: runtime,
            _dir: dir,
        }
    }

    /// Only the owner (root) may connect, as with a docker socket the login user is not
    /// allowed to use.
    pub fn forbid_others(&self) {
        std::fs::set_permissions(&self.socket, std::fs::Permissions::from_mode(0o600))
            .expect("chmod proxy socket");
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().expect("fault lock") = fault;
    }
}

type ProxyBody = BoxBody<Bytes, std::io::Error>;

/// One client connection: its own upstream connection, requests served one after another.
async fn serve_client(client: UnixStream, upstream: PathBuf, fault: Arc<Mutex<Fault>>) {
    let Ok(upstream) = UnixStream::connect(&upstream).await else {
        return;
    };
    let Ok((sender, connection)) =
        hyper::client::conn::http1::handshake::<_, Incoming>(TokioIo::new(upstream)).await
    else {
        return;
    };
    tokio::spawn(connection);
    let sender = Arc::new(tokio::sync::Mutex::new(sender));
    let service = service_fn(move |request: Request<Incoming>| {
        let fault = fault.lock().expect("fault lock").clone();
        let sender = Arc::clone(&sender);
        async move { answer(request, fault, sender).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(client), service)
        .await;
}

type Upstream = Arc<tokio::sync::Mutex<hyper::client::conn::http1::SendRequest<Incoming>>>;

/// The proxy's answer to one request; an error closes the client's connection.
async fn answer(
    request: Request<Incoming>,
    fault: Fault,
    upstream: Upstream,
) -> Result<Response<ProxyBody>, std::io::Error> {
    let path = request.uri().path().to_string();
    let hits = |fragment: &str| path.contains(fragment);
    let hide_engine_version = path == "/_ping" && aims_at_version(&fault);
    match fault {
        Fault::EndlessChunkedBody { path } if hits(path) => {
            let body = http_body_util::StreamBody::new(Endless);
            Ok(Response::new(body.boxed()))
        }
        Fault::HugeContentLength { path } if hits(path) => Ok(Response::builder()
            .header("content-length", "2000000000")
            .header("content-type", "application/json")
            .body(SlowStart.boxed())
            .expect("response")),
        Fault::HugeVersion { len } if hits("/version") => {
            let version = "9".repeat(len);
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({ "Version": version }),
            ))
        }
        Fault::HostileStrings { .. } if hits("/version") => Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "Version": HOSTILE_TEXT }),
        )),
        Fault::HostileStrings { path } if hits(path) => Ok(json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({ "message": HOSTILE_TEXT }),
        )),
        Fault::Conflict { path } if hits(path) => Ok(json(
            StatusCode::CONFLICT,
            &serde_json::json!({ "message": "a prune operation is already running" }),
        )),
        Fault::CutAfterForward { path } if hits(path) => {
            // The daemon gets the request and finishes it; the client never hears back.
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let response = forward(request, &upstream).await;
                if let Ok(response) = response {
                    let _ = response.into_body().collect().await;
                }
                let _ = done_tx.send(());
            });
            // Cut while the daemon is still working, or right after it answered.
            let _ = tokio::time::timeout(Duration::from_millis(300), done_rx).await;
            Err(std::io::Error::other("connection cut by the fault proxy"))
        }
        Fault::Delay { path, millis } if hits(path) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            let response = forward(request, &upstream).await?;
            let (parts, body) = response.into_parts();
            Ok(Response::from_parts(
                parts,
                body.map_err(std::io::Error::other).boxed(),
            ))
        }
        _ => {
            let response = forward(request, &upstream).await?;
            let (mut parts, body) = response.into_parts();
            if hide_engine_version {
                parts.headers.remove(http::header::SERVER);
            }
            Ok(Response::from_parts(
                parts,
                body.map_err(std::io::Error::other).boxed(),
            ))
        }
    }
}

/// Whether the fault is aimed at `/version`. fleetprune reads the engine version from the
/// `Server` header of `/_ping` and asks `/version` only when a proxy hid it, so the proxy hides
/// it for these faults, as a proxy that rewrites `Server` would.
fn aims_at_version(fault: &Fault) -> bool {
    match fault {
        Fault::HugeVersion { .. } | Fault::HostileStrings { .. } => true,
        Fault::EndlessChunkedBody { path } | Fault::HugeContentLength { path } => {
            path.contains("/version")
        }
        _ => false,
    }
}

async fn forward(
    request: Request<Incoming>,
    upstream: &Upstream,
) -> Result<Response<Incoming>, std::io::Error> {
    let mut sender = upstream.lock().await;
    sender.ready().await.map_err(std::io::Error::other)?;
    sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<ProxyBody> {
    let body = serde_json::to_vec(value).expect("json");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("api-version", "1.41")
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never: Infallible| match never {})
                .boxed(),
        )
        .expect("response")
}

/// An endless stream of 64 KiB chunks of JSON-looking bytes.
struct Endless;

impl futures::Stream for Endless {
    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; 64 * 1024])))))
    }
}

/// A body that sends a few bytes and then nothing, as a daemon announcing 2 GB might.
struct SlowStart;

impl hyper::body::Body for SlowStart {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Pending
    }
}

/// An HTTP server on a TCP port where an SSH server was expected: it answers whatever it is
/// sent with `400 Bad Request`, as a daemon's TCP port or a web server would.
pub fn http_instead_of_ssh() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n400 Bad Request",
            );
        }
    });
    port
}

/// A unix socket at `path` (world-writable, in a directory the lab's SSH user can reach) where
/// every connection gets `answer` as its raw bytes, whatever it asked: a fake daemon speaking
/// broken HTTP that hyper's server would refuse to send.
pub fn raw_answers(path: &Path, answer: &'static [u8]) {
    let listener = std::os::unix::net::UnixListener::bind(path).expect("bind raw socket");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .expect("chmod raw socket");
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(answer);
        }
    });
}
