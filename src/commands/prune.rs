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
use crate::filter::{Filter, FilterSet};
use crate::host::Host;
use crate::model::engine_kind::EngineKind;
use crate::model::failure::{Classify, ErrorClass, HostFailure, Stage};
use crate::model::remote_text::bounded_remote_string;
use crate::outcome::reclaim::{KindReport, PruneReport};
use crate::plan::managed::Orchestrator;
use crate::plan::select::select;
use crate::plan::{AllScope, PruneKind, PrunePlan, PruneRequest};
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
/// with this one's), and the filesystems under DockerRootDir and containerd's root when the
/// watermarks of `policy` need them (none without a policy).
pub(crate) async fn decision_snapshot(
    engine: &Engine,
    shell: &HostShell<'_>,
    uses: &UseLog,
    policy: Option<&crate::plan::policy::KeepPolicy>,
) -> Result<HostSnapshot, HostFailure> {
    let mut live = snapshot::take(engine)
        .await
        .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
    uses.remember(&mut live);
    if let Some(policy) = policy.filter(|p| p.measures_filesystems()) {
        let inodes = policy.inode_threshold.is_some();
        snapshot::add_filesystem(&mut live, shell, inodes)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
    }
    Ok(live)
}

/// The host's prune plan and its requests for this engine and API version, or the failure at
/// stage `plan` that the prune, plan and apply jobs all report (no plan; a filter the API
/// refuses, such as a timestamp `until` for build cache on API 1.41).
pub(crate) fn checked_plan(
    host: &Host,
    api: ApiVersion,
    engine: EngineKind,
) -> Result<(&PrunePlan, Vec<PruneRequest>), HostFailure> {
    let plan = host.plan.as_ref().ok_or_else(|| {
        HostFailure::new(
            Stage::Plan,
            ErrorClass::EngineError,
            "no prune plan for this host",
        )
    })?;
    let requests = plan
        .requests(api, engine)
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
        let (plan, requests) = checked_plan(host, engine.api_version, engine.kind)?;
        if plan.includes(PruneKind::Volumes) {
            report.volume_scope = Some(plan.volume_scope(engine.api_version, engine.kind));
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
        let mut live = decision_snapshot(engine, shell, &self.uses, Some(plan.policy())).await?;
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
        if request.volumes_by_name {
            let mut kind = KindReport::empty(PruneKind::Volumes);
            let result = delete_anonymous_volumes(engine, request, &mut kind, stop).await;
            if result.as_ref().err().is_none_or(|e| e.engine_answered) {
                report.in_flight = None;
            }
            report.kinds.push(kind);
            result.map_err(|e| e.failure)?;
            continue;
        }
        // Podman answers 500 after deleting some objects when others failed: what was there
        // before is listed, so a re-list tells what went.
        let before = match engine.kind {
            EngineKind::Podman => list_objects(engine, request.kind)
                .await
                .map_err(|e| HostFailure::from_error(Stage::Prune, &e))?,
            EngineKind::Docker => None,
        };
        let answer = retry_conflicts(stop, || async {
            engine.post_json::<PruneAnswer>(&prune_path(request)).await
        })
        .await;
        match answer {
            Ok(answer) => {
                report.in_flight = None;
                report.kinds.push(answer.into_report(request.kind));
            }
            Err(EngineError::Status { status: 404, .. })
                if request.kind == PruneKind::BuildCache =>
            {
                // No `/build/prune` (Podman): a fact about the engine, not a failed host.
                report.in_flight = None;
                report.unsupported.push(request.kind);
            }
            Err(error) => {
                if let (Some(before), EngineError::Status { status: 500, .. }) = (&before, &error)
                    && let Ok(Some(after)) = list_objects(engine, request.kind).await
                {
                    let mut kind = KindReport::empty(request.kind);
                    kind.deleted = gone(before, &after);
                    kind.note = Some(format!(
                        "the engine answered 500 after deleting {} object(s), found gone by a re-list; space reclaimed not reported",
                        kind.deleted.len()
                    ));
                    report.in_flight = None;
                    report.kinds.push(kind);
                    return Err(HostFailure::from_error(Stage::Prune, &error));
                }
                // A refusal deleted nothing; but Podman's 500 may come after deletions, and
                // without a re-list the kind stays in flight (outcome unknown).
                let maybe_deleted =
                    before.is_some() && matches!(error, EngineError::Status { status: 500, .. });
                if error.engine_answered() && !maybe_deleted {
                    report.in_flight = None;
                }
                return Err(HostFailure::from_error(Stage::Prune, &error));
            }
        }
    }
    Ok(())
}

/// An item of a list endpoint, as far as telling what went needs it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Listed {
    id: String,
    name: String,
}

/// `/volumes`' answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ListedVolumes {
    volumes: Option<Vec<Listed>>,
}

/// The objects a prune of `kind` may delete, as its answer names them (container and image
/// IDs, network and volume names); `None` for build cache, which has no list endpoint.
async fn list_objects(
    engine: &Engine,
    kind: PruneKind,
) -> Result<Option<Vec<String>>, EngineError> {
    let listed: Vec<Listed> = match kind {
        PruneKind::Containers => engine.get_json("/containers/json?all=1").await?,
        PruneKind::Images => engine.get_json("/images/json?all=1").await?,
        PruneKind::Networks => engine.get_json("/networks").await?,
        PruneKind::Volumes => {
            let list: ListedVolumes = engine.get_json("/volumes").await?;
            list.volumes.unwrap_or_default()
        }
        PruneKind::BuildCache => return Ok(None),
    };
    let by_name = matches!(kind, PruneKind::Networks | PruneKind::Volumes);
    Ok(Some(
        listed
            .into_iter()
            .map(|item| if by_name { item.name } else { item.id })
            .collect(),
    ))
}

/// What `before` listed and `after` does not, in `before`'s order.
fn gone(before: &[String], after: &[String]) -> Vec<String> {
    let after: std::collections::BTreeSet<&String> = after.iter().collect();
    before
        .iter()
        .filter(|object| !after.contains(object))
        .cloned()
        .collect()
}

/// Why deleting volumes one by one stopped: the host's failure, and whether the engine answered
/// (false when a delete may have gone through without its answer).
#[derive(Debug)]
struct VolumesStopped {
    failure: HostFailure,
    engine_answered: bool,
}

impl VolumesStopped {
    fn at_plan(error: &dyn Classify) -> VolumesStopped {
        VolumesStopped {
            failure: HostFailure::from_error(Stage::Prune, error),
            engine_answered: true,
        }
    }
}

/// Volumes on Podman without `all`: selects, from the volumes and containers as they are now,
/// the unused anonymous volumes passing the request's label filters (the same selection `plan`
/// shows), and deletes them by name, recording each one that went. A volume in use by now or
/// already gone is left out; a stop request is honoured between volumes.
async fn delete_anonymous_volumes(
    engine: &Engine,
    request: &PruneRequest,
    kind: &mut KindReport,
    stop: &CancellationToken,
) -> Result<(), VolumesStopped> {
    let live = snapshot::take_volumes(engine)
        .await
        .map_err(|e| VolumesStopped::at_plan(&e))?;
    let plan = PrunePlan::new(
        [PruneKind::Volumes].into(),
        AllScope::default(),
        label_filters(request),
    )
    .map_err(|e| VolumesStopped {
        failure: HostFailure::new(Stage::Prune, ErrorClass::EngineError, e),
        engine_answered: true,
    })?;
    let selected = select(&live, &plan);
    for volume in selected.kinds.iter().flat_map(|k| &k.doomed) {
        if stop.is_cancelled() {
            return Err(VolumesStopped {
                failure: HostFailure::new(
                    Stage::Prune,
                    ErrorClass::Interrupted,
                    "interrupted between volumes; the report lists the ones deleted",
                ),
                engine_answered: true,
            });
        }
        let name = form_urlencoded::byte_serialize(volume.id.as_bytes()).collect::<String>();
        match engine.delete(&format!("/volumes/{name}")).await {
            Ok(_) => {
                kind.deleted.push(volume.id.clone());
                kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(volume.bytes);
            }
            // Gone meanwhile, or a container took it since the listing: as a prune would.
            Err(EngineError::Status {
                status: 404 | 409,
                message,
                ..
            }) => tracing::info!("volume {} left alone: {message}", volume.id),
            Err(error) => {
                return Err(VolumesStopped {
                    engine_answered: error.engine_answered(),
                    failure: HostFailure::from_error(Stage::Prune, &error),
                });
            }
        }
    }
    Ok(())
}

/// The request's `label` and `label!` filters (the only ones a volume prune takes).
fn label_filters(request: &PruneRequest) -> FilterSet {
    let mut filters = Vec::new();
    for (key, values) in &request.filters {
        for value in values {
            match key.as_str() {
                "label" => filters.push(Filter::Label(value.clone())),
                "label!" => filters.push(Filter::LabelNot(value.clone())),
                _ => {}
            }
        }
    }
    // Labels alone break none of the set's rules (those are about until and dangling).
    FilterSet::new(filters).unwrap_or_default()
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
    for (name, bytes) in &request.build_cache_space {
        query.append_pair(name, &bytes.to_string());
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

impl KindReport {
    /// A kind with nothing deleted yet.
    fn empty(kind: PruneKind) -> KindReport {
        KindReport {
            kind,
            untagged: Vec::new(),
            deleted: Vec::new(),
            reclaimed_bytes: 0,
            odd_reclaimed: None,
            reclaimed_exact: true,
            selection: None,
            note: None,
        }
    }
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
            // Podman names deleted images by bare ID.
            deleted.extend(item.deleted.as_deref().map(snapshot::prefixed_id));
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
            note: None,
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
            note: None,
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
            build_cache_space: [("reserved-space".to_string(), 1000)].into(),
            volumes_by_name: false,
        };
        assert_eq!(
            prune_path(&request),
            "/build/prune?all=true&reserved-space=1000&filters=%7B%22until%22%3A%5B%2224h%22%5D%7D"
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

    #[test]
    fn an_unsupported_kind_is_not_reported_as_not_started() {
        let report = PruneReport {
            planned: vec![PruneKind::Images, PruneKind::BuildCache],
            kinds: vec![answer(r#"{}"#)],
            unsupported: vec![PruneKind::BuildCache],
            ..PruneReport::default()
        };
        assert!(report.not_started().is_empty());
    }

    #[test]
    fn objects_gone_after_an_error_answer_are_what_went() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            gone(
                &names(&["a", "b", "c", "named"]),
                &names(&["named", "c", "new"])
            ),
            ["a", "b"]
        );
        assert!(gone(&names(&["a"]), &names(&["a"])).is_empty());
    }
}
