//! The watermark keep policies, `max_usage` (docker's own usage) and `threshold` (the
//! filesystem holding DockerRootDir): hosts under every high mark are left alone; above one,
//! stages of removals, smallest first, until the prediction reaches the low mark.
//!
//! Both set: each is checked on its own; a host over either high mark loses objects until it
//! is at or under the low mark of each mark it went over (the larger of their needs).

use super::*;
use crate::human_size::human_size;
use crate::model::filesystem::FilesystemUsage;
use crate::plan::policy::{DiskThreshold, UsageLimit};

/// A measure of the host with a high and a low mark.
#[derive(Debug, Clone, Copy)]
pub(super) enum Watermark<'a> {
    /// `max_usage`: docker's own usage ([`docker_usage`]).
    DockerUsage { usage: u64, limit: UsageLimit },
    /// `threshold`: the filesystem holding DockerRootDir, as the host's df saw it.
    Filesystem {
        filesystem: &'a FilesystemUsage,
        threshold: DiskThreshold,
    },
    /// `threshold` on a snapshot without the filesystem: nothing can be decided.
    FilesystemUnknown {
        dir: &'a str,
        threshold: DiskThreshold,
    },
}

impl Watermark<'_> {
    /// The host's watermarks under `policy` (empty without `max_usage` and `threshold`).
    pub(super) fn of<'a>(snapshot: &'a HostSnapshot, policy: &KeepPolicy) -> Vec<Watermark<'a>> {
        let mut marks = Vec::new();
        if let Some(limit) = policy.max_usage {
            marks.push(Watermark::DockerUsage {
                usage: docker_usage(snapshot),
                limit,
            });
        }
        if let Some(threshold) = policy.threshold {
            marks.push(match &snapshot.filesystem {
                Some(filesystem) => Watermark::Filesystem {
                    filesystem,
                    threshold,
                },
                None => Watermark::FilesystemUnknown {
                    dir: &snapshot.docker_root_dir,
                    threshold,
                },
            });
        }
        marks
    }

    /// Above the high mark?
    fn over_high(&self) -> bool {
        match *self {
            Watermark::DockerUsage { usage, limit } => usage > limit.high,
            Watermark::Filesystem {
                filesystem,
                threshold,
            } => threshold
                .high
                .exceeded_by(filesystem.used, filesystem.usable()),
            Watermark::FilesystemUnknown { .. } => false,
        }
    }

    /// Bytes to free to reach the low mark.
    fn needed(&self) -> u64 {
        match *self {
            Watermark::DockerUsage { usage, limit } => usage.saturating_sub(limit.low),
            Watermark::Filesystem {
                filesystem,
                threshold,
            } => filesystem
                .used
                .saturating_sub(threshold.low.of(filesystem.usable())),
            Watermark::FilesystemUnknown { .. } => 0,
        }
    }

    /// The before/after note once `freed` bytes go (`None`: the host is left alone).
    fn note(&self, freed: Option<u64>) -> String {
        let over = self.over_high();
        let after = match freed {
            None => ": left alone".to_string(),
            Some(freed) => {
                let (after, low) = match *self {
                    Watermark::DockerUsage { usage, limit } => (
                        human_size(usage.saturating_sub(freed)),
                        human_size(limit.low),
                    ),
                    Watermark::Filesystem {
                        filesystem,
                        threshold,
                    } => (
                        format!(
                            "{}%",
                            filesystem.used_percent(filesystem.used.saturating_sub(freed))
                        ),
                        threshold.low.to_string(),
                    ),
                    Watermark::FilesystemUnknown { .. } => (String::new(), String::new()),
                };
                let unreachable = if over && freed < self.needed() {
                    "; the low mark cannot be reached with this plan"
                } else {
                    ""
                };
                if over {
                    format!(": after this ≈{after} (low mark {low}){unreachable}")
                } else {
                    format!(": after this ≈{after}")
                }
            }
        };
        let side = if over { "over" } else { "under" };
        match *self {
            Watermark::DockerUsage { usage, limit } => format!(
                "docker uses {}, {side} max_usage {}{after}",
                human_size(usage),
                human_size(limit.high)
            ),
            Watermark::Filesystem {
                filesystem,
                threshold,
            } => format!(
                "filesystem of {} (mounted on {}) is {}% used ({} of {}), {side} threshold {}{after}",
                filesystem.path,
                filesystem.mount_point,
                filesystem.used_percent(filesystem.used),
                human_size(filesystem.used),
                human_size(filesystem.size),
                threshold.high
            ),
            Watermark::FilesystemUnknown { dir, threshold } => format!(
                "the filesystem of {dir} was not measured, so threshold {} cannot be checked: nothing selected",
                threshold.high
            ),
        }
    }
}

/// Which objects a stage of a watermark policy may remove (`None`: no restriction).
#[derive(Debug, Clone, Default)]
pub(super) struct Allow {
    pub(super) containers: Option<BTreeSet<String>>,
    pub(super) images: Option<BTreeSet<String>>,
    pub(super) build_cache: Option<BTreeSet<String>>,
    /// Only dangling images, whatever the plan says.
    pub(super) dangling_only: bool,
}

impl Allow {
    pub(super) fn nothing() -> Allow {
        Allow {
            containers: Some(BTreeSet::new()),
            images: Some(BTreeSet::new()),
            build_cache: Some(BTreeSet::new()),
            dangling_only: false,
        }
    }

    pub(super) fn allows(set: &Option<BTreeSet<String>>, id: &str) -> bool {
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

/// The watermark policies: nothing while under every high mark (or when a mark could not be
/// measured); above one, the smallest stage of the order stopped containers (oldest first),
/// dangling images, build cache (least recently used first), then least recently used images
/// (with -a) whose prediction frees what the marks over their high mark need.
pub(super) fn select_under(
    snapshot: &HostSnapshot,
    plan: &PrunePlan,
    marks: &[Watermark<'_>],
) -> ObjectPlan {
    let unknown = marks
        .iter()
        .any(|m| matches!(m, Watermark::FilesystemUnknown { .. }));
    if unknown || !marks.iter().any(Watermark::over_high) {
        let mut left_alone = select_within(snapshot, plan, &Allow::nothing());
        for kind in &mut left_alone.kinds {
            kind.doomed.clear();
            kind.bytes = 0;
        }
        if let Some(first) = left_alone.kinds.first_mut() {
            first.info.extend(marks.iter().map(|m| m.note(None)));
        }
        return left_alone;
    }
    let needed = marks
        .iter()
        .filter(|m| m.over_high())
        .map(Watermark::needed)
        .max()
        .unwrap_or(0);
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
    let dangling: BTreeSet<String> = select_within(snapshot, plan, &allow)
        .kind(PruneKind::Images)
        .map(|k| k.doomed.iter().map(|d| d.id.clone()).collect())
        .unwrap_or_default();
    // Dangling images one at a time, least recently used first, so the plan stops near the
    // low mark instead of taking them all at once.
    let mut unnamed: Vec<&ImageInfo> = snapshot
        .images
        .iter()
        .filter(|i| dangling.contains(&i.id))
        .collect();
    unnamed.sort_by_key(|i| last_use(snapshot, i).at);
    let mut some_dangling = BTreeSet::new();
    for image in unnamed {
        some_dangling.insert(image.id.clone());
        allow.images = Some(some_dangling.clone());
        stages.push(allow.clone());
    }
    allow.images = None;
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
        unused.sort_by_key(|i| last_use(snapshot, i).at);
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
    let freed = chosen.bytes();
    if let Some(first) = chosen.kinds.first_mut() {
        first.info.extend(marks.iter().map(|m| m.note(Some(freed))));
    }
    chosen
}
