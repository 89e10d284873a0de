//! Image prune on Podman: its Docker-compatible `/images/prune` is libimage's `RemoveImages`
//! with filters, run in rounds until a round removes nothing (podman `pkg/domain/infra/abi`
//! `ImageEngine.Prune`, common `libimage` `RemoveImages`, `removeRecursive`, `filterDangling`).
//!
//! Each round takes the images that have no container and match `dangling=true` (no name, no
//! children) or, with docker's `-a` (`dangling=false`), the images that do *not* match it: named
//! ones and untagged ones with children; untagged images without children stay. Each is deleted
//! whole (all its names; a parent with children loses its record, its layers stay), then its
//! parent if that is now dangling. The answer lists every image it deleted, by bare ID, and
//! `SpaceReclaimed` adds up each one's whole size.

use super::*;

pub(super) fn podman_images(
    snapshot: &HostSnapshot,
    world: &World<'_>,
    filters: &Filters,
    dangling_only: bool,
) -> KindPlan {
    let mut plan = KindPlan::new(PruneKind::Images);
    plan.info.push(
        "Podman reports each deleted image's whole size, layers it shares or that stay included: its reclaimed space overstates what the disk gains"
            .into(),
    );
    if filters.cutoff.is_some() || !filters.labels.is_empty() || !filters.not_labels.is_empty() {
        plan.inexact(
            "Podman's label and until filters (libimage's) are predicted with docker's rules",
        );
    }
    let mut sorted: Vec<&ImageInfo> = snapshot.images.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let index: BTreeMap<&str, usize> = sorted
        .iter()
        .enumerate()
        .map(|(i, image)| (image.id.as_str(), i))
        .collect();
    let parent: Vec<Option<usize>> = sorted
        .iter()
        .map(|image| image.parent.as_deref().and_then(|p| index.get(p).copied()))
        .collect();
    let mut alive = vec![true; sorted.len()];
    let mut reasons: BTreeMap<usize, Reason> = BTreeMap::new();
    let has_children =
        |alive: &[bool], i: usize| (0..sorted.len()).any(|j| alive[j] && parent[j] == Some(i));
    let dangling =
        |alive: &[bool], i: usize| sorted[i].repo_tags.is_empty() && !has_children(alive, i);
    let in_use = |i: usize| world.using_image(&sorted[i].id);

    // Why an image is not a candidate of a round, whatever the round's state.
    let mut kept: BTreeMap<usize, KeptReason> = BTreeMap::new();
    for (i, image) in sorted.iter().enumerate() {
        let reason = if let Some(reason) = filters.pinned.get(&image.id) {
            Some(reason.clone())
        } else if !Allow::allows(&filters.allow.images, &image.id) {
            Some(KeptReason::NotNeeded)
        } else if let Some(container) = in_use(i) {
            Some(KeptReason::InUse(container.name.clone()))
        } else if image.created.is_some_and(|c| !filters.old_enough(c)) {
            Some(KeptReason::NewerThanUntil)
        } else if let Some(labels) = &image.labels
            && !filters.labels_pass(labels)
        {
            Some(KeptReason::Label)
        } else {
            None
        };
        if let Some(reason) = reason {
            kept.insert(i, reason);
        }
    }

    loop {
        let round: Vec<usize> = (0..sorted.len())
            .filter(|&i| alive[i] && !kept.contains_key(&i))
            .filter(|&i| dangling(&alive, i) == dangling_only)
            .collect();
        if round.is_empty() {
            break;
        }
        for i in round {
            if !alive[i] {
                continue;
            }
            alive[i] = false;
            reasons.insert(
                i,
                if sorted[i].repo_tags.is_empty() && dangling_only {
                    Reason::Dangling
                } else {
                    Reason::Unused
                },
            );
            // The parent goes too once it is dangling (libimage checks no filter there; a
            // container on it would fail the whole call, so it is left).
            let mut at = parent[i];
            while let Some(p) = at {
                if !alive[p]
                    || !dangling(&alive, p)
                    || in_use(p).is_some()
                    || filters.pinned.contains_key(&sorted[p].id)
                {
                    break;
                }
                alive[p] = false;
                reasons.insert(p, Reason::ParentOfDeleted);
                at = parent[p];
            }
        }
    }

    for (i, image) in sorted.iter().enumerate() {
        let name = image
            .repo_tags
            .first()
            .cloned()
            .unwrap_or_else(|| short_id(&image.id));
        match reasons.remove(&i) {
            Some(reason) => {
                plan.bytes = plan.bytes.saturating_add(image.size);
                plan.doomed.push(Doomed {
                    id: image.id.clone(),
                    name,
                    action: Action::Delete,
                    reason,
                    bytes: image.size,
                    // Podman's answer names no references: the image goes with all of them.
                    untagged: Vec::new(),
                    refs: image.refs().cloned().collect(),
                    reported: None,
                });
            }
            None => {
                let reason = kept.remove(&i).unwrap_or(if image.repo_tags.is_empty() {
                    if has_children(&alive, i) {
                        KeptReason::Intermediate
                    } else {
                        KeptReason::DanglingUnderAll
                    }
                } else {
                    KeptReason::Tagged
                });
                plan.kept.push(Kept {
                    id: image.id.clone(),
                    name,
                    reason,
                });
            }
        }
    }
    plan
}
