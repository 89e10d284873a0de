//! The `max_usage` keep policy: stages of removals, smallest first, until the prediction
//! reaches the low mark.

use super::*;
use crate::plan::policy::UsageLimit;

/// Which objects a stage of a `max_usage` policy may remove (`None`: no restriction).
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

/// `max_usage`: nothing under the high mark; above it, the smallest stage of the order stopped
/// containers (oldest first), dangling images, build cache (least recently used first), then
/// least recently used images (with -a) whose prediction reaches the low mark.
pub(super) fn select_under(
    snapshot: &HostSnapshot,
    plan: &PrunePlan,
    limit: UsageLimit,
) -> ObjectPlan {
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
        "docker uses {}, over max_usage {}: after this ≈{} (low mark {}){}",
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
