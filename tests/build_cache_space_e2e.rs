//! End-to-end test of the build-cache size controls on live daemons: Docker 28.5 (API 1.51,
//! `reserved-space` / `max-used-space` / `min-free-space`) and Docker 26.1 (API 1.45,
//! `keep-storage` only), each against its own `docker builder prune` on a twin host.

mod common;

use common::twins::{
    build_cache_count, docker_builder_prune, docker_total, kind_bytes, prune_json, prune_run,
};
use common::{Engine, Lab, json, json_host, stderr};
use fleetprune::human_size::human_size;

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
    let before = build_cache_count(&lab, "host01");
    assert!(before > 0, "the seed leaves build cache");

    // 28: a cap larger than the cache removes nothing, on both hosts.
    prune_json(
        &lab,
        "host01",
        &["--build-cache", "--max-used-space", "10GB"],
    );
    docker_buildx_prune(&lab, "host02", &["--max-used-space", "10GB"]);
    assert_eq!(build_cache_count(&lab, "host01"), before);
    assert_eq!(build_cache_count(&lab, "host02"), before);

    // 28: a 1-byte cap: the daemon removes unused records until within it.
    let report = prune_json(&lab, "host01", &["--build-cache", "--max-used-space", "1"]);
    let docker = docker_buildx_prune(&lab, "host02", &["--max-used-space", "1"]);
    assert_eq!(
        human_size(kind_bytes(&report, "host01", "build_cache")),
        docker
    );
    // The same bytes go; which zero-size records BuildKit drops with them varies from daemon to
    // daemon (seen: 3 records left on one twin, 4 on the other), so the counts only both fall.
    assert!(build_cache_count(&lab, "host01") < before);
    assert!(build_cache_count(&lab, "host02") < before);

    // 26: max-used-space needs API 1.48: the host fails at plan, nothing deleted.
    let before_26 = build_cache_count(&lab, "host03");
    let run = prune_run(&lab, "host03", &["--build-cache", "--max-used-space", "1"]);
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
    assert_eq!(build_cache_count(&lab, "host03"), before_26);

    // 26: --reserved-space goes as keep-storage, as `docker builder prune --keep-storage`.
    let report = prune_json(&lab, "host03", &["--build-cache", "--reserved-space", "1"]);
    let docker = docker_builder_prune(&lab, "host04", &["--keep-storage", "1"]);
    assert_eq!(
        human_size(kind_bytes(&report, "host03", "build_cache")),
        docker_total(&docker)
    );
    // As on 28: the same bytes, record counts that only both fall (seen: 4 left beside 3).
    assert!(build_cache_count(&lab, "host03") < before_26);
    assert!(build_cache_count(&lab, "host04") < before_26);
}
