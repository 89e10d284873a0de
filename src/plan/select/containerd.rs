//! Image prune on the containerd image store (prune-semantics §2): name records, dangling
//! records, protection by the names containers were created from, content that goes with a
//! target's last record.

use super::*;

pub(super) struct Record<'a> {
    /// `lab/app:1`, or `moby-dangling@sha256:...`.
    name: String,
    full: String,
    dangling: bool,
    image: &'a ImageInfo,
}

pub(super) fn containerd_images(
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
        } else if filters.by_object
            && let Some(container) = world.mounting_image(&record.image.id)
        {
            Some(KeptReason::InUse(container.name.clone()))
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
                if let Some(container) = world.mounting_image(id) {
                    // Checked live on 28.5: the prune takes it; the container keeps (and can
                    // still start from) its own snapshot of the mounted image.
                    plan.info.push(format!(
                        "{name} is mounted by container {} (type=image): the containerd store's image prune does not check image mounts",
                        container.name
                    ));
                }
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
