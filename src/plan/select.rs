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
use crate::plan::policy::{CompiledPolicy, KeepPolicy, UsageLimit};
use crate::plan::{PruneKind, PrunePlan, VolumeScope};
use crate::snapshot::{ANONYMOUS_VOLUME_LABEL, ContainerInfo, HostSnapshot, ImageInfo, ImageStore};

/// What a prune would do on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectPlan {
    /// One entry per planned kind, in the order they run.
    pub kinds: Vec<KindPlan>,
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
    /// Facts about the decision that are not about precision (a `max_usage` before/after).
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
    /// Has children that stay.
    HasChildren,
    /// The image config has no creation time (kept by `until` from Docker 25).
    NoCreatedTime,
    /// `bridge`, `host`, `none`, `default`.
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
    /// `max_usage`: not needed to reach the low mark.
    NotNeeded,
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
            KeptReason::NotNeeded => f.write_str("not needed to get under max_usage"),
        }
    }
}

/// Predicts `plan` on the host `snapshot` describes.
pub fn select(snapshot: &HostSnapshot, plan: &PrunePlan) -> ObjectPlan {
    match plan.policy().max_usage {
        None => select_within(snapshot, plan, &Allow::default()),
        Some(limit) => select_under(snapshot, plan, limit),
    }
}

/// Which objects a stage of a `max_usage` policy may remove (`None`: no restriction).
#[derive(Debug, Clone, Default)]
struct Allow {
    containers: Option<BTreeSet<String>>,
    images: Option<BTreeSet<String>>,
    build_cache: Option<BTreeSet<String>>,
    /// Only dangling images, whatever the plan says.
    dangling_only: bool,
}

impl Allow {
    fn nothing() -> Allow {
        Allow {
            containers: Some(BTreeSet::new()),
            images: Some(BTreeSet::new()),
            build_cache: Some(BTreeSet::new()),
            dangling_only: false,
        }
    }

    fn allows(set: &Option<BTreeSet<String>>, id: &str) -> bool {
        set.as_ref().is_none_or(|s| s.contains(id))
    }
}

/// Docker's own usage on the host: image layers (each once), containers' RW layers, local
/// volumes and build cache, as `docker system df` counts them.
pub fn docker_usage(snapshot: &HostSnapshot) -> u64 {
    let mut layers: BTreeMap<&str, u64> = BTreeMap::new();
    for image in &snapshot.images {
        for (chain, size) in image.chain.iter().zip(&image.layer_sizes) {
            layers.insert(chain.as_str(), size.unwrap_or(0));
        }
    }
    let sum = |values: &mut dyn Iterator<Item = u64>| values.fold(0u64, u64::saturating_add);
    sum(&mut layers.values().copied())
        .saturating_add(sum(&mut snapshot
            .containers
            .iter()
            .filter_map(|c| c.size_rw)))
        .saturating_add(sum(&mut snapshot.volumes.iter().filter_map(|v| v.size)))
        .saturating_add(sum(&mut snapshot
            .build_cache
            .iter()
            .filter(|r| !r.shared)
            .map(|r| r.size)))
}

/// `max_usage`: nothing under the high mark; above it, the smallest stage of the order stopped
/// containers (oldest first), dangling images, build cache (least recently used first), then
/// least recently used images (with -a) whose prediction reaches the low mark.
fn select_under(snapshot: &HostSnapshot, plan: &PrunePlan, limit: UsageLimit) -> ObjectPlan {
    let usage = docker_usage(snapshot);
    if usage <= limit.high {
        let mut left_alone = select_within(snapshot, plan, &Allow::nothing());
        for kind in &mut left_alone.kinds {
            kind.doomed.clear();
            kind.bytes = 0;
        }
        if let Some(first) = left_alone.kinds.first_mut() {
            first.info.push(format!(
                "docker uses {}, under max_usage {}: left alone",
                crate::report::human_size(usage),
                crate::report::human_size(limit.high)
            ));
        }
        return left_alone;
    }
    let needed = usage - limit.low;
    let full = select_within(snapshot, plan, &Allow::default());
    let doomed_ids = |kind: PruneKind| -> Vec<String> {
        full.kind(kind)
            .map(|k| k.doomed.iter().map(|d| d.id.clone()).collect())
            .unwrap_or_default()
    };
    let mut stages: Vec<Allow> = Vec::new();
    let mut allow = Allow::nothing();
    let mut stopped: Vec<&ContainerInfo> = snapshot
        .containers
        .iter()
        .filter(|c| doomed_ids(PruneKind::Containers).contains(&c.id))
        .collect();
    stopped.sort_by_key(|c| c.created);
    for container in stopped {
        allow
            .containers
            .get_or_insert_default()
            .insert(container.id.clone());
        stages.push(allow.clone());
    }
    allow.containers = None;
    allow.images = None;
    allow.dangling_only = true;
    stages.push(allow.clone());
    let dangling: BTreeSet<String> = select_within(snapshot, plan, &allow)
        .kind(PruneKind::Images)
        .map(|k| k.doomed.iter().map(|d| d.id.clone()).collect())
        .unwrap_or_default();
    let mut records: Vec<_> = snapshot
        .build_cache
        .iter()
        .filter(|r| doomed_ids(PruneKind::BuildCache).contains(&r.id))
        .collect();
    records.sort_by_key(|r| r.last_used);
    for record in records {
        allow
            .build_cache
            .get_or_insert_default()
            .insert(record.id.clone());
        stages.push(allow.clone());
    }
    allow.build_cache = None;
    if plan.all().images {
        let doomed = doomed_ids(PruneKind::Images);
        let mut unused: Vec<&ImageInfo> = snapshot
            .images
            .iter()
            .filter(|i| doomed.contains(&i.id) && !dangling.contains(&i.id))
            .collect();
        unused.sort_by_key(|i| last_use(snapshot, i));
        allow.dangling_only = false;
        let mut images = dangling.clone();
        for image in unused {
            images.insert(image.id.clone());
            allow.images = Some(images.clone());
            stages.push(allow.clone());
        }
    }
    let mut chosen = None;
    for stage in &stages {
        let candidate = select_within(snapshot, plan, stage);
        let reached = candidate.bytes() >= needed;
        chosen = Some(candidate);
        if reached {
            break;
        }
    }
    let mut chosen = chosen.unwrap_or(full);
    let after = usage.saturating_sub(chosen.bytes());
    let note = format!(
        "docker uses {}, over max_usage {}: after this {} (low mark {}){}",
        crate::report::human_size(usage),
        crate::report::human_size(limit.high),
        crate::report::human_size(after),
        crate::report::human_size(limit.low),
        if after > limit.low {
            "; the low mark cannot be reached with this plan"
        } else {
            ""
        }
    );
    if let Some(first) = chosen.kinds.first_mut() {
        first.info.push(note);
    }
    chosen
}

/// [`select`] with objects outside `allow` kept.
fn select_within(snapshot: &HostSnapshot, plan: &PrunePlan, allow: &Allow) -> ObjectPlan {
    let mut filters = Filters::new(snapshot, plan.filters());
    filters.policy = plan.policy().compile();
    filters.now = snapshot.daemon_now;
    filters.pinned = pinned_images(snapshot, &filters);
    filters.allow = allow.clone();
    let mut world = World {
        containers: snapshot.containers.iter().collect(),
    };
    let mut kinds = Vec::new();
    for kind in plan.kinds() {
        let kind_plan = match kind {
            PruneKind::Containers => containers(&mut world, &filters),
            PruneKind::Networks => networks(snapshot, &filters),
            PruneKind::Volumes => volumes(
                snapshot,
                &world,
                &filters,
                plan.volume_scope(snapshot.api_version),
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
                build_cache(snapshot, &filters, plan.all().build_cache, images_first)
            }
        };
        kinds.push(kind_plan);
    }
    ObjectPlan { kinds }
}

/// The containers that still exist as the kinds run.
struct World<'a> {
    containers: Vec<&'a ContainerInfo>,
}

impl World<'_> {
    fn using_image(&self, image_id: &str) -> Option<&ContainerInfo> {
        self.containers
            .iter()
            .copied()
            .find(|c| c.image_id == image_id)
    }
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
    /// A `max_usage` stage's restriction.
    allow: Allow,
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
            allow: Allow::default(),
        }
    }

    /// Why the policy keeps an object with these labels, name and creation time.
    fn policy_keeps(
        &self,
        labels: &BTreeMap<String, String>,
        name: Option<&str>,
        created: Option<Timestamp>,
    ) -> Option<KeptReason> {
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
        let reason = if let Some(what) = policy.protected_ref(image.refs()) {
            Some(KeptReason::Protected(what))
        } else if let Some(what) = policy.protected_label(labels) {
            Some(KeptReason::Protected(what))
        } else if policy.too_young(image.created, filters.now) {
            Some(KeptReason::TooYoung)
        } else if let Some(unused_for) = policy.unused_for
            && filters.now.duration_since(last_use(snapshot, image)) < unused_for
        {
            Some(KeptReason::RecentlyUsed)
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

/// An image's last use: the latest of its containers' create, start and finish times and of
/// when fleetprune last saw it in use; an image never seen used counts from its creation.
fn last_use(snapshot: &HostSnapshot, image: &ImageInfo) -> Timestamp {
    snapshot
        .containers
        .iter()
        .filter(|c| c.image_id == image.id)
        .flat_map(|c| [Some(c.created), c.started, c.finished])
        .flatten()
        .chain(snapshot.last_seen.get(&image.id).copied())
        .max()
        .or(image.last_tag_time.max(image.created))
        .unwrap_or(Timestamp::UNIX_EPOCH)
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
        let kept = if PREDEFINED_NETWORKS.contains(&network.name.as_str()) {
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
        } else if scope == VolumeScope::Anonymous
            && !volume.labels.contains_key(ANONYMOUS_VOLUME_LABEL)
        {
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

// -------------------------------------------------------------------------------- images

/// A reference, with what ordering and repository comparisons need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Ref {
    /// Fully normalised (`docker.io/library/alpine:3.20`): the daemon's sort order.
    full: String,
    familiar: String,
    /// Normalised repository name.
    repo: String,
    tag: bool,
}

impl Ref {
    fn parse(familiar: &str) -> Ref {
        let (name, rest, tag) = match familiar.split_once('@') {
            Some((name, digest)) => (name, format!("@{digest}"), false),
            None => {
                let slash = familiar.rfind('/').map_or(0, |i| i + 1);
                match familiar[slash..].rfind(':') {
                    Some(colon) => (
                        &familiar[..slash + colon],
                        familiar[slash + colon..].to_string(),
                        true,
                    ),
                    None => (familiar, ":latest".to_string(), true),
                }
            }
        };
        let repo = normalise_name(name);
        Ref {
            full: format!("{repo}{rest}"),
            familiar: familiar.to_string(),
            repo,
            tag,
        }
    }
}

/// `alpine` → `docker.io/library/alpine`, `lab/app` → `docker.io/lab/app`.
fn normalise_name(name: &str) -> String {
    match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            name.to_string()
        }
        Some(_) => format!("docker.io/{name}"),
    }
}

/// moby's `isSingleReference`: one tag (plus digests of its repository), or only digests of
/// one repository.
fn is_single_reference(refs: &BTreeSet<Ref>) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let mut single: Option<&Ref> = None;
    let mut canonical_repos = BTreeSet::new();
    for r in refs {
        if !r.tag {
            canonical_repos.insert(r.repo.as_str());
        } else if single.is_none() {
            single = Some(r);
        } else {
            return false;
        }
    }
    let single = single.or_else(|| refs.iter().next());
    canonical_repos.len() == 1 && single.is_some_and(|s| canonical_repos.contains(s.repo.as_str()))
}

struct GImage<'a> {
    info: &'a ImageInfo,
    refs: BTreeSet<Ref>,
    children: BTreeSet<usize>,
    parent: Option<usize>,
    deleted: bool,
    untagged: Vec<String>,
    reason: Option<Reason>,
    /// A keep policy keeps it (never deleted, not even as a parent).
    pinned: bool,
}

fn graphdriver_images(
    snapshot: &HostSnapshot,
    world: &World<'_>,
    filters: &Filters,
    dangling_only: bool,
) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Images);
    let mut sorted: Vec<&ImageInfo> = snapshot.images.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let index: BTreeMap<&str, usize> = sorted
        .iter()
        .enumerate()
        .map(|(i, image)| (image.id.as_str(), i))
        .collect();
    let mut images: Vec<GImage<'_>> = sorted
        .iter()
        .map(|info| GImage {
            info,
            refs: info.refs().map(|r| Ref::parse(r)).collect(),
            children: BTreeSet::new(),
            parent: info.parent.as_deref().and_then(|p| index.get(p).copied()),
            deleted: false,
            untagged: Vec::new(),
            reason: None,
            pinned: filters.pinned.contains_key(&info.id),
        })
        .collect();
    for i in 0..images.len() {
        if let Some(parent) = images[i].parent {
            images[parent].children.insert(i);
        }
    }

    // §1.2: the candidate set, computed once.
    let mut candidates = Vec::new();
    let mut kept: BTreeMap<usize, KeptReason> = BTreeMap::new();
    for (i, image) in images.iter().enumerate() {
        let has_children = !image.children.is_empty();
        if let Some(reason) = filters.pinned.get(&image.info.id) {
            kept.insert(i, reason.clone());
            continue;
        }
        if !Allow::allows(&filters.allow.images, &image.info.id) {
            kept.insert(i, KeptReason::NotNeeded);
            continue;
        }
        if dangling_only && has_children {
            kept.insert(
                i,
                if image.refs.is_empty() {
                    KeptReason::Intermediate
                } else {
                    KeptReason::HasChildren
                },
            );
            continue;
        }
        if image.refs.is_empty() && has_children {
            kept.insert(i, KeptReason::Intermediate);
            continue;
        }
        if filters.cutoff.is_some() {
            match image.info.created {
                Some(created) if !filters.old_enough(created) => {
                    kept.insert(i, KeptReason::NewerThanUntil);
                    continue;
                }
                None if snapshot.api_version >= ApiVersion::new(1, 44) => {
                    kept.insert(i, KeptReason::NoCreatedTime);
                    continue;
                }
                _ => {}
            }
        }
        if let Some(labels) = &image.info.labels
            && !filters.labels_pass(labels)
        {
            kept.insert(i, KeptReason::Label);
            continue;
        }
        if dangling_only && image.refs.iter().any(|r| r.tag) {
            kept.insert(i, KeptReason::Tagged);
            continue;
        }
        candidates.push(i);
    }

    // §1.3: each candidate, against the state the earlier ones left.
    let used = |image: &GImage<'_>| world.using_image(&image.info.id).is_some();
    for &i in &candidates {
        if images[i].deleted {
            continue;
        }
        let initial_reason = if images[i].refs.is_empty() || dangling_only {
            Reason::Dangling
        } else {
            Reason::Unused
        };
        if images[i].refs.is_empty() {
            if delete_image(&mut images, i, world) {
                images[i].reason = Some(initial_reason);
            }
            continue;
        }
        let refs: Vec<Ref> = images[i].refs.iter().cloned().collect();
        for r in refs {
            let image = &mut images[i];
            if !image.refs.contains(&r) {
                continue;
            }
            if is_single_reference(&image.refs) && used(image) {
                continue;
            }
            image.refs.remove(&r);
            image.untagged.push(r.familiar.clone());
            if r.tag && !image.refs.iter().any(|o| o.tag && o.repo == r.repo) {
                let digests: Vec<Ref> = image
                    .refs
                    .iter()
                    .filter(|o| !o.tag && o.repo == r.repo)
                    .cloned()
                    .collect();
                for d in digests {
                    image.refs.remove(&d);
                    image.untagged.push(d.familiar);
                }
            }
            if !image.refs.is_empty() {
                continue;
            }
            delete_image(&mut images, i, world);
        }
        let image = &mut images[i];
        if image.reason.is_none() && !image.untagged.is_empty() {
            image.reason = Some(if image.deleted {
                initial_reason
            } else if used(image) {
                Reason::InUseMultiTag
            } else {
                Reason::ParentWithChildren
            });
        } else if image.deleted && image.reason.is_none() {
            image.reason = Some(initial_reason);
        }
    }

    // §1.5: layers whose last user goes.
    let remaining: BTreeSet<&str> = images
        .iter()
        .filter(|image| !image.deleted)
        .flat_map(|image| image.info.chain.iter().map(String::as_str))
        .collect();
    let cache_holds = !snapshot.build_cache.is_empty();
    let mut sizes: BTreeMap<&str, (Option<u64>, bool)> = BTreeMap::new();
    for image in images.iter().filter(|image| image.deleted) {
        for ((chain, size), buildkit) in image
            .info
            .chain
            .iter()
            .zip(&image.info.layer_sizes)
            .zip(&image.info.buildkit_layers)
        {
            if !remaining.contains(chain.as_str()) {
                sizes.insert(chain.as_str(), (*size, *buildkit && cache_holds));
            }
        }
    }
    let mut freed: BTreeSet<&str> = BTreeSet::new();
    for (chain, (size, held)) in &sizes {
        if *held {
            // BuildKit keeps a layer-store reference per cache record (checked on 20.10 and
            // 26): the layer is freed, and counted, by a later build-cache prune.
            continue;
        }
        match size {
            Some(size) => plan.bytes = plan.bytes.saturating_add(*size),
            None => plan.inexact("a layer's size is not known from the image history"),
        }
        freed.insert(chain);
    }
    plan.freed_layers = freed.iter().map(|c| c.to_string()).collect();

    for (i, image) in images.iter().enumerate() {
        let name = image
            .info
            .refs()
            .next()
            .cloned()
            .unwrap_or_else(|| short_id(&image.info.id));
        if let Some(reason) = image.reason.clone() {
            let bytes = if image.deleted {
                image
                    .info
                    .chain
                    .iter()
                    .zip(&image.info.layer_sizes)
                    .filter(|(c, _)| freed.contains(c.as_str()))
                    .map(|(_, s)| s.unwrap_or(0))
                    .sum()
            } else {
                0
            };
            plan.doomed.push(Doomed {
                id: image.info.id.clone(),
                name,
                action: if image.deleted {
                    Action::Delete
                } else {
                    Action::Untag
                },
                reason,
                bytes,
                untagged: image.untagged.clone(),
                refs: image.info.refs().cloned().collect(),
                reported: None,
            });
        } else {
            let reason = kept.get(&i).cloned().unwrap_or_else(|| {
                if let Some(container) = world.using_image(&image.info.id) {
                    KeptReason::InUse(container.name.clone())
                } else if !image.children.is_empty() {
                    KeptReason::HasChildren
                } else {
                    KeptReason::Tagged
                }
            });
            plan.kept.push(Kept {
                id: image.info.id.clone(),
                name,
                reason,
            });
        }
    }
    plan
}

/// `imageDeleteHelper` in a prune: deletes the image when nothing holds it (no references, no
/// children, no container), then its parent under the same rules.
fn delete_image(images: &mut [GImage<'_>], i: usize, world: &World<'_>) -> bool {
    let image = &images[i];
    if image.deleted
        || image.pinned
        || !image.refs.is_empty()
        || !image.children.is_empty()
        || world.using_image(&image.info.id).is_some()
    {
        return false;
    }
    images[i].deleted = true;
    if let Some(parent) = images[i].parent {
        images[parent].children.remove(&i);
        if delete_image(images, parent, world) && images[parent].reason.is_none() {
            images[parent].reason = Some(Reason::ParentOfDeleted);
        }
    }
    true
}

fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

// -------------------------------------------------------------------- containerd images

struct Record<'a> {
    /// `lab/app:1`, or `moby-dangling@sha256:...`.
    name: String,
    full: String,
    dangling: bool,
    image: &'a ImageInfo,
}

fn containerd_images(
    snapshot: &HostSnapshot,
    world: &World<'_>,
    filters: &Filters,
    dangling_only: bool,
) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Images);
    plan.inexact("the containerd store's freed blob sizes are not exposed by the Engine API");
    if filters.cutoff.is_some() {
        plan.inexact("the containerd store's until uses name-record times the API does not show");
    }
    let mut records: Vec<Record<'_>> = Vec::new();
    for image in &snapshot.images {
        // RepoDigests also lists digests derived from tagged names: only an image without tags
        // has its digest references as names of their own.
        let names = if image.repo_tags.is_empty() {
            &image.repo_digests
        } else {
            &image.repo_tags
        };
        if names.is_empty() {
            let name = format!("moby-dangling@{}", image.id);
            records.push(Record {
                full: name.clone(),
                name,
                dangling: true,
                image,
            });
        }
        for tag in names {
            records.push(Record {
                name: tag.clone(),
                full: Ref::parse(tag).full,
                dangling: false,
                image,
            });
        }
    }
    records.sort_by(|a, b| a.full.cmp(&b.full));
    let mut ref_count: BTreeMap<&str, usize> = BTreeMap::new();
    for record in &records {
        *ref_count.entry(record.image.id.as_str()).or_default() += 1;
    }

    // Candidates and the filters.
    let mut candidate = vec![false; records.len()];
    let mut kept: BTreeMap<&str, KeptReason> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let reason = if let Some(reason) = filters.pinned.get(&record.image.id) {
            Some(reason.clone())
        } else if !Allow::allows(&filters.allow.images, &record.image.id) {
            Some(KeptReason::NotNeeded)
        } else if dangling_only && !record.dangling {
            Some(KeptReason::Tagged)
        } else if let Some(cutoff) = filters.cutoff
            && record
                .image
                .last_tag_time
                .or(record.image.created)
                .is_none_or(|t| t >= cutoff)
        {
            Some(KeptReason::NewerThanUntil)
        } else if !filters.containerd_labels_pass(record.image.labels.as_ref()) {
            Some(KeptReason::Label)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                kept.entry(record.image.id.as_str()).or_insert(reason);
            }
            None => candidate[i] = true,
        }
    }

    // Protection by containers (`filterImagesUsedByContainers`).
    let mut used_by_digest: BTreeSet<&str> = BTreeSet::new();
    for container in &world.containers {
        let dangling = format!("moby-dangling@{}", container.image_id);
        let typed = container.config_image.as_str();
        let hex = container.image_id.trim_start_matches("sha256:");
        let bare = typed.strip_prefix("sha256:").unwrap_or(typed);
        let by_id = !bare.is_empty()
            && bare
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && hex.starts_with(bare)
            || typed.ends_with(&format!("@{}", container.image_id));
        let protected_name = if by_id {
            used_by_digest.insert(container.image_id.as_str());
            None
        } else {
            Some(Ref::parse(typed).full)
        };
        for (i, record) in records.iter().enumerate() {
            if record.name == dangling
                || protected_name.as_deref() == Some(record.full.as_str())
                || protected_name
                    .as_deref()
                    .and_then(|p| p.split_once('@'))
                    .is_some_and(|(named, _)| named == record.full)
            {
                if candidate[i] {
                    kept.insert(
                        record.image.id.as_str(),
                        KeptReason::InUse(container.name.clone()),
                    );
                }
                candidate[i] = false;
            }
        }
    }
    let keep_last_version = snapshot.engine_version >= (27, 3);
    let mut content_protected: BTreeSet<&str> = BTreeSet::new();
    if keep_last_version {
        let mut count = ref_count.clone();
        for (i, record) in records.iter().enumerate() {
            if !candidate[i] {
                continue;
            }
            let id = record.image.id.as_str();
            let left = count.entry(id).or_default();
            if *left > 1 {
                *left -= 1;
            } else if used_by_digest.contains(id) {
                candidate[i] = false;
            }
        }
    } else {
        content_protected = used_by_digest;
    }

    // pruneAll: names go; a target's content goes with its last record.
    let mut left = ref_count.clone();
    let mut untagged: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        if !candidate[i] {
            continue;
        }
        let id = record.image.id.as_str();
        if let Some(n) = left.get_mut(id) {
            *n -= 1;
        }
        let familiar = if record.dangling {
            record.image.id.clone()
        } else {
            record.name.clone()
        };
        untagged.entry(id).or_default().push(familiar);
    }
    // A BuildKit build leases the content of its base image: while the build cache holds
    // records, a target that is the base of a BuildKit-built image keeps its content.
    let cache_holds = !snapshot.build_cache.is_empty();
    let buildkit_base = |image: &ImageInfo| {
        cache_holds
            && snapshot.images.iter().any(|other| {
                other.chain.len() > image.chain.len()
                    && other.chain.starts_with(&image.chain)
                    && other.buildkit_layers[image.chain.len()..]
                        .iter()
                        .any(|b| *b)
            })
    };
    let held: BTreeSet<&str> = snapshot
        .images
        .iter()
        .filter(|image| buildkit_base(image))
        .map(|image| image.id.as_str())
        .collect();
    let gone: BTreeSet<&str> = untagged
        .keys()
        .copied()
        .filter(|id| {
            left.get(id) == Some(&0) && !content_protected.contains(id) && !held.contains(id)
        })
        .collect();
    let remaining_layers: BTreeSet<&str> = snapshot
        .images
        .iter()
        .filter(|image| !gone.contains(image.id.as_str()))
        .flat_map(|image| image.chain.iter().map(String::as_str))
        .collect();
    let mut counted: BTreeSet<&str> = BTreeSet::new();
    for image in &snapshot.images {
        let id = image.id.as_str();
        let name = image
            .repo_tags
            .first()
            .cloned()
            .unwrap_or_else(|| short_id(id));
        match untagged.get(id) {
            Some(names) => {
                let deleted = gone.contains(id);
                let mut bytes = 0u64;
                if deleted {
                    for ((chain, size), buildkit) in image
                        .chain
                        .iter()
                        .zip(&image.layer_sizes)
                        .zip(&image.buildkit_layers)
                    {
                        let stays =
                            remaining_layers.contains(chain.as_str()) || (*buildkit && cache_holds);
                        if !stays && counted.insert(chain.as_str()) {
                            bytes = bytes.saturating_add(size.unwrap_or(0));
                        }
                    }
                }
                plan.bytes = plan.bytes.saturating_add(bytes);
                plan.doomed.push(Doomed {
                    id: image.id.clone(),
                    name,
                    action: if deleted {
                        Action::Delete
                    } else {
                        Action::Untag
                    },
                    reason: if image.repo_tags.is_empty() && image.repo_digests.is_empty() {
                        Reason::Dangling
                    } else if deleted {
                        Reason::Unused
                    } else if held.contains(id) {
                        Reason::HeldByBuildCache
                    } else {
                        Reason::InUseMultiTag
                    },
                    bytes,
                    untagged: names.clone(),
                    refs: image.refs().cloned().collect(),
                    reported: None,
                });
            }
            None => plan.kept.push(Kept {
                id: image.id.clone(),
                name,
                reason: kept.get(id).cloned().unwrap_or(KeptReason::Tagged),
            }),
        }
    }
    plan
}

// ---------------------------------------------------------------------------- build cache

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
