//! End-to-end proof that fleetprune is safe on a busy build farm (issue 18), on real sshd and
//! engines, with the engine's own CLI as the oracle. On every lab engine (Docker 20.10, 26, 28,
//! 26 and 28 with the containerd store, Podman rootful and rootless): orchestrators' objects stay
//! unless `--include-managed`; `--exited-for` and `--keep-exited` keep recently exited
//! containers; a busy guard (`--busy-if-running`, `--busy-check`) skips the host with class
//! `busy`. On the Docker engines only: a just-loaded image built long ago is young for
//! `--min-age`/`--unused-for` (the archive is built with `docker save`'s layout), and a BuildKit
//! build in progress survives `prune --system -a --build-cache` (Podman has no BuildKit and no
//! build cache).

mod common;

use std::process::Command;

use common::{Engine, Lab, json, json_host, lines, stderr};

common::on_each_engine!(
    docker only: [
        a_just_loaded_old_image_is_young_for_min_age_and_unused_for,
        a_buildkit_build_in_progress_survives_system_prune_with_build_cache,
    ],
    every engine: [
        orchestrators_objects_and_recently_exited_containers_stay_until_asked,
        busy_guard_skips_the_host_in_plan_prune_and_apply,
    ],
);

const HOST: &str = "host01";

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Does `docker inspect` (any object type) find `name` on the host?
fn exists(lab: &Lab, name: &str) -> bool {
    let output = Command::new("bash")
        .arg(common::repo_root().join("lab/docker.sh"))
        .arg(&lab.dir)
        .arg(HOST)
        .args(["inspect", name])
        .output()
        .expect("run lab/docker.sh");
    output.status.success()
}

fn run_json(lab: &Lab, args: &[&str], code: i32) -> serde_json::Value {
    let output = lab.fleetprune(args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        stderr(&output)
    );
    json(&output)
}

/// Names of the host's containers the engine's own `ps -a --filter` lists.
fn containers_where(lab: &Lab, filter: &str) -> Vec<String> {
    lines(&lab.docker(
        HOST,
        &["ps", "-a", "--filter", filter, "--format", "{{.Names}}"],
    ))
}

/// `--exited-for` keeps what exited within it (counted from the engine's FinishedAt), not what
/// never ran; `--keep-exited N` keeps the N last exited of each name stem.
fn recently_exited_containers_stay(lab: &Lab) {
    for name in ["build-1", "build-2", "build-3"] {
        lab.docker(
            HOST,
            &[
                "run",
                "--name",
                name,
                "--network",
                "none",
                "lab/busybox:latest",
                "true",
            ],
        );
    }
    let before = lab.container_names(HOST);
    let exited = containers_where(lab, "status=exited");
    let never_ran = containers_where(lab, "status=created");
    assert!(
        exited.len() >= 5 && !never_ran.is_empty(),
        "the seed's stopped containers: {before:?}"
    );
    // Every exited container exited during this lab's life, well within the hour.
    let prune = |extra: &[&str]| {
        let mut all = vec!["prune", "--containers", "--yes", "--output", "json"];
        all.extend_from_slice(extra);
        let report = run_json(lab, &all, 0);
        assert!(json_host(&report, HOST)["error"].is_null(), "{report}");
    };
    prune(&["--exited-for", "1h"]);
    let expected: Vec<String> = before
        .iter()
        .filter(|name| !never_ran.contains(name))
        .cloned()
        .collect();
    assert_eq!(lab.container_names(HOST), expected, "exited_for 1h");

    prune(&["--keep-exited", "1"]);
    let expected: Vec<String> = expected
        .into_iter()
        .filter(|name| name != "build-1" && name != "build-2")
        .collect();
    assert_eq!(lab.container_names(HOST), expected, "keep_exited 1");
}

fn orchestrators_objects_and_recently_exited_containers_stay_until_asked(engine: Engine) {
    let lab = Lab::start_on(engine, "managed", 1, &[]);
    recently_exited_containers_stay(&lab);
    // What kubelet (cri-dockerd), Nomad and Swarm leave behind, labelled as they label it.
    let managed = [
        ("k8s_app_pod", "io.kubernetes.pod.name=pod-1"),
        ("nomad-task", "com.hashicorp.nomad.alloc_id=a1"),
        ("svc.1.task", "com.docker.swarm.service.id=s1"),
    ];
    for (name, label) in managed {
        lab.docker(
            HOST,
            &["create", "--name", name, "--label", label, "lab/web:1"],
        );
    }
    lab.docker(
        HOST,
        &[
            "volume",
            "create",
            "--label",
            "io.kubernetes.pod.uid=u1",
            "kube-vol",
        ],
    );
    lab.docker(
        HOST,
        &[
            "network",
            "create",
            "--label",
            "com.hashicorp.nomad.alloc_id=a1",
            "nomad-net",
        ],
    );
    // A managed container's image stays with it, even when -a would take it.
    lab.docker(
        HOST,
        &[
            "create",
            "--name",
            "k8s_worker_pod",
            "--label",
            "io.kubernetes.pod.name=pod-2",
            "lab/worker:1",
        ],
    );

    let report = run_json(
        &lab,
        &[
            "prune",
            "--system",
            "-a",
            "--volumes",
            "--yes",
            "--output",
            "json",
        ],
        0,
    );
    let host = json_host(&report, HOST);
    let notes = host["notes"].to_string();
    assert!(
        notes.contains("Kubernetes, Nomad, Swarm objects seen"),
        "{notes}"
    );
    for name in [
        "k8s_app_pod",
        "nomad-task",
        "svc.1.task",
        "k8s_worker_pod",
        "kube-vol",
        "nomad-net",
        "lab/web:1",
        "lab/worker:1",
    ] {
        assert!(exists(&lab, name), "{name} must survive: {notes}");
    }
    // What no orchestrator manages went as usual.
    for name in [
        "lab-exited",
        "lab-failed",
        "lab-data",
        "lab-net-a",
        "lab/old:1",
    ] {
        assert!(!exists(&lab, name), "{name} should be pruned");
    }

    let report = run_json(
        &lab,
        &[
            "prune",
            "--system",
            "-a",
            "--volumes",
            "--include-managed",
            "--yes",
            "--output",
            "json",
        ],
        0,
    );
    assert!(json_host(&report, HOST).get("notes").is_none());
    for name in [
        "k8s_app_pod",
        "nomad-task",
        "svc.1.task",
        "k8s_worker_pod",
        "kube-vol",
        "nomad-net",
        "lab/web:1",
        "lab/worker:1",
    ] {
        assert!(
            !exists(&lab, name),
            "{name} should go with --include-managed"
        );
    }
}

fn error_of(report: &serde_json::Value) -> (String, String) {
    let error = &json_host(report, HOST)["error"];
    (
        error["class"].as_str().unwrap_or_default().to_string(),
        error["message"].as_str().unwrap_or_default().to_string(),
    )
}

fn busy_guard_skips_the_host_in_plan_prune_and_apply(engine: Engine) {
    let lab = Lab::start_on(engine, "busy", 1, &[]);
    let prune = ["prune", "--containers", "--yes", "--output", "json"];
    let with = |extra: &[&str]| -> Vec<String> {
        prune
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };

    // A CI job is running: the host is busy and nothing is pruned; exit 0 unless --fail-on-busy.
    lab.docker(
        HOST,
        &[
            "run",
            "-d",
            "--name",
            "ci-build-7",
            "--network",
            "none",
            "--label",
            "ci.job=build",
            "lab/busybox:latest",
            "sleep",
            "600",
        ],
    );
    let guard = with(&[
        "--busy-if-running",
        "name=nobody",
        "--busy-if-running",
        "label=ci.job=build",
    ]);
    let report = run_json(&lab, &args(&guard), 0);
    let (class, message) = error_of(&report);
    assert_eq!(class, "busy");
    assert_eq!(
        message,
        "running container ci-build-7 matches busy_if_running label=ci.job=build"
    );
    assert_eq!(json_host(&report, HOST)["status"], "skipped");
    assert!(exists(&lab, "lab-exited"), "nothing pruned on a busy host");
    let table = lab.fleetprune(&[
        "prune",
        "--containers",
        "--yes",
        "--busy-if-running",
        "label=ci.job=build",
    ]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = common::stdout(&table);
    assert!(text.contains("skipped (busy)"), "{text}");
    assert!(
        !text.contains("failed at"),
        "a busy host is no failure: {text}"
    );
    assert!(
        text.contains("Skipped hosts:\n")
            && text.contains("): skipped (busy): running container ci-build-7 matches"),
        "{text}"
    );
    let mut failing = guard.clone();
    failing.push("--fail-on-busy".into());
    let output = lab.fleetprune(&args(&failing));
    assert_ne!(
        output.status.code(),
        Some(0),
        "--fail-on-busy fails the run"
    );

    // plan says the same.
    let plan = run_json(
        &lab,
        &[
            "plan",
            "--containers",
            "--output",
            "json",
            "--busy-if-running",
            "label=ci.job=build",
        ],
        0,
    );
    assert_eq!(error_of(&plan).0, "busy");
    // apply of a plan made while idle re-checks and skips. Not on Podman: its compat `/info` ID
    // changes between requests, so apply refuses any plan there (docs/engines.md).
    if !engine.is_podman() {
        let saved = lab.dir.join("busy-plan.json");
        run_json(
            &lab,
            &[
                "plan",
                "--containers",
                "--output",
                "json",
                "--save",
                saved.to_str().unwrap(),
            ],
            0,
        );
        let applied = run_json(
            &lab,
            &[
                "apply",
                saved.to_str().unwrap(),
                "--yes",
                "--output",
                "json",
                "--busy-if-running",
                "label=ci.job=build",
            ],
            0,
        );
        assert_eq!(error_of(&applied).0, "busy");
        assert!(exists(&lab, "lab-exited"), "apply deleted nothing");
    }

    // busy_check: its first line is the reason; a missing command is busy too.
    let report = run_json(
        &lab,
        &args(&with(&[
            "--busy-check",
            "echo 'pipeline 42 running'; exit 1",
        ])),
        0,
    );
    assert_eq!(
        error_of(&report),
        ("busy".into(), "busy_check: pipeline 42 running".into())
    );
    let report = run_json(
        &lab,
        &args(&with(&["--busy-check", "no-such-busy-probe"])),
        0,
    );
    let (class, message) = error_of(&report);
    assert_eq!(class, "busy");
    assert!(message.contains("not found"), "{message}");
    assert!(exists(&lab, "lab-exited"));

    // The job ends, busy_check passes: the host is pruned.
    lab.docker(HOST, &["rm", "-f", "ci-build-7"]);
    let report = run_json(
        &lab,
        &args(&with(&[
            "--busy-if-running",
            "label=ci.job=build",
            "--busy-check",
            "true",
        ])),
        0,
    );
    assert!(json_host(&report, HOST)["error"].is_null(), "{report}");
    assert!(!exists(&lab, "lab-exited"));

    // A host whose sshd runs no command but the forced one: busy_check cannot say idle.
    lab.docker(HOST, &["create", "--name", "later", "lab/web:1"]);
    lab.force_command(HOST, "/bin/false");
    let report = run_json(&lab, &args(&with(&["--busy-check", "true"])), 0);
    let (class, message) = error_of(&report);
    assert_eq!(class, "busy", "{message}");
    assert!(exists(&lab, "later"));
}

/// Writes a `docker save` archive of `base` whose config says it was created in 2020, tagged
/// `tag`: an old image that arrives on the host now.
fn old_image_archive(lab: &Lab, base: &str, tag: &str) -> std::path::PathBuf {
    let work = lab.dir.join("old-image");
    std::fs::create_dir_all(&work).unwrap();
    let tar = work.join("base.tar");
    lab.docker(HOST, &["save", "-o", tar.to_str().unwrap(), base]);
    let script = r#"
set -euo pipefail
cd "$1"
rm -rf x && mkdir x && tar -xf base.tar -C x && cd x
python3 - "$2" <<'PY'
import hashlib, json, os, sys
manifest = json.load(open("manifest.json"))
entry = manifest[0]
config_path = entry["Config"]
config = json.load(open(config_path))
config["created"] = "2020-01-01T00:00:00Z"
data = json.dumps(config, separators=(",", ":")).encode()
digest = hashlib.sha256(data).hexdigest()
os.remove(config_path)
if config_path.startswith("blobs/"):
    new_path = "blobs/sha256/" + digest
else:
    new_path = digest + ".json"
open(new_path, "wb").write(data)
entry["Config"] = new_path
entry["RepoTags"] = [sys.argv[1]]
json.dump(manifest, open("manifest.json", "w"))
for name in ("index.json", "repositories", "oci-layout"):
    if os.path.exists(name):
        os.remove(name)
PY
tar -cf ../old.tar .
"#;
    let status = Command::new("bash")
        .args(["-c", script, "bash"])
        .arg(&work)
        .arg(tag)
        .status()
        .expect("run bash");
    assert!(status.success(), "building the old image archive");
    work.join("old.tar")
}

fn kept_reason(plan: &serde_json::Value, id_prefix: &str) -> Option<String> {
    json_host(plan, HOST)["kinds"]["images"]["kept"]
        .as_array()?
        .iter()
        .find(|k| k["id"].as_str().unwrap_or_default().starts_with(id_prefix))
        .map(|k| k["reason"].to_string())
}

fn doomed_ids(plan: &serde_json::Value) -> Vec<String> {
    json_host(plan, HOST)["kinds"]["images"]["doomed"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn a_just_loaded_old_image_is_young_for_min_age_and_unused_for(engine: Engine) {
    let lab = Lab::start_on(engine, "arrived", 1, &[]);
    let archive = old_image_archive(&lab, "lab/busybox:latest", "lab/arrived:2020");
    // fleetprune's first look at the host, before the image arrives: the plans after the load
    // are the first to see it, later than the daemon's load event or LastTagTime.
    run_json(&lab, &["plan", "--images", "--output", "json"], 0);
    lab.docker(HOST, &["load", "-i", archive.to_str().unwrap()]);
    let id = lab
        .docker(
            HOST,
            &["image", "inspect", "-f", "{{.Id}}", "lab/arrived:2020"],
        )
        .trim()
        .to_string();
    let created = lab.docker(
        HOST,
        &["image", "inspect", "-f", "{{.Created}}", "lab/arrived:2020"],
    );
    assert!(created.starts_with("2020-01-01"), "{created}");
    // Another tag keeps the busybox base itself out of the way.
    let plan_args = |extra: &[&str]| -> serde_json::Value {
        let mut all = vec![
            "plan",
            "--images",
            "-a",
            "-v",
            "--show-kept",
            "--output",
            "json",
        ];
        all.extend_from_slice(extra);
        run_json(&lab, &all, 0)
    };

    let plain = plan_args(&[]);
    assert!(
        doomed_ids(&plain).contains(&id),
        "without min_age the just-loaded unused image is in the plan"
    );
    let with_age = plan_args(&["--min-age", "24h"]);
    assert!(!doomed_ids(&with_age).contains(&id));
    let reason = kept_reason(&with_age, &id).expect("kept with a reason");
    assert!(
        reason.contains("first seen by fleetprune")
            && reason.contains("within min_age")
            && reason.contains("Created 2020-01-01"),
        "{reason}"
    );
    let with_use = plan_args(&["--unused-for", "14d"]);
    assert!(!doomed_ids(&with_use).contains(&id));
    let reason = kept_reason(&with_use, &id).expect("kept with a reason");
    assert!(reason.contains("within unused_for"), "{reason}");

    // The next pipeline step starts a few seconds later: a prune with min_age in between kept it.
    run_json(
        &lab,
        &[
            "prune",
            "--images",
            "-a",
            "--min-age",
            "24h",
            "--yes",
            "--output",
            "json",
        ],
        0,
    );
    assert!(exists(&lab, "lab/arrived:2020"));
    lab.docker(
        HOST,
        &[
            "run",
            "--name",
            "next-step",
            "--network",
            "none",
            "lab/arrived:2020",
            "true",
        ],
    );
}

fn a_buildkit_build_in_progress_survives_system_prune_with_build_cache(engine: Engine) {
    let lab = Lab::start_on(engine, "buildkit", 1, &[]);
    let context = lab.dir.join("slow-build");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM lab/busybox:latest\nRUN echo started-long-step && sleep 20 && echo built >/built\n",
    )
    .unwrap();
    let log_path = lab.dir.join("slow-build.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut build = Command::new("bash")
        .arg(common::repo_root().join("lab/docker.sh"))
        .arg(&lab.dir)
        .arg(HOST)
        .args([
            "build",
            "--network",
            "none",
            "--progress",
            "plain",
            "-t",
            "lab/slow:1",
        ])
        .arg(&context)
        .env("DOCKER_BUILDKIT", "1")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start the build");
    // The long RUN step is running once its first echo shows.
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("started-long-step") && !l.contains("RUN"))
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the build never reached its long step: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        if let Some(status) = build.try_wait().unwrap() {
            panic!(
                "the build ended early ({status}): {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let report = run_json(
        &lab,
        &[
            "prune",
            "--system",
            "-a",
            "--build-cache",
            "--yes",
            "--output",
            "json",
        ],
        0,
    );
    let status = build.wait().unwrap();
    let build_log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "the build failed: {build_log}");
    assert!(exists(&lab, "lab/slow:1"), "the build's image is there");

    // The prune ran every kind, and its report is the daemon's: what it lists is gone.
    let host = json_host(&report, HOST);
    assert!(host["error"].is_null(), "{host}");
    for kind in ["containers", "networks", "images", "build_cache"] {
        assert!(
            host["kinds"].get(kind).is_some(),
            "{kind} missing from {host}"
        );
    }
    for name in ["lab-exited", "lab/old:1", "lab-net-a"] {
        assert!(!exists(&lab, name), "{name} should be pruned");
    }
    let deleted = host["kinds"]["build_cache"]["deleted"].as_array().unwrap();
    assert!(
        !deleted.is_empty(),
        "the seed's idle build cache went: {host}"
    );
}
