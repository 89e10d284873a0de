//! The twin-host oracle: fleetprune prunes one lab host, the engine's own CLI prunes its twin
//! (seeded alike), and what each says it freed and what each leaves must agree. These run the
//! two sides and read their answers in the terms they share (a JSON report's bytes, docker's
//! `Total reclaimed space:` line, `docker system df`'s counts).

use std::process::Output;

use super::{Lab, json, json_host, stderr};

/// A byte count in a JSON report.
pub fn bytes(value: &serde_json::Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a byte count: {value}"))
}

/// A JSON report's reclaimed bytes for one kind on one host.
pub fn kind_bytes(report: &serde_json::Value, host: &str, kind: &str) -> u64 {
    bytes(&json_host(report, host)["kinds"][kind]["reclaimed_bytes"])
}

/// Runs `fleetprune prune` on one host with `args` plus `--yes --output json`, however it ends.
pub fn prune_run(lab: &Lab, host: &str, args: &[&str]) -> Output {
    let mut all = vec!["prune", "--yes", "--output", "json", "--limit", host];
    all.extend_from_slice(args);
    lab.fleetprune(&all)
}

/// [`prune_run`], asserting exit 0; its JSON report.
pub fn prune_json(lab: &Lab, host: &str, args: &[&str]) -> serde_json::Value {
    let run = prune_run(lab, host, args);
    assert_eq!(run.status.code(), Some(0), "{args:?}: {}", stderr(&run));
    json(&run)
}

/// The value of docker's `Total reclaimed space: 16.43MB` line.
pub fn docker_total(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("no total in docker output:\n{output}"))
        .trim()
        .to_string()
}

/// `docker builder prune -f ARGS` through `/build/prune` itself, as fleetprune does, not through
/// buildx (which `docker builder` runs on 26, and which takes only a duration for `until` and no
/// `--keep-storage`); docker's output.
pub fn docker_builder_prune(lab: &Lab, host: &str, args: &[&str]) -> String {
    let mut all = vec!["builder", "prune", "-f"];
    all.extend_from_slice(args);
    lab.docker_env(host, &[("DOCKER_BUILDKIT", "0")], &all)
}

/// The number of build-cache records `docker system df` counts on `host`.
pub fn build_cache_count(lab: &Lab, host: &str) -> usize {
    lab.docker(
        host,
        &["system", "df", "--format", "{{.Type}} {{.TotalCount}}"],
    )
    .lines()
    .find_map(|l| l.strip_prefix("Build Cache "))
    .map(|n| n.trim().parse::<usize>().unwrap())
    .unwrap()
}
