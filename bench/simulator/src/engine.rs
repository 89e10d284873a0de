//! A small Docker Engine API stand-in, served over one SSH channel's stream: `/_ping` (API 1.45),
//! `/version`, and the five prune endpoints with per-host state (what a prune removes is gone
//! for the next one), each call delayed by the configured latency. Filters are ignored: every
//! unused object counts as removable. It is a simulator for scale benchmarks, not a Docker.

use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::fleet::Fault;

/// The API version the stand-in announces.
const API_VERSION: &str = "1.45";

/// What a fresh simulated host holds, per kind: objects and bytes a prune would remove.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    pub images: u32,
    pub image_bytes: u64,
    pub containers: u32,
    pub volumes: u32,
    pub volume_bytes: u64,
    pub networks: u32,
    pub build_caches: u32,
    pub build_cache_bytes: u64,
}

/// Latencies of the stand-in's calls.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// `/_ping` and `/version`.
    pub call: Duration,
    /// Each prune.
    pub prune: Duration,
    /// Each prune on a host with [`Fault::Slow`].
    pub slow_prune: Duration,
}

/// Removable objects of one kind on one host.
#[derive(Debug, Default)]
struct Removable {
    count: u32,
    bytes: u64,
}

impl Removable {
    fn take(&mut self) -> Removable {
        std::mem::take(self)
    }
}

/// One host's engine state.
#[derive(Debug)]
pub struct EngineState {
    index: usize,
    fault: Fault,
    images: Mutex<Removable>,
    containers: Mutex<Removable>,
    volumes: Mutex<Removable>,
    networks: Mutex<Removable>,
    build_caches: Mutex<Removable>,
}

/// Counters over the whole simulator, printed at exit.
#[derive(Debug, Default)]
pub struct EngineCounters {
    pub requests: AtomicU64,
    pub prunes: AtomicU64,
    pub reclaimed_bytes: AtomicU64,
}

impl EngineState {
    pub fn new(index: usize, fault: Fault, seed: Seed) -> EngineState {
        let removable = |count, bytes| Mutex::new(Removable { count, bytes });
        EngineState {
            index,
            fault,
            images: removable(seed.images, seed.image_bytes),
            containers: removable(seed.containers, 0),
            volumes: removable(seed.volumes, seed.volume_bytes),
            networks: removable(seed.networks, 0),
            build_caches: removable(seed.build_caches, seed.build_cache_bytes),
        }
    }

    fn take(&self, kind: &Mutex<Removable>) -> Removable {
        // A poisoned lock only means another request panicked; the counts are still plain data.
        let mut guard = kind.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.take()
    }

    fn ids(&self, prefix: &str, count: u32) -> Vec<String> {
        (0..count)
            .map(|n| format!("{prefix}{:032x}{n:032x}", self.index))
            .collect()
    }
}

/// Serves HTTP/1.1 on `stream` until the client closes it.
pub async fn serve<S>(
    stream: S,
    state: std::sync::Arc<EngineState>,
    latency: Latency,
    counters: std::sync::Arc<EngineCounters>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let state = std::sync::Arc::clone(&state);
        let counters = std::sync::Arc::clone(&counters);
        async move { Ok::<_, Infallible>(respond(request, &state, latency, &counters).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn respond(
    request: Request<Incoming>,
    state: &EngineState,
    latency: Latency,
    counters: &EngineCounters,
) -> Response<Full<Bytes>> {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let path = unversioned(request.uri().path());
    match (request.method(), path) {
        (&Method::GET | &Method::HEAD, "/_ping") => {
            tokio::time::sleep(latency.call).await;
            plain(StatusCode::OK, "OK")
        }
        (&Method::GET, "/version") => {
            tokio::time::sleep(latency.call).await;
            json_response(StatusCode::OK, &version())
        }
        // fleetprune's look for orchestrators' objects before a prune: none on a simulated host.
        (&Method::GET, "/containers/json" | "/images/json" | "/networks") => {
            tokio::time::sleep(latency.call).await;
            json_response(StatusCode::OK, &json!([]))
        }
        (&Method::GET, "/volumes") => {
            tokio::time::sleep(latency.call).await;
            json_response(StatusCode::OK, &json!({"Volumes": [], "Warnings": null}))
        }
        (&Method::POST, prune) if prune.ends_with("/prune") => {
            let delay = if state.fault == Fault::Slow {
                latency.slow_prune
            } else {
                latency.prune
            };
            tokio::time::sleep(delay).await;
            if state.fault == Fault::Conflict {
                return json_response(
                    StatusCode::CONFLICT,
                    &json!({"message": "a prune operation is already running"}),
                );
            }
            counters.prunes.fetch_add(1, Ordering::Relaxed);
            match prune_answer(state, prune) {
                Some((body, bytes)) => {
                    counters.reclaimed_bytes.fetch_add(bytes, Ordering::Relaxed);
                    json_response(StatusCode::OK, &body)
                }
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}

/// Removes what one prune kind would remove and describes it as the daemon does.
fn prune_answer(state: &EngineState, path: &str) -> Option<(serde_json::Value, u64)> {
    let answer = match path {
        "/images/prune" => {
            let gone = state.take(&state.images);
            let deleted: Vec<_> = state
                .ids("sha256:", gone.count)
                .into_iter()
                .map(|id| json!({"Deleted": id}))
                .collect();
            (
                json!({"ImagesDeleted": deleted, "SpaceReclaimed": gone.bytes}),
                gone.bytes,
            )
        }
        "/containers/prune" => {
            let gone = state.take(&state.containers);
            let deleted = state.ids("", gone.count);
            (
                json!({"ContainersDeleted": deleted, "SpaceReclaimed": gone.bytes}),
                gone.bytes,
            )
        }
        "/volumes/prune" => {
            let gone = state.take(&state.volumes);
            let deleted = state.ids("vol", gone.count);
            (
                json!({"VolumesDeleted": deleted, "SpaceReclaimed": gone.bytes}),
                gone.bytes,
            )
        }
        "/networks/prune" => {
            let gone = state.take(&state.networks);
            let deleted = state.ids("net", gone.count);
            (json!({"NetworksDeleted": deleted}), 0)
        }
        "/build/prune" => {
            let gone = state.take(&state.build_caches);
            let deleted = state.ids("", gone.count);
            (
                json!({"CachesDeleted": deleted, "SpaceReclaimed": gone.bytes}),
                gone.bytes,
            )
        }
        _ => return None,
    };
    Some(answer)
}

fn version() -> serde_json::Value {
    json!({
        "Platform": {"Name": "fleetprune-sim"},
        "Version": "26.1.5-sim",
        "ApiVersion": API_VERSION,
        "MinAPIVersion": "1.24",
        "GitCommit": "simulator",
        "GoVersion": "go1.22",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": "simulated",
        "BuildTime": "2026-01-01T00:00:00.000000000+00:00"
    })
}

/// `/v1.45/images/prune` -> `/images/prune`.
fn unversioned(path: &str) -> &str {
    if let Some(rest) = path.strip_prefix("/v")
        && let Some(slash) = rest.find('/')
        && rest[..slash]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
    {
        return &rest[slash..];
    }
    path
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    with_headers(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(body.as_bytes()),
    )
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    with_headers(status, "application/json", Bytes::from(body.to_string()))
}

/// A response with the headers a Docker daemon sends on every answer.
fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert("api-version", HeaderValue::from_static(API_VERSION));
    headers.insert("docker-experimental", HeaderValue::from_static("false"));
    headers.insert("ostype", HeaderValue::from_static("linux"));
    headers.insert(
        http::header::SERVER,
        HeaderValue::from_static("Docker/26.1.5-sim (linux)"),
    );
    response
}

fn not_found() -> Response<Full<Bytes>> {
    json_response(StatusCode::NOT_FOUND, &json!({"message": "page not found"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Seed {
        Seed {
            images: 3,
            image_bytes: 300,
            containers: 1,
            volumes: 0,
            volume_bytes: 0,
            networks: 0,
            build_caches: 0,
            build_cache_bytes: 0,
        }
    }

    #[test]
    fn a_prune_removes_its_objects_once() {
        let state = EngineState::new(7, Fault::None, seed());
        let (first, bytes) = prune_answer(&state, "/images/prune").unwrap();
        assert_eq!(bytes, 300);
        assert_eq!(first["ImagesDeleted"].as_array().unwrap().len(), 3);
        let (second, bytes) = prune_answer(&state, "/images/prune").unwrap();
        assert_eq!(bytes, 0);
        assert_eq!(second["SpaceReclaimed"], 0);
        assert!(prune_answer(&state, "/nothing/prune").is_none());
    }

    #[test]
    fn version_prefixes_are_stripped() {
        assert_eq!(unversioned("/v1.45/images/prune"), "/images/prune");
        assert_eq!(unversioned("/_ping"), "/_ping");
        assert_eq!(unversioned("/volumes/prune"), "/volumes/prune");
    }
}
