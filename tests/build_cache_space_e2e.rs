//! End-to-end test of the build-cache size controls on live daemons: Docker 28.5 (API 1.51,
//! `reserved-space` / `max-used-space` / `min-free-space`) and Docker 26.1 (API 1.45,
//! `keep-storage` only), each against its own `docker builder prune` on a twin host.

mod common;

use common::{Engine, Lab, json, json_host, stderr};
use fleetprune::human_size::human_size;

/// The number of build-cache records `docker system df` counts on `host`.
fn cache_count(lab: &Lab, host: &str) -> usize {
    lab.docker(
        host,
        &["system", "df", "--format", "{{.Type}} {{.TotalCount}}"],
    )
    .lines()
    .find_map(|l| l.strip_prefix("Build Cache "))
    .map(|n| n.trim().parse::<usize>().unwrap())
    .unwrap()
}

/// The value of docker's `Total reclaimed space: 16.43MB` line.
fn docker_total(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("no total in docker output:\n{output}"))
        .trim()
        .to_string()
}

/// `docker builder prune` through `/build/prune` itself (not buildx), as fleetprune does: the
/// 26 client's `--keep-storage`.
fn docker_builder_prune(lab: &Lab, host: &str, args: &[&str]) -> String {
    let mut all = vec!["builder", "prune", "-f"];
    all.extend_from_slice(args);
    lab.docker_env(host, &[("DOCKER_BUILDKIT", "0")], &all)
}

/// `docker buildx prune` (buildx 0.29 on the 28 host: the size flags exist only there; the
/// legacy `builder prune` of the 28 client has none), and the total it prints (`Total: 1.2MB`).
fn docker_buildx_prune(lab: &Lab, host: &str, args: &[&str]) -> String {
    let mut all = vec!["buildx", "prune", "-f"];
    all.extend_from_slice(args);
    let output = lab.docker(host, &all);
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Total:"))
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| "0B".to_string())
}

fn fleetprune_cache(lab: &Lab, host: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "prune",
        "--build-cache",
        "--yes",
        "--output",
        "json",
        "--limit",
        host,
    ];
    all.extend_from_slice(args);
    lab.fleetprune(&all)
}

#[test]
fn build_cache_size_controls_match_docker_builder_prune_on_26_and_28() {
    let lab = Lab::start_engines(
        "cache-space",
        &[
            Engine::Docker28,
            Engine::Docker28,
            Engine::Docker26,
            Engine::Docker26,
        ],
        &[],
    );
    let before = cache_count(&lab, "host01");
    assert!(before > 0, "the seed leaves build cache");

    // 28: a cap larger than the cache removes nothing, on both hosts.
    let run = fleetprune_cache(&lab, "host01", &["--max-used-space", "10GB"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    docker_buildx_prune(&lab, "host02", &["--max-used-space", "10GB"]);
    assert_eq!(cache_count(&lab, "host01"), before);
    assert_eq!(cache_count(&lab, "host02"), before);

    // 28: a 1-byte cap: the daemon removes unused records until within it.
    let run = fleetprune_cache(&lab, "host01", &["--max-used-space", "1"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let docker = docker_buildx_prune(&lab, "host02", &["--max-used-space", "1"]);
    let report = json(&run);
    let reclaimed = json_host(&report, "host01")["kinds"]["build_cache"]["reclaimed_bytes"]
        .as_u64()
        .unwrap();
    assert_eq!(human_size(reclaimed), docker);
    // The same bytes go; which zero-size records BuildKit drops with them varies from daemon to
    // daemon (seen: 3 records left on one twin, 4 on the other), so the counts only both fall.
    assert!(cache_count(&lab, "host01") < before);
    assert!(cache_count(&lab, "host02") < before);

    // 26: max-used-space needs API 1.48: the host fails at plan, nothing deleted.
    let before_26 = cache_count(&lab, "host03");
    let run = fleetprune_cache(&lab, "host03", &["--max-used-space", "1"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let report = json(&run);
    let error = &json_host(&report, "host03")["error"];
    assert_eq!(error["stage"], "plan", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("needs API 1.48"),
        "{error}"
    );
    assert_eq!(cache_count(&lab, "host03"), before_26);

    // 26: --reserved-space goes as keep-storage, as `docker builder prune --keep-storage`.
    let run = fleetprune_cache(&lab, "host03", &["--reserved-space", "1"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let docker = docker_builder_prune(&lab, "host04", &["--keep-storage", "1"]);
    let report = json(&run);
    let reclaimed = json_host(&report, "host03")["kinds"]["build_cache"]["reclaimed_bytes"]
        .as_u64()
        .unwrap();
    assert_eq!(human_size(reclaimed), docker_total(&docker));
    // As on 28: the same bytes, record counts that only both fall (seen: 4 left beside 3).
    assert!(cache_count(&lab, "host03") < before_26);
    assert!(cache_count(&lab, "host04") < before_26);
}
