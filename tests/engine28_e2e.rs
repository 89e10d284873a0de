//! Live proofs on Docker 28.5 (API 1.51) of the rules the prediction took from the source
//! reading: the 27.3+ containerd rule (the last name of an image used by ID stays), image-type
//! mounts (`--mount type=image`, 28+) on both image stores, and what `/images/json`'s
//! `Containers` count (1.51) says against fleetprune's own idea of "in use". Each test has its own
//! lab; on it fleetprune's `plan` and `prune` (with and without a keep policy) are held against
//! docker's own `docker image prune` on a twin host.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use common::{Engine, Lab, json, json_host, lines, repo_root, stderr};

/// A keep policy that protects nothing here: it only makes fleetprune select and delete by ID
/// itself instead of calling the daemon's `/images/prune`.
const NO_OP_POLICY: [&str; 2] = ["--protect", "nothing-matches/*"];

/// Imports the lab's busybox rootfs (left by lab/seed.sh) as `tag`, with a label that makes
/// its image ID its own; returns the ID.
fn import(lab: &Lab, host: &str, tag: &str, label: &str) -> String {
    let tar = lab.dir.join("seed/busybox-rootfs.tar");
    let output = Command::new("bash")
        .arg(repo_root().join("lab/docker.sh"))
        .arg(&lab.dir)
        .arg(host)
        .args(["import", "--change", &format!("LABEL {label}"), "-", tag])
        .stdin(std::fs::File::open(&tar).unwrap_or_else(|e| panic!("{}: {e}", tar.display())))
        .stderr(Stdio::piped())
        .output()
        .expect("run lab/docker.sh import");
    assert!(
        output.status.success(),
        "import {tag} on {host}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    image_id(lab, host, tag)
}

fn image_id(lab: &Lab, host: &str, name: &str) -> String {
    lab.docker(host, &["image", "inspect", "--format", "{{.Id}}", name])
        .trim()
        .to_string()
}

/// The image IDs docker lists on `host` (intermediate ones included).
fn image_ids(lab: &Lab, host: &str) -> BTreeSet<String> {
    lines(&lab.docker(host, &["images", "-aq", "--no-trunc"]))
        .into_iter()
        .collect()
}

/// Runs fleetprune `command` (plan or prune) with JSON output on `host` only.
fn run_json(lab: &Lab, command: &str, host: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec![command, "--output", "json", "--limit", host];
    if command == "prune" {
        all.push("--yes");
    }
    all.extend_from_slice(args);
    let run = lab.fleetprune(&all);
    assert_eq!(run.status.code(), Some(0), "{all:?}: {}", stderr(&run));
    json(&run)
}

fn strings(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The planned images entry for `id`, if the plan deletes or untags it.
fn doomed<'a>(plan: &'a serde_json::Value, host: &str, id: &str) -> Option<&'a serde_json::Value> {
    json_host(plan, host)["kinds"]["images"]["doomed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
}

/// Plans `args` on `host`, prunes with the same arguments (the daemon's `/images/prune`), and
/// asserts that the plan named what the daemon reported: references untagged, images and (on
/// overlay2) layers deleted, bytes exact on overlay2. Returns the plan.
fn plan_then_prune(lab: &Lab, engine: Engine, host: &str, args: &[&str]) -> serde_json::Value {
    let plan = run_json(lab, "plan", host, args);
    let prune = run_json(lab, "prune", host, args);
    let planned = &json_host(&plan, host)["kinds"]["images"];
    let actual = &json_host(&prune, host)["kinds"]["images"];
    let doomed = planned["doomed"].as_array().unwrap();
    let mut want_deleted: BTreeSet<String> = doomed
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    want_deleted.extend(strings(&planned["freed_layers"]));
    let want_untagged: BTreeSet<String> = doomed
        .iter()
        .flat_map(|d| strings(&d["untagged"]))
        .collect();
    let deleted = strings(&actual["deleted"]);
    assert_eq!(
        want_untagged,
        strings(&actual["untagged"]),
        "{args:?}: untagged"
    );
    if engine.containerd_store() {
        // The containerd store lists freed blobs the API does not show: the planned images'
        // manifests must be among them.
        assert!(
            want_deleted.is_subset(&deleted),
            "{args:?}: planned {want_deleted:?}, deleted {deleted:?}"
        );
    } else {
        assert_eq!(want_deleted, deleted, "{args:?}: deleted");
        assert_eq!(
            planned["predicted_bytes"], actual["reclaimed_bytes"],
            "{args:?}: bytes"
        );
    }
    plan
}

#[test]
fn containerd_keeps_the_last_name_of_an_image_used_by_id() {
    let engine = Engine::Docker28Containerd;
    // host01: fleetprune, the daemon's prune; host02: fleetprune with a keep policy (deletes by
    // ID itself); host03: the twin, docker's own `docker image prune -a`.
    let lab = Lab::start_engines("e28-byid", &[engine; 3], &[]);
    let mut ids = BTreeMap::new();
    for host in &lab.hosts {
        let id = import(&lab, host, "lab/multi:a", "role=multi");
        lab.docker(host, &["tag", "lab/multi:a", "lab/multi:b"]);
        lab.docker(host, &["tag", "lab/multi:a", "other/multi:1"]);
        // Created by ID: no name of the image is the container's.
        lab.docker(
            host,
            &[
                "create",
                "--name",
                "by-id",
                "--network",
                "none",
                &id,
                "true",
            ],
        );
        ids.insert(host.clone(), id);
    }
    let multi = |host: &str| -> Vec<String> {
        lab.image_tags(host)
            .into_iter()
            .filter(|t| t.contains("multi"))
            .collect()
    };

    // The names sort as docker.io/lab/multi:a < :b < docker.io/other/multi:1: the last stays.
    let plan = plan_then_prune(&lab, engine, "host01", &["--images", "-a"]);
    let planned = doomed(&plan, "host01", &ids["host01"]).expect("planned");
    assert_eq!(planned["action"], "untag", "{planned}");
    assert_eq!(
        strings(&planned["untagged"]),
        BTreeSet::from(["lab/multi:a".to_string(), "lab/multi:b".to_string()])
    );

    let mut policy_args = vec!["--images", "-a"];
    policy_args.extend(NO_OP_POLICY);
    let plan = run_json(&lab, "plan", "host02", &policy_args);
    let planned = doomed(&plan, "host02", &ids["host02"]).expect("planned with a policy");
    assert_eq!(planned["action"], "untag", "{planned}");
    assert_eq!(
        strings(&planned["untagged"]),
        BTreeSet::from(["lab/multi:a".to_string(), "lab/multi:b".to_string()])
    );
    let report = run_json(&lab, "prune", "host02", &policy_args);
    let images = &json_host(&report, "host02")["kinds"]["images"];
    assert!(images["planned"].as_u64().unwrap() > 0, "{images}");

    lab.docker("host03", &["image", "prune", "-a", "-f"]);
    for host in &lab.hosts {
        assert_eq!(multi(host), ["other/multi:1"], "{host}");
        assert_eq!(image_id(&lab, host, "other/multi:1"), ids[host], "{host}");
    }
    assert_eq!(lab.image_tags("host01"), lab.image_tags("host03"));
}

#[test]
fn image_mounts_on_overlay2_keep_images_as_docker_28_does() {
    image_mounts(Engine::Docker28);
}

#[test]
fn image_mounts_on_the_containerd_store_go_as_docker_28_prunes_them() {
    image_mounts(Engine::Docker28Containerd);
}

/// Images used only as image-type mounts: `lab/mnt:1` by a created container, `lab/mnt2:1` by a
/// running one, and an image mounted by ID whose tag then moved (dangling). What the daemon does
/// differs by store (checked against the twin): overlay2 keeps a mounted image with one name and
/// deletes only the dangling one's record (its layers stay with the mount); the containerd
/// store's prune does not look at mounts. A keep policy prune keeps them all on both stores.
fn image_mounts(engine: Engine) {
    let lab = Lab::start_engines(&format!("e28-mounts-{}", engine.label()), &[engine; 3], &[]);
    let mut mounted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for host in &lab.hosts {
        let mnt = import(&lab, host, "lab/mnt:1", "role=mnt");
        let mnt2 = import(&lab, host, "lab/mnt2:1", "role=mnt2");
        let loose = import(&lab, host, "lab/loose:1", "role=loose-old");
        let base = ["lab/busybox:latest", "sleep", "100000"];
        let mount = |source: &str| format!("type=image,source={source},target=/x");
        let create = |name: &str, source: &str, run: bool| {
            let mut args = if run {
                vec!["run", "-d"]
            } else {
                vec!["create"]
            };
            let mount = mount(source);
            args.extend(["--name", name, "--network", "none", "--mount", &mount]);
            args.extend(base);
            lab.docker(host, &args);
        };
        create("c-mnt", "lab/mnt:1", false);
        create("r-mnt", "lab/mnt2:1", true);
        create("c-loose", &loose, false);
        // The tag moves on: the image c-loose mounts is now untagged.
        import(&lab, host, "lab/loose:1", "role=loose-new");
        mounted.insert(host.clone(), vec![mnt, mnt2, loose]);
    }

    // /images/json Containers (API 1.51) counts containers by their image, not by mounts: the
    // images only mounted show 0. fleetprune's own "in use by a container" (kept in use, or
    // untagged only because in use) is exactly the daemon's Containers > 0, mounts aside.
    let counts: BTreeMap<String, u64> = lines(&lab.docker(
        "host01",
        &[
            "images",
            "-a",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Containers}}",
        ],
    ))
    .iter()
    .map(|l| {
        let (id, count) = l.split_once(' ').unwrap();
        (
            id.to_string(),
            count.parse().unwrap_or_else(|_| panic!("{l}")),
        )
    })
    .collect();
    for id in &mounted["host01"] {
        assert_eq!(counts.get(id), Some(&0), "{id}: {counts:?}");
    }
    let daemon_in_use: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(id, _)| id.as_str())
        .collect();
    assert!(!daemon_in_use.is_empty());
    let plan = run_json(&lab, "plan", "host01", &["--images", "-a", "--show-kept"]);
    let images = &json_host(&plan, "host01")["kinds"]["images"];
    let mut fleetprune_in_use: BTreeSet<&str> = images["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["reason"]["why"] == "in_use")
        .chain(
            images["doomed"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["reason"] == "in_use_multi_tag"),
        )
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for id in &mounted["host01"] {
        fleetprune_in_use.remove(id.as_str());
    }
    assert_eq!(fleetprune_in_use, daemon_in_use, "{images}");
    if engine.containerd_store() {
        assert!(
            strings(&images["info"])
                .iter()
                .any(|i| i.contains("is mounted by container c-mnt (type=image)")),
            "{images}"
        );
    }

    // host01: fleetprune with the daemon's prune, dangling first, then -a; host03: the twin.
    plan_then_prune(&lab, engine, "host01", &["--images"]);
    plan_then_prune(&lab, engine, "host01", &["--images", "-a"]);
    lab.docker("host03", &["image", "prune", "-f"]);
    lab.docker("host03", &["image", "prune", "-a", "-f"]);
    assert_eq!(lab.image_tags("host01"), lab.image_tags("host03"));
    assert_eq!(lab.image_count("host01"), lab.image_count("host03"));
    let tags = lab.image_tags("host01");
    let ids = image_ids(&lab, "host01");
    let [mnt, mnt2, loose] = &mounted["host01"][..] else {
        unreachable!()
    };
    // The dangling mounted image goes on both stores (overlay2 checks mounts only when a
    // reference is removed).
    assert!(!ids.contains(loose), "{ids:?}");
    if engine.containerd_store() {
        assert!(!tags.contains(&"lab/mnt:1".to_string()), "{tags:?}");
        assert!(!ids.contains(mnt) && !ids.contains(mnt2), "{ids:?}");
    } else {
        assert!(tags.contains(&"lab/mnt:1".to_string()), "{tags:?}");
        assert!(tags.contains(&"lab/mnt2:1".to_string()), "{tags:?}");
    }
    // Either way the containers still start: their mounts hold what they need.
    lab.docker("host01", &["start", "c-mnt", "c-loose"]);

    // host02: a keep policy; fleetprune deletes by ID and never a mounted image.
    let mut args = vec!["--images", "-a"];
    args.extend(NO_OP_POLICY);
    let plan = run_json(&lab, "plan", "host02", &args);
    for id in &mounted["host02"] {
        assert!(doomed(&plan, "host02", id).is_none(), "{id} planned");
    }
    let report = run_json(&lab, "prune", "host02", &args);
    let totals = &report["totals"];
    assert_eq!(
        totals["planned_objects"], totals["done_objects"],
        "{totals}"
    );
    let ids = image_ids(&lab, "host02");
    for id in &mounted["host02"] {
        assert!(ids.contains(id), "{id} must stay: {ids:?}");
    }
    let tags = lab.image_tags("host02");
    for kept in ["lab/mnt:1", "lab/mnt2:1", "lab/busybox:latest"] {
        assert!(tags.contains(&kept.to_string()), "{kept}: {tags:?}");
    }
}
