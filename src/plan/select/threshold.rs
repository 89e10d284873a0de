//! The watermark keep policies, `max_usage` (docker's own usage), `threshold` (bytes) and
//! `inode_threshold` (inodes) of the filesystems holding DockerRootDir and, with the
//! containerd image store, containerd's root: hosts under every high mark are left alone;
//! above one, stages of removals, smallest first, until the prediction reaches the low mark.
//!
//! `threshold` and `inode_threshold` each act on the fuller of the filesystems measured.
//! Several set: each is checked on its own; a host over any high mark loses objects until it
//! is at or under the low mark of each mark it went over (the larger of their needs).

use super::*;
use crate::human_size::human_size;
use crate::model::filesystem::{FilesystemUsage, InodeUsage, fuller};
use crate::plan::policy::{DiskThreshold, UsageLimit};

/// A measure of the host with a high and a low mark.
#[derive(Debug, Clone, Copy)]
pub(super) enum Watermark<'a> {
    /// `max_usage`: docker's own usage ([`docker_usage`]).
    DockerUsage { usage: u64, limit: UsageLimit },
    /// `threshold`: the fuller (in bytes) of the filesystems measured, as the host's df saw it.
    Filesystem {
        snapshot: &'a HostSnapshot,
        filesystem: &'a FilesystemUsage,
        threshold: DiskThreshold,
    },
    /// `inode_threshold`: the filesystem whose inodes are the fuller.
    Inodes {
        snapshot: &'a HostSnapshot,
        filesystem: &'a FilesystemUsage,
        inodes: InodeUsage,
        threshold: DiskThreshold,
    },
    /// `threshold` or `inode_threshold` (`key`) on a snapshot without the measurement:
    /// nothing can be decided.
    Unmeasured {
        dir: &'a str,
        key: &'static str,
        threshold: DiskThreshold,
    },
}

/// The fuller of the snapshot's filesystems by `share` (`(part, total)`), the first on a tie;
/// `None` when none has that measure.
fn fullest<T: Copy>(
    snapshot: &HostSnapshot,
    share: impl Fn(&FilesystemUsage) -> Option<(T, u64, u64)>,
) -> Option<(&FilesystemUsage, T)> {
    snapshot
        .filesystems()
        .filter_map(|fs| share(fs).map(|(value, part, total)| (fs, value, part, total)))
        .reduce(|best, next| {
            if fuller(next.2, next.3, best.2, best.3) {
                next
            } else {
                best
            }
        })
        .map(|(fs, value, _, _)| (fs, value))
}

/// The filesystem that decides each filesystem watermark of `policy` on `snapshot` (the
/// fuller of those measured), for reports: `(policy key, filesystem)`.
pub fn deciding_filesystems<'a>(
    snapshot: &'a HostSnapshot,
    policy: &KeepPolicy,
) -> Vec<(&'static str, &'a FilesystemUsage)> {
    Watermark::of(snapshot, policy)
        .into_iter()
        .filter_map(|mark| match mark {
            Watermark::Filesystem { filesystem, .. } => Some(("threshold", filesystem)),
            Watermark::Inodes { filesystem, .. } => Some(("inode_threshold", filesystem)),
            Watermark::DockerUsage { .. } | Watermark::Unmeasured { .. } => None,
        })
        .collect()
}

impl Watermark<'_> {
    /// The host's watermarks under `policy` (empty without `max_usage` and thresholds).
    pub(super) fn of<'a>(snapshot: &'a HostSnapshot, policy: &KeepPolicy) -> Vec<Watermark<'a>> {
        let mut marks = Vec::new();
        if let Some(limit) = policy.max_usage {
            marks.push(Watermark::DockerUsage {
                usage: docker_usage(snapshot),
                limit,
            });
        }
        let unmeasured = |key, threshold| Watermark::Unmeasured {
            dir: &snapshot.docker_root_dir,
            key,
            threshold,
        };
        if let Some(threshold) = policy.threshold {
            let bytes = |fs: &FilesystemUsage| Some(((), fs.used, fs.usable()));
            marks.push(match fullest(snapshot, bytes) {
                Some((filesystem, ())) => Watermark::Filesystem {
                    snapshot,
                    filesystem,
                    threshold,
                },
                None => unmeasured("threshold", threshold),
            });
        }
        if let Some(threshold) = policy.inode_threshold {
            let inodes = |fs: &FilesystemUsage| fs.inodes.map(|i| (i, i.used, i.usable()));
            marks.push(match fullest(snapshot, inodes) {
                Some((filesystem, inodes)) => Watermark::Inodes {
                    snapshot,
                    filesystem,
                    inodes,
                    threshold,
                },
                None => unmeasured("inode_threshold", threshold),
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
                ..
            } => threshold
                .high
                .exceeded_by(filesystem.used, filesystem.usable()),
            Watermark::Inodes {
                inodes, threshold, ..
            } => threshold.high.exceeded_by(inodes.used, inodes.usable()),
            Watermark::Unmeasured { .. } => false,
        }
    }

    /// Bytes to free to reach the low mark. For inodes, an estimate: the inodes to free times
    /// the filesystem's average bytes per used inode (the API does not say how many files an
    /// object holds).
    fn needed(&self) -> u64 {
        match *self {
            Watermark::DockerUsage { usage, limit } => usage.saturating_sub(limit.low),
            Watermark::Filesystem {
                filesystem,
                threshold,
                ..
            } => filesystem
                .used
                .saturating_sub(threshold.low.of(filesystem.usable())),
            Watermark::Inodes {
                filesystem,
                inodes,
                threshold,
                ..
            } => {
                let excess = inodes
                    .used
                    .saturating_sub(threshold.low.of(inodes.usable()));
                if inodes.used == 0 {
                    return 0;
                }
                let bytes = (u128::from(excess) * u128::from(filesystem.used))
                    .div_ceil(u128::from(inodes.used));
                u64::try_from(bytes).unwrap_or(u64::MAX)
            }
            Watermark::Unmeasured { .. } => 0,
        }
    }

    /// The other filesystems measured, with their use, after the deciding one's note.
    fn others(&self) -> String {
        let (snapshot, decided) = match *self {
            Watermark::Filesystem {
                snapshot,
                filesystem,
                ..
            }
            | Watermark::Inodes {
                snapshot,
                filesystem,
                ..
            } => (snapshot, filesystem),
            Watermark::DockerUsage { .. } | Watermark::Unmeasured { .. } => return String::new(),
        };
        let inodes = matches!(self, Watermark::Inodes { .. });
        let others: Vec<String> = snapshot
            .filesystems()
            .filter(|fs| !std::ptr::eq(*fs, decided))
            .map(|fs| {
                let percent = match (inodes, fs.inodes) {
                    (false, _) => format!("{}% used", fs.used_percent(fs.used)),
                    (true, Some(i)) => format!("{}% of inodes used", i.used_percent(i.used)),
                    (true, None) => "inodes not measured".to_string(),
                };
                format!("{} (mounted on {}) {percent}", fs.paths(), fs.mount_point)
            })
            .collect();
        if others.is_empty() {
            String::new()
        } else {
            format!("; also measured: {}", others.join(", "))
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
                        ..
                    } => (
                        format!(
                            "{}%",
                            filesystem.used_percent(filesystem.used.saturating_sub(freed))
                        ),
                        threshold.low.to_string(),
                    ),
                    Watermark::Inodes {
                        filesystem,
                        inodes,
                        threshold,
                        ..
                    } => {
                        // The same average bytes per inode as `needed`.
                        let freed_inodes = if filesystem.used == 0 {
                            0
                        } else {
                            (u128::from(freed) * u128::from(inodes.used)
                                / u128::from(filesystem.used)) as u64
                        };
                        (
                            format!(
                                "{}%",
                                inodes.used_percent(inodes.used.saturating_sub(freed_inodes))
                            ),
                            threshold.low.to_string(),
                        )
                    }
                    Watermark::Unmeasured { .. } => (String::new(), String::new()),
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
        let others = self.others();
        match *self {
            Watermark::DockerUsage { usage, limit } => format!(
                "docker uses {}, {side} max_usage {}{after}",
                human_size(usage),
                human_size(limit.high)
            ),
            Watermark::Filesystem {
                filesystem,
                threshold,
                ..
            } => format!(
                "filesystem of {} (mounted on {}) is {}% used ({} of {}), {side} threshold {}{after}{others}",
                filesystem.paths(),
                filesystem.mount_point,
                filesystem.used_percent(filesystem.used),
                human_size(filesystem.used),
                human_size(filesystem.size),
                threshold.high
            ),
            Watermark::Inodes {
                filesystem,
                inodes,
                threshold,
                ..
            } => format!(
                "inodes of the filesystem of {} (mounted on {}) are {}% used ({} of {}), {side} inode_threshold {}{after}{others}",
                filesystem.paths(),
                filesystem.mount_point,
                inodes.used_percent(inodes.used),
                inodes.used,
                inodes.usable(),
                threshold.high
            ),
            Watermark::Unmeasured {
                dir,
                key,
                threshold,
            } => format!(
                "the filesystem of {dir} was not measured, so {key} {} cannot be checked: nothing selected",
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
        .any(|m| matches!(m, Watermark::Unmeasured { .. }));
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
