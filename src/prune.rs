//! Runs a host's prune requests against its engine, one kind after another in `docker system
//! prune` order, and records what the daemon says it deleted and reclaimed.
//!
//! The requests come from [`crate::plan`]; nothing here decides what goes. A 409 "prune operation
//! is already running" is retried with backoff; any other error stops the host, keeping the
//! kinds already done.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use bollard::query_parameters::{
    PruneBuildOptions, PruneContainersOptions, PruneImagesOptions, PruneNetworksOptions,
    PruneVolumesOptions,
};
use serde::Serialize;

use crate::engine::{Engine, EngineError, from_bollard};
use crate::executor::HostJob;
use crate::host::Host;
use crate::outcome::{HostFailure, Stage};
use crate::plan::{PruneKind, PruneRequest, VolumeScope};

/// What one prune call removed, in the daemon's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: PruneKind,
    /// Image references removed (`repo:tag`, `repo@sha256:...`); images only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<String>,
    /// IDs or names deleted: container IDs, network and volume names, image and layer IDs,
    /// build-cache record IDs.
    pub deleted: Vec<String>,
    /// The daemon's `SpaceReclaimed`.
    pub reclaimed_bytes: u64,
}

/// A host's prune results, as far as they got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Which volumes the daemon prunes, when volumes are in the plan.
    pub volume_scope: Option<VolumeScope>,
    pub kinds: Vec<KindReport>,
}

impl PruneReport {
    pub fn kind(&self, kind: PruneKind) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    pub fn reclaimed_bytes(&self) -> u64 {
        self.kinds.iter().map(|k| k.reclaimed_bytes).sum()
    }
}

/// `fleetprune prune`: the host's plan, checked against its API version, then run.
pub struct PruneJob;

impl HostJob for PruneJob {
    type Output = PruneReport;
    const STAGE: Stage = Stage::Prune;

    async fn run(
        &self,
        host: &Host,
        engine: &Engine,
        report: &mut PruneReport,
    ) -> Result<(), HostFailure> {
        let plan = host
            .plan
            .as_ref()
            .ok_or_else(|| HostFailure::new(Stage::Plan, "no prune plan for this host"))?;
        let requests = plan
            .requests(engine.api_version)
            .map_err(|e| HostFailure::new(Stage::Plan, e))?;
        if plan.includes(PruneKind::Volumes) {
            report.volume_scope = Some(plan.volume_scope(engine.api_version));
        }
        run_requests(engine, &requests, report)
            .await
            .map_err(|e| HostFailure::new(Stage::Prune, e))
    }
}

/// How often a 409 is retried, and the first pause (doubled each time).
const CONFLICT_RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Runs `requests` in order; stops at the first failure, keeping what was done in `report`.
pub async fn run_requests(
    engine: &Engine,
    requests: &[PruneRequest],
    report: &mut PruneReport,
) -> Result<(), EngineError> {
    for request in requests {
        let kind_report = retry_conflicts(|| prune_one(engine, request)).await?;
        report.kinds.push(kind_report);
    }
    Ok(())
}

/// Retries `call` while the daemon answers 409 (another prune of the same kind is running).
pub async fn retry_conflicts<T, F, Fut>(mut call: F) -> Result<T, EngineError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, EngineError>>,
{
    let mut pause = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match call().await {
            Err(EngineError::Status { status: 409, .. }) if attempt < CONFLICT_RETRIES => {
                attempt += 1;
                tracing::info!(
                    "another prune is running; retrying in {}ms ({attempt}/{CONFLICT_RETRIES})",
                    pause.as_millis()
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
}

impl KindReport {
    fn new(kind: PruneKind, deleted: Option<Vec<String>>, space_reclaimed: Option<i64>) -> Self {
        KindReport {
            kind,
            untagged: Vec::new(),
            deleted: deleted.unwrap_or_default(),
            reclaimed_bytes: space_reclaimed
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
        }
    }
}

async fn prune_one(engine: &Engine, request: &PruneRequest) -> Result<KindReport, EngineError> {
    let filters: HashMap<String, Vec<String>> = request
        .filters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let docker = engine.docker();
    let kind = request.kind;
    tracing::debug!(kind = %request.kind, ?filters, "prune");
    match request.kind {
        PruneKind::Containers => {
            let options = PruneContainersOptions {
                filters: Some(filters),
            };
            let response = docker
                .prune_containers(Some(options))
                .await
                .map_err(|e| from_bollard("POST /containers/prune", e))?;
            Ok(KindReport::new(
                kind,
                response.containers_deleted,
                response.space_reclaimed,
            ))
        }
        PruneKind::Networks => {
            let options = PruneNetworksOptions {
                filters: Some(filters),
            };
            let response = docker
                .prune_networks(Some(options))
                .await
                .map_err(|e| from_bollard("POST /networks/prune", e))?;
            Ok(KindReport::new(kind, response.networks_deleted, None))
        }
        PruneKind::Volumes => {
            let options = PruneVolumesOptions {
                filters: Some(filters),
            };
            let response = docker
                .prune_volumes(Some(options))
                .await
                .map_err(|e| from_bollard("POST /volumes/prune", e))?;
            Ok(KindReport::new(
                kind,
                response.volumes_deleted,
                response.space_reclaimed,
            ))
        }
        PruneKind::Images => {
            let options = PruneImagesOptions {
                filters: Some(filters),
            };
            let response = docker
                .prune_images(Some(options))
                .await
                .map_err(|e| from_bollard("POST /images/prune", e))?;
            let mut report = KindReport::new(kind, None, response.space_reclaimed);
            for item in response.images_deleted.unwrap_or_default() {
                report.untagged.extend(item.untagged);
                report.deleted.extend(item.deleted);
            }
            Ok(report)
        }
        PruneKind::BuildCache => {
            let options = PruneBuildOptions {
                all: request.build_cache_all,
                filters: (!filters.is_empty()).then_some(filters),
                ..PruneBuildOptions::default()
            };
            let response = docker
                .prune_build(Some(options))
                .await
                .map_err(|e| from_bollard("POST /build/prune", e))?;
            Ok(KindReport::new(
                kind,
                response.caches_deleted,
                response.space_reclaimed,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn conflict() -> EngineError {
        EngineError::Status {
            what: "POST /images/prune".into(),
            status: 409,
            message: "a prune operation is already running".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn conflict_is_retried_with_backoff_then_succeeds() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = retry_conflicts(|| async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(conflict())
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(started.elapsed(), Duration::from_millis(500 + 1000));
    }

    #[tokio::test(start_paused = true)]
    async fn persistent_conflict_is_reported_after_retries() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_conflicts(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(conflict())
        })
        .await;
        assert!(matches!(
            result,
            Err(EngineError::Status { status: 409, .. })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1 + CONFLICT_RETRIES);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_conflicts(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(EngineError::Status {
                what: "x".into(),
                status: 400,
                message: "invalid filter".into(),
            })
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
