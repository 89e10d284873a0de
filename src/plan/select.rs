//! The prediction: given a host snapshot and a prune plan, which objects the daemon's prune
//! endpoints would delete or untag, and the bytes they would report, per kind, in `docker
//! system prune` order (each kind sees the effect of the ones before it).
//!
//! A pure function of its inputs, following `shared/reference/prune-semantics.md`: the
//! graphdriver image algorithm (candidates, untag-only parents, moby#36295, parent recursion,
//! layers freed when their last user goes), the containerd image store's record model, container,
//! volume (scope by API version), network (endpoints only for running containers) and build-cache
//! rules, `until` against the daemon's clock and zone.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::api_version::ApiVersion;
use crate::filter::{Filter, FilterSet, UntilKind};
use crate::model::engine_kind::EngineKind;
use crate::plan::managed::Orchestrator;
use crate::plan::policy::{CompiledPolicy, KeepPolicy};
use crate::plan::{PruneKind, PrunePlan, VolumeScope};
use crate::snapshot::{ContainerInfo, HostSnapshot, ImageInfo, ImageStore};

mod containerd;
mod graphdriver;
mod podman;
mod reference;
mod threshold;

use containerd::containerd_images;
use graphdriver::graphdriver_images;
use podman::podman_images;
pub(crate) use reference::normalised;
use reference::{Ref, short_id};
use threshold::{Allow, Watermark, select_under};
pub use threshold::{deciding_filesystems, docker_usage};

/// What a prune would do on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPlan {
    /// One entry per planned kind, in the order they run.
    pub kinds: Vec<KindPlan>,
}

#[cfg(test)]
impl ObjectPlan {
    /// A plan that deletes `objects` stopped containers of 1000 bytes each (`c0`/`box-0`, ...).
    pub(crate) fn stopped_containers_for_tests(objects: usize) -> ObjectPlan {
        let doomed = (0..objects)
            .map(|i| Doomed {
                id: format!("c{i}"),
                name: format!("box-{i}"),
                action: Action::Delete,
                reason: Reason::Stopped,
                bytes: 1000,
                untagged: Vec::new(),
                refs: Vec::new(),
                reported: None,
            })
            .collect();
        ObjectPlan {
            kinds: vec![KindPlan {
                kind: PruneKind::Containers,
                doomed,
                kept: Vec::new(),
                freed_layers: Vec::new(),
                bytes: 1000 * objects as u64,
                exact: true,
                notes: Vec::new(),
                info: Vec::new(),
            }],
        }
    }
}

impl ObjectPlan {
    pub fn kind(&self, kind: PruneKind) -> Option<&KindPlan> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Predicted bytes over all kinds; saturating.
    pub fn bytes(&self) -> u64 {
        self.kinds
            .iter()
            .fold(0u64, |sum, k| sum.saturating_add(k.bytes))
    }

    /// True when every kind's bytes are exact.
    pub fn exact(&self) -> bool {
        self.kinds.iter().all(|k| k.exact)
    }

    /// Objects deleted or untagged, over all kinds.
    pub fn doomed_count(&self) -> usize {
        self.kinds.iter().map(|k| k.doomed.len()).sum()
    }
}

/// What one kind's prune would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindPlan {
    pub kind: PruneKind,
    pub doomed: Vec<Doomed>,
    pub kept: Vec<Kept>,
    /// Images, graphdriver store: layer chain IDs the deletions free (the daemon lists them as
    /// `Deleted` too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freed_layers: Vec<String>,
    /// The `SpaceReclaimed` the daemon would report.
    pub bytes: u64,
    /// False when `bytes` is an estimate (`≈`); `notes` say why.
    pub exact: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Facts about the decision that are not about precision (a `max_usage` or `threshold`
    /// before/after).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<String>,
}

impl KindPlan {
    fn new(kind: PruneKind) -> KindPlan {
        KindPlan {
            kind,
            doomed: Vec::new(),
            kept: Vec::new(),
            freed_layers: Vec::new(),
            bytes: 0,
            exact: true,
            notes: Vec::new(),
            info: Vec::new(),
        }
    }

    fn inexact(&mut self, note: &str) {
        self.exact = false;
        if !self.notes.iter().any(|n| n == note) {
            self.notes.push(note.to_string());
        }
    }

    /// References the daemon would report `Untagged`.
    pub fn untagged(&self) -> BTreeSet<&str> {
        self.doomed
            .iter()
            .flat_map(|d| d.untagged.iter().map(String::as_str))
            .collect()
    }

    /// IDs (or names) the daemon would report deleted: containers' IDs, networks' and volumes'
    /// names, image IDs, build-cache record IDs.
    pub fn deleted(&self) -> BTreeSet<&str> {
        self.doomed
            .iter()
            .filter(|d| d.action == Action::Delete)
            .map(|d| d.reported_id())
            .collect()
    }
}

/// Delete the object, or only remove references from an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
    Untag,
}

/// An object the prune would delete or untag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doomed {
    /// Container, image, network or build-cache ID; volume name.
    pub id: String,
    /// What people call it: container, network or volume name, an image's first reference, a
    /// record's description.
    pub name: String,
    pub action: Action,
    pub reason: Reason,
    /// Bytes this object frees (images: its freed layers; 0 for untag-only).
    pub bytes: u64,
    /// Images: the references the prune removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<String>,
    /// Images: every reference the image had when planned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// What the daemon's prune answer lists instead of `id` (networks: their name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
}

impl Doomed {
    /// The string the daemon's prune answer uses for this object.
    pub fn reported_id(&self) -> &str {
        self.reported.as_deref().unwrap_or(&self.id)
    }
}

/// Why an object is selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A stopped container (created, exited, dead).
    Stopped,
    /// A network without endpoints (no running container).
    NoRunningContainer,
    /// A volume no container mounts.
    Unreferenced,
    /// An untagged image.
    Dangling,
    /// An image no container uses (`-a`).
    Unused,
    /// An untagged parent whose last child goes (the daemon's parent recursion).
    ParentOfDeleted,
    /// An image used by a container that loses references with several tags (moby#36295).
    InUseMultiTag,
    /// A tagged image that keeps children: untagged, not deleted.
    ParentWithChildren,
    /// A build-cache record nothing references.
    UnusedCache,
    /// Containerd store: the names go, but BuildKit's cache holds the content of a build base.
    HeldByBuildCache,
    /// Named on the command line (`fleetprune rmi`).
    Requested,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reason::Stopped => "stopped",
            Reason::NoRunningContainer => "no running container",
            Reason::Unreferenced => "not mounted by any container",
            Reason::Dangling => "dangling",
            Reason::Unused => "unused",
            Reason::ParentOfDeleted => "untagged parent of a deleted image",
            Reason::InUseMultiTag => "in use, several tags: untagged only (moby#36295)",
            Reason::ParentWithChildren => "has children: untagged only",
            Reason::UnusedCache => "unused",
            Reason::HeldByBuildCache => "untagged; the build cache holds its content",
            Reason::Requested => "requested",
        })
    }
}

/// An object the prune leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub id: String,
    pub name: String,
    pub reason: KeptReason,
}

/// Why an object stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why", content = "detail")]
pub enum KeptReason {
    /// Running, paused or restarting.
    Running,
    /// Used or mounted by this container.
    InUse(String),
    /// Created (or last used) after the `until` cutoff.
    NewerThanUntil,
    /// The label filters exclude it.
    Label,
    /// Tagged, and only dangling images are pruned.
    Tagged,
    /// An untagged image with children (an intermediate image).
    Intermediate,
    /// Podman: an untagged image without children, which its `-a` prune leaves (it takes the
    /// images that are *not* dangling); a prune without `-a` takes it.
    DanglingUnderAll,
    /// Has children that stay.
    HasChildren,
    /// The image config has no creation time (kept by `until` from Docker 25).
    NoCreatedTime,
    /// `bridge`, `host`, `none`, `default`; Podman's `podman`.
    Predefined,
    /// A running container is attached.
    HasEndpoints,
    /// A swarm or config-only network, which fleetprune does not predict.
    NotLocal,
    /// A named volume, and only anonymous ones are pruned (API >= 1.42 without -a).
    Named,
    /// Driver options or a non-local driver: never pruned.
    NotPrunable,
    /// A build-cache record in use.
    CacheInUse,
    /// A shared, internal or frontend record, pruned only with -a.
    CacheNeedsAll,
    /// A child record stays.
    CacheChildKept,
    /// A keep policy protects it (the glob, label or name that matched).
    Protected(String),
    /// One of the `keep_last` newest images of its repository.
    KeepLast,
    /// Created within `min_age`.
    TooYoung,
    /// Used within `unused_for`.
    RecentlyUsed,
    /// `max_usage` or `threshold`: not needed to reach the low mark.
    NotNeeded,
    /// An orchestrator manages it (its labels say which); `include_managed` lifts this.
    Managed(Orchestrator),
    /// A container that exited within `exited_for`.
    ExitedRecently,
    /// One of the `keep_exited` most recently exited containers of its name stem or service.
    KeepExited(String),
    /// An image that arrived on the host (pulled, loaded, built, tagged) within `min_age` or
    /// was used within `unused_for`, whatever its creation time says; the detail names the
    /// time that decided.
    Arrived(String),
}

impl std::fmt::Display for KeptReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeptReason::Running => f.write_str("running"),
            KeptReason::InUse(by) => write!(f, "in use by {by}"),
            KeptReason::NewerThanUntil => f.write_str("newer than until"),
            KeptReason::Label => f.write_str("label filter"),
            KeptReason::Tagged => f.write_str("tagged"),
            KeptReason::Intermediate => f.write_str("intermediate"),
            KeptReason::DanglingUnderAll => {
                f.write_str("dangling: Podman's -a leaves it (prune without -a takes it)")
            }
            KeptReason::HasChildren => f.write_str("has children"),
            KeptReason::NoCreatedTime => f.write_str("no creation time"),
            KeptReason::Predefined => f.write_str("predefined"),
            KeptReason::HasEndpoints => f.write_str("running container attached"),
            KeptReason::NotLocal => f.write_str("not a local network"),
            KeptReason::Named => f.write_str("named (only anonymous volumes without -a)"),
            KeptReason::NotPrunable => f.write_str("driver options or non-local driver"),
            KeptReason::CacheInUse => f.write_str("in use"),
            KeptReason::CacheNeedsAll => f.write_str("shared or internal (needs -a)"),
            KeptReason::CacheChildKept => f.write_str("a child record stays"),
            KeptReason::Protected(what) => write!(f, "protected: {what}"),
            KeptReason::KeepLast => f.write_str("kept by keep_last"),
            KeptReason::TooYoung => f.write_str("younger than min_age"),
            KeptReason::RecentlyUsed => f.write_str("used within unused_for"),
            KeptReason::NotNeeded => f.write_str("not needed to reach the low mark"),
            KeptReason::Managed(by) => write!(f, "managed by {by} (--include-managed)"),
            KeptReason::ExitedRecently => f.write_str("exited within exited_for"),
            KeptReason::KeepExited(stem) => write!(f, "kept by keep_exited ({stem})"),
            KeptReason::Arrived(what) => write!(f, "arrived recently: {what}"),
        }
    }
}

/// Predicts `plan` on the host `snapshot` describes.
pub fn select(snapshot: &HostSnapshot, plan: &PrunePlan) -> ObjectPlan {
    let marks = Watermark::of(snapshot, plan.policy());
    if marks.is_empty() {
        select_within(snapshot, plan, &Allow::default())
    } else {
        select_under(snapshot, plan, &marks)
    }
}

/// [`select`] with objects outside `allow` kept.
fn select_within(snapshot: &HostSnapshot, plan: &PrunePlan, allow: &Allow) -> ObjectPlan {
    let mut filters = Filters::new(snapshot, plan.filters());
    filters.policy = plan.policy().compile();
    filters.now = snapshot.daemon_now;
    filters.pinned = pinned_images(snapshot, &filters);
    filters.exited = kept_exited(snapshot, &filters.policy);
    filters.allow = allow.clone();
    let mut world = World {
        containers: snapshot.containers.iter().collect(),
        mounted: mounted_images(snapshot),
    };
    filters.by_object = !plan.policy().is_empty();
    let mut kinds = Vec::new();
    for kind in plan.kinds() {
        let kind_plan = match kind {
            PruneKind::Containers => containers(&mut world, &filters),
            PruneKind::Networks => networks(snapshot, &filters),
            PruneKind::Volumes => volumes(
                snapshot,
                &world,
                &filters,
                plan.volume_scope(snapshot.api_version, snapshot.engine),
            ),
            PruneKind::Images if snapshot.engine == EngineKind::Podman => podman_images(
                snapshot,
                &world,
                &filters,
                !plan.all().images || allow.dangling_only,
            ),
            PruneKind::Images => match snapshot.image_store {
                ImageStore::Graphdriver => graphdriver_images(
                    snapshot,
                    &world,
                    &filters,
                    !plan.all().images || allow.dangling_only,
                ),
                ImageStore::Containerd => containerd_images(
                    snapshot,
                    &world,
                    &filters,
                    !plan.all().images || allow.dangling_only,
                ),
            },
            PruneKind::BuildCache => {
                let images_first = kinds
                    .iter()
                    .any(|k: &KindPlan| k.kind == PruneKind::Images && !k.doomed.is_empty());
                let space = plan.build_cache_space();
                let mut plan =
                    build_cache(snapshot, &filters, plan.all().build_cache, images_first);
                if !space.is_empty() {
                    daemon_decides(&mut plan, space);
                }
                if snapshot.engine == EngineKind::Podman {
                    plan.info
                        .push("not supported by this engine (Podman has no /build/prune)".into());
                }
                plan
            }
        };
        kinds.push(kind_plan);
    }
    for kind in &mut kinds {
        note_managed(kind);
    }
    ObjectPlan { kinds }
}

/// The per-host note on what orchestrators' objects were left, one line per orchestrator.
fn note_managed(plan: &mut KindPlan) {
    let mut left: BTreeMap<Orchestrator, usize> = BTreeMap::new();
    for kept in &plan.kept {
        if let KeptReason::Managed(by) = kept.reason {
            *left.entry(by).or_default() += 1;
        }
    }
    for (by, count) in left {
        plan.info.push(format!(
            "{by} manages {count} of these {}: left to it (--include-managed prunes them)",
            plan.kind
        ));
    }
}

/// The containers that still exist as the kinds run.
struct World<'a> {
    containers: Vec<&'a ContainerInfo>,
    /// The images each container (by ID) mounts (`--mount type=image`), resolved.
    mounted: BTreeMap<&'a str, Vec<String>>,
}

impl World<'_> {
    fn using_image(&self, image_id: &str) -> Option<&ContainerInfo> {
        self.containers
            .iter()
            .copied()
            .find(|c| c.image_id == image_id)
    }

    /// A container that mounts the image (`--mount type=image`).
    fn mounting_image(&self, image_id: &str) -> Option<&ContainerInfo> {
        self.containers.iter().copied().find(|c| {
            self.mounted
                .get(c.id.as_str())
                .is_some_and(|images| images.iter().any(|i| i == image_id))
        })
    }
}

/// Each container's image mounts resolved to image IDs, as the daemon resolved their sources
/// when it created the container (a full or short ID, or a reference). A source that names no
/// image now (its tag moved or went) cannot be resolved: the image it named is not known.
fn mounted_images(snapshot: &HostSnapshot) -> BTreeMap<&str, Vec<String>> {
    let mut mounted = BTreeMap::new();
    for container in &snapshot.containers {
        let images: Vec<String> = container
            .image_mounts
            .iter()
            .filter_map(|source| image_named(snapshot, source))
            .map(|image| image.id.clone())
            .collect();
        if !images.is_empty() {
            mounted.insert(container.id.as_str(), images);
        }
    }
    mounted
}

/// A container of `snapshot` that mounts the image `image_id` (`--mount type=image`).
pub(crate) fn mounting_container<'a>(
    snapshot: &'a HostSnapshot,
    image_id: &str,
) -> Option<&'a ContainerInfo> {
    snapshot.containers.iter().find(|c| {
        c.image_mounts
            .iter()
            .any(|source| image_named(snapshot, source).is_some_and(|i| i.id == image_id))
    })
}

/// The image `source` names: a full or short image ID (with or without `sha256:`), or a
/// reference in any form (`alpine`, `docker.io/library/alpine:latest`).
fn image_named<'a>(snapshot: &'a HostSnapshot, source: &str) -> Option<&'a ImageInfo> {
    let wanted = normalised(source);
    let hex = source.strip_prefix("sha256:").unwrap_or(source);
    let by_id = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    // As the daemon's GetImage: a reference first, then an ID prefix.
    snapshot
        .images
        .iter()
        .find(|image| image.refs().any(|r| normalised(r) == wanted))
        .or_else(|| {
            snapshot
                .images
                .iter()
                .find(|image| by_id && image.id.trim_start_matches("sha256:").starts_with(hex))
        })
}

/// The plan's filters, resolved against the daemon's clock, and its keep policy.
struct Filters {
    cutoff: Option<Timestamp>,
    labels: Vec<String>,
    not_labels: Vec<String>,
    policy: CompiledPolicy,
    now: Timestamp,
    /// Images the policy keeps, by ID, with the reason.
    pinned: BTreeMap<String, KeptReason>,
    /// Stopped containers `keep_exited` keeps, by ID, with the reason.
    exited: BTreeMap<String, KeptReason>,
    /// A watermark stage's restriction (`max_usage`, `threshold`).
    allow: Allow,
    /// fleetprune deletes the objects itself, by ID (a keep policy), rather than the daemon's
    /// prune endpoints: then an image a container mounts is never deleted.
    by_object: bool,
}

impl Filters {
    fn new(snapshot: &HostSnapshot, set: &FilterSet) -> Filters {
        let mut labels = Vec::new();
        let mut not_labels = Vec::new();
        for filter in set.iter() {
            match filter {
                Filter::Label(l) if !labels.contains(l) => labels.push(l.clone()),
                Filter::LabelNot(l) if !not_labels.contains(l) => not_labels.push(l.clone()),
                _ => {}
            }
        }
        Filters {
            cutoff: set.until().map(|u| cutoff(snapshot, u.kind())),
            labels,
            not_labels,
            policy: KeepPolicy::default().compile(),
            now: snapshot.daemon_now,
            pinned: BTreeMap::new(),
            exited: BTreeMap::new(),
            allow: Allow::default(),
            by_object: false,
        }
    }

    /// Why the policy keeps an object with these labels, name and creation time.
    fn policy_keeps(
        &self,
        labels: &BTreeMap<String, String>,
        name: Option<&str>,
        created: Option<Timestamp>,
    ) -> Option<KeptReason> {
        if !self.policy.include_managed
            && let Some(by) = Orchestrator::managing(labels)
        {
            return Some(KeptReason::Managed(by));
        }
        if let Some(what) = name.and_then(|n| self.policy.protected_container(n)) {
            return Some(KeptReason::Protected(what));
        }
        if let Some(what) = self.policy.protected_label(labels) {
            return Some(KeptReason::Protected(what));
        }
        self.policy
            .too_young(created, self.now)
            .then_some(KeptReason::TooYoung)
    }

    /// `time <= cutoff` (graphdriver images, containers, networks); no cutoff passes all.
    fn old_enough(&self, time: Timestamp) -> bool {
        self.cutoff.is_none_or(|cutoff| time <= cutoff)
    }

    /// The label rules of `filters.Args.MatchKVList` as the daemon's prune wrappers use them.
    fn labels_pass(&self, labels: &BTreeMap<String, String>) -> bool {
        let all_match = |values: &[String]| {
            !labels.is_empty()
                && values.iter().all(|value| match value.split_once('=') {
                    Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                    None => labels.contains_key(value.as_str()),
                })
        };
        (self.labels.is_empty() || all_match(&self.labels))
            && (self.not_labels.is_empty() || !all_match(&self.not_labels))
    }

    /// The containerd image store's label checks (each value one check, all must pass).
    fn containerd_labels_pass(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        if self.labels.is_empty() && self.not_labels.is_empty() {
            return true;
        }
        let Some(labels) = labels else {
            return false;
        };
        let positive = self.labels.iter().all(|value| match value.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(value.as_str()),
        });
        let negative = self
            .not_labels
            .iter()
            .all(|value| match value.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|have| have != v),
                None => !labels.contains_key(value.as_str()),
            });
        positive && negative
    }
}

/// Images a keep policy keeps: protected references or labels, too young, or among the
/// `keep_last` newest of a repository.
fn pinned_images(snapshot: &HostSnapshot, filters: &Filters) -> BTreeMap<String, KeptReason> {
    let policy = &filters.policy;
    let mut pinned = BTreeMap::new();
    for image in &snapshot.images {
        let empty = BTreeMap::new();
        let labels = image.labels.as_ref().unwrap_or(&empty);
        let arrived = arrival(snapshot, image);
        let used = last_use(snapshot, image);
        let reason = if !policy.include_managed
            && let Some(by) = Orchestrator::managing(labels)
        {
            Some(KeptReason::Managed(by))
        } else if let Some(what) = policy.protected_ref(image.refs()) {
            Some(KeptReason::Protected(what))
        } else if let Some(what) = policy.protected_label(labels) {
            Some(KeptReason::Protected(what))
        } else if policy.too_young(arrived.map(|a| a.at), filters.now) {
            match arrived {
                Some(a) if a.source != TimeSource::Created => Some(KeptReason::Arrived(format!(
                    "{} {} within min_age{}",
                    source_text(snapshot, image, a.source),
                    a.at,
                    created_text(image)
                ))),
                _ => Some(KeptReason::TooYoung),
            }
        } else if let Some(unused_for) = policy.unused_for
            && filters.now.duration_since(used.at) < unused_for
        {
            match used.source {
                TimeSource::LastTagTime | TimeSource::Event | TimeSource::FirstSeen => {
                    Some(KeptReason::Arrived(format!(
                        "{} {} within unused_for{}",
                        source_text(snapshot, image, used.source),
                        used.at,
                        created_text(image)
                    )))
                }
                _ => Some(KeptReason::RecentlyUsed),
            }
        } else {
            None
        };
        if let Some(reason) = reason {
            pinned.insert(image.id.clone(), reason);
        }
    }
    if let Some(keep) = policy.keep_last {
        let mut by_repo: BTreeMap<String, Vec<&ImageInfo>> = BTreeMap::new();
        for image in &snapshot.images {
            let repos: BTreeSet<String> =
                image.repo_tags.iter().map(|t| Ref::parse(t).repo).collect();
            for repo in repos {
                by_repo.entry(repo).or_default().push(image);
            }
        }
        for images in by_repo.values_mut() {
            images.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
            for image in images.iter().take(keep) {
                pinned
                    .entry(image.id.clone())
                    .or_insert(KeptReason::KeepLast);
            }
        }
    }
    pinned
}

/// Which recorded time of an image decided its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimeSource {
    /// The image config's `Created`.
    Created,
    /// The daemon's `Metadata.LastTagTime`: the last pull, load, build or tag.
    LastTagTime,
    /// A pull, load, import or tag in the daemon's event log.
    Event,
    /// The first time fleetprune saw the image on the host.
    FirstSeen,
    /// A container's create, start or finish time.
    Container,
    /// When fleetprune last saw a container use it.
    SeenInUse,
}

impl std::fmt::Display for TimeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeSource::Created => "Created",
            TimeSource::LastTagTime => "LastTagTime",
            TimeSource::Event => "image event",
            TimeSource::FirstSeen => "first seen by fleetprune",
            TimeSource::Container => "container",
            TimeSource::SeenInUse => "seen in use",
        })
    }
}

/// A time and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dated {
    at: Timestamp,
    source: TimeSource,
}

/// The latest of `times`; on a tie the earlier-listed source wins.
fn latest(times: impl Iterator<Item = Dated>) -> Option<Dated> {
    times.fold(None, |best: Option<Dated>, next| match best {
        Some(b) if b.at >= next.at => Some(b),
        _ => Some(next),
    })
}

/// When an image arrived on the host: the latest of its `Created`, the daemon's
/// `LastTagTime` (tag, build; pull and load on the containerd store), the pull, load, import
/// or tag events the daemon still holds, and the first time fleetprune saw it there. An image
/// created in 2020 and loaded a minute ago arrived a minute ago.
fn arrival(snapshot: &HostSnapshot, image: &ImageInfo) -> Option<Dated> {
    let dated = |at: Option<Timestamp>, source| at.map(|at| Dated { at, source });
    latest(
        [
            dated(image.created, TimeSource::Created),
            dated(image.last_tag_time, TimeSource::LastTagTime),
            dated(
                snapshot.arrivals.get(&image.id).map(|a| a.at),
                TimeSource::Event,
            ),
            dated(
                snapshot.first_seen.get(&image.id).copied(),
                TimeSource::FirstSeen,
            ),
        ]
        .into_iter()
        .flatten(),
    )
}

/// The deciding time's name: `LastTagTime`, or the event (`load event`, `pull event`).
fn source_text(snapshot: &HostSnapshot, image: &ImageInfo, source: TimeSource) -> String {
    match (source, snapshot.arrivals.get(&image.id)) {
        (TimeSource::Event, Some(arrival)) => format!("{} event", arrival.action),
        _ => source.to_string(),
    }
}

/// `, Created 2020-01-01T00:00:00Z`, or nothing when the image has no creation time.
fn created_text(image: &ImageInfo) -> String {
    image
        .created
        .map(|c| format!(", Created {c}"))
        .unwrap_or_default()
}

/// An image's last use: the latest of its containers' create, start and finish times, of when
/// fleetprune last saw it in use, and of its arrival (an arrival is a use).
fn last_use(snapshot: &HostSnapshot, image: &ImageInfo) -> Dated {
    let containers = snapshot
        .containers
        .iter()
        .filter(|c| c.image_id == image.id)
        .flat_map(|c| [Some(c.created), c.started, c.finished])
        .flatten()
        .map(|at| Dated {
            at,
            source: TimeSource::Container,
        });
    let seen = snapshot.last_seen.get(&image.id).map(|at| Dated {
        at: *at,
        source: TimeSource::SeenInUse,
    });
    latest(
        arrival(snapshot, image)
            .into_iter()
            .chain(containers)
            .chain(seen),
    )
    .unwrap_or(Dated {
        at: Timestamp::UNIX_EPOCH,
        source: TimeSource::Created,
    })
}

/// `keep_exited`: the N most recently finished stopped containers of each name stem or
/// compose service stay.
fn kept_exited(snapshot: &HostSnapshot, policy: &CompiledPolicy) -> BTreeMap<String, KeptReason> {
    let mut kept = BTreeMap::new();
    let Some(keep) = policy.keep_exited else {
        return kept;
    };
    let mut by_stem: BTreeMap<String, Vec<&ContainerInfo>> = BTreeMap::new();
    for container in snapshot.containers.iter().filter(|c| !c.running) {
        by_stem
            .entry(container_stem(container))
            .or_default()
            .push(container);
    }
    for (stem, mut containers) in by_stem {
        containers.sort_by(|a, b| {
            let at = |c: &ContainerInfo| c.finished.unwrap_or(c.created);
            at(b).cmp(&at(a)).then(a.id.cmp(&b.id))
        });
        for container in containers.into_iter().take(keep) {
            kept.insert(container.id.clone(), KeptReason::KeepExited(stem.clone()));
        }
    }
    kept
}

/// What makes containers "the same" for `keep_exited`: a compose project's service, a
/// Kubernetes pod's container, else the name without a trailing run number (`build-17` and
/// `build_18` are `build`).
fn container_stem(container: &ContainerInfo) -> String {
    let label = |key: &str| container.labels.get(key).map(String::as_str);
    if let (Some(project), Some(service)) = (
        label("com.docker.compose.project"),
        label("com.docker.compose.service"),
    ) {
        return format!("service {project}/{service}");
    }
    if let (Some(pod), Some(name)) = (
        label("io.kubernetes.pod.name"),
        label("io.kubernetes.container.name"),
    ) {
        return format!("pod {pod}/{name}");
    }
    let trimmed = container
        .name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches(['-', '_', '.']);
    if trimmed.is_empty() {
        container.name.clone()
    } else {
        trimmed.to_string()
    }
}

/// The absolute cutoff the daemon computes from an `until` value (§7).
pub fn cutoff(snapshot: &HostSnapshot, until: &UntilKind) -> Timestamp {
    match until {
        UntilKind::Duration(duration) => {
            let at = snapshot
                .daemon_now
                .checked_sub(*duration)
                .unwrap_or(snapshot.daemon_now);
            if snapshot.api_version < ApiVersion::new(1, 52) {
                // Docker up to 28 truncates the cutoff to whole seconds.
                Timestamp::from_second(at.as_second()).unwrap_or(at)
            } else {
                at
            }
        }
        UntilKind::Instant(instant) => *instant,
        UntilKind::LocalDateTime(datetime) => {
            let offset =
                Offset::from_seconds(snapshot.daemon_offset_seconds).unwrap_or(Offset::UTC);
            datetime
                .to_zoned(TimeZone::fixed(offset))
                .map(|z| z.timestamp())
                .unwrap_or(snapshot.daemon_now)
        }
    }
}

// ---------------------------------------------------------------------------- containers

fn containers(world: &mut World<'_>, filters: &Filters) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Containers);
    let mut remaining = Vec::new();
    for container in world.containers.iter().copied() {
        let kept = if container.running {
            Some(KeptReason::Running)
        } else if !Allow::allows(&filters.allow.containers, &container.id) {
            Some(KeptReason::NotNeeded)
        } else if let Some(reason) = filters.policy_keeps(
            &container.labels,
            Some(&container.name),
            Some(container.created),
        ) {
            Some(reason)
        } else if filters
            .policy
            .exited_recently(container.finished, filters.now)
        {
            Some(KeptReason::ExitedRecently)
        } else if let Some(reason) = filters.exited.get(&container.id) {
            Some(reason.clone())
        } else if !filters.old_enough(container.created) {
            Some(KeptReason::NewerThanUntil)
        } else if !filters.labels_pass(&container.labels) {
            Some(KeptReason::Label)
        } else {
            None
        };
        match kept {
            Some(reason) => {
                plan.kept.push(Kept {
                    id: container.id.clone(),
                    name: container.name.clone(),
                    reason,
                });
                remaining.push(container);
            }
            None => {
                let bytes = container.size_rw.unwrap_or(0);
                plan.bytes = plan.bytes.saturating_add(bytes);
                plan.doomed.push(Doomed {
                    id: container.id.clone(),
                    name: container.name.clone(),
                    action: Action::Delete,
                    reason: Reason::Stopped,
                    bytes,
                    untagged: Vec::new(),
                    refs: Vec::new(),
                    reported: None,
                });
            }
        }
    }
    world.containers = remaining;
    plan
}

// ------------------------------------------------------------------------------ networks

const PREDEFINED_NETWORKS: [&str; 4] = ["bridge", "host", "none", "default"];

fn networks(snapshot: &HostSnapshot, filters: &Filters) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Networks);
    for network in &snapshot.networks {
        // Podman's prune never removes its default network (`podman`, unless containers.conf
        // names another, which the API does not show).
        let podman_default = snapshot.engine == EngineKind::Podman && network.name == "podman";
        let kept = if PREDEFINED_NETWORKS.contains(&network.name.as_str()) || podman_default {
            Some(KeptReason::Predefined)
        } else if network.config_only || network.scope == "swarm" {
            Some(KeptReason::NotLocal)
        } else if network.endpoints > 0 {
            Some(KeptReason::HasEndpoints)
        } else if let Some(reason) =
            filters.policy_keeps(&network.labels, None, Some(network.created))
        {
            Some(reason)
        } else if !filters.old_enough(network.created) {
            Some(KeptReason::NewerThanUntil)
        } else if !filters.labels_pass(&network.labels) {
            Some(KeptReason::Label)
        } else {
            None
        };
        match kept {
            Some(reason) => plan.kept.push(Kept {
                id: network.id.clone(),
                name: network.name.clone(),
                reason,
            }),
            None => plan.doomed.push(Doomed {
                id: network.id.clone(),
                name: network.name.clone(),
                action: Action::Delete,
                reason: Reason::NoRunningContainer,
                bytes: 0,
                untagged: Vec::new(),
                refs: Vec::new(),
                // The daemon reports network names.
                reported: Some(network.name.clone()),
            }),
        }
    }
    plan
}

// ------------------------------------------------------------------------------- volumes

fn volumes(
    snapshot: &HostSnapshot,
    world: &World<'_>,
    filters: &Filters,
    scope: VolumeScope,
) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Volumes);
    for volume in &snapshot.volumes {
        let user = world
            .containers
            .iter()
            .find(|c| c.volumes.contains(&volume.name));
        let kept = if volume.driver != "local" || volume.has_options {
            Some(KeptReason::NotPrunable)
        } else if let Some(container) = user {
            Some(KeptReason::InUse(container.name.clone()))
        } else if let Some(reason) = filters.policy_keeps(&volume.labels, None, None) {
            Some(reason)
        } else if scope == VolumeScope::Anonymous && !volume.anonymous {
            Some(KeptReason::Named)
        } else if !filters.labels_pass(&volume.labels) {
            Some(KeptReason::Label)
        } else {
            None
        };
        match kept {
            Some(reason) => plan.kept.push(Kept {
                id: volume.name.clone(),
                name: volume.name.clone(),
                reason,
            }),
            None => {
                let bytes = volume.size.unwrap_or(0);
                if volume.size.is_none() {
                    plan.inexact("a volume's size is unknown to the daemon");
                }
                plan.bytes = plan.bytes.saturating_add(bytes);
                plan.doomed.push(Doomed {
                    id: volume.name.clone(),
                    name: volume.name.clone(),
                    action: Action::Delete,
                    reason: Reason::Unreferenced,
                    bytes,
                    untagged: Vec::new(),
                    refs: Vec::new(),
                    reported: None,
                });
            }
        }
    }
    plan
}

// ---------------------------------------------------------------------------- build cache

/// With size controls the daemon picks the records itself, only until the cache is within the
/// limits (it also reads the disk's free space): the candidates are an upper bound, not a list.
fn daemon_decides(plan: &mut KindPlan, space: crate::plan::BuildCacheSpace) {
    let candidates = plan.doomed.len();
    let bytes = plan.bytes;
    plan.doomed.clear();
    plan.bytes = 0;
    plan.inexact(&format!(
        "the daemon's decision ({space}): it removes records only down to those limits; at most {candidates} record(s), {} could go",
        crate::human_size::human_size(bytes)
    ));
}

fn build_cache(
    snapshot: &HostSnapshot,
    filters: &Filters,
    all: bool,
    images_first: bool,
) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::BuildCache);
    let mut kept: BTreeMap<&str, KeptReason> = BTreeMap::new();
    let mut eligible: BTreeSet<&str> = BTreeSet::new();
    for record in &snapshot.build_cache {
        let needs_all = record.shared || record.kind == "internal" || record.kind == "frontend";
        let reason = if record.in_use {
            Some(KeptReason::CacheInUse)
        } else if !Allow::allows(&filters.allow.build_cache, &record.id) {
            Some(KeptReason::NotNeeded)
        } else if !all && needs_all {
            if record.shared && images_first {
                plan.inexact("deleting images can unshare build-cache records");
            }
            Some(KeptReason::CacheNeedsAll)
        } else if let (Some(cutoff), Some(used)) = (filters.cutoff, record.last_used)
            && used > cutoff
        {
            Some(KeptReason::NewerThanUntil)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                kept.insert(record.id.as_str(), reason);
            }
            None => {
                eligible.insert(record.id.as_str());
            }
        }
    }
    // Rounds: a record goes once no remaining record names it as a parent.
    let mut remaining: BTreeSet<&str> =
        snapshot.build_cache.iter().map(|r| r.id.as_str()).collect();
    let mut deleted: Vec<&str> = Vec::new();
    loop {
        let parents: BTreeSet<&str> = snapshot
            .build_cache
            .iter()
            .filter(|r| remaining.contains(r.id.as_str()))
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        let round: Vec<&str> = eligible
            .iter()
            .copied()
            .filter(|id| remaining.contains(id) && !parents.contains(id))
            .collect();
        if round.is_empty() {
            break;
        }
        for id in round {
            remaining.remove(id);
            deleted.push(id);
        }
    }
    for record in &snapshot.build_cache {
        if deleted.contains(&record.id.as_str()) {
            plan.bytes = plan.bytes.saturating_add(record.size);
            plan.doomed.push(Doomed {
                id: record.id.clone(),
                name: record.description.clone(),
                action: Action::Delete,
                reason: Reason::UnusedCache,
                bytes: record.size,
                untagged: Vec::new(),
                refs: Vec::new(),
                reported: None,
            });
        } else {
            plan.kept.push(Kept {
                id: record.id.clone(),
                name: record.description.clone(),
                reason: kept
                    .get(record.id.as_str())
                    .cloned()
                    .unwrap_or(KeptReason::CacheChildKept),
            });
        }
    }
    plan
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
