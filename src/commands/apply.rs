//! `fleetprune apply PLAN.json`: deletes exactly the objects a saved plan names, by ID, after
//! checking on the host, right before each one, that it is still there, unchanged and unused.
//!
//! The host must be the one the plan was made for (same engine ID). Anything that changed since
//! is skipped and reported (`kept: in use now`, `already gone`, `changed: ...`). A stop request
//! is honoured between objects, never in the middle of one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::busy::wait_until_idle;
use crate::commands::prune::decision_snapshot;
use crate::engine::{Engine, EngineError};
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::engine_kind::EngineKind;
use crate::model::failure::{ErrorClass, HostFailure, Stage};
use crate::outcome::reclaim::{KindReport, PruneReport, SkipReason, Skipped};
use crate::plan::PruneKind;
use crate::plan::busy::BusyGuard;
use crate::plan::file::SavedHost;
use crate::plan::select::{Action, Doomed, ObjectPlan, mounting_container};
use crate::snapshot::{HostSnapshot, ImageStore};
use crate::transport::shell::HostShell;
use crate::use_log::UseLog;

/// Applies each host's saved plan.
pub struct ApplyJob {
    /// Saved plans by host name.
    pub hosts: HashMap<String, SavedHost>,
    /// Image use seen on earlier runs, updated with this one's.
    pub uses: Arc<UseLog>,
}

impl HostJob for ApplyJob {
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
        let saved = self.hosts.get(&host.name).ok_or_else(|| {
            HostFailure::new(
                Stage::Plan,
                ErrorClass::PlanMismatch,
                "the plan file has no plan for this host",
            )
        })?;
        let mut live = decision_snapshot(engine, shell, &self.uses, None).await?;
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
        report.planned = saved.plan.kinds.iter().map(|k| k.kind).collect();
        delete_planned(
            engine,
            &mut live,
            &saved.plan,
            report,
            stop,
            ImageDelete::default(),
            Some((&host.busy, shell)),
        )
        .await
    }

    fn in_flight(report: &PruneReport) -> Option<String> {
        crate::commands::prune::in_flight(report)
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
/// objects go); a stop request is honoured between objects. With a busy guard, a kind with
/// objects to delete starts only once the host is idle (a busy host stops between kinds).
pub async fn delete_planned(
    engine: &Engine,
    live: &mut HostSnapshot,
    plan: &ObjectPlan,
    report: &mut PruneReport,
    stop: &CancellationToken,
    mode: ImageDelete,
    busy: Option<(&BusyGuard, &HostShell<'_>)>,
) -> Result<(), HostFailure> {
    for kind_plan in &plan.kinds {
        if let Some((guard, shell)) = busy
            && !kind_plan.doomed.is_empty()
        {
            wait_until_idle(guard, engine, shell, stop, Stage::Prune).await?;
        }
        report.kinds.push(KindReport::selected(
            kind_plan.kind,
            kind_plan.doomed.len(),
            kind_plan.bytes,
            kind_plan.exact,
        ));
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
                report.in_flight = Some(kind_plan.kind);
                report.in_flight_object = Some(object.id.clone());
                let kind = report.kinds.last_mut().expect("pushed above");
                let again = apply_one(engine, live, kind, object, mode).await;
                report.in_flight = None;
                report.in_flight_object = None;
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
                    skip(
                        kind,
                        object,
                        SkipReason::Changed("still referenced by another record".into()),
                    );
                }
            }
            pending = retry;
        }
        if let Some(selection) = report.kinds.last_mut().and_then(|k| k.selection.as_mut()) {
            selection.finished = true;
        }
    }
    Ok(())
}

/// Records that `object` was left alone, and why.
fn skip(kind: &mut KindReport, object: &Doomed, reason: SkipReason) {
    if let Some(selection) = kind.selection.as_mut() {
        selection.skipped.push(Skipped {
            id: object.id.clone(),
            name: object.name.clone(),
            reason,
        });
    }
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
    kind: &mut KindReport,
    object: &Doomed,
    mode: ImageDelete,
) -> bool {
    match kind.kind {
        PruneKind::Containers => {
            let Some(at) = live.containers.iter().position(|c| c.id == object.id) else {
                skip(kind, object, SkipReason::AlreadyGone);
                return false;
            };
            if live.containers[at].running {
                skip(kind, object, SkipReason::InUseNow("running".into()));
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
                Err(error) => skip(kind, object, refused(&error)),
            }
        }
        PruneKind::Networks => {
            let Some(network) = live.networks.iter().find(|n| n.id == object.id) else {
                skip(kind, object, SkipReason::AlreadyGone);
                return false;
            };
            if network.endpoints > 0 {
                skip(
                    kind,
                    object,
                    SkipReason::InUseNow("a running container is attached".into()),
                );
                return false;
            }
            match engine.delete(&format!("/networks/{}", object.id)).await {
                Ok(_) => kind.deleted.push(object.reported_id().to_string()),
                Err(error) => skip(kind, object, refused(&error)),
            }
        }
        PruneKind::Volumes => {
            let Some(volume) = live.volumes.iter().find(|v| v.name == object.id) else {
                skip(kind, object, SkipReason::AlreadyGone);
                return false;
            };
            if let Some(user) = live
                .containers
                .iter()
                .find(|c| c.volumes.contains(&object.id))
            {
                skip(kind, object, SkipReason::InUseNow(user.name.clone()));
                return false;
            }
            let bytes = volume.size.unwrap_or(0);
            match engine.delete(&format!("/volumes/{}", object.id)).await {
                Ok(_) => {
                    kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(bytes);
                    kind.deleted.push(object.id.clone());
                }
                Err(error) => skip(kind, object, refused(&error)),
            }
        }
        PruneKind::Images => apply_image(engine, live, kind, object, mode).await,
        PruneKind::BuildCache => {
            let Some(record) = live.build_cache.iter().find(|r| r.id == object.id) else {
                skip(kind, object, SkipReason::AlreadyGone);
                return false;
            };
            if record.in_use {
                skip(
                    kind,
                    object,
                    SkipReason::InUseNow("in use by a build".into()),
                );
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
                Err(error) => skip(kind, object, refused(&error)),
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
    kind: &mut KindReport,
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
        skip(kind, object, SkipReason::AlreadyGone);
        return;
    };
    if let Some(user) = live
        .containers
        .iter()
        .find(|c| c.image_id == object.id && (c.running || !force))
        && object.action == Action::Delete
    {
        skip(kind, object, SkipReason::InUseNow(user.name.clone()));
        return;
    }
    if object.action == Action::Delete
        && let Some(user) = mounting_container(live, &object.id)
    {
        skip(
            kind,
            object,
            SkipReason::InUseNow(format!("{} mounts it", user.name)),
        );
        return;
    }
    // Docker's graphdriver store keeps an image with children (the containerd store has no
    // parents; Podman deletes the record, the children keep the layers).
    if object.action == Action::Delete
        && live.image_store == ImageStore::Graphdriver
        && live.engine == EngineKind::Docker
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
        skip(
            kind,
            object,
            SkipReason::Changed(format!("its child image {child} stays")),
        );
        return;
    }
    let planned: BTreeSet<&str> = object.refs.iter().map(String::as_str).collect();
    if let Some(new) = image.refs().find(|r| !planned.contains(r.as_str())) {
        skip(
            kind,
            object,
            SkipReason::Changed(format!("new reference {new}")),
        );
        return;
    }
    let current: BTreeSet<&String> = image.refs().collect();
    // Podman's plans name no references (its prune answer has none), and Podman refuses to
    // delete by ID an image with several names: its tags go one by one, the last with the image.
    let podman_tags: Vec<String>;
    let untag = if live.engine == EngineKind::Podman && object.action == Action::Delete {
        podman_tags = image.repo_tags.clone();
        &podman_tags
    } else {
        &object.untagged
    };
    for reference in untag {
        if reference.starts_with("sha256:") || !current.contains(reference) {
            continue;
        }
        // The tag may have moved since the snapshot: check it, then remove it.
        let resolved: Result<ImageId, _> =
            engine.get_json(&format!("/images/{reference}/json")).await;
        match resolved {
            Ok(found) if found.id == object.id => {}
            Ok(found) => {
                skip(
                    kind,
                    object,
                    SkipReason::Changed(format!("{reference} now names {}", found.id)),
                );
                return;
            }
            Err(error) => {
                skip(kind, object, refused(&error));
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
                skip(kind, object, refused(&error));
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
                deleted_unsaid(live, kind, object);
            }
        }
        // Podman deletes an image with children when its last name goes, without saying so
        // (its answer lists only images deleted with no children left).
        Err(EngineError::Status { status: 404, .. })
            if live.engine == EngineKind::Podman && !untag.is_empty() =>
        {
            deleted_unsaid(live, kind, object);
        }
        Err(error) => skip(kind, object, refused(&error)),
    }
}

/// Counts an image the engine deleted without listing it, with the plan's figure.
fn deleted_unsaid(live: &mut HostSnapshot, kind: &mut KindReport, object: &Doomed) {
    kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(object.bytes);
    kind.reclaimed_exact = false;
    kind.deleted.push(object.id.clone());
    live.images.retain(|i| i.id != object.id);
}

/// Records an image delete answer (`Untagged` / `Deleted` items); true when it says the image
/// itself was deleted.
fn record_image_answer(
    live: &mut HostSnapshot,
    kind: &mut KindReport,
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
            // Podman names the deleted image by bare ID.
            image_deleted |= crate::snapshot::prefixed_id(deleted) == object.id;
            bytes = bytes.saturating_add(sizes.get(deleted.as_str()).copied().unwrap_or(0));
        }
    }
    if !image_deleted {
        return false;
    }
    if live.image_store == ImageStore::Containerd || live.engine == EngineKind::Podman {
        // The answer lists blobs whose sizes the API does not give (containerd), or only the
        // image (Podman): the plan's figure.
        bytes = object.bytes;
        kind.reclaimed_exact = false;
    }
    kind.reclaimed_bytes = kind.reclaimed_bytes.saturating_add(bytes);
    kind.deleted.push(object.id.clone());
    live.images.retain(|i| i.id != object.id);
    true
}
