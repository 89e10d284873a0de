//! End-to-end tests of what fleetprune does differently on Podman (rootful and rootless lab
//! hosts): it is detected, `--volumes` without `-a` never removes a named volume (Podman's own
//! `/volumes/prune` would), build cache is a kind the engine does not have, not a failure, and
//! `plan` predicts Podman's own image prune. Podman's own CLI on a twin host is the oracle.

mod common;

use std::collections::BTreeSet;

use common::twins::prune_json;
use common::{Engine, Lab, json, json_host, lines, stderr, stdout};

#[test]
fn podman_volume_prune_without_all_keeps_named_volumes_rootful() {
    volume_prune_without_all_keeps_named_volumes(Engine::Podman);
}

#[test]
fn podman_volume_prune_without_all_keeps_named_volumes_rootless() {
    volume_prune_without_all_keeps_named_volumes(Engine::PodmanRootless);
}

#[test]
fn podman_build_cache_is_unsupported_not_a_failure() {
    let lab = Lab::start_on(Engine::Podman, "podman-cache", 1, &[]);
    let run = lab.fleetprune(&[
        "prune",
        "--build-cache",
        "--containers",
        "--yes",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let host = json_host(&report, "host01");
    assert_eq!(host["status"], "ok", "{host}");
    assert_eq!(host["engine"], "podman");
    assert_eq!(host["unsupported"], serde_json::json!(["build_cache"]));
    assert_eq!(host["not_started"], serde_json::json!([]));

    let table = lab.fleetprune(&["prune", "--build-cache", "--yes"]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(
        text.contains("build cache: not supported by this engine (n/a)"),
        "{text}"
    );

    let ping = lab.fleetprune(&["ping"]);
    assert_eq!(ping.status.code(), Some(0), "{}", stderr(&ping));
    assert!(stdout(&ping).contains("podman 5.8."), "{}", stdout(&ping));
}

/// The names of the volumes `podman` itself calls anonymous and unused on `host`.
fn anonymous_unused(lab: &Lab, host: &str) -> Vec<String> {
    let dangling = lab.docker(host, &["volume", "ls", "-q", "--filter", "dangling=true"]);
    dangling
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .filter(|name| {
            lab.docker(
                host,
                &["volume", "inspect", "--format", "{{.Anonymous}}", name],
            )
            .trim()
                == "true"
        })
        .map(str::to_string)
        .collect()
}

fn volume_prune_without_all_keeps_named_volumes(engine: Engine) {
    let lab = Lab::start_on(engine, "podman-volumes", 2, &[]);
    let anonymous = anonymous_unused(&lab, "host02");
    assert_eq!(anonymous.len(), 1, "the seed leaves one anonymous volume");

    // plan predicts exactly what the prune then deletes.
    let plan = lab.fleetprune(&["plan", "--volumes", "--output", "json", "--limit", "host01"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    let planned = &json_host(&plan, "host01")["kinds"]["volumes"];
    let doomed: Vec<&str> = planned["doomed"]
        .as_array()
        .unwrap_or_else(|| panic!("no doomed volumes: {planned}"))
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(doomed.len(), 1, "{planned}");

    let report = prune_json(&lab, "host01", &["--volumes"]);
    let host = json_host(&report, "host01");
    assert_eq!(host["engine"], "podman");
    assert_eq!(host["volume_scope"], "anonymous");
    let volumes = &host["kinds"]["volumes"];
    let deleted: Vec<&str> = volumes["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(deleted, doomed);
    assert_eq!(volumes["reclaimed_bytes"], planned["predicted_bytes"]);

    // The twin: podman's own CLI removes the anonymous unused volumes by name.
    let mut rm = vec!["volume", "rm"];
    rm.extend(anonymous.iter().map(String::as_str));
    lab.docker("host02", &rm);
    assert_eq!(lab.volume_names("host01"), lab.volume_names("host02"));
    assert_eq!(
        lab.volume_names("host01"),
        ["lab-data", "lab-inuse", "lab-keep"],
        "named volumes survive --volumes without -a"
    );

    // With -a, docker's meaning is Podman's: every unused volume, as `podman volume prune`.
    let report = prune_json(&lab, "host01", &["--volumes", "-a"]);
    assert_eq!(
        json_host(&report, "host01")["volume_scope"],
        "named_and_anonymous"
    );
    lab.docker("host02", &["volume", "prune", "-f"]);
    assert_eq!(lab.volume_names("host01"), lab.volume_names("host02"));
    assert_eq!(lab.volume_names("host01"), ["lab-inuse"]);
}

#[test]
fn podman_plan_predicts_its_image_prune_rootful() {
    plan_predicts_image_prune(Engine::Podman);
}

#[test]
fn podman_plan_predicts_its_image_prune_rootless() {
    plan_predicts_image_prune(Engine::PodmanRootless);
}

fn id_set(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// `podman images -a`: every image's name (or `<none>`), sorted, and the number of dangling ones.
fn podman_images(lab: &Lab, host: &str) -> (Vec<String>, usize) {
    let all = lines(&lab.docker(
        host,
        &["images", "-a", "--format", "{{.Repository}}:{{.Tag}}"],
    ));
    let dangling = lines(&lab.docker(host, &["images", "-q", "--filter", "dangling=true"]));
    (all, dangling.len())
}

/// Plans `args` on host01, prunes with them, and asserts that the plan named exactly the images
/// Podman's answer lists (by ID, no references) and its SpaceReclaimed; returns the plan's
/// images kind.
fn plan_then_prune_images(lab: &Lab, args: &[&str]) -> serde_json::Value {
    let mut plan_args = vec![
        "plan",
        "--output",
        "json",
        "--limit",
        "host01",
        "--show-kept",
    ];
    plan_args.extend_from_slice(args);
    let plan = lab.fleetprune(&plan_args);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = json(&plan);
    let planned = json_host(&plan, "host01")["kinds"]["images"].clone();
    let mut prune_args = vec!["prune", "--yes", "--output", "json", "--limit", "host01"];
    prune_args.extend_from_slice(args);
    let run = lab.fleetprune(&prune_args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let actual = &json_host(&report, "host01")["kinds"]["images"];
    let doomed = planned["doomed"].as_array().unwrap();
    let want: BTreeSet<String> = doomed
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!want.is_empty(), "{args:?}: {planned}");
    assert_eq!(want, id_set(&actual["deleted"]), "{args:?}: deleted");
    assert_eq!(actual["untagged"], serde_json::json!([]), "{args:?}");
    assert!(doomed.iter().all(|d| d["untagged"].is_null()), "{planned}");
    assert_eq!(
        planned["predicted_bytes"], actual["reclaimed_bytes"],
        "{args:?}: bytes"
    );
    assert_eq!(planned["exact"], true, "{planned}");
    planned
}

/// Docker's `-a` reaches Podman as `dangling=false`, which libimage reads literally: every
/// image with a name or children and no container goes, untagged ones without children stay.
/// The twin gets the same filter from `podman image prune`; then both prune dangling images.
fn plan_predicts_image_prune(engine: Engine) {
    let lab = Lab::start_on(engine, "podman-images", 2, &[]);
    let (_, dangling) = podman_images(&lab, "host01");
    assert!(dangling > 0, "the seed leaves dangling images");

    let planned = plan_then_prune_images(&lab, &["--images", "-a"]);
    let left_dangling = planned["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["reason"]["why"] == "dangling_under_all")
        .count();
    assert_eq!(left_dangling, dangling, "{planned}");
    lab.docker(
        "host02",
        &["image", "prune", "-f", "--filter", "dangling=false"],
    );
    let after_all = podman_images(&lab, "host01");
    assert_eq!(after_all, podman_images(&lab, "host02"));
    assert_eq!(after_all.1, dangling, "-a left the dangling images");

    plan_then_prune_images(&lab, &["--images"]);
    lab.docker("host02", &["image", "prune", "-f"]);
    let after = podman_images(&lab, "host01");
    assert_eq!(after, podman_images(&lab, "host02"));
    assert_eq!(after.1, 0);
    assert!(
        lab.image_tags("host01")
            .contains(&"lab/inuse-running:1".to_string())
    );
}

/// `apply` on Podman: the saved plan's engine identity (host name and storage roots from libpod's
/// `/info`; Podman's compatible `ID` changes on every request) matches the same engine again and
/// no other; the plan's images go by ID, multi-named ones tag by tag, and the host ends as the
/// twin pruned by Podman's own CLI. A keep-policy prune (the same delete by ID) keeps what it
/// protects.
#[test]
fn podman_apply_matches_its_engine_and_deletes_the_saved_plan() {
    let lab = Lab::start_on(Engine::Podman, "podman-apply", 3, &[]);
    let saved = lab.dir.join("plan.json");
    let saved = saved.to_str().unwrap();
    let plan = lab.fleetprune(&[
        "plan", "--images", "-a", "--save", saved, "--limit", "host01",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = std::fs::read_to_string(saved).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let engine_id = file["hosts"][0]["engine_id"].as_str().unwrap().to_string();
    assert!(engine_id.starts_with("podman:host01:"), "{engine_id}");
    let planned: BTreeSet<String> = file["hosts"][0]["plan"]["kinds"][0]["doomed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert!(planned.len() > 5, "{planned:?}");

    // The same plan pointed at host02 (another Podman engine) is refused there.
    let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
    forged["hosts"][0]["name"] = "host02".into();
    forged["hosts"][0]["host_key_fingerprint"] = serde_json::Value::Null;
    let forged_path = lab.dir.join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let run = lab.fleetprune(&[
        "apply",
        forged_path.to_str().unwrap(),
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert_eq!(
        json_host(&json(&run), "host02")["error"]["class"],
        "plan_mismatch"
    );

    let run = lab.fleetprune(&["apply", saved, "--yes", "-o", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let images = &json_host(&report, "host01")["kinds"]["images"];
    assert_eq!(images["skipped"], serde_json::json!([]), "{images}");
    assert_eq!(id_set(&images["deleted"]), planned, "{images}");
    // What is left is what Podman's own -a prune leaves on the twin.
    lab.docker(
        "host02",
        &["image", "prune", "-f", "--filter", "dangling=false"],
    );
    assert_eq!(podman_images(&lab, "host01"), podman_images(&lab, "host02"));

    // host03: a keep-policy prune deletes by ID the same way; protected images stay.
    let run = lab.fleetprune(&[
        "prune",
        "--images",
        "-a",
        "--protect",
        "*/lab/app*",
        "--yes",
        "-o",
        "json",
        "--limit",
        "host03",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let totals = &json(&run)["totals"];
    assert_eq!(
        totals["planned_objects"], totals["done_objects"],
        "{totals}"
    );
    let tags = lab.image_tags("host03");
    for kept in ["lab/app:1", "lab/app-alias:1", "lab/inuse-running:1"] {
        assert!(tags.contains(&kept.to_string()), "{kept}: {tags:?}");
    }
    for gone in ["lab/ci:1", "lab/keep:1", "lab/busybox:latest"] {
        assert!(!tags.contains(&gone.to_string()), "{gone}: {tags:?}");
    }
}
