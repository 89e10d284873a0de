//! The Docker Engine API over one tunnel stream: a single HTTP/1.1 connection per host (never a
//! pool, so the exec fallback runs one remote process), API version negotiation, and a bollard
//! client that sends every request through that connection.
//!
//! What to ask the engine is decided by [`crate::prune`] and [`crate::df`].

use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use bollard::{BollardRequest, ClientVersion, Docker};
use bytes::Bytes;
use futures::Stream;
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use crate::api_version::ApiVersion;
use crate::transport::tunnel::{RemoteCommandStatus, TransportKind, Tunnel};

/// bollard's request body type, spelled out so the connection can carry its requests.
type EngineBody = Either<
    Full<Bytes>,
    StreamBody<Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send>>>,
>;

/// A connected, version-negotiated Docker Engine.
pub struct Engine {
    docker: Docker,
    connection: Arc<Connection>,
    pub api_version: ApiVersion,
    pub engine_version: String,
    pub transport: TransportKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("HTTP handshake with the Docker socket failed: {0}")]
    Handshake(String),
    #[error("the Docker socket did not answer: {0}")]
    Unreachable(String),
    #[error("cannot reach the Docker socket: {0}")]
    RemoteCommand(String),
    #[error("the Docker Engine answered {status} to {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    #[error("the Docker Engine speaks API {0}; fleetprune needs at least {min}", min = ApiVersion::OLDEST_SUPPORTED)]
    TooOld(ApiVersion),
    #[error("unexpected answer to {what}: {message}")]
    Decode { what: String, message: String },
}

/// The one HTTP connection to a host's engine.
struct Connection {
    sender: tokio::sync::Mutex<SendRequest<EngineBody>>,
    /// `/v1.41` once negotiated.
    version_prefix: OnceLock<String>,
    remote_command: Option<Arc<Mutex<RemoteCommandStatus>>>,
}

impl Connection {
    /// Sends `request` with an origin-form URI; versioned paths get the negotiated prefix
    /// (whatever prefix bollard put there is replaced).
    async fn send(
        &self,
        request: Request<EngineBody>,
        versioned: bool,
    ) -> Result<Response<Incoming>, EngineError> {
        let (mut parts, body) = request.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let unversioned = strip_version_prefix(path_and_query);
        let prefix = match (versioned, self.version_prefix.get()) {
            (true, Some(prefix)) => prefix.as_str(),
            _ => "",
        };
        parts.uri = format!("{prefix}{unversioned}")
            .parse::<Uri>()
            .map_err(|e| EngineError::Handshake(e.to_string()))?;
        parts
            .headers
            .insert(http::header::HOST, HeaderValue::from_static("docker"));
        let request = Request::from_parts(parts, body);
        let response = {
            let mut sender = self.sender.lock().await;
            sender.ready().await.map_err(|e| self.unreachable(e))?;
            sender.send_request(request)
        };
        response.await.map_err(|e| self.unreachable(e))
    }

    /// Explains a broken connection, with the remote command's own words when there are any.
    fn unreachable(&self, error: hyper::Error) -> EngineError {
        let remote = self
            .remote_command
            .as_ref()
            .and_then(|status| status.lock().ok().and_then(|s| s.explain()));
        match remote {
            Some(explanation) => EngineError::RemoteCommand(explanation),
            None => EngineError::Unreachable(error.to_string()),
        }
    }
}

/// `/v1.41/images/prune?x` -> `/images/prune?x`.
fn strip_version_prefix(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("/v") {
        let end = rest.find('/').unwrap_or(rest.len());
        if rest[..end].parse::<ApiVersion>().is_ok() {
            return &rest[end..];
        }
    }
    path
}

impl Engine {
    /// Speaks HTTP over the tunnel, negotiates the API version with an unversioned `/_ping`, and
    /// reads the engine version.
    pub async fn connect(tunnel: Tunnel) -> Result<Engine, EngineError> {
        let (sender, connection_task) = http1::handshake(TokioIo::new(tunnel.stream))
            .await
            .map_err(|e| EngineError::Handshake(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(error) = connection_task.await {
                tracing::debug!("engine connection ended: {error}");
            }
        });
        let connection = Arc::new(Connection {
            sender: tokio::sync::Mutex::new(sender),
            version_prefix: OnceLock::new(),
            remote_command: tunnel.remote_command,
        });

        let ping = connection
            .send(empty_request(Method::GET, "/_ping"), false)
            .await?;
        let daemon_api = ping
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<ApiVersion>().ok())
            .ok_or_else(|| EngineError::Decode {
                what: "GET /_ping".into(),
                message: format!(
                    "status {} without an Api-Version header: is this a Docker Engine socket?",
                    ping.status()
                ),
            })?;
        drain(ping).await;
        if daemon_api < ApiVersion::OLDEST_SUPPORTED {
            return Err(EngineError::TooOld(daemon_api));
        }
        let api_version = daemon_api.min(ApiVersion::NEWEST_SUPPORTED);
        let _ = connection.version_prefix.set(format!("/v{api_version}"));

        let transport_connection = Arc::clone(&connection);
        let docker = Docker::connect_with_custom_transport(
            move |request: BollardRequest| {
                let connection = Arc::clone(&transport_connection);
                async move {
                    connection.send(request, true).await.map_err(|error| {
                        bollard::errors::Error::IOError {
                            err: std::io::Error::other(error.to_string()),
                        }
                    })
                }
            },
            Some("http://docker"),
            // fleetprune applies its own per-host timeout around the whole host.
            u64::MAX / 4,
            &ClientVersion {
                major_version: usize::from(api_version.major),
                minor_version: usize::from(api_version.minor),
            },
        )
        .map_err(|e| EngineError::Handshake(e.to_string()))?;

        let version = docker
            .version()
            .await
            .map_err(|e| from_bollard("GET /version", e))?;
        Ok(Engine {
            docker,
            connection,
            api_version,
            engine_version: version.version.unwrap_or_else(|| "unknown".into()),
            transport: tunnel.kind,
        })
    }

    /// The bollard client bound to this engine's connection.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// A versioned GET decoded from JSON, for endpoints whose shape bollard does not model
    /// for every API version.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        let what = format!("GET {path}");
        let response = self
            .connection
            .send(empty_request(Method::GET, path), true)
            .await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.connection.unreachable(e))?
            .to_bytes();
        if status != StatusCode::OK {
            return Err(EngineError::Status {
                what,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        serde_json::from_slice(&body).map_err(|e| EngineError::Decode {
            what,
            message: e.to_string(),
        })
    }
}

/// Converts a bollard error, keeping the daemon's status and message.
pub fn from_bollard(what: &str, error: bollard::errors::Error) -> EngineError {
    match error {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => EngineError::Status {
            what: what.to_string(),
            status: status_code,
            message,
        },
        bollard::errors::Error::IOError { err } => EngineError::Unreachable(err.to_string()),
        other => EngineError::Decode {
            what: what.to_string(),
            message: other.to_string(),
        },
    }
}

fn empty_request(method: Method, path: &str) -> Request<EngineBody> {
    let mut request = Request::new(Either::Left(Full::new(Bytes::new())));
    *request.method_mut() = method;
    *request.uri_mut() = Uri::from_maybe_shared(Bytes::copy_from_slice(path.as_bytes()))
        .unwrap_or_else(|_| Uri::from_static("/"));
    request
}

/// Reads and drops a body so the connection can carry the next request.
async fn drain(response: Response<Incoming>) {
    let _ = response.into_body().collect().await;
}

/// The daemon's `{"message": "..."}` error body, or the raw text.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: String,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefix_is_replaced_not_stacked() {
        assert_eq!(
            strip_version_prefix("/v1.53/images/prune?filters=x"),
            "/images/prune?filters=x"
        );
        assert_eq!(strip_version_prefix("/_ping"), "/_ping");
        assert_eq!(strip_version_prefix("/volumes"), "/volumes");
    }

    #[test]
    fn daemon_error_bodies_are_unwrapped() {
        assert_eq!(
            error_message(br#"{"message":"a prune operation is already running"}"#),
            "a prune operation is already running"
        );
        assert_eq!(error_message(b"plain text\n"), "plain text");
    }
}
