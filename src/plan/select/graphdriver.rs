//! Image prune on the classic graphdriver store (prune-semantics §1): the candidate set, the
//! per-reference deletes with moby#36295, untag-only parents, the parent recursion, and the
//! layers freed when their last user goes.

use super::reference::is_single_reference;
use super::*;

pub(super) struct GImage<'a> {
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

pub(super) fn graphdriver_images(
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
            pinned: filters.pinned.contains_key(&info.id)
                || (filters.by_object && world.mounting_image(&info.id).is_some()),
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
        if filters.by_object
            && let Some(container) = world.mounting_image(&image.info.id)
        {
            kept.insert(i, KeptReason::InUse(container.name.clone()));
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
    // moby's `ImageDelete` by reference counts image mounts (28+) as use; its delete by ID,
    // and the quiet delete after the last reference goes, look at `ImageID` only.
    let used = |image: &GImage<'_>| {
        world.using_image(&image.info.id).is_some()
            || world.mounting_image(&image.info.id).is_some()
    };
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

    // §1.5: layers whose last user goes. An image mount holds its image's layers (its own
    // layer is made on them) even when the image record goes.
    let remaining: BTreeSet<&str> = images
        .iter()
        .filter(|image| !image.deleted || world.mounting_image(&image.info.id).is_some())
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
                if let Some(container) = world
                    .using_image(&image.info.id)
                    .or_else(|| world.mounting_image(&image.info.id))
                {
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
pub(super) fn delete_image(images: &mut [GImage<'_>], i: usize, world: &World<'_>) -> bool {
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
