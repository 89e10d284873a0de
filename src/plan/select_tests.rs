//! Scenario tests, one per rule of `prune-semantics.md`: a small host described in a few lines,
//! a plan, and what the daemon would do.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::*;
use crate::model::engine_kind::EngineKind;
use crate::plan::AllScope;
use crate::snapshot::{
    ANONYMOUS_VOLUME_LABEL, CacheRecord, ContainerInfo, ImageInfo, NetworkInfo, VolumeInfo,
    chain_ids,
};

const NOW: &str = "2026-06-01T12:00:00Z";

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn host(api: (u16, u16), store: ImageStore) -> HostSnapshot {
    HostSnapshot {
        api_version: ApiVersion::new(api.0, api.1),
        engine_version: if api.1 <= 41 { (20, 10) } else { (26, 1) },
        engine_id: "ENGINE".into(),
        engine: EngineKind::Docker,
        image_store: store,
        daemon_now: ts(NOW),
        daemon_offset_seconds: 0,
        docker_root_dir: "/var/lib/docker".into(),
        containers: Vec::new(),
        images: Vec::new(),
        volumes: Vec::new(),
        networks: Vec::new(),
        build_cache: Vec::new(),
        last_seen: BTreeMap::new(),
        first_seen: BTreeMap::new(),
        filesystem: None,
        containerd_filesystems: Vec::new(),
        containerd_address: None,
        arrivals: Default::default(),
    }
}

fn graph() -> HostSnapshot {
    host((1, 41), ImageStore::Graphdriver)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An image whose layers are named diff IDs with sizes; `refs` mixes tags and `repo@sha256:`.
fn image(id: &str, refs: &[&str], parent: Option<&str>, layers: &[(&str, u64)]) -> ImageInfo {
    let diffs: Vec<String> = layers.iter().map(|(d, _)| format!("sha256:{d}")).collect();
    ImageInfo {
        id: format!("sha256:{id}"),
        parent: parent.map(|p| format!("sha256:{p}")),
        repo_tags: refs
            .iter()
            .filter(|r| !r.contains('@'))
            .map(|r| r.to_string())
            .collect(),
        repo_digests: refs
            .iter()
            .filter(|r| r.contains('@'))
            .map(|r| r.to_string())
            .collect(),
        created: Some(ts("2026-01-01T00:00:00Z")),
        last_tag_time: None,
        labels: Some(BTreeMap::new()),
        chain: chain_ids(&diffs),
        layer_sizes: layers.iter().map(|(_, s)| Some(*s)).collect(),
        buildkit_layers: vec![false; layers.len()],
        size: layers.iter().map(|(_, s)| s).sum(),
    }
}

fn container(name: &str, image_id: &str, running: bool) -> ContainerInfo {
    ContainerInfo {
        id: format!("c-{name}"),
        name: name.into(),
        image_id: format!("sha256:{image_id}"),
        config_image: format!("sha256:{image_id}"),
        created: ts("2026-01-01T00:00:00Z"),
        running,
        state: if running { "running" } else { "exited" }.into(),
        labels: BTreeMap::new(),
        size_rw: Some(100),
        volumes: Vec::new(),
        image_mounts: Vec::new(),
        started: None,
        finished: None,
    }
}

fn plan(kinds: &[PruneKind], all: bool, filters: &[&str]) -> PrunePlan {
    PrunePlan::new(
        kinds.iter().copied().collect(),
        AllScope {
            images: all,
            volumes: all,
            build_cache: all,
        },
        FilterSet::parse(filters).unwrap(),
    )
    .unwrap()
}

fn images_plan(snapshot: &HostSnapshot, all: bool, filters: &[&str]) -> KindPlan {
    select(snapshot, &plan(&[PruneKind::Images], all, filters))
        .kind(PruneKind::Images)
        .unwrap()
        .clone()
}

fn deleted(plan: &KindPlan) -> Vec<&str> {
    plan.deleted().into_iter().collect()
}

fn untagged(plan: &KindPlan) -> Vec<&str> {
    plan.untagged().into_iter().collect()
}

// ------------------------------------------------------------------------ graphdriver images

#[test]
fn dangling_only_deletes_untagged_heads_and_digest_only_images_not_tagged_or_intermediate() {
    let mut h = graph();
    h.images = vec![
        image("base", &["lab/base:1"], None, &[("l0", 10)]),
        image("mid", &[], Some("base"), &[("l0", 10), ("l1", 20)]),
        image(
            "app",
            &["lab/app:1"],
            Some("mid"),
            &[("l0", 10), ("l1", 20), ("l2", 30)],
        ),
        image("loose", &[], None, &[("x0", 7)]),
        image("old", &["lab/old@sha256:d1"], None, &[("y0", 5)]),
    ];
    let p = images_plan(&h, false, &[]);
    assert_eq!(deleted(&p), ["sha256:loose", "sha256:old"]);
    assert_eq!(untagged(&p), ["lab/old@sha256:d1"]);
    assert_eq!(p.bytes, 12);
    assert_eq!(p.freed_layers.len(), 2);
}

#[test]
fn all_mode_untags_every_tag_but_the_last_single_reference_of_an_image_in_use() {
    // moby#36295: base:1, base:2, other:1 on one image used by a created container.
    let mut h = graph();
    h.images = vec![image(
        "img",
        &["base:1", "base:2", "other:1"],
        None,
        &[("l0", 10)],
    )];
    h.containers = vec![container("c", "img", false)];
    let p = images_plan(&h, true, &[]);
    assert_eq!(untagged(&p), ["base:1", "base:2"]);
    assert!(deleted(&p).is_empty());
    assert_eq!(p.doomed[0].action, Action::Untag);
    assert_eq!(p.doomed[0].reason, Reason::InUseMultiTag);
    assert_eq!(p.bytes, 0);
}

#[test]
fn an_image_in_use_with_one_tag_and_its_digest_is_untouched() {
    let mut h = graph();
    h.images = vec![image(
        "img",
        &["app:1", "app@sha256:d"],
        None,
        &[("l0", 10)],
    )];
    h.containers = vec![container("c", "img", true)];
    let p = images_plan(&h, true, &[]);
    assert!(p.doomed.is_empty());
    assert_eq!(p.kept[0].reason, KeptReason::InUse("c".into()));
}

#[test]
fn removing_the_last_tag_of_a_repository_removes_its_digest_references_too() {
    let mut h = graph();
    h.images = vec![image(
        "img",
        &["app:1", "app@sha256:d"],
        None,
        &[("l0", 10)],
    )];
    let p = images_plan(&h, true, &[]);
    assert_eq!(untagged(&p), ["app:1", "app@sha256:d"]);
    assert_eq!(deleted(&p), ["sha256:img"]);
}

#[test]
fn tagged_parent_with_a_surviving_child_is_untagged_only() {
    let mut h = graph();
    h.images = vec![
        image("base", &["ubuntu:22.04"], None, &[("l0", 10)]),
        image("child", &["app:1"], Some("base"), &[("l0", 10), ("l1", 5)]),
    ];
    h.containers = vec![container("c", "child", false)];
    let p = images_plan(&h, true, &[]);
    assert_eq!(untagged(&p), ["ubuntu:22.04"]);
    assert!(deleted(&p).is_empty());
    assert_eq!(p.doomed[0].reason, Reason::ParentWithChildren);
    // Without the container, the child goes and takes its parent along.
    h.containers.clear();
    let p = images_plan(&h, true, &[]);
    assert_eq!(deleted(&p), ["sha256:base", "sha256:child"]);
    assert_eq!(p.bytes, 15);
}

#[test]
fn parent_recursion_ignores_until_and_label() {
    let mut h = graph();
    let mut head = image("head", &[], Some("mid"), &[("l0", 10), ("l1", 20)]);
    head.labels = Some(labels(&[("x", "y")]));
    let mut mid = image("mid", &[], None, &[("l0", 10)]);
    mid.created = Some(ts("2026-05-31T12:00:00Z"));
    h.images = vec![mid, head];
    let p = images_plan(&h, false, &["label=x=y", "until=2026-04-01"]);
    assert_eq!(deleted(&p), ["sha256:head", "sha256:mid"]);
    let mid = p.doomed.iter().find(|d| d.id == "sha256:mid").unwrap();
    assert_eq!(mid.reason, Reason::ParentOfDeleted);
    assert_eq!(p.bytes, 30);
}

#[test]
fn shared_layers_are_counted_once_and_only_when_their_last_user_goes() {
    let mut h = graph();
    h.images = vec![
        image("a", &[], None, &[("shared", 100), ("a1", 1)]),
        image("b", &[], None, &[("shared", 100), ("b1", 2)]),
        image("c", &["keep:1"], None, &[("shared", 100), ("c1", 3)]),
    ];
    let p = images_plan(&h, false, &[]);
    assert_eq!(p.bytes, 3, "the shared base stays with keep:1");
    h.images.pop();
    let p = images_plan(&h, false, &[]);
    assert_eq!(p.bytes, 103);
}

#[test]
fn until_prunes_at_the_cutoff_and_keeps_what_is_newer() {
    let mut h = graph();
    let mut at = image("at", &[], None, &[("a", 1)]);
    at.created = Some(ts("2026-06-01T11:00:00Z"));
    let mut after = image("after", &[], None, &[("b", 1)]);
    after.created = Some(ts("2026-06-01T11:00:00.000000001Z"));
    h.images = vec![at, after];
    let p = images_plan(&h, false, &["until=1h"]);
    assert_eq!(deleted(&p), ["sha256:at"]);
    assert_eq!(p.kept[0].reason, KeptReason::NewerThanUntil);
}

#[test]
fn duration_cutoffs_are_whole_seconds_up_to_docker_28() {
    let mut h = graph();
    h.daemon_now = ts("2026-06-01T12:00:00.7Z");
    let until = FilterSet::parse(&["until=1h"]).unwrap();
    let kind = *until.until().unwrap().kind();
    assert_eq!(cutoff(&h, &kind), ts("2026-06-01T11:00:00Z"));
    h.api_version = ApiVersion::new(1, 52);
    assert_eq!(cutoff(&h, &kind), ts("2026-06-01T11:00:00.7Z"));
}

#[test]
fn zone_less_until_dates_are_read_in_the_daemons_zone() {
    let mut h = graph();
    h.daemon_offset_seconds = 2 * 3600;
    let until = FilterSet::parse(&["until=2026-05-01T10:00"]).unwrap();
    let kind = *until.until().unwrap().kind();
    assert_eq!(cutoff(&h, &kind), ts("2026-05-01T08:00:00Z"));
    let zoned = FilterSet::parse(&["until=2026-05-01T10:00:00Z"]).unwrap();
    assert_eq!(
        cutoff(&h, zoned.until().unwrap().kind()),
        ts("2026-05-01T10:00:00Z")
    );
    let unix = FilterSet::parse(&["until=1700000000.5"]).unwrap();
    assert_eq!(
        cutoff(&h, unix.until().unwrap().kind()),
        ts("2023-11-14T22:13:20.5Z")
    );
}

#[test]
fn images_without_created_are_pruned_by_until_on_20_10_and_kept_from_25() {
    let mut h = graph();
    let mut image = image("x", &[], None, &[("a", 1)]);
    image.created = None;
    h.images = vec![image];
    assert_eq!(
        deleted(&images_plan(&h, false, &["until=1h"])),
        ["sha256:x"]
    );
    h.api_version = ApiVersion::new(1, 44);
    let p = images_plan(&h, false, &["until=1h"]);
    assert!(p.doomed.is_empty());
    assert_eq!(p.kept[0].reason, KeptReason::NoCreatedTime);
}

#[test]
fn label_not_excludes_only_objects_matching_all_its_values() {
    let mut h = graph();
    let mut with = |id: &str, pairs: &[(&str, &str)]| {
        let mut i = image(id, &[], None, &[(id, 1)]);
        i.labels = Some(labels(pairs));
        h.images.push(i);
    };
    with("a", &[("a", "")]);
    with("b", &[("b", "")]);
    with("ab", &[("a", ""), ("b", "")]);
    with("none", &[]);
    let p = images_plan(&h, false, &["label!=a", "label!=b"]);
    assert_eq!(deleted(&p), ["sha256:a", "sha256:b", "sha256:none"]);
    let p = images_plan(&h, false, &["label=a"]);
    assert_eq!(deleted(&p), ["sha256:a", "sha256:ab"]);
}

#[test]
fn layers_written_by_buildkit_stay_while_the_build_cache_holds_them() {
    let mut h = graph();
    let mut bk = image("bk", &["lab/bk:1"], None, &[("base", 10), ("run", 20)]);
    bk.buildkit_layers = vec![false, true];
    h.images = vec![bk];
    let p = images_plan(&h, true, &[]);
    assert_eq!(p.bytes, 30);
    h.build_cache.push(cache("r1", &[], false, 5));
    let p = images_plan(&h, true, &[]);
    assert_eq!(deleted(&p), ["sha256:bk"]);
    assert_eq!(p.bytes, 10);
}

#[test]
fn containerd_base_of_a_buildkit_build_keeps_its_content_while_the_cache_holds_it() {
    let mut h = containerd();
    let base = image("base", &["lab/busybox:latest"], None, &[("b", 10)]);
    let mut bk = image("bk", &["lab/bk:1"], None, &[("b", 10), ("run", 20)]);
    bk.buildkit_layers = vec![false, true];
    h.images = vec![base, bk];
    h.build_cache.push(cache("r1", &[], false, 5));
    let p = images_plan(&h, true, &[]);
    assert_eq!(untagged(&p), ["lab/bk:1", "lab/busybox:latest"]);
    assert_eq!(deleted(&p), ["sha256:bk"]);
    let base = p.doomed.iter().find(|d| d.id == "sha256:base").unwrap();
    assert_eq!(base.reason, Reason::HeldByBuildCache);
}

// ------------------------------------------------------------------------------ Podman images

fn podman() -> HostSnapshot {
    let mut h = host((1, 44), ImageStore::Graphdriver);
    h.engine = EngineKind::Podman;
    h.engine_version = (5, 8);
    h
}

/// A `podman build` chain: busybox, an untagged step, a tagged app on it; an unused tagged
/// image; an in-use image on its own untagged step; a dangling rebuild.
fn podman_chain() -> HostSnapshot {
    let mut h = podman();
    h.images = vec![
        image(
            "base",
            &["localhost/lab/busybox:latest"],
            None,
            &[("b", 10)],
        ),
        image("step", &[], Some("base"), &[("b", 10), ("s", 20)]),
        image(
            "app",
            &["localhost/lab/app:1", "localhost/lab/app:latest"],
            Some("step"),
            &[("b", 10), ("s", 20), ("a", 30)],
        ),
        image("ustep", &[], Some("base"), &[("b", 10), ("u", 40)]),
        image(
            "used",
            &["localhost/lab/used:1"],
            Some("ustep"),
            &[("b", 10), ("u", 40), ("x", 50)],
        ),
        image("old", &[], Some("base"), &[("b", 10), ("o", 60)]),
    ];
    h.containers = vec![container("c", "used", false)];
    h
}

#[test]
fn podman_keeps_its_default_network() {
    let mut h = podman();
    let net = |name: &str| NetworkInfo {
        id: format!("id-{name}"),
        name: name.into(),
        created: ts("2026-01-01T00:00:00Z"),
        labels: BTreeMap::new(),
        scope: "local".into(),
        config_only: false,
        endpoints: 0,
    };
    h.networks = vec![net("podman"), net("lab-net-a")];
    let p = select(&h, &plan(&[PruneKind::Networks], false, &[]));
    let p = p.kind(PruneKind::Networks).unwrap();
    assert_eq!(deleted(p), ["lab-net-a"]);
    assert_eq!(p.kept[0].reason, KeptReason::Predefined);
}

#[test]
fn podman_prune_takes_dangling_images_and_reports_each_whole_size() {
    let p = images_plan(&podman_chain(), false, &[]);
    assert_eq!(deleted(&p), ["sha256:old"]);
    assert!(
        untagged(&p).is_empty(),
        "Podman's answer names no references"
    );
    // The whole image, its base layer included.
    assert_eq!(p.bytes, 70);
    assert!(p.exact);
}

#[test]
fn podman_all_takes_named_and_parent_images_without_containers_but_not_dangling_ones() {
    let p = images_plan(&podman_chain(), true, &[]);
    // Every image with a name or children and no container: busybox (whose layer stays under
    // the others), app, its step, the in-use image's step (a record only); the dangling
    // rebuild stays.
    assert_eq!(
        deleted(&p),
        ["sha256:app", "sha256:base", "sha256:step", "sha256:ustep"]
    );
    // Each whole size: base 10, step 30, app 60, ustep 50.
    assert_eq!(p.bytes, 150);
    let kept: BTreeMap<&str, &KeptReason> =
        p.kept.iter().map(|k| (k.id.as_str(), &k.reason)).collect();
    assert_eq!(kept["sha256:old"], &KeptReason::DanglingUnderAll);
    assert_eq!(kept["sha256:used"], &KeptReason::InUse("c".into()));
}

// ------------------------------------------------------------------------ containerd images

fn containerd() -> HostSnapshot {
    host((1, 45), ImageStore::Containerd)
}

#[test]
fn containerd_digest_references_are_not_dangling() {
    let mut h = containerd();
    h.images = vec![
        image("pinned", &["lab/old@sha256:d1"], None, &[("a", 1)]),
        image("loose", &[], None, &[("b", 1)]),
    ];
    let p = images_plan(&h, false, &[]);
    assert_eq!(deleted(&p), ["sha256:loose"]);
    assert_eq!(untagged(&p), ["sha256:loose"]);
}

#[test]
fn containerd_protects_only_the_name_a_container_was_created_from() {
    let mut h = containerd();
    h.images = vec![image(
        "img",
        &["lab/app:1", "lab/app:latest"],
        None,
        &[("a", 1)],
    )];
    let mut c = container("c", "img", false);
    c.config_image = "lab/app:1".into();
    h.containers = vec![c];
    let p = images_plan(&h, true, &[]);
    assert_eq!(untagged(&p), ["lab/app:latest"]);
    assert_eq!(p.doomed[0].action, Action::Untag);
    // A container created by bare name protects `:latest`.
    h.containers[0].config_image = "lab/app".into();
    assert_eq!(untagged(&images_plan(&h, true, &[])), ["lab/app:1"]);
}

#[test]
fn containerd_27_3_keeps_the_last_name_of_an_image_used_by_id_with_or_without_a_policy() {
    let mut h = containerd();
    h.engine_version = (28, 5);
    h.images = vec![image(
        "1a9e",
        &["other/multi:1", "lab/multi:b", "lab/multi:a"],
        None,
        &[("a", 1)],
    )];
    // Created by ID (`docker create sha256:img`): no name of it is protected by name.
    h.containers = vec![container("c", "1a9e", false)];
    let p = images_plan(&h, true, &[]);
    // Names sorted fully normalised: docker.io/lab/multi:a, :b, docker.io/other/multi:1.
    assert_eq!(untagged(&p), ["lab/multi:a", "lab/multi:b"]);
    assert_eq!(p.doomed[0].action, Action::Untag);
    assert!(deleted(&p).is_empty());
    let with = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                protect: vec!["nothing-matches/*".into()],
                ..policy()
            },
        ),
    );
    assert_eq!(with.kind(PruneKind::Images).unwrap().doomed, p.doomed);
    // Before 27.3 every name went and a dangling record kept the content.
    h.engine_version = (26, 1);
    let p = images_plan(&h, true, &[]);
    assert_eq!(
        untagged(&p),
        ["lab/multi:a", "lab/multi:b", "other/multi:1"]
    );
    assert_eq!(p.doomed[0].action, Action::Untag);
}

fn mounting(name: &str, image_id: &str, sources: &[&str]) -> ContainerInfo {
    let mut c = container(name, image_id, false);
    c.image_mounts = sources.iter().map(|s| s.to_string()).collect();
    c
}

#[test]
fn graphdriver_image_mounts_are_use_for_references_not_for_untagged_images() {
    let mut h = host((1, 51), ImageStore::Graphdriver);
    h.engine_version = (28, 5);
    h.images = vec![
        image("base", &["lab/bb:1"], None, &[("b", 10)]),
        image("mnt", &["lab/mnt:1"], None, &[("m", 20)]),
        image(
            "multi",
            &["lab/multi:1", "other/multi:1"],
            None,
            &[("u", 30)],
        ),
        image("100e", &[], None, &[("l", 40)]),
        image("other", &["lab/other:1"], None, &[("o", 50)]),
    ];
    h.containers = vec![
        mounting("c-mnt", "base", &["lab/mnt:1"]),
        // Sources as typed: a bare name (`:latest` is not it), a short ID.
        mounting("c-more", "base", &["docker.io/lab/multi:1", "100e"]),
    ];
    h.containers[1].image_mounts[1] = "sha256:100".into();
    let p = images_plan(&h, true, &[]);
    // The mounted tagged image stays; the multi-tagged one keeps its last single reference
    // set (as moby#36295); the untagged one loses its record, its layer stays (0 bytes); an
    // unused image goes.
    assert_eq!(deleted(&p), ["sha256:100e", "sha256:other"]);
    assert_eq!(untagged(&p), ["lab/multi:1", "lab/other:1"]);
    assert_eq!(p.bytes, 50);
    assert_eq!(p.freed_layers, ["sha256:o"]);
    let mnt = p.kept.iter().find(|k| k.id == "sha256:mnt").unwrap();
    assert_eq!(mnt.reason, KeptReason::InUse("c-mnt".into()));
    let multi = p.doomed.iter().find(|d| d.id == "sha256:multi").unwrap();
    assert_eq!(
        (multi.action, &multi.reason),
        (Action::Untag, &Reason::InUseMultiTag)
    );
    // A keep policy (fleetprune deletes by ID) never deletes or untags a mounted image.
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                protect: vec!["nothing-matches/*".into()],
                ..policy()
            },
        ),
    );
    let p = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(p), ["sha256:other"]);
    assert_eq!(untagged(p), ["lab/other:1"]);
    // A container that goes first (container prune) no longer holds its mounted image.
    let mut h2 = h.clone();
    h2.containers.truncate(1);
    let p = select(
        &h2,
        &plan(&[PruneKind::Containers, PruneKind::Images], true, &[]),
    );
    assert!(
        p.kind(PruneKind::Images)
            .unwrap()
            .deleted()
            .contains("sha256:mnt")
    );
}

#[test]
fn containerd_prune_takes_mounted_images_with_a_note_a_policy_keeps_them() {
    let mut h = containerd();
    h.engine_version = (28, 5);
    h.images = vec![
        image("base", &["lab/bb:1"], None, &[("b", 10)]),
        image("mnt", &["lab/mnt:1"], None, &[("m", 20)]),
    ];
    let mut c = mounting("c-mnt", "base", &["lab/mnt:1"]);
    c.config_image = "lab/bb:1".into();
    h.containers = vec![c];
    let p = images_plan(&h, true, &[]);
    assert_eq!(deleted(&p), ["sha256:mnt"]);
    assert!(
        p.info[0].contains("mounted by container c-mnt (type=image)"),
        "{:?}",
        p.info
    );
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                protect: vec!["nothing-matches/*".into()],
                ..policy()
            },
        ),
    );
    let p = p.kind(PruneKind::Images).unwrap();
    assert!(p.doomed.is_empty(), "{:?}", p.doomed);
    let mnt = p.kept.iter().find(|k| k.id == "sha256:mnt").unwrap();
    assert_eq!(mnt.reason, KeptReason::InUse("c-mnt".into()));
}

#[test]
fn containerd_dangling_record_of_a_containers_image_is_protected() {
    let mut h = containerd();
    h.images = vec![image("old", &[], None, &[("a", 1)])];
    let mut c = container("c", "old", false);
    c.config_image = "lab/app:1".into();
    h.containers = vec![c];
    assert!(images_plan(&h, false, &[]).doomed.is_empty());
}

#[test]
fn containerd_label_not_excludes_images_matching_any_value_and_missing_keys_fail() {
    let mut h = containerd();
    let mut with = |id: &str, pairs: &[(&str, &str)]| {
        let mut i = image(id, &[], None, &[(id, 1)]);
        i.labels = Some(labels(pairs));
        h.images.push(i);
    };
    with("a", &[("a", "1")]);
    with("other", &[("a", "2")]);
    with("none", &[]);
    // label!=a: key must be absent.
    assert_eq!(
        deleted(&images_plan(&h, false, &["label!=a"])),
        ["sha256:none"]
    );
    // label!=a=1: key present with another value; an image without `a` is not pruned.
    assert_eq!(
        deleted(&images_plan(&h, false, &["label!=a=1"])),
        ["sha256:other"]
    );
}

// ------------------------------------------------------------------- containers, volumes, networks

fn volume(name: &str, anonymous: bool, size: u64) -> VolumeInfo {
    VolumeInfo {
        name: name.into(),
        driver: "local".into(),
        labels: if anonymous {
            labels(&[(ANONYMOUS_VOLUME_LABEL, "")])
        } else {
            BTreeMap::new()
        },
        has_options: false,
        size: Some(size),
        anonymous,
    }
}

#[test]
fn containers_prune_stopped_ones_and_frees_their_images_and_volumes() {
    let mut h = host((1, 45), ImageStore::Graphdriver);
    h.images = vec![
        image("run", &["run:1"], None, &[("r", 10)]),
        image("stop", &["stop:1"], None, &[("s", 20)]),
    ];
    let mut stopped = container("stopped", "stop", false);
    stopped.volumes = vec!["data".into()];
    let mut paused = container("paused", "run", true);
    paused.state = "paused".into();
    h.containers = vec![paused, stopped];
    h.volumes = vec![volume("data", true, 300), volume("named", false, 5)];
    let p = select(
        &h,
        &plan(
            &[PruneKind::Containers, PruneKind::Volumes, PruneKind::Images],
            false,
            &[],
        ),
    );
    let containers = p.kind(PruneKind::Containers).unwrap();
    assert_eq!(deleted(containers), ["c-stopped"]);
    assert_eq!(containers.bytes, 100);
    let volumes = p.kind(PruneKind::Volumes).unwrap();
    assert_eq!(deleted(volumes), ["data"], "API 1.45 keeps named volumes");
    // Images are dangling-only here: nothing, but with -a the stopped container's image goes.
    let all = select(
        &h,
        &plan(&[PruneKind::Containers, PruneKind::Images], true, &[]),
    );
    assert_eq!(
        deleted(all.kind(PruneKind::Images).unwrap()),
        ["sha256:stop"]
    );
}

#[test]
fn volume_scope_follows_the_api_version() {
    let mut h = graph();
    let mut opts = volume("nfs", false, 1);
    opts.has_options = true;
    h.volumes = vec![volume("anon", true, 1), volume("named", false, 2), opts];
    let only = |h: &HostSnapshot, all| {
        select(h, &plan(&[PruneKind::Volumes], all, &[]))
            .kind(PruneKind::Volumes)
            .unwrap()
            .clone()
    };
    assert_eq!(deleted(&only(&h, false)), ["anon", "named"], "API < 1.42");
    h.api_version = ApiVersion::new(1, 45);
    assert_eq!(deleted(&only(&h, false)), ["anon"]);
    assert_eq!(deleted(&only(&h, true)), ["anon", "named"]);
}

#[test]
fn build_cache_with_size_controls_is_the_daemons_decision_not_a_list() {
    let mut h = host((1, 51), ImageStore::Graphdriver);
    h.build_cache = vec![CacheRecord {
        id: "r1".into(),
        parents: Vec::new(),
        kind: "regular".into(),
        description: "RUN make".into(),
        in_use: false,
        shared: false,
        size: 4_000_000,
        last_used: Some(ts("2026-05-01T00:00:00Z")),
    }];
    let space = crate::plan::BuildCacheSpace {
        max_used_space: Some(1_000_000),
        ..Default::default()
    };
    let p = plan(&[PruneKind::BuildCache], false, &[])
        .with_build_cache_space(space)
        .unwrap();
    let cache = select(&h, &p).kind(PruneKind::BuildCache).unwrap().clone();
    assert!(cache.doomed.is_empty());
    assert!(!cache.exact);
    assert_eq!(
        cache.notes,
        [
            "the daemon's decision (max-used-space=1MB): it removes records only down to those limits; at most 1 record(s), 4MB could go"
        ]
    );
}

#[test]
fn podman_keeps_named_volumes_without_all_whatever_its_api_version() {
    // Podman marks anonymous volumes with its own flag, not Docker's label.
    let podman_anonymous = |name: &str, size| VolumeInfo {
        labels: labels(&[("tier", "ci")]),
        ..volume(name, false, size)
    };
    let mut h = graph();
    h.engine = EngineKind::Podman;
    let mut anon = podman_anonymous("0f3a", 10);
    anon.anonymous = true;
    let mut held = podman_anonymous("held", 20);
    held.anonymous = true;
    let mut user = container("stopped", "img", false);
    user.volumes = vec!["held".into()];
    h.containers = vec![user];
    h.volumes = vec![anon, held, volume("named", false, 30)];
    for api in [(1, 41), (1, 44)] {
        h.api_version = ApiVersion::new(api.0, api.1);
        let only = |filters: &[&str], all| {
            select(&h, &plan(&[PruneKind::Volumes], all, filters))
                .kind(PruneKind::Volumes)
                .unwrap()
                .clone()
        };
        let without_all = only(&[], false);
        assert_eq!(deleted(&without_all), ["0f3a"], "API {api:?}");
        assert_eq!(without_all.bytes, 10);
        assert_eq!(
            deleted(&only(&["label!=tier=ci"], false)),
            Vec::<&str>::new()
        );
        assert_eq!(deleted(&only(&[], true)), ["0f3a", "named"]);
    }
}

#[test]
fn networks_of_stopped_containers_are_pruned_and_predefined_ones_kept() {
    let mut h = graph();
    let net = |name: &str, endpoints| NetworkInfo {
        id: format!("id-{name}"),
        name: name.into(),
        created: ts("2026-01-01T00:00:00Z"),
        labels: BTreeMap::new(),
        scope: "local".into(),
        config_only: false,
        endpoints,
    };
    h.networks = vec![net("bridge", 0), net("busy", 1), net("idle", 0)];
    let p = select(&h, &plan(&[PruneKind::Networks], false, &[]));
    let networks = p.kind(PruneKind::Networks).unwrap();
    assert_eq!(deleted(networks), ["idle"]);
}

// ---------------------------------------------------------------------------- build cache

fn cache(id: &str, parents: &[&str], shared: bool, size: u64) -> CacheRecord {
    CacheRecord {
        id: id.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        kind: "regular".into(),
        description: id.into(),
        in_use: false,
        shared,
        size,
        last_used: Some(ts("2026-05-01T00:00:00Z")),
    }
}

#[test]
fn build_cache_goes_leaf_first_and_a_kept_child_keeps_its_parents() {
    let mut h = host((1, 45), ImageStore::Graphdriver);
    let mut busy = cache("busy", &["mid"], false, 1);
    busy.in_use = true;
    h.build_cache = vec![
        cache("root", &[], false, 10),
        cache("mid", &["root"], false, 20),
        busy,
        cache("leaf", &["root"], false, 5),
        cache("shared", &[], true, 7),
    ];
    let run = |h: &HostSnapshot, all, filters: &[&str]| {
        select(h, &plan(&[PruneKind::BuildCache], all, filters))
            .kind(PruneKind::BuildCache)
            .unwrap()
            .clone()
    };
    let p = run(&h, false, &[]);
    assert_eq!(deleted(&p), ["leaf"]);
    assert_eq!(p.bytes, 5);
    let p = run(&h, true, &[]);
    assert_eq!(deleted(&p), ["leaf", "shared"]);
    h.build_cache[2].in_use = false;
    let p = run(&h, true, &["until=24h"]);
    assert_eq!(p.bytes, 43);
    // Used after the cutoff: kept.
    h.build_cache[3].last_used = Some(ts("2026-06-01T11:59:00Z"));
    let p = run(&h, true, &["until=1h"]);
    assert!(!p.deleted().contains("leaf"));
}

// ---------------------------------------------------------------------------- keep policies

fn with_policy(
    kinds: &[PruneKind],
    all: bool,
    policy: crate::plan::policy::KeepPolicy,
) -> PrunePlan {
    plan(kinds, all, &[]).with_policy(policy)
}

fn policy() -> crate::plan::policy::KeepPolicy {
    crate::plan::policy::KeepPolicy::default()
}

#[test]
fn keep_last_keeps_the_newest_tagged_images_of_each_repository() {
    let mut h = graph();
    let mut at = |id: &str, tag: &str, day: u8| {
        let mut i = image(id, &[tag], None, &[(id, 1)]);
        i.created = Some(ts(&format!("2026-01-{day:02}T00:00:00Z")));
        h.images.push(i);
    };
    at("a1", "app:1", 1);
    at("a2", "app:2", 2);
    at("a3", "app:3", 3);
    at("w1", "web:1", 1);
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                keep_last: Some(2),
                ..policy()
            },
        ),
    );
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:a1"]);
    let kept: Vec<_> = images
        .kept
        .iter()
        .map(|k| (k.id.as_str(), k.reason.clone()))
        .collect();
    assert!(kept.contains(&("sha256:a3", KeptReason::KeepLast)));
    assert!(kept.contains(&("sha256:w1", KeptReason::KeepLast)));
}

#[test]
fn protect_globs_keep_matching_references() {
    let mut h = graph();
    h.images = vec![
        image("s", &["app:stable"], None, &[("s", 1)]),
        image("b", &["registry.example.com/base/os:1"], None, &[("b", 1)]),
        image("x", &["app:1"], None, &[("x", 1)]),
    ];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                protect: vec!["*:stable".into(), "registry.example.com/base/*".into()],
                ..policy()
            },
        ),
    );
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:x"]);
    assert!(
        images
            .kept
            .iter()
            .any(|k| k.reason == KeptReason::Protected("app:stable matches *:stable".into()))
    );
}

#[test]
fn protect_labels_keep_images_containers_volumes_and_networks_even_as_parents() {
    let mut h = graph();
    let mut parent = image("p", &[], None, &[("p", 5)]);
    parent.labels = Some(labels(&[("keep", "true")]));
    h.images = vec![parent, image("c", &[], Some("p"), &[("p", 5), ("c", 1)])];
    let mut stopped = container("stopped", "other", false);
    stopped.labels = labels(&[("keep", "true")]);
    h.containers = vec![stopped];
    let mut vol = volume("v", true, 1);
    vol.labels.insert("keep".into(), "true".into());
    h.volumes = vec![vol];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Containers, PruneKind::Volumes, PruneKind::Images],
            false,
            crate::plan::policy::KeepPolicy {
                protect_labels: vec!["keep=true".into()],
                ..policy()
            },
        ),
    );
    assert!(p.kind(PruneKind::Containers).unwrap().doomed.is_empty());
    assert!(p.kind(PruneKind::Volumes).unwrap().doomed.is_empty());
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:c"], "the protected parent stays");
    assert_eq!(images.bytes, 1);
}

#[test]
fn protected_container_names_keep_the_container_and_its_image() {
    let mut h = graph();
    h.images = vec![image("db", &["postgres:16"], None, &[("d", 1)])];
    h.containers = vec![
        container("db-main", "db", false),
        container("tmp", "db", false),
    ];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Containers, PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                protect_containers: vec!["db-*".into()],
                ..policy()
            },
        ),
    );
    assert_eq!(deleted(p.kind(PruneKind::Containers).unwrap()), ["c-tmp"]);
    assert!(p.kind(PruneKind::Images).unwrap().doomed.is_empty());
}

#[test]
fn min_age_keeps_recent_objects() {
    let mut h = graph();
    let mut young = image("young", &[], None, &[("y", 1)]);
    young.created = Some(ts("2026-06-01T11:00:00Z"));
    h.images = vec![young, image("old", &[], None, &[("o", 1)])];
    let mut fresh = container("fresh", "x", false);
    fresh.created = ts("2026-06-01T10:00:00Z");
    h.containers = vec![fresh, container("stale", "x", false)];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Containers, PruneKind::Images],
            false,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(48)),
                ..policy()
            },
        ),
    );
    assert_eq!(deleted(p.kind(PruneKind::Containers).unwrap()), ["c-stale"]);
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:old"]);
    assert_eq!(images.kept[0].reason, KeptReason::TooYoung);
}

#[test]
fn unused_for_counts_container_times_and_what_fleetprune_saw_before() {
    let mut h = graph();
    let mut finished = container("job", "ran", false);
    finished.finished = Some(ts("2026-05-30T12:00:00Z"));
    h.containers = vec![finished];
    h.images = vec![
        image("ran", &["job:1"], None, &[("r", 1)]),
        image("seen", &["svc:1"], None, &[("s", 1)]),
        image("never", &["old:1"], None, &[("n", 1)]),
    ];
    h.last_seen
        .insert("sha256:seen".into(), ts("2026-05-29T12:00:00Z"));
    let run = |h: &HostSnapshot, days: i64| {
        select(
            h,
            &with_policy(
                &[PruneKind::Containers, PruneKind::Images],
                true,
                crate::plan::policy::KeepPolicy {
                    unused_for: Some(jiff::SignedDuration::from_hours(24 * days)),
                    ..policy()
                },
            ),
        )
    };
    // The container goes first; its image was used 2 days ago, svc:1 seen 3 days ago.
    let p = run(&h, 7);
    assert_eq!(deleted(p.kind(PruneKind::Containers).unwrap()), ["c-job"]);
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:never"]);
    assert!(
        images
            .kept
            .iter()
            .all(|k| k.reason == KeptReason::RecentlyUsed)
    );
    let p = run(&h, 2);
    assert_eq!(
        deleted(p.kind(PruneKind::Images).unwrap()),
        ["sha256:never", "sha256:ran", "sha256:seen"]
    );
}

/// Two stopped containers (30 bytes each) on app:1 (50), a never used image (100), a recent
/// one (100) and a dangling one (10): docker uses 320 bytes.
fn watermark_host() -> HostSnapshot {
    let mut h = graph();
    let mut old = container("old", "app", false);
    old.created = ts("2026-01-01T00:00:00Z");
    old.size_rw = Some(30);
    let mut new = container("new", "app", false);
    new.created = ts("2026-02-01T00:00:00Z");
    new.size_rw = Some(30);
    h.containers = vec![new, old];
    let mut lru = image("lru", &["lru:1"], None, &[("l", 100)]);
    lru.created = Some(ts("2026-01-01T00:00:00Z"));
    let mut recent = image("recent", &["recent:1"], None, &[("r", 100)]);
    recent.created = Some(ts("2026-05-01T00:00:00Z"));
    h.images = vec![
        image("app", &["app:1"], None, &[("a", 50)]),
        lru,
        recent,
        image("dangling", &[], None, &[("d", 10)]),
    ];
    h
}

#[test]
fn max_usage_leaves_hosts_under_the_high_mark_alone_and_frees_in_order_down_to_the_low_mark() {
    let h = watermark_host();
    // usage: layers 50 + 100 + 100 + 10, containers 60 = 320
    assert_eq!(docker_usage(&h), 320);
    let run = |h: &HostSnapshot, limit: &str| {
        select(
            h,
            &with_policy(
                &[PruneKind::Containers, PruneKind::Images],
                true,
                crate::plan::policy::KeepPolicy {
                    max_usage: Some(limit.parse().unwrap()),
                    ..policy()
                },
            ),
        )
    };
    let p = run(&h, "400:300");
    assert_eq!(p.doomed_count(), 0, "under the high mark");
    // 20 bytes needed: the oldest stopped container is enough.
    let p = run(&h, "310:300");
    assert_eq!(deleted(p.kind(PruneKind::Containers).unwrap()), ["c-old"]);
    assert!(p.kind(PruneKind::Images).unwrap().doomed.is_empty());
    // 80 needed: both containers (60), then the dangling image (70), then the least recently
    // used image (lru:1, never used, older than app:1's containers) reaches it.
    let p = run(&h, "310:240");
    assert_eq!(p.kind(PruneKind::Containers).unwrap().doomed.len(), 2);
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(deleted(images), ["sha256:dangling", "sha256:lru"]);
    assert!(p.bytes() >= 80);
    assert!(
        p.kinds[0].info[0].contains("over max_usage"),
        "{:?}",
        p.kinds[0].info
    );
}

#[test]
fn watermarks_take_dangling_images_one_at_a_time_least_recently_used_first() {
    let mut h = watermark_host();
    let mut old = image("dangling-old", &[], None, &[("o", 10)]);
    old.created = Some(ts("2026-01-01T00:00:00Z"));
    let mut new = image("dangling-new", &[], None, &[("n", 10)]);
    new.created = Some(ts("2026-06-01T00:00:00Z"));
    h.images.retain(|i| i.id != "sha256:dangling");
    h.images.extend([new, old]);
    // usage 330; low mark 260: 70 to free, both containers (60) and the older dangling image.
    assert_eq!(docker_usage(&h), 330);
    let p = run_watermarks(&h, Some("320:260"), None);
    assert_eq!(p.kind(PruneKind::Containers).unwrap().doomed.len(), 2);
    assert_eq!(
        deleted(p.kind(PruneKind::Images).unwrap()),
        ["sha256:dangling-old"]
    );
    assert_eq!(p.bytes(), 70);
}

/// The filesystem holding DockerRootDir: 1000 bytes usable, `used` of them used.
fn filesystem(used: u64) -> crate::model::filesystem::FilesystemUsage {
    crate::model::filesystem::FilesystemUsage {
        path: "/var/lib/docker".into(),
        also_holds: Vec::new(),
        mount_point: "/var".into(),
        size: 1000,
        used,
        available: 1000 - used,
        inodes: None,
    }
}

fn run_watermarks(
    h: &HostSnapshot,
    max_usage: Option<&str>,
    threshold: Option<&str>,
) -> ObjectPlan {
    select(
        h,
        &with_policy(
            &[PruneKind::Containers, PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                max_usage: max_usage.map(|m| m.parse().unwrap()),
                threshold: threshold.map(|t| t.parse().unwrap()),
                ..policy()
            },
        ),
    )
}

/// A filesystem of 1000 bytes and 100 inodes at `path`, mounted on `mount_point`.
fn disk(
    path: &str,
    mount_point: &str,
    used: u64,
    inodes_used: u64,
) -> crate::model::filesystem::FilesystemUsage {
    crate::model::filesystem::FilesystemUsage {
        path: path.into(),
        mount_point: mount_point.into(),
        inodes: Some(crate::model::filesystem::InodeUsage {
            total: 100,
            used: inodes_used,
            free: 100 - inodes_used,
        }),
        ..filesystem(used)
    }
}

/// The watermark host with a containerd image store: DockerRootDir's filesystem, and
/// containerd's root on its own one when given.
fn containerd_watermark_host(
    docker_root: crate::model::filesystem::FilesystemUsage,
    containerd_root: Option<crate::model::filesystem::FilesystemUsage>,
) -> HostSnapshot {
    let mut h = watermark_host();
    h.filesystem = Some(docker_root);
    h.containerd_filesystems = containerd_root.into_iter().collect();
    h
}

fn run_thresholds(h: &HostSnapshot, threshold: &str, inode_threshold: &str) -> ObjectPlan {
    select(
        h,
        &with_policy(
            &[PruneKind::Containers, PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                threshold: Some(threshold.parse().unwrap()),
                inode_threshold: Some(inode_threshold.parse().unwrap()),
                ..policy()
            },
        ),
    )
}

#[test]
fn threshold_acts_on_containerd_root_when_it_is_fuller_than_docker_root() {
    let h = containerd_watermark_host(
        disk("/var/lib/docker", "/var", 500, 10),
        Some(disk("/var/lib/containerd", "/var/lib/containerd", 900, 10)),
    );
    // containerd's root is 90% used, low mark 70%: 200 bytes, as on one filesystem.
    let p = run_thresholds(&h, "85%:70%", "90%");
    assert_eq!(p.bytes(), 220);
    assert_eq!(
        p.kinds[0].info[0],
        "filesystem of /var/lib/containerd (mounted on /var/lib/containerd) is 90% used (900B of 1kB), over threshold 85%: after this ≈68% (low mark 70%); also measured: /var/lib/docker (mounted on /var) 50% used"
    );
    let policy = crate::plan::policy::KeepPolicy {
        threshold: Some("85%".parse().unwrap()),
        ..policy()
    };
    let decided = deciding_filesystems(&h, &policy);
    assert_eq!(decided.len(), 1);
    assert_eq!(
        (decided[0].0, decided[0].1.path.as_str()),
        ("threshold", "/var/lib/containerd")
    );
    // The other way round, DockerRootDir's filesystem decides.
    let h = containerd_watermark_host(
        disk("/var/lib/docker", "/var", 900, 10),
        Some(disk("/var/lib/containerd", "/var/lib/containerd", 500, 10)),
    );
    let p = run_thresholds(&h, "85%:70%", "90%");
    assert_eq!(p.bytes(), 220);
    assert!(
        p.kinds[0].info[0].starts_with("filesystem of /var/lib/docker (mounted on /var) is 90%"),
        "{:?}",
        p.kinds[0].info
    );
}

#[test]
fn threshold_measures_one_filesystem_holding_both_roots_once() {
    let mut root = disk("/var/lib/docker", "/var", 900, 10);
    root.also_holds = vec!["/var/lib/docker/containerd/daemon".into()];
    let h = containerd_watermark_host(root, None);
    let p = run_thresholds(&h, "85%:70%", "90%");
    assert_eq!(p.bytes(), 220);
    assert_eq!(
        p.kinds[0].info,
        [
            "filesystem of /var/lib/docker and /var/lib/docker/containerd/daemon (mounted on /var) is 90% used (900B of 1kB), over threshold 85%: after this ≈68% (low mark 70%)",
            "inodes of the filesystem of /var/lib/docker and /var/lib/docker/containerd/daemon (mounted on /var) are 10% used (10 of 100), under inode_threshold 90%: after this ≈8%",
        ]
    );
}

#[test]
fn inode_threshold_acts_when_inodes_are_over_while_bytes_are_under() {
    let h = containerd_watermark_host(
        disk("/var/lib/docker", "/var", 500, 95),
        Some(disk("/var/lib/containerd", "/var/lib/containerd", 600, 20)),
    );
    // 15 inodes over the low mark, at 500/95 bytes each: about 79 bytes. Both containers
    // and the dangling image free 70, lru:1 brings it to 170.
    let p = run_thresholds(&h, "85%:70%", "90%:80%");
    assert_eq!(p.bytes(), 170);
    assert_eq!(
        deleted(p.kind(PruneKind::Images).unwrap()),
        ["sha256:dangling", "sha256:lru"]
    );
    assert_eq!(
        p.kinds[0].info,
        [
            "filesystem of /var/lib/containerd (mounted on /var/lib/containerd) is 60% used (600B of 1kB), under threshold 85%: after this ≈43%; also measured: /var/lib/docker (mounted on /var) 50% used",
            "inodes of the filesystem of /var/lib/docker (mounted on /var) are 95% used (95 of 100), over inode_threshold 90%: after this ≈63% (low mark 80%); also measured: /var/lib/containerd (mounted on /var/lib/containerd) 20% of inodes used",
        ]
    );
}

#[test]
fn both_watermarks_under_their_high_marks_leave_the_host_alone() {
    let h = containerd_watermark_host(
        disk("/var/lib/docker", "/var", 500, 50),
        Some(disk("/var/lib/containerd", "/var/lib/containerd", 800, 90)),
    );
    let p = run_thresholds(&h, "85%:70%", "90%:80%");
    assert_eq!(p.doomed_count(), 0);
    assert_eq!(p.bytes(), 0);
    let info = &p.kinds[0].info;
    assert_eq!(info.len(), 2, "{info:?}");
    assert!(
        info[0].starts_with(
            "filesystem of /var/lib/containerd (mounted on /var/lib/containerd) is 80% used"
        ) && info[0].contains("under threshold 85%: left alone"),
        "{info:?}"
    );
    assert!(
        info[1].contains("are 90% used (90 of 100), under inode_threshold 90%: left alone"),
        "{info:?}"
    );
}

#[test]
fn inode_threshold_without_measured_inodes_selects_nothing() {
    let mut h = watermark_host();
    h.filesystem = Some(filesystem(900));
    let p = run_thresholds(&h, "95%", "50%");
    assert_eq!(p.doomed_count(), 0);
    assert_eq!(
        p.kinds[0].info[1],
        "the filesystem of /var/lib/docker was not measured, so inode_threshold 50% cannot be checked: nothing selected"
    );
}

#[test]
fn containerd_roots_follow_the_containerd_the_daemon_uses() {
    let mut h = graph();
    assert!(h.containerd_roots().is_empty(), "graphdriver: none");
    h.image_store = ImageStore::Containerd;
    h.containerd_address = Some("/var/run/docker/containerd/containerd.sock".into());
    assert_eq!(h.containerd_roots(), ["/var/lib/docker/containerd/daemon"]);
    h.containerd_address = Some("/run/containerd/containerd.sock".into());
    assert_eq!(h.containerd_roots(), ["/var/lib/containerd"]);
    h.containerd_address = None;
    assert_eq!(
        h.containerd_roots(),
        ["/var/lib/docker/containerd/daemon", "/var/lib/containerd"]
    );
}

#[test]
fn threshold_leaves_a_filesystem_under_the_high_mark_alone() {
    let mut h = watermark_host();
    h.filesystem = Some(filesystem(850));
    let p = run_watermarks(&h, None, Some("85%:70%"));
    assert_eq!(p.doomed_count(), 0, "at the high mark is not over it");
    assert_eq!(
        p.kinds[0].info,
        [
            "filesystem of /var/lib/docker (mounted on /var) is 85% used (850B of 1kB), under threshold 85%: left alone"
        ]
    );
    assert!(
        p.kinds
            .iter()
            .flat_map(|k| &k.kept)
            .any(|k| k.reason == KeptReason::NotNeeded)
    );
}

#[test]
fn threshold_frees_in_order_until_the_filesystem_reaches_the_low_mark() {
    let mut h = watermark_host();
    h.filesystem = Some(filesystem(900));
    // 90% used, low mark 70%: 200 bytes to free. Both containers (60), the dangling image
    // (70), the never used lru:1 (170), then app:1 (220, last used by the containers).
    let p = run_watermarks(&h, None, Some("85%:70%"));
    assert_eq!(p.kind(PruneKind::Containers).unwrap().doomed.len(), 2);
    assert_eq!(
        deleted(p.kind(PruneKind::Images).unwrap()),
        ["sha256:app", "sha256:dangling", "sha256:lru"]
    );
    assert_eq!(p.bytes(), 220);
    assert_eq!(
        p.kinds[0].info,
        [
            "filesystem of /var/lib/docker (mounted on /var) is 90% used (900B of 1kB), over threshold 85%: after this ≈68% (low mark 70%)"
        ]
    );
    // `threshold: 85%` alone: the low mark is the high one (50 bytes: both containers).
    let p = run_watermarks(&h, None, Some("85%"));
    assert_eq!(p.bytes(), 60);
    assert!(
        p.kinds[0].info[0].ends_with("after this ≈84% (low mark 85%)"),
        "{:?}",
        p.kinds[0].info
    );
}

#[test]
fn threshold_says_when_the_low_mark_cannot_be_reached() {
    let mut h = watermark_host();
    h.filesystem = Some(filesystem(900));
    // 800 bytes needed; everything the plan may take is 320.
    let p = run_watermarks(&h, None, Some("85%:10%"));
    assert_eq!(p.bytes(), 320);
    assert_eq!(
        p.kinds[0].info,
        [
            "filesystem of /var/lib/docker (mounted on /var) is 90% used (900B of 1kB), over threshold 85%: after this ≈58% (low mark 10%); the low mark cannot be reached with this plan"
        ]
    );
}

#[test]
fn threshold_and_max_usage_together_free_the_larger_need_of_the_marks_over_their_high() {
    let mut h = watermark_host();
    h.filesystem = Some(filesystem(900));
    // max_usage needs 20 (one container), threshold 200: the larger wins.
    let p = run_watermarks(&h, Some("310:300"), Some("85%:70%"));
    assert_eq!(p.bytes(), 220);
    let info = &p.kinds[0].info;
    assert_eq!(info.len(), 2, "{info:?}");
    assert!(
        info[0].starts_with("docker uses 320B, over max_usage 310B: after this ≈100B"),
        "{info:?}"
    );
    assert!(
        info[1].contains("over threshold 85%: after this ≈68%"),
        "{info:?}"
    );
    // Under the threshold, over max_usage (80 needed): max_usage alone decides, and the
    // filesystem's note says where it ends up.
    h.filesystem = Some(filesystem(800));
    let p = run_watermarks(&h, Some("310:240"), Some("85%:70%"));
    assert_eq!(p.bytes(), 170);
    let info = &p.kinds[0].info;
    assert!(
        info[0].contains("over max_usage 310B: after this ≈150B (low mark 240B)"),
        "{info:?}"
    );
    assert_eq!(
        info[1],
        "filesystem of /var/lib/docker (mounted on /var) is 80% used (800B of 1kB), under threshold 85%: after this ≈63%"
    );
    // Under both: left alone.
    let p = run_watermarks(&h, Some("400:300"), Some("85%:70%"));
    assert_eq!(p.doomed_count(), 0);
    assert_eq!(p.kinds[0].info.len(), 2);
    assert!(p.kinds[0].info.iter().all(|i| i.ends_with("left alone")));
}

#[test]
fn threshold_without_a_measured_filesystem_selects_nothing() {
    let h = watermark_host();
    let p = run_watermarks(&h, Some("310:240"), Some("85%:70%"));
    assert_eq!(p.doomed_count(), 0);
    assert!(
        p.kinds[0]
            .info
            .iter()
            .any(|i| i.contains("was not measured")),
        "{:?}",
        p.kinds[0].info
    );
}

// ------------------------------------------------------------ a busy farm (issue 18)

fn kept_reason<'a>(plan: &'a KindPlan, id: &str) -> Option<&'a KeptReason> {
    plan.kept.iter().find(|k| k.id == id).map(|k| &k.reason)
}

/// A host where Kubernetes, Nomad and Swarm each left a stopped container, and Kubernetes a
/// volume, a network and an image, beside unmanaged ones of each.
fn orchestrated_host() -> HostSnapshot {
    let mut h = host((1, 45), ImageStore::Graphdriver);
    h.images = vec![
        image("pause", &["registry.k8s.io/pause:3.9"], None, &[("p", 10)]),
        image("app", &["lab/app:1"], None, &[("a", 20)]),
        image("loose", &["lab/loose:1"], None, &[("l", 30)]),
    ];
    let mut kube = container("k8s_app_pod", "pause", false);
    kube.labels = labels(&[("io.kubernetes.pod.name", "pod")]);
    let mut nomad = container("nomad-task", "app", false);
    nomad.labels = labels(&[("com.hashicorp.nomad.alloc_id", "1")]);
    let mut swarm = container("svc.1.x", "app", false);
    swarm.labels = labels(&[("com.docker.swarm.service.id", "s")]);
    h.containers = vec![kube, nomad, swarm, container("mine", "loose", false)];
    let mut kube_volume = volume("kube-data", true, 7);
    kube_volume
        .labels
        .insert("io.kubernetes.pod.uid".into(), "u".into());
    h.volumes = vec![kube_volume, volume("mine-data", true, 9)];
    let net = |name: &str, managed: bool| NetworkInfo {
        id: format!("id-{name}"),
        name: name.into(),
        created: ts("2026-01-01T00:00:00Z"),
        labels: if managed {
            labels(&[("io.kubernetes.network", "n")])
        } else {
            BTreeMap::new()
        },
        scope: "local".into(),
        config_only: false,
        endpoints: 0,
    };
    h.networks = vec![net("kube-net", true), net("mine-net", false)];
    h
}

const EVERYTHING: [PruneKind; 4] = [
    PruneKind::Containers,
    PruneKind::Networks,
    PruneKind::Volumes,
    PruneKind::Images,
];

#[test]
fn orchestrators_objects_and_their_images_stay_by_default_with_a_note() {
    let h = orchestrated_host();
    let p = select(&h, &plan(&EVERYTHING, true, &[]));
    let containers = p.kind(PruneKind::Containers).unwrap();
    assert_eq!(deleted(containers), ["c-mine"]);
    assert_eq!(
        kept_reason(containers, "c-k8s_app_pod"),
        Some(&KeptReason::Managed(Orchestrator::Kubernetes))
    );
    assert_eq!(
        kept_reason(containers, "c-nomad-task"),
        Some(&KeptReason::Managed(Orchestrator::Nomad))
    );
    assert_eq!(
        kept_reason(containers, "c-svc.1.x"),
        Some(&KeptReason::Managed(Orchestrator::Swarm))
    );
    assert_eq!(
        containers.info,
        [
            "Kubernetes manages 1 of these containers: left to it (--include-managed prunes them)",
            "Nomad manages 1 of these containers: left to it (--include-managed prunes them)",
            "Swarm manages 1 of these containers: left to it (--include-managed prunes them)",
        ]
    );
    assert_eq!(deleted(p.kind(PruneKind::Volumes).unwrap()), ["mine-data"]);
    assert_eq!(deleted(p.kind(PruneKind::Networks).unwrap()), ["mine-net"]);
    let images = p.kind(PruneKind::Images).unwrap();
    assert_eq!(
        deleted(images),
        ["sha256:loose"],
        "images of the orchestrators' containers stay"
    );
}

#[test]
fn a_managed_image_stays_even_when_no_container_uses_it() {
    let mut h = graph();
    let mut kubelet_pulled = image("k", &["registry.k8s.io/coredns:1"], None, &[("k", 5)]);
    kubelet_pulled.labels = Some(labels(&[("io.kubernetes.image", "x")]));
    h.images = vec![kubelet_pulled, image("x", &["x:1"], None, &[("x", 1)])];
    let images = images_plan(&h, true, &[]);
    assert_eq!(deleted(&images), ["sha256:x"]);
    assert_eq!(
        kept_reason(&images, "sha256:k"),
        Some(&KeptReason::Managed(Orchestrator::Kubernetes))
    );
}

#[test]
fn include_managed_prunes_orchestrators_objects_like_any_other() {
    let h = orchestrated_host();
    let p = select(
        &h,
        &with_policy(
            &EVERYTHING,
            true,
            crate::plan::policy::KeepPolicy {
                include_managed: true,
                ..policy()
            },
        ),
    );
    assert_eq!(p.kind(PruneKind::Containers).unwrap().doomed.len(), 4);
    assert_eq!(p.kind(PruneKind::Volumes).unwrap().doomed.len(), 2);
    assert_eq!(p.kind(PruneKind::Networks).unwrap().doomed.len(), 2);
    assert_eq!(p.kind(PruneKind::Images).unwrap().doomed.len(), 3);
    assert!(p.kinds.iter().all(|k| k.info.is_empty()));
}

#[test]
fn include_managed_alone_is_no_keep_policy_so_the_daemon_can_prune() {
    let policy = crate::plan::policy::KeepPolicy {
        include_managed: true,
        ..policy()
    };
    assert!(policy.is_empty());
    let policy = crate::plan::policy::KeepPolicy {
        keep_exited: Some(1),
        ..policy
    };
    assert!(!policy.is_empty());
}

fn exited(name: &str, finished: &str) -> ContainerInfo {
    let mut c = container(name, "x", false);
    c.started = Some(ts("2026-01-01T00:00:00Z"));
    c.finished = Some(ts(finished));
    c
}

#[test]
fn exited_for_counts_from_finished_at_not_from_creation() {
    let mut h = graph();
    // Created long ago (so `until` would take it), exited twenty minutes ago.
    h.containers = vec![
        exited("just-exited", "2026-06-01T11:40:00Z"),
        exited("long-exited", "2026-06-01T09:00:00Z"),
        container("never-started", "x", false),
    ];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Containers],
            false,
            crate::plan::policy::KeepPolicy {
                exited_for: Some(jiff::SignedDuration::from_hours(1)),
                ..policy()
            },
        ),
    );
    let containers = p.kind(PruneKind::Containers).unwrap();
    assert_eq!(deleted(containers), ["c-long-exited", "c-never-started"]);
    assert_eq!(
        kept_reason(containers, "c-just-exited"),
        Some(&KeptReason::ExitedRecently)
    );
}

#[test]
fn keep_exited_keeps_the_most_recent_per_name_stem_and_compose_service() {
    let mut h = graph();
    let web = |name: &str, finished: &str| {
        let mut c = exited(name, finished);
        c.labels = labels(&[
            ("com.docker.compose.project", "shop"),
            ("com.docker.compose.service", "web"),
        ]);
        c
    };
    h.containers = vec![
        exited("build-17", "2026-06-01T08:00:00Z"),
        exited("build-18", "2026-06-01T09:00:00Z"),
        exited("build_19", "2026-06-01T10:00:00Z"),
        web("shop-web-1", "2026-05-01T00:00:00Z"),
        web("shop-web-2", "2026-05-02T00:00:00Z"),
        exited("lonely", "2026-01-02T00:00:00Z"),
        container("running-1", "x", true),
    ];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Containers],
            false,
            crate::plan::policy::KeepPolicy {
                keep_exited: Some(1),
                ..policy()
            },
        ),
    );
    let containers = p.kind(PruneKind::Containers).unwrap();
    assert_eq!(
        deleted(containers),
        ["c-build-17", "c-build-18", "c-shop-web-1"]
    );
    assert_eq!(
        kept_reason(containers, "c-build_19"),
        Some(&KeptReason::KeepExited("build".into()))
    );
    assert_eq!(
        kept_reason(containers, "c-shop-web-2"),
        Some(&KeptReason::KeepExited("service shop/web".into()))
    );
    assert_eq!(
        kept_reason(containers, "c-lonely"),
        Some(&KeptReason::KeepExited("lonely".into()))
    );
}

/// An image built in 2020 and loaded (or pulled, or tagged) ten minutes ago.
fn just_loaded_old_image() -> HostSnapshot {
    let mut h = graph();
    let mut old = image("old", &["lab/old:2020"], None, &[("o", 5)]);
    old.created = Some(ts("2020-01-01T00:00:00Z"));
    old.last_tag_time = Some(ts("2026-06-01T11:50:00Z"));
    h.images = vec![old];
    h
}

#[test]
fn a_just_loaded_old_image_is_young_for_min_age_and_says_which_time_decided() {
    let h = just_loaded_old_image();
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(24)),
                ..policy()
            },
        ),
    );
    let images = p.kind(PruneKind::Images).unwrap();
    assert!(images.doomed.is_empty());
    let reason = kept_reason(images, "sha256:old").unwrap();
    assert_eq!(
        reason.to_string(),
        "arrived recently: LastTagTime 2026-06-01T11:50:00Z within min_age, Created 2020-01-01T00:00:00Z"
    );
}

#[test]
fn a_just_loaded_old_image_counts_as_used_for_unused_for() {
    let h = just_loaded_old_image();
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                unused_for: Some(jiff::SignedDuration::from_hours(24 * 14)),
                ..policy()
            },
        ),
    );
    let images = p.kind(PruneKind::Images).unwrap();
    assert!(images.doomed.is_empty());
    assert!(matches!(
        kept_reason(images, "sha256:old"),
        Some(KeptReason::Arrived(what)) if what.contains("within unused_for")
    ));
}

#[test]
fn without_min_age_or_unused_for_a_just_loaded_unused_image_goes() {
    let h = just_loaded_old_image();
    assert_eq!(deleted(&images_plan(&h, true, &[])), ["sha256:old"]);
}

#[test]
fn an_image_created_recently_is_too_young_by_its_creation() {
    let mut h = graph();
    let mut young = image("y", &["y:1"], None, &[("y", 1)]);
    young.created = Some(ts("2026-06-01T11:00:00Z"));
    young.last_tag_time = Some(ts("2026-06-01T10:00:00Z"));
    h.images = vec![young];
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(24)),
                ..policy()
            },
        ),
    );
    assert_eq!(
        kept_reason(p.kind(PruneKind::Images).unwrap(), "sha256:y"),
        Some(&KeptReason::TooYoung)
    );
}

#[test]
fn a_load_event_makes_an_image_young_when_last_tag_time_is_unset() {
    // Graphdriver loads and pulls leave LastTagTime unset; the daemon's event log says when.
    let mut h = just_loaded_old_image();
    h.images[0].last_tag_time = None;
    h.arrivals.insert(
        "sha256:old".into(),
        crate::snapshot::Arrival {
            at: ts("2026-06-01T11:55:00Z"),
            action: "load".into(),
        },
    );
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(1)),
                ..policy()
            },
        ),
    );
    assert_eq!(
        kept_reason(p.kind(PruneKind::Images).unwrap(), "sha256:old")
            .unwrap()
            .to_string(),
        "arrived recently: load event 2026-06-01T11:55:00Z within min_age, Created 2020-01-01T00:00:00Z"
    );
}

/// An image built a year ago, with no `LastTagTime` and no event left in the daemon's log
/// (a graphdriver pull that rolled out of the last 256 events), that fleetprune first saw on
/// the host at `first_seen`.
fn old_image_first_seen(first_seen: &str) -> HostSnapshot {
    let mut h = graph();
    let mut old = image("old", &["lab/old:2025"], None, &[("o", 5)]);
    old.created = Some(ts("2025-06-01T12:00:00Z"));
    h.images = vec![old];
    h.first_seen.insert("sha256:old".into(), ts(first_seen));
    h
}

#[test]
fn an_image_fleetprune_first_saw_five_minutes_ago_is_young_for_min_age() {
    let h = old_image_first_seen("2026-06-01T11:55:00Z");
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(1)),
                ..policy()
            },
        ),
    );
    let images = p.kind(PruneKind::Images).unwrap();
    assert!(images.doomed.is_empty());
    assert_eq!(
        kept_reason(images, "sha256:old").unwrap().to_string(),
        "arrived recently: first seen by fleetprune 2026-06-01T11:55:00Z within min_age, Created 2025-06-01T12:00:00Z"
    );
}

#[test]
fn the_first_sighting_counts_as_a_use_for_unused_for() {
    let h = old_image_first_seen("2026-05-30T12:00:00Z");
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                unused_for: Some(jiff::SignedDuration::from_hours(24 * 14)),
                ..policy()
            },
        ),
    );
    assert_eq!(
        kept_reason(p.kind(PruneKind::Images).unwrap(), "sha256:old")
            .unwrap()
            .to_string(),
        "arrived recently: first seen by fleetprune 2026-05-30T12:00:00Z within unused_for, Created 2025-06-01T12:00:00Z"
    );
}

#[test]
fn an_image_first_seen_before_min_age_goes() {
    let h = old_image_first_seen("2026-05-30T12:00:00Z");
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(1)),
                ..policy()
            },
        ),
    );
    assert_eq!(deleted(p.kind(PruneKind::Images).unwrap()), ["sha256:old"]);
}

#[test]
fn a_later_load_event_decides_over_an_earlier_first_sighting() {
    let mut h = old_image_first_seen("2026-06-01T10:00:00Z");
    h.arrivals.insert(
        "sha256:old".into(),
        crate::snapshot::Arrival {
            at: ts("2026-06-01T11:58:00Z"),
            action: "load".into(),
        },
    );
    let p = select(
        &h,
        &with_policy(
            &[PruneKind::Images],
            true,
            crate::plan::policy::KeepPolicy {
                min_age: Some(jiff::SignedDuration::from_hours(1)),
                ..policy()
            },
        ),
    );
    assert_eq!(
        kept_reason(p.kind(PruneKind::Images).unwrap(), "sha256:old")
            .unwrap()
            .to_string(),
        "arrived recently: load event 2026-06-01T11:58:00Z within min_age, Created 2025-06-01T12:00:00Z"
    );
}
