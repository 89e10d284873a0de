//! Runs a host's prune requests against its engine, one kind after another in `docker system
//! prune` order, and records what the daemon says it deleted and reclaimed.
//!
//! The requests come from [`crate::plan`]; nothing here decides what goes. A 409 "prune operation
//! is already running" is retried with backoff; any other error stops the host, keeping the
//! kinds already done. A request whose answer never came stays `in_flight`: the daemon may have
//! deleted objects, and the report says so. A stop request is honoured between kinds only, and
//! so is the host's busy guard.
//!
//! Objects an orchestrator manages are protected, and no daemon filter can say so (`label!`
//! values exclude only objects carrying all of them, and match no key prefix). So unless
//! `include_managed`, a host whose containers, images, volumes or networks carry such labels is
//! pruned object by object ([`crate::plan::select`], then deletes by ID, as a keep policy is);
//! other hosts get the daemon's prune endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::api_version::ApiVersion;
use crate::apply::{ApplyReport, ImageDelete, delete_planned};
use crate::busy::wait_until_idle;
use crate::engine::{Engine, EngineError, bounded_remote_string};
use crate::executor::HostJob;
use crate::host::Host;
use crate::outcome::{Classify, ErrorClass, HostFailure, Stage};
use crate::plan::managed::Orchestrator;
use crate::plan::select::select;
use crate::plan::{PruneKind, PrunePlan, PruneRequest, VolumeScope};
use crate::snapshot;
use crate::transport::shell::HostShell;

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
    /// The daemon's `SpaceReclaimed` when it is a byte count, else 0.
    pub reclaimed_bytes: u64,
    /// The daemon's `SpaceReclaimed` as it said it, when it is not a byte count (negative, or
    /// beyond 2^64): reported as such, never wrapped or dropped.
    pub odd_reclaimed: Option<String>,
}

/// A host's prune results, as far as they got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Which volumes the daemon prunes, when volumes are in the plan.
    pub volume_scope: Option<VolumeScope>,
    /// The kinds of the plan, in the order they run.
    pub planned: Vec<PruneKind>,
    /// The kinds whose answer came, in order.
    pub kinds: Vec<KindReport>,
    /// The kind whose request was sent and whose answer has not come: it may have deleted.
    pub in_flight: Option<PruneKind>,
    /// Facts about how the host was pruned (orchestrators seen, what was left to them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl PruneReport {
    pub fn kind(&self, kind: PruneKind) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Bytes reclaimed on this host; saturates rather than wraps.
    pub fn reclaimed_bytes(&self) -> u64 {
        self.kinds
            .iter()
            .fold(0u64, |sum, k| sum.saturating_add(k.reclaimed_bytes))
    }

    /// Kinds of the plan that were neither answered nor in flight.
    pub fn not_started(&self) -> Vec<PruneKind> {
        self.planned
            .iter()
            .copied()
            .filter(|kind| self.kind(*kind).is_none() && self.in_flight != Some(*kind))
            .collect()
    }
}

/// `fleetprune prune`: the host's plan, checked against its API version, then run.
pub struct PruneJob;

/// The host's prune plan and its requests for this engine's API version, or the failure at stage
/// `plan` that the prune, plan and apply jobs all report (no plan; a filter the API refuses, such
/// as a timestamp `until` for build cache on API 1.41).
pub(crate) fn checked_plan(
    host: &Host,
    api: ApiVersion,
) -> Result<(&PrunePlan, Vec<PruneRequest>), HostFailure> {
    let plan = host.plan.as_ref().ok_or_else(|| {
        HostFailure::new(
            Stage::Plan,
            ErrorClass::EngineError,
            "no prune plan for this host",
        )
    })?;
    let requests = plan
        .requests(api)
        .map_err(|e| HostFailure::new(Stage::Plan, ErrorClass::EngineError, e))?;
    Ok((plan, requests))
}

impl HostJob for PruneJob {
    type Output = PruneReport;
    const STAGE: Stage = Stage::Prune;

    async fn run(
        &self,
        host: &Host,
        engine: &Engine,
        shell: &HostShell<'_>,
        report: &mut PruneReport,
        stop: &CancellationToken,
    ) -> Result<(), HostFailure> {
        let (plan, requests) = checked_plan(host, engine.api_version)?;
        if plan.includes(PruneKind::Volumes) {
            report.volume_scope = Some(plan.volume_scope(engine.api_version));
        }
        report.planned = requests.iter().map(|r| r.kind).collect();
        if !plan.policy().include_managed {
            let seen = orchestrators_seen(engine).await?;
            if !seen.is_empty() {
                let names: Vec<String> = seen.iter().map(ToString::to_string).collect();
                report.notes.push(format!(
                    "{} objects seen: pruned object by object, leaving theirs",
                    names.join(", ")
                ));
                return prune_by_id(host, plan, engine, shell, report, stop).await;
            }
        }
        for request in &requests {
            wait_until_idle(&host.busy, engine, shell, stop, Stage::Prune).await?;
            run_requests(engine, std::slice::from_ref(request), report, stop).await?;
        }
        Ok(())
    }

    fn in_flight(report: &PruneReport) -> Option<String> {
        report
            .in_flight
            .map(|kind| format!("the {kind} prune request"))
    }
}

/// Label sets of any object list (`/containers/json`, `/images/json`, `/networks`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Labelled {
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct VolumeList {
    volumes: Option<Vec<Labelled>>,
}

/// The orchestrators whose labels any container, image, volume or network of the host carries
/// (list endpoints only: four cheap calls).
async fn orchestrators_seen(engine: &Engine) -> Result<BTreeSet<Orchestrator>, HostFailure> {
    let failed = |e: EngineError| HostFailure::from_error(Stage::Plan, &e);
    let mut labelled: Vec<Labelled> = Vec::new();
    for path in ["/containers/json?all=1", "/images/json?all=1", "/networks"] {
        labelled.extend(
            engine
                .get_json::<Vec<Labelled>>(path)
                .await
                .map_err(failed)?,
        );
    }
    let volumes: VolumeList = engine.get_json("/volumes").await.map_err(failed)?;
    labelled.extend(volumes.volumes.unwrap_or_default());
    Ok(labelled
        .iter()
        .filter_map(|l| l.labels.as_ref().and_then(Orchestrator::managing))
        .collect())
}

/// The host's plan decided object by object ([`select`], which keeps what orchestrators
/// manage) and deleted by ID; the report is the one a prune gives, with the notes of what was
/// left.
async fn prune_by_id(
    host: &Host,
    plan: &PrunePlan,
    engine: &Engine,
    shell: &HostShell<'_>,
    report: &mut PruneReport,
    stop: &CancellationToken,
) -> Result<(), HostFailure> {
    let mut live = snapshot::take(engine)
        .await
        .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
    let objects = select(&live, plan);
    report
        .notes
        .extend(objects.kinds.iter().flat_map(|k| k.info.iter().cloned()));
    let mut applied = ApplyReport::default();
    let result = delete_planned(
        engine,
        &mut live,
        &objects,
        &mut applied,
        stop,
        ImageDelete::default(),
        Some((&host.busy, shell)),
    )
    .await;
    let last = applied.kinds.len();
    for (index, kind) in applied.kinds.into_iter().enumerate() {
        if index + 1 == last && applied.in_flight.is_some() {
            report.in_flight = Some(kind.kind);
        }
        report.kinds.push(KindReport {
            kind: kind.kind,
            untagged: kind.untagged,
            deleted: kind.deleted,
            reclaimed_bytes: kind.reclaimed_bytes,
            odd_reclaimed: None,
        });
    }
    result
}

/// How often a 409 is retried, and the first pause (doubled each time).
const CONFLICT_RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Runs `requests` in order; stops at the first failure or when `stop` is triggered between
/// kinds, keeping what was done in `report`.
pub async fn run_requests(
    engine: &Engine,
    requests: &[PruneRequest],
    report: &mut PruneReport,
    stop: &CancellationToken,
) -> Result<(), HostFailure> {
    for request in requests {
        if stop.is_cancelled() {
            return Err(HostFailure::new(
                Stage::Prune,
                ErrorClass::Interrupted,
                format!("interrupted before the {} prune was sent", request.kind),
            ));
        }
        report.in_flight = Some(request.kind);
        let answer = retry_conflicts(stop, || async {
            engine.post_json::<PruneAnswer>(&prune_path(request)).await
        })
        .await;
        match answer {
            Ok(answer) => {
                report.in_flight = None;
                report.kinds.push(answer.into_report(request.kind));
            }
            Err(error) => {
                if error.engine_answered() {
                    // The daemon refused the request: it deleted nothing for this kind.
                    report.in_flight = None;
                }
                return Err(HostFailure::from_error(Stage::Prune, &error));
            }
        }
    }
    Ok(())
}

/// Retries `call` while the daemon answers 409 (another prune of the same kind is running),
/// unless `stop` is triggered meanwhile.
pub async fn retry_conflicts<T, F, Fut>(
    stop: &CancellationToken,
    mut call: F,
) -> Result<T, EngineError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, EngineError>>,
{
    let mut pause = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match call().await {
            Err(error)
                if error.class() == ErrorClass::Conflict
                    && attempt < CONFLICT_RETRIES
                    && !stop.is_cancelled() =>
            {
                attempt += 1;
                tracing::info!(
                    "another prune is running; retrying in {}ms ({attempt}/{CONFLICT_RETRIES})",
                    pause.as_millis()
                );
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = stop.cancelled() => return Err(error),
                }
                pause *= 2;
            }
            other => return other,
        }
    }
}

/// `/images/prune?filters=...`, the endpoint and query of one request.
fn prune_path(request: &PruneRequest) -> String {
    let endpoint = match request.kind {
        PruneKind::Containers => "/containers/prune",
        PruneKind::Networks => "/networks/prune",
        PruneKind::Volumes => "/volumes/prune",
        PruneKind::Images => "/images/prune",
        PruneKind::BuildCache => "/build/prune",
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(all) = request.build_cache_all {
        query.append_pair("all", if all { "true" } else { "false" });
    }
    if !request.filters.is_empty() {
        // A map of strings to lists of strings always serialises.
        let filters = serde_json::to_string(&request.filters).unwrap_or_default();
        query.append_pair("filters", &filters);
    }
    let query = query.finish();
    if query.is_empty() {
        endpoint.to_string()
    } else {
        format!("{endpoint}?{query}")
    }
}

/// Any prune endpoint's answer (each fills its own list).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PruneAnswer {
    containers_deleted: Option<Vec<String>>,
    networks_deleted: Option<Vec<String>>,
    volumes_deleted: Option<Vec<String>>,
    caches_deleted: Option<Vec<String>>,
    images_deleted: Option<Vec<ImageDeleted>>,
    space_reclaimed: Option<serde_json::Number>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageDeleted {
    untagged: Option<String>,
    deleted: Option<String>,
}

impl PruneAnswer {
    fn into_report(self, kind: PruneKind) -> KindReport {
        let (reclaimed_bytes, odd_reclaimed) = match &self.space_reclaimed {
            None => (0, None),
            Some(number) => match number.as_u64() {
                Some(bytes) => (bytes, None),
                None => (0, Some(bounded_remote_string(&number.to_string()))),
            },
        };
        let mut untagged = Vec::new();
        let mut deleted = Vec::new();
        for item in self.images_deleted.unwrap_or_default() {
            untagged.extend(item.untagged);
            deleted.extend(item.deleted);
        }
        for list in [
            self.containers_deleted,
            self.networks_deleted,
            self.volumes_deleted,
            self.caches_deleted,
        ] {
            deleted.extend(list.unwrap_or_default());
        }
        KindReport {
            kind,
            untagged,
            deleted,
            reclaimed_bytes,
            odd_reclaimed,
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
        let result = retry_conflicts(&CancellationToken::new(), || async {
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
        let result: Result<(), _> = retry_conflicts(&CancellationToken::new(), || async {
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
        let result: Result<(), _> = retry_conflicts(&CancellationToken::new(), || async {
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

#[cfg(test)]
mod answer_tests {
    use super::*;

    fn answer(json: &str) -> KindReport {
        serde_json::from_str::<PruneAnswer>(json)
            .unwrap()
            .into_report(PruneKind::Images)
    }

    #[test]
    fn negative_space_reclaimed_is_reported_as_such_not_as_zero() {
        let report = answer(r#"{"ImagesDeleted":null,"SpaceReclaimed":-5}"#);
        assert_eq!(report.reclaimed_bytes, 0);
        assert_eq!(report.odd_reclaimed.as_deref(), Some("-5"));
    }

    #[test]
    fn space_reclaimed_beyond_u64_does_not_fail_a_prune_that_ran() {
        let report = answer(
            r#"{"ImagesDeleted":[{"Deleted":"sha256:a"}],"SpaceReclaimed":36893488147419103232}"#,
        );
        assert_eq!(report.deleted, ["sha256:a"]);
        assert_eq!(report.reclaimed_bytes, 0);
        assert!(report.odd_reclaimed.is_some());
    }

    #[test]
    fn totals_saturate_instead_of_wrapping() {
        let big = KindReport {
            kind: PruneKind::Images,
            untagged: Vec::new(),
            deleted: Vec::new(),
            reclaimed_bytes: u64::MAX / 2 + 1,
            odd_reclaimed: None,
        };
        let report = PruneReport {
            kinds: vec![big.clone(), big.clone(), big.clone(), big],
            ..PruneReport::default()
        };
        assert_eq!(report.reclaimed_bytes(), u64::MAX);
    }

    #[test]
    fn filters_and_build_cache_all_go_in_the_query() {
        let request = PruneRequest {
            kind: PruneKind::BuildCache,
            filters: [("until".to_string(), vec!["24h".to_string()])].into(),
            build_cache_all: Some(true),
        };
        assert_eq!(
            prune_path(&request),
            "/build/prune?all=true&filters=%7B%22until%22%3A%5B%2224h%22%5D%7D"
        );
    }

    #[test]
    fn kinds_neither_answered_nor_in_flight_are_not_started() {
        let report = PruneReport {
            planned: vec![PruneKind::Containers, PruneKind::Images, PruneKind::Volumes],
            kinds: vec![answer(r#"{}"#)]
                .into_iter()
                .map(|mut k| {
                    k.kind = PruneKind::Containers;
                    k
                })
                .collect(),
            in_flight: Some(PruneKind::Images),
            ..PruneReport::default()
        };
        assert_eq!(report.not_started(), [PruneKind::Volumes]);
    }
}
