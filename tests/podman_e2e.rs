//! End-to-end tests of what fleetprune does differently on Podman (rootful and rootless lab
//! hosts): it is detected, `--volumes` without `-a` never removes a named volume (Podman's own
//! `/volumes/prune` would), and build cache is a kind the engine does not have, not a failure.
//! Podman's own CLI on a twin host is the oracle.

mod common;

use common::twins::prune_json;
use common::{Engine, Lab, json, json_host, stderr, stdout};

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
