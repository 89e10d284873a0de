//! `fleetprune apply PLAN.json`: deletes exactly the objects a saved plan names, by ID, after
//! checking on the host, right before each one, that it is still there, unchanged and unused.
//!
//! The host must be the one the plan was made for (same engine ID). Anything that changed since
//! is skipped and reported (`kept: in use now`, `already gone`, `changed: ...`). A stop request
//! is honoured between objects, never in the middle of one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineError};
use crate::executor::HostJob;
use crate::host::Host;
use crate::outcome::{ErrorClass, HostFailure, Stage};
use crate::plan::PruneKind;
use crate::plan::file::SavedHost;
use crate::plan::select::{Action, Doomed, ObjectPlan, select};
use crate::snapshot::{self, HostSnapshot, ImageStore};
use crate::transport::shell::HostShell;
use crate::use_log::UseLog;

/// Why a planned object was not deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "why", content = "detail")]
pub enum SkipReason {
    /// It no longer exists.
    AlreadyGone,
    /// A container uses it now (running, or created since the plan).
    InUseNow(String),
    /// It is not what was planned any more (a new reference, a tag moved).
    Changed(String),
    /// The daemon refused or failed the delete.
    Failed(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::AlreadyGone => f.write_str("already gone"),
            SkipReason::InUseNow(by) => write!(f, "kept: in use now ({by})"),
            SkipReason::Changed(what) => write!(f, "kept: changed ({what})"),
            SkipReason::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}

/// A planned object left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub id: String,
    pub name: String,
    pub reason: SkipReason,
}

/// One kind's planned and actual results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyKind {
    pub kind: PruneKind,
    pub planned: usize,
    pub planned_bytes: u64,
    pub planned_exact: bool,
    /// IDs (volume and network names) deleted.
    pub deleted: Vec<String>,
    /// Image references removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<String>,
    /// Bytes freed, from the daemon's answers and the fresh snapshot's sizes.
    pub reclaimed_bytes: u64,
    /// False when `reclaimed_bytes` is an estimate (containerd image store).
    pub reclaimed_exact: bool,
    pub skipped: Vec<Skipped>,
}

impl ApplyKind {
    fn new(kind: PruneKind) -> ApplyKind {
        ApplyKind {
            kind,
            planned: 0,
            planned_bytes: 0,
            planned_exact: true,
            deleted: Vec::new(),
            untagged: Vec::new(),
            reclaimed_bytes: 0,
            reclaimed_exact: true,
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, doomed: &Doomed, reason: SkipReason) {
        self.skipped.push(Skipped {
            id: doomed.id.clone(),
            name: doomed.name.clone(),
            reason,
        });
    }
}

/// A host's apply, as far as it got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// `rmi`'s read-only first pass: what would go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<ObjectPlan>,
    pub kinds: Vec<ApplyKind>,
    /// The object being deleted when the host was cut off, if any.
    pub in_flight: Option<String>,
}

impl ApplyReport {
    pub fn planned_bytes(&self) -> u64 {
        self.kinds
            .iter()
            .fold(0u64, |s, k| s.saturating_add(k.planned_bytes))
    }

    pub fn reclaimed_bytes(&self) -> u64 {
        self.kinds
            .iter()
            .fold(0u64, |s, k| s.saturating_add(k.reclaimed_bytes))
    }

    pub fn planned(&self) -> usize {
        self.kinds.iter().map(|k| k.planned).sum()
    }

    pub fn done(&self) -> usize {
        self.kinds.iter().map(|k| k.planned - k.skipped.len()).sum()
    }

    /// Skipped objects whose reason matches `pick`.
    pub fn skipped(&self, pick: impl Fn(&SkipReason) -> bool) -> usize {
        self.kinds
            .iter()
            .flat_map(|k| &k.skipped)
            .filter(|s| pick(&s.reason))
            .count()
    }
}

/// Applies each host's saved plan.
pub struct ApplyJob {
    /// Saved plans by host name.
    pub hosts: HashMap<String, SavedHost>,
    /// Image use seen on earlier runs, updated with this one's.
    pub uses: Arc<UseLog>,
}

impl HostJob for ApplyJob {
    type Output = ApplyReport;
    const STAGE: Stage = Stage::Prune;

    async fn run(
        &self,
        host: &Host,
        engine: &Engine,
        _: &HostShell<'_>,
        report: &mut ApplyReport,
        stop: &CancellationToken,
    ) -> Result<(), HostFailure> {
        let saved = self.hosts.get(&host.name).ok_or_else(|| {
            HostFailure::new(
                Stage::Plan,
                ErrorClass::PlanMismatch,
                "the plan file has no plan for this host",
            )
        })?;
        let mut live = snapshot::take(engine)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        self.uses.remember(&mut live);
        if live.engine_id != saved.engine_id {
            return Err(HostFailure::new(
                Stage::Plan,
                ErrorClass::PlanMismatch,
                format!(
                    "the plan was made for engine {}, this host's engine is {}: refusing to apply it here",
                    saved.engine_id, live.engine_id
                ),
            ));
        }
        delete_planned(
            engine,
            &mut live,
            &saved.plan,
            report,
            stop,
            ImageDelete::default(),
        )
        .await
    }

    fn in_flight(report: &ApplyReport) -> Option<String> {
        report
            .in_flight
            .as_ref()
            .map(|id| format!("the delete of {id}"))
    }

    fn check_host_key(&self, host: &Host, fingerprint: &str) -> Result<(), HostFailure> {
        match self
            .hosts
            .get(&host.name)
            .and_then(|saved| saved.host_key_fingerprint.as_deref())
        {
            Some(planned) if planned != fingerprint => Err(HostFailure::new(
                Stage::HostKey,
                ErrorClass::PlanMismatch,
                format!(
                    "the plan was made for the host with key {planned}, this host presents {fingerprint}: refusing to apply it here"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// `prune` with a keep policy: fleetprune decides the object list itself ([`select`] with the
/// host's policy) and deletes it by ID, exactly as `apply` does.
pub struct PolicyPruneJob {
    /// Image use seen on earlier runs (for `unused_for`), updated with this one's.
    pub uses: Arc<UseLog>,
}

impl HostJob for PolicyPruneJob {
    type Output = ApplyReport;
    const STAGE: Stage = Stage::Prune;

    async fn run(
        &self,
        host: &Host,
        engine: &Engine,
        shell: &HostShell<'_>,
        report: &mut ApplyReport,
        stop: &CancellationToken,
    ) -> Result<(), HostFailure> {
        // The same refusals as a prune (e.g. a timestamp until for build cache on API 1.41).
        let (plan, _) = crate::prune::checked_plan(host, engine.api_version, engine.kind)?;
        let mut live = snapshot::take(engine)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        self.uses.remember(&mut live);
        if plan.policy().threshold.is_some() {
            snapshot::add_filesystem(&mut live, shell)
                .await
                .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        }
        let objects = select(&live, plan);
        delete_planned(
            engine,
            &mut live,
            &objects,
            report,
            stop,
            ImageDelete::default(),
        )
        .await
    }

    fn in_flight(report: &ApplyReport) -> Option<String> {
        ApplyJob::in_flight(report)
    }
}

/// How images are deleted.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageDelete {
    /// Also images used by stopped containers (as `docker rmi -f`); a running container's
    /// image is never forced.
    pub force: bool,
    /// Let the daemon delete untagged parents too (as `docker rmi`); plans list them instead.
    pub parents: bool,
}

/// Deletes `plan`'s objects kind by kind, re-checking each against `live` (kept current as
/// objects go); a stop request is honoured between objects.
pub async fn delete_planned(
    engine: &Engine,
    live: &mut HostSnapshot,
    plan: &ObjectPlan,
    report: &mut ApplyReport,
    stop: &CancellationToken,
    mode: ImageDelete,
) -> Result<(), HostFailure> {
    for kind_plan in &plan.kinds {
        let mut kind = ApplyKind::new(kind_plan.kind);
        kind.planned = kind_plan.doomed.len();
        kind.planned_bytes = kind_plan.bytes;
        kind.planned_exact = kind_plan.exact;
        report.kinds.push(kind);
        let mut doomed: Vec<&Doomed> = kind_plan.doomed.iter().collect();
        if kind_plan.kind == PruneKind::Images {
            // Children before parents: more ancestors first (a step of the classic builder
            // that adds no layer still makes a child image).
            let parents: HashMap<&str, &str> = live
                .images
                .iter()
                .filter_map(|i| Some((i.id.as_str(), i.parent.as_deref()?)))
                .collect();
            let depth = |d: &Doomed| {
                let mut depth = 0usize;
                let mut at = d.id.as_str();
                while let Some(parent) = parents.get(at) {
                    depth += 1;
                    at = parent;
                    if depth > parents.len() {
                        break;
                    }
                }
                depth
            };
            doomed.sort_by_key(|d| std::cmp::Reverse(depth(d)));
        }
        let mut pending = doomed;
        // Build-cache parents go only after their children: retry what the daemon kept.
        for round in 0..8 {
            let mut retry = Vec::new();
            for object in pending {
                if stop.is_cancelled() {
                    return Err(HostFailure::new(
                        Stage::Prune,
                        ErrorClass::Interrupted,
                        "interrupted between objects; the report lists what was deleted",
                    ));
                }
                report.in_flight = Some(object.id.clone());
                let kind = report.kinds.last_mut().expect("pushed above");
                let again = apply_one(engine, live, kind, object, mode).await;
                report.in_flight = None;
                if again {
                    retry.push(object);
                }
            }
            if retry.is_empty() {
                break;
            }
            if round == 7 {
                let kind = report.kinds.last_mut().expect("pushed above");
                for object in &retry {
                    kind.skip(
                        object,
                        SkipReason::Changed("still referenced by another record".into()),
                    );
                }
            }
            pending = retry;
        }
    }
    Ok(())
}

/// Turns a delete's error into a skip reason.
fn refused(error: &EngineError) -> SkipReason {
    match error {
        EngineError::Status { status: 404, .. } => SkipReason::AlreadyGone,
        EngineError::Status {
            status: 409,
            message,
            ..
        } => SkipReason::InUseNow(message.clone()),
        other => SkipReason::Failed(other.to_string()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DeleteItem {
    untagged: Option<String>,
    deleted: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CachePruneAnswer {
    caches_deleted: Option<Vec<String>>,
    space_reclaimed: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageId {
    id: String,
}

/// Re-checks and deletes one object; true when it should be tried again after the others
/// (a build-cache record still referenced by a child in the same plan).
async fn apply_one(
    engine: &Engine,
    live: &mut HostSnapshot,
    kind: &mut ApplyKind,
    object: &Doomed,
    mode: ImageDelete,
) -> bool {
    match kind.kind {
        PruneKind::Containers => {
            let Some(at) = live.containers.iter().position(|c| c.id == object.id) else {
                kind.skip(object, SkipReason::AlreadyGone);
                return false;
            };
            if live.containers[at].running {
                kind.skip(object, SkipReason::InUseNow("running".into()));
                return false;
            }
            match engine.delete(&format!("/containers/{}", object.id)).await {
                Ok(_) => {
                    let container = live.containers.remove(at);
                    kind.reclaimed_bytes = kind
                        .reclaimed_bytes
                        .saturating_add(container.size_rw.unwrap_or(0));
                    kind.deleted.push(object.id.clone());
                }
                Err(error) => kind.skip(object, refused(&error)),
            }
        }
        PruneKind::Networks => {
            let Some(network) = live.networks.iter().find(|n| n.id == object.id) else {
                kind.skip(object, SkipReason::AlreadyGone);
                return false;
            };
            if network.endpoints > 0 {
                kind.skip(
                    object,
                    SkipReason::InUseNow("a running container is attached".into()),
                );
                return false;
            }
            match engine.delete(&format!("/networks/{}", object.id)).await {
                Ok(_) => kind.deleted.push(object.reported_id().to_string()),
                Err(error) => kind.skip(object, refused(&error)),
            }
        }
        PruneKind::Volumes => {
            let Some(volume) = live.volumes.iter().find(|v| v.name == object.id) else {
                kind.skip(object, SkipReason::AlreadyGone);
                return false;
            };
            if let Some(user) = live
                .containers
                .iter()
                .find(|c| c.volumes.contains(&object.id))
            {
                kind.skip(object, SkipReason::InUseNow(user.name.clone()));
                return false;
            }
            let bytes = volume.size.unwrap_or(0);
            match engine.delete(&format!("/volumes/{}", object.id)).await {
                Ok(_) => {
                    kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(bytes);
                    kind.deleted.push(object.id.clone());
                }
                Err(error) => kind.skip(object, refused(&error)),
            }
        }
        PruneKind::Images => apply_image(engine, live, kind, object, mode).await,
        PruneKind::BuildCache => {
            let Some(record) = live.build_cache.iter().find(|r| r.id == object.id) else {
                kind.skip(object, SkipReason::AlreadyGone);
                return false;
            };
            if record.in_use {
                kind.skip(object, SkipReason::InUseNow("in use by a build".into()));
                return false;
            }
            let filters = serde_json::json!({ "id": [object.id] }).to_string();
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("all", "true")
                .append_pair("filters", &filters)
                .finish();
            match engine
                .post_json::<CachePruneAnswer>(&format!("/build/prune?{query}"))
                .await
            {
                Ok(answer) => {
                    let deleted = answer.caches_deleted.unwrap_or_default();
                    if deleted.is_empty() {
                        // A child record in the plan still holds it: try after the others.
                        return true;
                    }
                    kind.reclaimed_bytes =
                        kind.reclaimed_bytes.saturating_add(answer.space_reclaimed);
                    kind.deleted.extend(deleted);
                    live.build_cache.retain(|r| r.id != object.id);
                }
                Err(error) => kind.skip(object, refused(&error)),
            }
        }
    }
    false
}

/// An image: each planned reference removed only while it still names the planned image, then
/// the image itself by ID, only if no container uses it and nobody gave it a new reference.
async fn apply_image(
    engine: &Engine,
    live: &mut HostSnapshot,
    kind: &mut ApplyKind,
    object: &Doomed,
    mode: ImageDelete,
) {
    let force = mode.force;
    let query = match (mode.parents, force) {
        (false, false) => "?noprune=1",
        (false, true) => "?noprune=1&force=1",
        (true, false) => "",
        (true, true) => "?force=1",
    };
    let Some(image) = live.images.iter().find(|i| i.id == object.id).cloned() else {
        kind.skip(object, SkipReason::AlreadyGone);
        return;
    };
    if let Some(user) = live
        .containers
        .iter()
        .find(|c| c.image_id == object.id && (c.running || !force))
        && object.action == Action::Delete
    {
        kind.skip(object, SkipReason::InUseNow(user.name.clone()));
        return;
    }
    // The graphdriver store keeps an image with children (the containerd store has no parents).
    if object.action == Action::Delete
        && live.image_store == ImageStore::Graphdriver
        && let Some(child) = live
            .images
            .iter()
            .find(|i| i.parent.as_deref() == Some(object.id.as_str()))
    {
        let child = child
            .refs()
            .next()
            .cloned()
            .unwrap_or_else(|| child.id.clone());
        kind.skip(
            object,
            SkipReason::Changed(format!("its child image {child} stays")),
        );
        return;
    }
    let planned: BTreeSet<&str> = object.refs.iter().map(String::as_str).collect();
    if let Some(new) = image.refs().find(|r| !planned.contains(r.as_str())) {
        kind.skip(object, SkipReason::Changed(format!("new reference {new}")));
        return;
    }
    let current: BTreeSet<&String> = image.refs().collect();
    for reference in &object.untagged {
        if reference.starts_with("sha256:") || !current.contains(reference) {
            continue;
        }
        // The tag may have moved since the snapshot: check it, then remove it.
        let resolved: Result<ImageId, _> =
            engine.get_json(&format!("/images/{reference}/json")).await;
        match resolved {
            Ok(found) if found.id == object.id => {}
            Ok(found) => {
                kind.skip(
                    object,
                    SkipReason::Changed(format!("{reference} now names {}", found.id)),
                );
                return;
            }
            Err(error) => {
                kind.skip(object, refused(&error));
                return;
            }
        }
        match engine.delete(&format!("/images/{reference}{query}")).await {
            Ok(body) => {
                // Removing the last reference can delete the image (forced, or containerd).
                if record_image_answer(live, kind, object, &body) {
                    return;
                }
            }
            Err(error) => {
                kind.skip(object, refused(&error));
                return;
            }
        }
    }
    if object.action == Action::Untag {
        return;
    }
    match engine
        .delete(&format!("/images/{}{query}", object.id))
        .await
    {
        Ok(body) => {
            if !record_image_answer(live, kind, object, &body) {
                // Deleted without saying so: count it, with the plan's figure.
                kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(object.bytes);
                kind.reclaimed_exact = false;
                kind.deleted.push(object.id.clone());
                live.images.retain(|i| i.id != object.id);
            }
        }
        Err(error) => kind.skip(object, refused(&error)),
    }
}

/// Records an image delete answer (`Untagged` / `Deleted` items); true when it says the image
/// itself was deleted.
fn record_image_answer(
    live: &mut HostSnapshot,
    kind: &mut ApplyKind,
    object: &Doomed,
    body: &[u8],
) -> bool {
    let items: Vec<DeleteItem> = serde_json::from_slice(body).unwrap_or_default();
    let sizes: BTreeMap<&str, u64> = live
        .images
        .iter()
        .flat_map(|i| {
            i.chain
                .iter()
                .zip(&i.layer_sizes)
                .map(|(c, s)| (c.as_str(), s.unwrap_or(0)))
        })
        .collect();
    let mut bytes = 0u64;
    let mut image_deleted = false;
    for item in &items {
        if let Some(untagged) = &item.untagged {
            kind.untagged.push(untagged.clone());
        }
        if let Some(deleted) = &item.deleted {
            image_deleted |= *deleted == object.id;
            bytes = bytes.saturating_add(sizes.get(deleted.as_str()).copied().unwrap_or(0));
        }
    }
    if !image_deleted {
        return false;
    }
    if live.image_store == ImageStore::Containerd {
        // The answer lists blobs whose sizes the API does not give: the plan's figure.
        bytes = object.bytes;
        kind.reclaimed_exact = false;
    }
    kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(bytes);
    kind.deleted.push(object.id.clone());
    live.images.retain(|i| i.id != object.id);
    true
}
