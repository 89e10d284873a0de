//! The Docker Engine API over one tunnel stream: a single HTTP/1.1 connection per host (never a
//! pool, so the exec fallback runs one remote process), API version negotiation, and JSON
//! requests with bounded answers.
//!
//! Every response is capped: headers by [`HEADER_LIMIT`], each whole response (headers and body)
//! by [`RESPONSE_LIMIT`], counted on the bytes read from the tunnel, so an endless or oversized
//! answer fails its host with `response_too_large` instead of filling memory. What to ask the
//! engine is decided by [`crate::commands::prune`] and [`crate::commands::df`].

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::api_version::ApiVersion;
use crate::model::connection::TransportKind;
use crate::model::engine_kind::EngineKind;
use crate::model::failure::{Classify, ErrorClass};
use crate::model::remote_text::bounded_remote_string;
use crate::transport::tunnel::{DockerStream, RemoteCommandStatus, Tunnel};

/// The largest response (status line, headers and body) read from an engine: generous for real
/// daemons (a prune of 100 000 images answers a few MiB), small enough for a fleet in memory.
pub const RESPONSE_LIMIT: u64 = 64 * 1024 * 1024;
/// The largest response head (status line and headers) hyper buffers.
pub const HEADER_LIMIT: usize = 64 * 1024;
/// hyper's words for a response head past `max_buf_size` ([`HEADER_LIMIT`]).
const HEAD_TOO_LARGE: &str = "message head is too large";

/// A connected, version-negotiated Docker Engine.
pub struct Engine {
    connection: Connection,
    pub api_version: ApiVersion,
    /// Cut to [`crate::model::remote_text::REMOTE_STRING_LIMIT`] characters.
    pub engine_version: String,
    /// Docker, or Podman's compatible service.
    pub kind: EngineKind,
    pub transport: TransportKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("HTTP handshake with the Docker socket failed: {}", chain(.0))]
    Handshake(hyper::Error),
    #[error("the Docker socket did not answer {what}: {}", chain(.cause))]
    Unreachable { what: String, cause: hyper::Error },
    #[error("cannot reach the Docker socket: {}", .0.explain().unwrap_or_default())]
    RemoteCommand(RemoteCommandStatus),
    #[error("the Docker Engine answered {status} to {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    #[error(
        "the socket answered {status} to GET /_ping without an Api-Version header: it is not a Docker Engine"
    )]
    NotDocker { status: u16 },
    #[error(
        "the socket answered {status} to GET /_ping with Api-Version {value:?}, not an API version: it is not a Docker Engine"
    )]
    BadApiVersion { status: u16, value: String },
    #[error("the socket's answer to {what} is not HTTP as a Docker Engine speaks it: {}", chain(.cause))]
    NotHttp { what: String, cause: hyper::Error },
    #[error("the Docker Engine speaks API {0}; fleetprune needs at least {min}", min = ApiVersion::OLDEST_SUPPORTED)]
    TooOld(ApiVersion),
    #[error(
        "the Docker Engine accepts API {min} and later only (its MinAPIVersion); fleetprune speaks up to {newest}",
        newest = ApiVersion::NEWEST_SUPPORTED
    )]
    RefusesOurs { min: ApiVersion },
    #[error("unexpected answer to {what}: {cause}")]
    Decode {
        what: String,
        cause: serde_json::Error,
    },
    #[error(
        "the answer to {what} is larger than fleetprune's {limit}-byte cap on engine responses"
    )]
    ResponseTooLarge { what: String, limit: u64 },
}

impl EngineError {
    /// True when the engine answered: a request that failed this way deleted nothing.
    pub fn engine_answered(&self) -> bool {
        matches!(
            self,
            EngineError::Status { .. }
                | EngineError::NotDocker { .. }
                | EngineError::BadApiVersion { .. }
                | EngineError::TooOld(_)
                | EngineError::RefusesOurs { .. }
        )
    }
}

impl Classify for EngineError {
    fn class(&self) -> ErrorClass {
        match self {
            EngineError::Handshake(_) | EngineError::Unreachable { .. } => {
                ErrorClass::EngineUnavailable
            }
            EngineError::RemoteCommand(status) => status.class(),
            EngineError::Status { status: 409, .. } => ErrorClass::Conflict,
            EngineError::Status { .. }
            | EngineError::TooOld(_)
            | EngineError::RefusesOurs { .. }
            | EngineError::Decode { .. } => ErrorClass::EngineError,
            EngineError::NotDocker { .. }
            | EngineError::BadApiVersion { .. }
            | EngineError::NotHttp { .. } => ErrorClass::Protocol,
            EngineError::ResponseTooLarge { .. } => ErrorClass::ResponseTooLarge,
        }
    }
}

/// `error: cause: cause's cause`, each said once (hyper's own text omits its causes).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The marker error the byte budget raises inside hyper when a response is too large.
#[derive(Debug, thiserror::Error)]
#[error("response larger than {limit} bytes")]
struct OverBudget {
    limit: u64,
}

/// The tunnel stream, counting bytes read against the budget of the response being read.
struct Budgeted {
    inner: Box<dyn DockerStream>,
    remaining: Arc<AtomicU64>,
}

impl AsyncRead for Budgeted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let read = u64::try_from(buf.filled().len() - before).unwrap_or(u64::MAX);
            let left = self.remaining.load(Ordering::Acquire);
            if read > left {
                self.remaining.store(0, Ordering::Release);
                return Poll::Ready(Err(std::io::Error::other(OverBudget {
                    limit: RESPONSE_LIMIT,
                })));
            }
            self.remaining.store(left - read, Ordering::Release);
        }
        result
    }
}

impl AsyncWrite for Budgeted {
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

/// True when `error` was caused by the response budget running out.
fn over_budget(error: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<OverBudget>().is_some() {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.get_ref().is_some_and(|e| e.is::<OverBudget>())
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The one HTTP connection to a host's engine.
struct Connection {
    sender: tokio::sync::Mutex<SendRequest<Empty<Bytes>>>,
    /// `/v1.41` once negotiated.
    version_prefix: OnceLock<String>,
    remote_command: Option<Arc<Mutex<RemoteCommandStatus>>>,
    /// Bytes the response being read may still take.
    budget: Arc<AtomicU64>,
}

impl Connection {
    /// Sends `method uri` and waits for the response head, resetting the response budget.
    async fn send(
        &self,
        method: Method,
        uri: Uri,
        what: &str,
    ) -> Result<Response<Incoming>, EngineError> {
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        request
            .headers_mut()
            .insert(http::header::HOST, HeaderValue::from_static("docker"));
        let response = {
            let mut sender = self.sender.lock().await;
            sender
                .ready()
                .await
                .map_err(|e| self.unreachable(what, e))?;
            self.budget.store(RESPONSE_LIMIT, Ordering::Release);
            sender.send_request(request)
        };
        response.await.map_err(|e| self.unreachable(what, e))
    }

    /// Sends a request for `path` (origin form, with the negotiated version prefix) and reads
    /// the whole answer within the caps.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        what: &str,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let prefix = self.version_prefix.get().map_or("", String::as_str);
        let uri = format!("{prefix}{path}")
            .parse::<Uri>()
            .unwrap_or_else(|_| Uri::from_static("/"));
        self.exchange_uri(method, uri, what).await
    }

    /// Sends a request for `uri` as given and reads the whole answer within the caps.
    async fn exchange_uri(
        &self,
        method: Method,
        uri: Uri,
        what: &str,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let response = self.send(method, uri, what).await?;
        // Refused before reading, so a huge announced length is never allocated for.
        let announced = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u128>().ok());
        if announced.is_some_and(|length| length > u128::from(RESPONSE_LIMIT)) {
            return Err(EngineError::ResponseTooLarge {
                what: what.to_string(),
                limit: RESPONSE_LIMIT,
            });
        }
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.unreachable(what, e))?
            .to_bytes();
        Ok((status, body))
    }

    /// `GET /_ping`, unversioned: the daemon's API version from its `Api-Version` header, and
    /// its engine version from the `Server` header every Docker Engine sets
    /// (`Docker/26.1.5 (linux)`), when that header is there.
    async fn ping(&self) -> Result<PingAnswer, EngineError> {
        let what = "GET /_ping";
        let response = self
            .send(Method::GET, Uri::from_static("/_ping"), what)
            .await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // Read even when not visible ASCII, to say what it was.
        let api = response
            .headers()
            .get("api-version")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        // Podman sets `Libpod-Api-Version` (its own version) on every answer; Docker never does.
        let libpod = header("libpod-api-version").filter(|v| !v.trim().is_empty());
        let engine_version = match &libpod {
            Some(version) => Some(version.trim().to_string()),
            None => header("server")
                .as_deref()
                .and_then(engine_version_of_server),
        };
        // The body ("OK") is read so the connection can carry the next request.
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.unreachable(what, e))?;
        let api = match api {
            None => return Err(EngineError::NotDocker { status }),
            Some(text) => text
                .parse::<ApiVersion>()
                .map_err(|_| EngineError::BadApiVersion {
                    status,
                    value: bounded_remote_string(&text),
                })?,
        };
        Ok(PingAnswer {
            api,
            engine_version,
            podman: libpod.is_some(),
        })
    }

    /// An unversioned GET of `path` decoded from JSON (before a version is negotiated, or
    /// Podman's own endpoints).
    async fn get_json_at<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        let what = format!("GET {}", path.split('?').next().unwrap_or(path));
        let uri = path
            .parse::<Uri>()
            .unwrap_or_else(|_| Uri::from_static("/"));
        let (status, body) = self.exchange_uri(Method::GET, uri, &what).await?;
        decode(what, status, &body)
    }

    /// Explains a broken exchange: the response cap, the remote command's own words, or the
    /// connection error.
    fn unreachable(&self, what: &str, cause: hyper::Error) -> EngineError {
        if over_budget(&cause) {
            return EngineError::ResponseTooLarge {
                what: what.to_string(),
                limit: RESPONSE_LIMIT,
            };
        }
        let remote = self
            .remote_command
            .as_ref()
            .and_then(|status| status.lock().ok().map(|s| s.clone()))
            .filter(|status| status.explain().is_some());
        match remote {
            Some(status) => EngineError::RemoteCommand(status),
            // Something answered, but not in HTTP. An oversized head is a parse error too, and
            // stays as it was: hyper's client does not tell it apart but by its words.
            None if cause.is_parse() && cause.to_string() != HEAD_TOO_LARGE => {
                EngineError::NotHttp {
                    what: what.to_string(),
                    cause,
                }
            }
            None => EngineError::Unreachable {
                what: what.to_string(),
                cause,
            },
        }
    }
}

/// What `/_ping` tells: the API version, and the engine version when `Server` carries it.
struct PingAnswer {
    api: ApiVersion,
    engine_version: Option<String>,
    /// The answer carried `Libpod-Api-Version`.
    podman: bool,
}

/// The engine version in a Docker Engine's `Server` header, `Docker/26.1.5+dfsg1 (linux)`;
/// `None` for any other server.
fn engine_version_of_server(server: &str) -> Option<String> {
    let rest = server.strip_prefix("Docker/")?;
    let version = rest.split_once(' ').map_or(rest, |(version, _)| version);
    (!version.is_empty()).then(|| version.to_string())
}

/// `/version`'s body, as far as fleetprune reads it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionAnswer {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    components: Option<Vec<VersionComponent>>,
    #[serde(default, rename = "MinAPIVersion")]
    min_api_version: Option<ApiVersion>,
}

/// The version to speak with a daemon whose newest is `daemon` and oldest accepted `min` (when
/// known): the lower of its newest and [`ApiVersion::NEWEST_SUPPORTED`], raised to `min`.
fn negotiate(daemon: ApiVersion, min: Option<ApiVersion>) -> Result<ApiVersion, EngineError> {
    if daemon < ApiVersion::OLDEST_SUPPORTED {
        return Err(EngineError::TooOld(daemon));
    }
    let ours = daemon.min(ApiVersion::NEWEST_SUPPORTED);
    match min {
        Some(min) if min > ApiVersion::NEWEST_SUPPORTED => Err(EngineError::RefusesOurs { min }),
        Some(min) if min > ours => Ok(min),
        _ => Ok(ours),
    }
}

/// One of `/version`'s `Components` (`{"Name": "Podman Engine", ...}`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VersionComponent {
    #[serde(default)]
    name: String,
}

impl VersionAnswer {
    /// Podman names itself among `/version`'s components (`Podman Engine`); Docker lists
    /// `Engine`, `containerd`, `runc`, `docker-init`.
    fn kind(&self) -> EngineKind {
        let podman = self
            .components
            .iter()
            .flatten()
            .any(|c| c.name.to_ascii_lowercase().contains("podman"));
        if podman {
            EngineKind::Podman
        } else {
            EngineKind::Docker
        }
    }
}

impl Engine {
    /// Speaks HTTP over the tunnel, negotiates the API version with an unversioned `/_ping`, and
    /// reads the engine version.
    pub async fn connect(tunnel: Tunnel) -> Result<Engine, EngineError> {
        let budget = Arc::new(AtomicU64::new(RESPONSE_LIMIT));
        let stream = Budgeted {
            inner: tunnel.stream,
            remaining: Arc::clone(&budget),
        };
        let (sender, connection_task) = http1::Builder::new()
            .max_buf_size(HEADER_LIMIT)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(EngineError::Handshake)?;
        tokio::spawn(async move {
            if let Err(error) = connection_task.await {
                tracing::debug!("engine connection ended: {error:?}");
            }
        });
        let connection = Connection {
            sender: tokio::sync::Mutex::new(sender),
            version_prefix: OnceLock::new(),
            remote_command: tunnel.remote_command,
            budget,
        };

        let ping = connection.ping().await?;
        let daemon_api = ping.api;
        let mut api_version = negotiate(daemon_api, None)?;
        let mut version_answer = None;
        if daemon_api > ApiVersion::NEWEST_SUPPORTED {
            // A daemon newer than any fleetprune has seen may refuse 1.51: its MinAPIVersion
            // says (unversioned `/version`, as docker's own client asks before it negotiates).
            let answer: VersionAnswer = connection.get_json_at("/version").await?;
            api_version = negotiate(daemon_api, answer.min_api_version)?;
            version_answer = Some(answer);
        }
        let _ = connection.version_prefix.set(format!("/v{api_version}"));
        let mut engine = Engine {
            connection,
            api_version,
            engine_version: String::new(),
            kind: if ping.podman {
                EngineKind::Podman
            } else {
                EngineKind::Docker
            },
            transport: tunnel.kind,
        };
        // `/version` only when the ping did not say (a proxy that rewrote `Server` and dropped
        // Podman's header): one round trip fewer per host otherwise.
        let engine_version = match (ping.engine_version, version_answer) {
            (Some(version), _) => version,
            (None, answer) => {
                let answer: VersionAnswer = match answer {
                    Some(answer) => answer,
                    None => engine.get_json("/version").await?,
                };
                engine.kind = answer.kind();
                answer.version.unwrap_or_else(|| "unknown".to_string())
            }
        };
        engine.engine_version = bounded_remote_string(&engine_version);
        Ok(engine)
    }

    /// A versioned GET decoded from JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        self.request_json(Method::GET, path).await
    }

    /// A versioned GET whose answer is a stream of JSON values (`/events` with an `until`
    /// in the past, so that the stream ends), each decoded.
    pub async fn get_json_stream<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, EngineError> {
        let what = format!("GET {}", path.split('?').next().unwrap_or(path));
        let (status, body) = self.connection.exchange(Method::GET, path, &what).await?;
        if !status.is_success() {
            return Err(EngineError::Status {
                what,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        serde_json::Deserializer::from_slice(&body)
            .into_iter::<T>()
            .collect::<Result<Vec<T>, _>>()
            .map_err(|cause| EngineError::Decode { what, cause })
    }

    /// A GET of Podman's own API (`/libpod/volumes/json`), decoded from JSON. Its paths are
    /// versioned by Podman's version (`/v5.8.6/libpod/...`), not the Docker API's; unversioned
    /// they are not found.
    pub async fn get_libpod_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        let version: String = self
            .engine_version
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        // 4.0.0 is the oldest libpod API a Podman 4 or later serves.
        let version = if version.is_empty() {
            "4.0.0"
        } else {
            &version
        };
        self.connection
            .get_json_at(&format!("/v{version}/libpod{path}"))
            .await
    }

    /// A versioned POST without a body (prune endpoints), decoded from JSON.
    pub async fn post_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        self.request_json(Method::POST, path).await
    }

    /// A versioned DELETE (`/containers/{id}`, `/images/{id}`, ...); the answer's body, which
    /// is empty (204) for most endpoints and a JSON list for images.
    pub async fn delete(&self, path: &str) -> Result<Bytes, EngineError> {
        let what = format!("DELETE {}", path.split('?').next().unwrap_or(path));
        let (status, body) = self
            .connection
            .exchange(Method::DELETE, path, &what)
            .await?;
        if !status.is_success() {
            return Err(EngineError::Status {
                what,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        Ok(body)
    }

    async fn request_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<T, EngineError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let (status, body) = self.connection.exchange(method, path, &what).await?;
        decode(what, status, &body)
    }
}

/// A JSON answer, or the daemon's error for a non-2xx status.
fn decode<T: DeserializeOwned>(
    what: String,
    status: StatusCode,
    body: &[u8],
) -> Result<T, EngineError> {
    if !status.is_success() {
        return Err(EngineError::Status {
            what,
            status: status.as_u16(),
            message: error_message(body),
        });
    }
    serde_json::from_slice(body).map_err(|cause| EngineError::Decode { what, cause })
}

/// The daemon's `{"message": "..."}` error body, or the raw text; bounded.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string());
    bounded_remote_string(&message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::remote_text::REMOTE_STRING_LIMIT;

    #[test]
    fn daemon_error_bodies_are_unwrapped() {
        assert_eq!(
            error_message(br#"{"message":"a prune operation is already running"}"#),
            "a prune operation is already running"
        );
        assert_eq!(error_message(b"plain text\n"), "plain text");
    }

    #[test]
    fn huge_remote_strings_are_cut_and_say_so() {
        let version = "9".repeat(50_000);
        let kept = bounded_remote_string(&version);
        assert!(kept.starts_with(&"9".repeat(REMOTE_STRING_LIMIT)));
        assert!(kept.ends_with("… (50000 bytes in all)"), "{kept}");
        assert_eq!(bounded_remote_string("20.10.24"), "20.10.24");
    }

    #[test]
    fn the_engine_version_comes_from_a_docker_server_header_only() {
        let version = |header| engine_version_of_server(header);
        assert_eq!(
            version("Docker/20.10.24+dfsg1 (linux)").as_deref(),
            Some("20.10.24+dfsg1")
        );
        assert_eq!(version("Docker/26.1.5").as_deref(), Some("26.1.5"));
        assert_eq!(version("nginx/1.22.1"), None);
        assert_eq!(version("Docker/ (linux)"), None);
    }

    #[test]
    fn negotiation_caps_at_the_newest_version_seen_live_and_honours_min_api_version() {
        let v = |text: &str| text.parse::<ApiVersion>().unwrap();
        assert_eq!(negotiate(v("1.41"), None).unwrap(), v("1.41"));
        assert_eq!(negotiate(v("1.51"), None).unwrap(), v("1.51"));
        // Docker 29.0-29.2: API 1.52/1.53, MinAPIVersion 1.44.
        assert_eq!(negotiate(v("1.53"), Some(v("1.44"))).unwrap(), v("1.51"));
        assert_eq!(negotiate(v("1.55"), Some(v("1.40"))).unwrap(), v("1.51"));
        assert!(matches!(
            negotiate(v("1.60"), Some(v("1.52"))),
            Err(EngineError::RefusesOurs { .. })
        ));
        assert!(matches!(
            negotiate(v("1.40"), None),
            Err(EngineError::TooOld(_))
        ));
        let answer: VersionAnswer =
            serde_json::from_str(r#"{"Version":"29.1.0","MinAPIVersion":"1.44"}"#).unwrap();
        assert_eq!(answer.min_api_version, Some(v("1.44")));
    }

    #[test]
    fn podman_is_told_apart_by_its_version_components() {
        let kind = |json: &str| serde_json::from_str::<VersionAnswer>(json).unwrap().kind();
        assert_eq!(
            kind(
                r#"{"Version":"5.8.6","Components":[{"Name":"Podman Engine","Version":"5.8.6"}]}"#
            ),
            EngineKind::Podman
        );
        assert_eq!(
            kind(r#"{"Version":"28.5.2","Components":[{"Name":"Engine"},{"Name":"containerd"}]}"#),
            EngineKind::Docker
        );
        assert_eq!(kind(r#"{"Version":"20.10.24"}"#), EngineKind::Docker);
    }

    #[test]
    fn conflict_is_its_own_class_and_other_statuses_are_engine_errors() {
        let status = |status| EngineError::Status {
            what: "POST /images/prune".into(),
            status,
            message: "m".into(),
        };
        assert_eq!(status(409).class(), ErrorClass::Conflict);
        assert_eq!(status(500).class(), ErrorClass::EngineError);
        assert!(status(500).engine_answered());
    }
}
