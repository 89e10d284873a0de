//! End-to-end proof of `fleetprune plan` against the daemon's own answers: on each lab engine,
//! a sequence of option sets is planned (read-only) and then pruned for real with the same
//! options on the same host; the planned deleted and untagged objects must equal the daemon's
//! lists (`ContainersDeleted`, `ImagesDeleted`, ...), and the predicted bytes its
//! `SpaceReclaimed` (exactly on overlay2).

mod common;

use std::collections::BTreeSet;

use common::{Engine, Lab, json, json_host, stderr, stdout};

// One test per Docker engine of the lab (`common::on_each_engine!`). Podman's plans are proven
// in `tests/podman_e2e.rs` (volumes, images) against its own CLI, and its `apply` there.
common::on_each_engine!(
    plan_predicts_what_prune_deletes_kind_by_kind_and_filter_by_filter,
    apply_deletes_only_what_is_still_as_planned,
    keep_last_and_protect_decide_what_prune_deletes,
);

fn strings(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// What the plan says one kind's prune will report.
struct Predicted {
    deleted: BTreeSet<String>,
    untagged: BTreeSet<String>,
    bytes: u64,
    exact: bool,
}

fn predicted(kind: &serde_json::Value) -> Predicted {
    let doomed = kind["doomed"].as_array().unwrap();
    let mut deleted: BTreeSet<String> = doomed
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| {
            d["reported"]
                .as_str()
                .or(d["id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    deleted.extend(strings(&kind["freed_layers"]));
    let untagged = doomed
        .iter()
        .flat_map(|d| strings(&d["untagged"]))
        .collect();
    Predicted {
        deleted,
        untagged,
        bytes: kind["predicted_bytes"].as_u64().unwrap(),
        exact: kind["exact"].as_bool().unwrap(),
    }
}

/// Plans, then prunes with the same options on `host`; asserts agreement per kind and returns
/// the number of objects the prune removed.
fn plan_then_prune(lab: &Lab, engine: Engine, host: &str, args: &[&str]) -> usize {
    let mut plan_args = vec!["plan", "--output", "json", "--limit", host];
    plan_args.extend_from_slice(args);
    let plan = lab.fleetprune(&plan_args);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "plan {args:?}: {}",
        stderr(&plan)
    );
    let plan = json(&plan);
    let mut prune_args = vec!["prune", "--yes", "--output", "json", "--limit", host];
    prune_args.extend_from_slice(args);
    let prune = lab.fleetprune(&prune_args);
    assert_eq!(
        prune.status.code(),
        Some(0),
        "prune {args:?}: {}",
        stderr(&prune)
    );
    let prune = json(&prune);
    let planned = &json_host(&plan, host)["kinds"];
    let actual = &json_host(&prune, host)["kinds"];
    let mut removed = 0;
    for (kind, report) in actual.as_object().unwrap() {
        let want = predicted(&planned[kind]);
        let deleted = strings(&report["deleted"]);
        let untagged = strings(&report["untagged"]);
        let bytes = report["reclaimed_bytes"].as_u64().unwrap();
        removed += deleted.len() + untagged.len();
        let containerd_images = engine.containerd_store() && kind.as_str() == "images";
        assert_eq!(want.untagged, untagged, "{args:?} {kind}: untagged");
        if containerd_images {
            // The containerd store reports freed blobs (layers, configs, manifests), which the
            // Engine API does not list: each planned deletion's manifest must be among them.
            assert!(
                want.deleted.is_subset(&deleted),
                "{args:?} {kind}: planned {:?} not all in {deleted:?}",
                want.deleted.difference(&deleted).collect::<Vec<_>>()
            );
            assert!(
                !want.exact,
                "{args:?}: containerd image bytes are estimates"
            );
            let (low, high) = (bytes.min(want.bytes), bytes.max(want.bytes));
            assert!(
                high - low <= high / 20 + 64 * 1024,
                "{args:?} {kind}: predicted ≈{} vs reclaimed {bytes}",
                want.bytes
            );
        } else {
            assert_eq!(want.deleted, deleted, "{args:?} {kind}: deleted");
            assert_eq!(want.bytes, bytes, "{args:?} {kind}: bytes");
        }
    }
    removed
}

fn docker_time(lab: &Lab, host: &str, args: &[&str]) -> String {
    lab.docker(host, args).trim().to_string()
}

fn plan_predicts_what_prune_deletes_kind_by_kind_and_filter_by_filter(engine: Engine) {
    let lab = Lab::start_on(engine, "plan", 1, &[]);
    let host = "host01";

    // Dangling images only.
    assert!(plan_then_prune(&lab, engine, host, &["--images"]) > 0);

    // label= on containers: only the one labelled keep=true.
    assert_eq!(
        plan_then_prune(
            &lab,
            engine,
            host,
            &["--containers", "--filter", "label=keep=true"]
        ),
        1
    );

    // until as a Unix timestamp with nanoseconds, exactly a container's creation time: that
    // container is at the cutoff and goes; newer ones stay.
    let created = docker_time(
        &lab,
        host,
        &["inspect", "--format", "{{.Created}}", "lab-exited"],
    );
    let created: jiff::Timestamp = created.parse().unwrap();
    let unix = format!(
        "until={}.{:09}",
        created.as_second(),
        created.subsec_nanosecond()
    );
    assert!(plan_then_prune(&lab, engine, host, &["--containers", "--filter", &unix]) >= 1);

    // label! on networks: lab-net-b (keep=true) stays.
    assert_eq!(
        plan_then_prune(
            &lab,
            engine,
            host,
            &["--networks", "--filter", "label!=keep"]
        ),
        1
    );

    // All unused images up to one image's build time (RFC 3339 with nanoseconds), except
    // those labelled keep=true.
    let built = docker_time(
        &lab,
        host,
        &["image", "inspect", "--format", "{{.Created}}", "lab/old:1"],
    );
    let until = format!("until={built}");
    plan_then_prune(
        &lab,
        engine,
        host,
        &[
            "--images",
            "-a",
            "--filter",
            &until,
            "--filter",
            "label!=keep=true",
        ],
    );

    // Volumes: anonymous only on API >= 1.42, then named ones too.
    plan_then_prune(&lab, engine, host, &["--volumes"]);
    plan_then_prune(
        &lab,
        engine,
        host,
        &["--volumes", "-a", "--filter", "label!=keep"],
    );

    // Build cache by last use, as a duration (the only form API 1.41 takes).
    std::thread::sleep(std::time::Duration::from_secs(2));
    plan_then_prune(
        &lab,
        engine,
        host,
        &["--build-cache", "--filter", "until=1s"],
    );

    // A zone-less local date-time in the daemon's zone, a minute ahead: everything so far.
    let now = docker_time(&lab, host, &["info", "--format", "{{.SystemTime}}"]);
    let now: jiff::Timestamp = now.parse().unwrap();
    let local = (now + jiff::SignedDuration::from_secs(60))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("until=%Y-%m-%dT%H:%M:%S")
        .to_string();
    // (API 1.41 takes only a duration for build cache, so 20.10 leaves it out here.)
    let mut args = vec!["--system", "-a", "--filter", &local];
    if engine != Engine::Docker20 {
        args.push("--build-cache");
    }
    plan_then_prune(&lab, engine, host, &args);

    // Finally every kind, everything: what is left is what the plan said would be kept.
    plan_then_prune(
        &lab,
        engine,
        host,
        &["--system", "--volumes", "--build-cache", "-a"],
    );
    assert_eq!(lab.image_tags(host), ["lab/inuse-running:1"]);
    assert_eq!(lab.container_names(host), ["lab-running"]);
}

#[test]
fn plan_table_for_a_mixed_fleet_marks_estimates_and_changes_nothing() {
    let lab = Lab::start_engines(
        "planmix",
        &[
            Engine::Docker20,
            Engine::Docker26,
            Engine::Docker26Containerd,
        ],
        &[],
    );
    let before: Vec<Vec<String>> = lab.hosts.iter().map(|h| lab.image_tags(h)).collect();
    let run = lab.fleetprune(&["plan", "--system", "--volumes", "--build-cache", "-a"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let table = stdout(&run);
    println!("{table}");
    let row = |host: &str| {
        table
            .lines()
            .find(|l| l.starts_with(host))
            .unwrap_or_else(|| panic!("no {host} row:\n{table}"))
            .to_string()
    };
    assert!(row("host01").contains("graphdriver"), "{table}");
    assert!(row("host03").contains("containerd"), "{table}");
    assert!(row("host03").contains('≈'), "{table}");
    assert!(table.contains("Predicted reclaimable space: ≈"), "{table}");
    assert!(table.contains("nothing was deleted"), "{table}");
    // prune --check (and --dry-run) is the same read-only plan.
    let run = lab.fleetprune(&["prune", "--images", "-a", "--check", "-o", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    assert_eq!(report["command"], "plan");
    assert!(report["totals"]["objects"].as_u64().unwrap() > 0);
    let after: Vec<Vec<String>> = lab.hosts.iter().map(|h| lab.image_tags(h)).collect();
    assert_eq!(before, after, "a plan deletes nothing");

    // --save writes each host's identity and objects by ID.
    let saved = lab.dir.join("plan.json");
    let run = lab.fleetprune(&[
        "plan",
        "--images",
        "-a",
        "--save",
        saved.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(file["plan_file_version"], 1);
    let hosts = file["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        assert!(
            host["host_key_fingerprint"]
                .as_str()
                .unwrap()
                .starts_with("SHA256:")
        );
        assert!(!host["engine_id"].as_str().unwrap().is_empty());
        let images = &host["plan"]["kinds"][0];
        assert_eq!(images["kind"], "images");
        assert!(!images["doomed"].as_array().unwrap().is_empty());
    }
}

/// The `skipped` entries of one kind of an apply report, as `name: why`.
fn skipped(report: &serde_json::Value, host: &str, kind: &str) -> Vec<String> {
    json_host(report, host)["kinds"][kind]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["name"].as_str().unwrap(),
                s["reason"]["why"].as_str().unwrap()
            )
        })
        .collect()
}

fn apply_deletes_only_what_is_still_as_planned(engine: Engine) {
    let lab = Lab::start_on(engine, "apply", 1, &[]);
    let host = "host01";
    let saved = lab.dir.join("plan.json");
    let saved = saved.to_str().unwrap();
    let plan = lab.fleetprune(&["plan", "--containers", "--images", "-a", "--save", saved]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));

    // A plan made for another engine is refused on this host, which keeps everything.
    let text = std::fs::read_to_string(saved).unwrap();
    let forged_path = lab.dir.join("forged.json");
    let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
    forged["hosts"][0]["engine_id"] = "SOMEONE-ELSE".into();
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let run = lab.fleetprune(&[
        "apply",
        forged_path.to_str().unwrap(),
        "--yes",
        "-o",
        "json",
    ]);
    // Its only host failed: exit 3.
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert_eq!(
        json_host(&json(&run), host)["error"]["class"],
        "plan_mismatch"
    );
    // So is a plan made for a host with another SSH host key, before its engine is reached.
    let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
    forged["hosts"][0]["host_key_fingerprint"] = "SHA256:someone-else".into();
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let run = lab.fleetprune(&[
        "apply",
        forged_path.to_str().unwrap(),
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let report = json(&run);
    let error = &json_host(&report, host)["error"];
    assert_eq!(error["class"], "plan_mismatch", "{error}");
    assert_eq!(error["stage"], "host_key", "{error}");
    assert!(lab.image_tags(host).contains(&"lab/app:1".to_string()));

    // Between plan and apply: a container is created on a planned image, a tag is moved onto
    // another planned image, a planned container is removed by someone else.
    lab.docker(
        host,
        &["create", "--name", "late", "--network", "none", "lab/ci:1"],
    );
    lab.docker(host, &["tag", "lab/keep:1", "lab/old:1"]);
    lab.docker(host, &["rm", "lab-exited"]);

    let run = lab.fleetprune(&["apply", saved, "--yes", "-o", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    assert_eq!(
        skipped(&report, host, "containers"),
        ["lab-exited: already_gone"]
    );
    // Kept too: the untagged parents of those two (classic builder), because their child stays.
    let images = skipped(&report, host, "images");
    let (named, parents): (Vec<&String>, Vec<&String>) =
        images.iter().partition(|s| s.starts_with("lab/"));
    let mut named: Vec<&str> = named.iter().map(|s| s.as_str()).collect();
    named.sort();
    assert_eq!(named, ["lab/ci:1: in_use_now", "lab/keep:1: changed"]);
    assert!(
        parents.iter().all(|p| p.ends_with(": changed")),
        "{images:?}"
    );
    let tags = lab.image_tags(host);
    for kept in ["lab/ci:1", "lab/keep:1", "lab/old:1", "lab/inuse-running:1"] {
        assert!(
            tags.contains(&kept.to_string()),
            "{kept} must stay: {tags:?}"
        );
    }
    for gone in ["lab/app:1", "lab/web:1", "lab/worker:1", "lab/rebuild:1"] {
        assert!(
            !tags.contains(&gone.to_string()),
            "{gone} was planned: {tags:?}"
        );
    }
    assert_eq!(lab.container_names(host), ["lab-running", "late"]);
    let totals = &report["totals"];
    assert!(totals["reclaimed_bytes"].as_u64().unwrap() > 0);

    // An old plan is refused before any host is contacted.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let run = lab.fleetprune(&["apply", saved, "--yes", "--max-age", "1s"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("more than --max-age"),
        "{}",
        stderr(&run)
    );
}

fn keep_last_and_protect_decide_what_prune_deletes(engine: Engine) {
    let lab = Lab::start_on(engine, "policy", 1, &[]);
    let host = "host01";
    // One repository with three images, built in the order keep < ci < rebuild.
    for (from, to) in [
        ("lab/keep:1", "lab/svc:a"),
        ("lab/ci:1", "lab/svc:b"),
        ("lab/rebuild:1", "lab/svc:c"),
    ] {
        lab.docker(host, &["tag", from, to]);
        lab.docker(host, &["rmi", from]);
    }
    let tags = |lab: &Lab| lab.image_tags(host);

    // The plan says why each stays.
    let run = lab.fleetprune(&["plan", "--images", "-a", "--keep-last", "2", "--show-kept"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(
        stdout(&run).contains("kept by keep_last"),
        "{}",
        stdout(&run)
    );

    let run = lab.fleetprune(&[
        "prune",
        "--images",
        "-a",
        "--keep-last",
        "2",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    // A policy prune deletes by ID: its report has planned and actual figures.
    let images = &json_host(&report, host)["kinds"]["images"];
    assert!(images["planned"].as_u64().unwrap() > 0, "{images}");
    let after = tags(&lab);
    assert!(!after.contains(&"lab/svc:a".to_string()), "{after:?}");
    for kept in [
        "lab/svc:b",
        "lab/svc:c",
        "lab/app:1",
        "lab/web:1",
        "lab/inuse-running:1",
    ] {
        assert!(after.contains(&kept.to_string()), "{kept}: {after:?}");
    }

    // protect: globs on references.
    let run = lab.fleetprune(&[
        "prune",
        "--images",
        "-a",
        "--protect",
        "lab/app*",
        "--protect",
        "*:b",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let after = tags(&lab);
    for kept in [
        "lab/app:1",
        "lab/app:latest",
        "lab/app-alias:1",
        "lab/svc:b",
        "lab/inuse-running:1",
    ] {
        assert!(after.contains(&kept.to_string()), "{kept}: {after:?}");
    }
    for gone in ["lab/svc:c", "lab/buildkit:1"] {
        assert!(!after.contains(&gone.to_string()), "{gone}: {after:?}");
    }
}

#[test]
fn rmi_removes_references_fleet_wide_and_keeps_images_in_use() {
    let lab = Lab::start_engines(
        "rmi",
        &[
            Engine::Docker20,
            Engine::Docker26,
            Engine::Docker26Containerd,
        ],
        &[],
    );
    // lab/app:1 has two more tags (untag only); lab/old:1 is used by a stopped container,
    // lab/inuse-running:1 by a running one.
    let run = lab.fleetprune(&[
        "rmi",
        "lab/app:1",
        "lab/ci:1",
        "lab/old:1",
        "lab/inuse-running:1",
        "--yes",
        "-o",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    for host in &lab.hosts {
        let tags = lab.image_tags(host);
        for gone in ["lab/app:1", "lab/ci:1"] {
            assert!(
                !tags.contains(&gone.to_string()),
                "{host}: {gone}: {tags:?}"
            );
        }
        for kept in ["lab/app:latest", "lab/old:1", "lab/inuse-running:1"] {
            assert!(tags.contains(&kept.to_string()), "{host}: {kept}: {tags:?}");
        }
        let skipped: Vec<String> = json_host(&report, host)["kinds"]["images"]["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reason"]["why"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(skipped, ["in_use_now", "in_use_now"], "{host}");
    }

    // --remove-in-use takes the stopped container's image, never the running one's.
    let run = lab.fleetprune(&[
        "rmi",
        "lab/old:1",
        "lab/inuse-running:1",
        "--remove-in-use",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for host in &lab.hosts {
        let tags = lab.image_tags(host);
        assert!(!tags.contains(&"lab/old:1".to_string()), "{host}: {tags:?}");
        assert!(tags.contains(&"lab/inuse-running:1".to_string()), "{host}");
        assert!(
            lab.container_names(host)
                .contains(&"lab-running".to_string())
        );
    }
}

/// The info lines of one host's plan, all kinds.
fn plan_info(report: &serde_json::Value, host: &str) -> Vec<String> {
    json_host(report, host)["kinds"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|k| strings(&k["info"]))
        .collect()
}

/// Docker's usage as a max_usage note states it (`docker uses 28.31MB, ...`).
fn stated_usage(info: &[String]) -> u64 {
    let text = info
        .iter()
        .find_map(|i| i.strip_prefix("docker uses "))
        .unwrap_or_else(|| panic!("no usage in {info:?}"));
    let size = text.split(',').next().unwrap();
    fleetprune::plan::policy::parse_size(size).unwrap()
}

#[test]
fn max_usage_prunes_a_host_down_to_the_low_mark_and_leaves_it_alone_after() {
    let lab = Lab::start_on(Engine::Docker26, "maxusage", 1, &[]);
    let host = "host01";
    let args = [
        "--system",
        "--build-cache",
        "-a",
        "--max-usage",
        "22MB:15MB",
    ];
    let mut plan_args = vec!["plan", "-o", "json"];
    plan_args.extend_from_slice(&args);
    let run = lab.fleetprune(&plan_args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let info = plan_info(&json(&run), host);
    assert!(info[0].contains("over max_usage 22MB"), "{info:?}");
    let mut prune_args = vec!["prune", "--yes", "-o", "json"];
    prune_args.extend_from_slice(&args);
    let run = lab.fleetprune(&prune_args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    // Deleted by ID, children before parents: everything planned went, and freed what it said.
    let totals = &json(&run)["totals"];
    assert_eq!(
        totals["planned_objects"], totals["done_objects"],
        "{totals}"
    );
    assert_eq!(
        totals["planned_bytes"], totals["reclaimed_bytes"],
        "{totals}"
    );
    // Afterwards a second run leaves the host alone. (The low mark is approached, not met
    // exactly: layers BuildKit held for deleted images count as build cache afterwards.)
    let run = lab.fleetprune(&plan_args);
    let report = json(&run);
    let info = plan_info(&report, host);
    assert!(info[0].contains("left alone"), "{info:?}");
    assert!(stated_usage(&info) <= 22_000_000, "{info:?}");
    assert!(
        lab.image_tags(host)
            .contains(&"lab/inuse-running:1".to_string())
    );
    assert_eq!(report["totals"]["objects"], 0);
}

/// The percentage a threshold note states (`... is 45% used (...)`).
fn stated_percent(note: &str) -> u64 {
    let used = note
        .split(" is ")
        .nth(1)
        .unwrap_or_else(|| panic!("{note}"));
    used.split('%').next().unwrap().parse().unwrap()
}

#[test]
fn threshold_prunes_the_filesystem_down_to_the_low_mark_and_fails_closed_without_df() {
    // host01's docker root is a 64 MiB filesystem of its own (overlay2 layers and all), so its
    // df is small and exact; host02's sshd runs /bin/false for any command (ForceCommand):
    // the Docker socket is still forwarded, but df cannot run there.
    let lab = Lab::start_engines_with(
        "threshold",
        &[Engine::Docker26, Engine::Docker26],
        &[],
        &["--small-root", "host01=64m"],
    );
    lab.force_command("host02", "/bin/false");
    let host02_before = (lab.container_names("host02"), lab.image_tags("host02"));
    let root = lab.docker("host01", &["info", "--format", "{{.DockerRootDir}}"]);
    let root = root.trim();
    let (size, used, _, capacity) = lab.df("host01", root);
    assert!(
        capacity > 40,
        "the seeded host01 should be over 40% used, df says {capacity}%"
    );

    let args = ["--system", "--build-cache", "-a", "--threshold", "40%:35%"];
    let mut plan_args = vec!["plan", "-o", "json"];
    plan_args.extend_from_slice(&args);
    let run = lab.fleetprune(&plan_args);
    assert_eq!(run.status.code(), Some(1), "host02 fails: {}", stderr(&run));
    let report = json(&run);
    // Before: the plan's figures are the host's own df.
    let info = plan_info(&report, "host01");
    assert_eq!(info.len(), 1, "{info:?}");
    let note = &info[0];
    assert!(
        note.starts_with(&format!("filesystem of {root} (mounted on {root}) is ")),
        "{note}"
    );
    assert_eq!(stated_percent(note), capacity, "{note}");
    assert!(note.contains("over threshold 40%: after this ≈"), "{note}");
    assert!(note.ends_with("(low mark 35%)"), "{note}");
    let facts = &json_host(&report, "host01")["facts"]["filesystem"];
    assert_eq!(facts["size"], size, "{facts}");
    assert!(
        facts["used"].as_u64().unwrap().abs_diff(used) < 1 << 20,
        "{facts} vs {used}"
    );
    let host02 = &json_host(&report, "host02")["error"];
    assert_eq!(host02["class"], "filesystem_unknown", "{host02}");
    assert_eq!(host02["stage"], "plan", "{host02}");

    let mut prune_args = vec!["prune", "--yes", "-o", "json"];
    prune_args.extend_from_slice(&args);
    let run = lab.fleetprune(&prune_args);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report = json(&run);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["status"], "ok", "{host01}");
    // After: the host's df is at or under the low mark.
    let (_, _, _, after) = lab.df("host01", root);
    assert!(
        after <= 35,
        "df says {after}% after the prune; the plan said {note}"
    );
    // host02 failed before anything was deleted.
    assert_eq!(
        json_host(&report, "host02")["error"]["class"],
        "filesystem_unknown"
    );
    assert_eq!(
        (lab.container_names("host02"), lab.image_tags("host02")),
        host02_before
    );
    assert!(
        lab.image_tags("host01")
            .contains(&"lab/inuse-running:1".to_string())
    );

    // A second plan leaves host01 alone.
    let run = lab.fleetprune(&[&plan_args[..], &["--limit", "host01"]].concat());
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let info = plan_info(&report, "host01");
    assert!(
        info[0].ends_with("under threshold 40%: left alone"),
        "{info:?}"
    );
    assert_eq!(stated_percent(&info[0]), after, "{info:?}");
    assert_eq!(report["totals"]["objects"], 0);
}

#[test]
fn unused_for_remembers_images_fleetprune_saw_in_use() {
    let lab = Lab::start_on(Engine::Docker20, "unused", 1, &[]);
    let host = "host01";
    // Everything seeded is now older than 15 s; fleetprune then sees lab-exited on its image.
    std::thread::sleep(std::time::Duration::from_secs(16));
    let run = lab.fleetprune(&["plan", "--images", "-a"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    lab.docker(host, &["rm", "lab-exited"]);
    let run = lab.fleetprune(&["prune", "--images", "-a", "--unused-for", "15s", "--yes"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let tags = lab.image_tags(host);
    // No container uses it any more, but fleetprune saw one seconds ago.
    assert!(
        tags.contains(&"lab/inuse-stopped:1".to_string()),
        "{tags:?}"
    );
    // Never used and built more than 15 s ago: gone.
    assert!(!tags.contains(&"lab/ci:1".to_string()), "{tags:?}");
}
