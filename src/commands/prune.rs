//! `fleetprune prune`: a host's prune requests against its engine, one kind after another in
//! `docker system prune` order, recording what the daemon says it deleted and reclaimed; or, with
//! a keep policy, fleetprune's own selection deleted by ID.
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
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::api_version::ApiVersion;
use crate::busy::wait_until_idle;
use crate::commands::apply::{ImageDelete, delete_planned};
use crate::engine::{Engine, EngineError};
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::failure::{Classify, ErrorClass, HostFailure, Stage};
use crate::model::remote_text::bounded_remote_string;
use crate::outcome::reclaim::{KindReport, PruneReport};
use crate::plan::managed::Orchestrator;
use crate::plan::select::select;
use crate::plan::{PruneKind, PrunePlan, PruneRequest};
use crate::snapshot::{self, HostSnapshot};
use crate::transport::shell::HostShell;
use crate::use_log::UseLog;

/// `fleetprune prune`: the host's plan, checked against its API version, then run. Without a
/// keep policy the daemon's prune endpoints choose (docker's own semantics, the daemon's own
/// reclaimed bytes); with one, fleetprune selects the objects from a snapshot
/// ([`crate::plan::select`]) and deletes them by ID, exactly as `apply` does. Both fill the same
/// [`PruneReport`].
pub struct PruneJob {
    /// Image use seen on earlier runs (for `unused_for`), updated with this one's.
    pub uses: Arc<UseLog>,
}

/// The snapshot a decision is taken on: the host's objects, the image use seen so far (updated
/// with this one's), and the filesystem under DockerRootDir when a threshold needs it.
pub(crate) async fn decision_snapshot(
    engine: &Engine,
    shell: &HostShell<'_>,
    uses: &UseLog,
    with_filesystem: bool,
) -> Result<HostSnapshot, HostFailure> {
    let mut live = snapshot::take(engine)
        .await
        .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
    uses.remember(&mut live);
    if with_filesystem {
        snapshot::add_filesystem(&mut live, shell)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
    }
    Ok(live)
}

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
        let mut orchestrators = BTreeSet::new();
        if !plan.policy().include_managed {
            orchestrators = orchestrators_seen(engine).await?;
        }
        if plan.policy().is_empty() && orchestrators.is_empty() {
            report.planned = requests.iter().map(|r| r.kind).collect();
            for request in &requests {
                wait_until_idle(&host.busy, engine, shell, stop, Stage::Prune).await?;
                run_requests(engine, std::slice::from_ref(request), report, stop).await?;
            }
            return Ok(());
        }
        let with_filesystem = plan.policy().threshold.is_some();
        let mut live = decision_snapshot(engine, shell, &self.uses, with_filesystem).await?;
        let objects = select(&live, plan);
        if !orchestrators.is_empty() {
            let names: Vec<String> = orchestrators.iter().map(ToString::to_string).collect();
            report.notes.push(format!(
                "{} objects seen: pruned object by object, leaving theirs",
                names.join(", ")
            ));
            report
                .notes
                .extend(objects.kinds.iter().flat_map(|k| k.info.iter().cloned()));
        }
        report.planned = objects.kinds.iter().map(|k| k.kind).collect();
        delete_planned(
            engine,
            &mut live,
            &objects,
            report,
            stop,
            ImageDelete::default(),
            Some((&host.busy, shell)),
        )
        .await
    }

    fn in_flight(report: &PruneReport) -> Option<String> {
        in_flight(report)
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

/// The request of `report` whose answer has not come: a daemon prune or a delete by ID.
pub(crate) fn in_flight(report: &PruneReport) -> Option<String> {
    match (&report.in_flight_object, report.in_flight) {
        (Some(id), _) => Some(format!("the delete of {id}")),
        (None, Some(kind)) => Some(format!("the {kind} prune request")),
        (None, None) => None,
    }
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
            reclaimed_exact: true,
            selection: None,
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
            reclaimed_exact: true,
            selection: None,
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
