//! End-to-end tests on a real lab fleet: OpenSSH sshd and real Docker Engines started by
//! `lab/up.sh`. Each test owns its hosts and asserts what was removed and what was kept. Every
//! test that asserts prune or df results runs on each lab engine (20.10, 26 and 28 with overlay2,
//! 26 and 28 with the containerd image store, Podman rootful and rootless), with that engine's
//! own CLI (docker, podman) as the oracle.

mod common;

use common::twins::{
    build_cache_count, bytes, docker_builder_prune, docker_total, kind_bytes, prune_json, prune_run,
};
use common::{Engine, Lab, json, json_host, keygen, lines, stderr, stdout, write_file};
use fleetprune::human_size::human_size;

// One test per lab engine (`docker_20_10::NAME` ... `podman_rootless::NAME`, see
// `common::on_each_engine!`). The Docker-only ones compare with docker's own CLI where Podman has
// no equivalent (no build cache; `podman volume prune` removes named volumes); Podman's prunes are
// proven against Podman's own CLI in `tests/podman_e2e.rs`.
common::on_each_engine!(
    docker only: [
        system_and_volume_prune_match_docker_on_twin_hosts,
        build_cache_until_timestamp_matches_docker_builder_prune,
        label_and_until_filters_protect_what_they_name,
    ],
    every engine: [
        exec_fallback_prunes_dangling_images_through_dial_stdio,
        wrong_host_key_and_unreachable_host_fail_alone,
        df_matches_docker_system_df,
    ],
);

fn system_and_volume_prune_match_docker_on_twin_hosts(engine: Engine) {
    let lab = Lab::start_on(engine, "twins", 3, &[]);
    let args = ["prune", "--system", "--build-cache", "-a", "--yes"];

    let json_run =
        lab.fleetprune(&[&args[..], &["--limit", "host01", "--output", "json"]].concat());
    assert_eq!(json_run.status.code(), Some(0), "{}", stderr(&json_run));
    let docker_run = lab.docker("host02", &["system", "prune", "-af"]);
    let table_run = lab.fleetprune(&[&args[..], &["--limit", "host03"]].concat());
    assert_eq!(table_run.status.code(), Some(0), "{}", stderr(&table_run));

    // The bytes fleetprune reports are the daemon's, equal to what docker's own CLI reports.
    let report = json(&json_run);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["status"], "ok");
    assert_eq!(host01["transport"], "stream-local");
    assert_eq!(host01["api_version"], engine.api_version());
    let version = host01["engine_version"].as_str().unwrap();
    assert!(version.starts_with(engine.version_prefix()), "{version}");
    let total = bytes(&report["totals"]["reclaimed_bytes"]);
    assert!(total > 10_000_000, "reclaimed only {total} bytes");
    assert_eq!(human_size(total), docker_total(&docker_run));

    // The same objects are gone and kept on all three hosts.
    for host in ["host01", "host03"] {
        assert_eq!(lab.image_tags(host), lab.image_tags("host02"), "{host}");
        assert_eq!(lab.image_count(host), lab.image_count("host02"), "{host}");
        assert_eq!(lab.container_names(host), lab.container_names("host02"));
        assert_eq!(lab.volume_names(host).len(), 4, "{host}: volumes untouched");
        assert_eq!(lab.network_names(host), lab.network_names("host02"));
    }
    assert_eq!(lab.image_tags("host01"), ["lab/inuse-running:1"]);
    assert_eq!(lab.container_names("host01"), ["lab-running"]);
    assert_eq!(lab.network_names("host01"), engine.builtin_networks());

    // The table of the twin run says what the JSON said.
    let table = stdout(&table_run);
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("host03"))
        .unwrap_or_else(|| panic!("no host03 row:\n{table}"));
    let kinds = &host01["kinds"];
    let containers = &kinds["containers"];
    let expected_cells = [
        format!(
            "{} ({})",
            containers["deleted"].as_array().unwrap().len(),
            human_size(bytes(&containers["reclaimed_bytes"]))
        ),
        human_size(bytes(&kinds["images"]["reclaimed_bytes"])),
        human_size(total),
    ];
    for cell in expected_cells {
        assert!(row.contains(&cell), "row {row:?} lacks {cell:?}\n{table}");
    }
    assert!(
        table.contains(&format!("Total reclaimed space: {}", human_size(total))),
        "{table}"
    );

    // Volumes, as `docker volume prune`: API >= 1.42 keeps named volumes unless -a.
    let report = prune_json(&lab, "host01", &["--volumes"]);
    let docker_run = lab.docker("host02", &["volume", "prune", "-f"]);
    assert_eq!(
        human_size(kind_bytes(&report, "host01", "volumes")),
        docker_total(&docker_run)
    );
    assert_eq!(lab.volume_names("host01"), lab.volume_names("host02"));
    let scope = &json_host(&report, "host01")["volume_scope"];
    if engine.keeps_named_volumes() {
        assert_eq!(scope, "anonymous");
        assert_eq!(
            lab.volume_names("host01"),
            ["lab-data", "lab-inuse", "lab-keep"]
        );
        let report = prune_json(&lab, "host01", &["--volumes", "-a"]);
        let docker_run = lab.docker("host02", &["volume", "prune", "-af"]);
        assert_eq!(
            json_host(&report, "host01")["volume_scope"],
            "named_and_anonymous"
        );
        assert_eq!(
            human_size(kind_bytes(&report, "host01", "volumes")),
            docker_total(&docker_run)
        );
        assert_eq!(lab.volume_names("host02"), ["lab-inuse"]);
    } else {
        assert_eq!(scope, "named_and_anonymous_legacy");
    }
    assert_eq!(lab.volume_names("host01"), ["lab-inuse"]);
}

fn build_cache_until_timestamp_matches_docker_builder_prune(engine: Engine) {
    let lab = Lab::start_on(engine, "cache", 2, &[]);
    // A cutoff after every record's last use, taken from the daemon's own clock.
    let now = lab.docker("host01", &["info", "--format", "{{.SystemTime}}"]);
    let now = now.trim();
    let filter = format!("until={now}");

    if engine == Engine::Docker20 {
        // API 1.41 takes only a duration for build cache; the host fails before deleting.
        let run = prune_run(&lab, "host01", &["--build-cache", "--filter", &filter]);
        assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
        let report = json(&run);
        let error = &json_host(&report, "host01")["error"];
        assert_eq!(error["stage"], "plan", "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("accepts only a duration as until"),
            "{error}"
        );
        assert_eq!(
            build_cache_count(&lab, "host01"),
            build_cache_count(&lab, "host02")
        );
        return;
    }

    for extra in [&[][..], &["-a"][..]] {
        let mut args = vec!["--build-cache", "--filter", &filter];
        args.extend_from_slice(extra);
        let report = prune_json(&lab, "host01", &args);
        // buildx (what `docker builder` runs on 26) takes only a duration for `until`; the
        // CLI's own builder prune sends the timestamp to the daemon, as fleetprune does.
        let mut docker_args = vec!["--filter", &filter];
        docker_args.extend_from_slice(extra);
        let docker_run = docker_builder_prune(&lab, "host02", &docker_args);
        assert_eq!(
            human_size(kind_bytes(&report, "host01", "build_cache")),
            docker_total(&docker_run),
            "{args:?}"
        );
        assert_eq!(
            build_cache_count(&lab, "host01"),
            build_cache_count(&lab, "host02"),
            "{args:?}"
        );
    }
    assert_eq!(build_cache_count(&lab, "host01"), 0);
}

fn df_matches_docker_system_df(engine: Engine) {
    let lab = Lab::start_on(engine, "df", 1, &[]);
    let df = lab.fleetprune(&["df", "--output", "json"]);
    assert_eq!(df.status.code(), Some(0), "{}", stderr(&df));
    let report = json(&df);
    let usage = &json_host(&report, "host01")["disk_usage"];
    // `{{json .}}` differs (podman's has raw numbers only), these placeholders do not; the count
    // is docker's .TotalCount, podman's .Total. Podman has no build cache row.
    let total = if engine.is_podman() {
        "Total"
    } else {
        "TotalCount"
    };
    let format = format!(
        "{{{{.Type}}}}|{{{{.{total}}}}}|{{{{.Active}}}}|{{{{.Size}}}}|{{{{.Reclaimable}}}}"
    );
    let docker_lines = lines(&lab.docker("host01", &["system", "df", "--format", &format]));
    assert_eq!(docker_lines.len(), if engine.is_podman() { 3 } else { 4 });
    for line in docker_lines {
        let fields: Vec<&str> = line.split('|').collect();
        let docker = serde_json::json!({
            "Type": fields[0], "TotalCount": fields[1], "Active": fields[2],
            "Size": fields[3], "Reclaimable": fields[4],
        });
        let key = match docker["Type"].as_str().unwrap() {
            "Images" => "images",
            "Containers" => "containers",
            "Local Volumes" => "volumes",
            "Build Cache" => "build_cache",
            other => panic!("unexpected df type {other}"),
        };
        let ours = &usage[key];
        assert_eq!(
            human_size(bytes(&ours["size_bytes"])),
            docker["Size"],
            "{key} size"
        );
        let reclaimable = docker["Reclaimable"].as_str().unwrap();
        let reclaimable = reclaimable.split(' ').next().unwrap();
        assert_eq!(
            human_size(bytes(&ours["reclaimable_bytes"])),
            reclaimable,
            "{key} reclaimable"
        );
        assert_eq!(
            ours["total"].to_string(),
            docker["TotalCount"].as_str().unwrap(),
            "{key} count"
        );
        assert_eq!(
            ours["active"].to_string(),
            docker["Active"].as_str().unwrap(),
            "{key} active"
        );
    }
}

#[test]
fn mixed_fleet_volume_prune_keeps_named_volumes_on_api_1_42_hosts() {
    let lab = Lab::start_engines(
        "mixed",
        &[
            Engine::Docker20,
            Engine::Docker26,
            Engine::Docker26Containerd,
        ],
        &[],
    );
    let run = lab.fleetprune(&["prune", "--volumes", "--yes", "--output", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["api_version"], "1.41");
    assert_eq!(host01["volume_scope"], "named_and_anonymous_legacy");
    assert_eq!(lab.volume_names("host01"), ["lab-inuse"]);
    for host in ["host02", "host03"] {
        let entry = json_host(&report, host);
        assert_eq!(entry["api_version"], "1.45", "{host}");
        assert_eq!(entry["volume_scope"], "anonymous", "{host}");
        assert_eq!(
            entry["kinds"]["volumes"]["deleted"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            lab.volume_names(host),
            ["lab-data", "lab-inuse", "lab-keep"],
            "{host}: named volumes survive"
        );
    }

    // The table's notes say which behaviour each host had (all is gone there now: the
    // second run removes nothing, but the notes are per host and per run).
    let run = lab.fleetprune(&["prune", "--volumes", "--yes"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let table = stdout(&run);
    assert!(
        table.contains(
            "host01: volumes: named and anonymous volumes (API < 1.42 always prunes named volumes)"
        ),
        "{table}"
    );
    assert!(
        table.contains("host02, host03: volumes: anonymous volumes only"),
        "{table}"
    );
}

fn label_and_until_filters_protect_what_they_name(engine: Engine) {
    let lab = Lab::start_on(engine, "filters", 2, &[]);
    let tags_before = lab.image_tags("host01");

    // until: nothing here is older than the year 2000, or older than an hour.
    let report = prune_json(
        &lab,
        "host01",
        &[
            "--images",
            "-a",
            "--containers",
            "--networks",
            "--filter",
            "until=2000-01-01T00:00:00Z",
        ],
    );
    assert_eq!(report["totals"]["reclaimed_bytes"], 0);
    let run = lab.fleetprune(&[
        "prune",
        "--containers",
        "--filter",
        "until=1h",
        "--yes",
        "--limit",
        "host01",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    // Build cache until= is about last use: all of it was used minutes ago.
    let cache_before = lab.df_counts("host01");
    let report = prune_json(
        &lab,
        "host01",
        &["--build-cache", "-a", "--filter", "until=1h"],
    );
    let cache = &json_host(&report, "host01")["kinds"]["build_cache"];
    assert_eq!(cache["deleted"], serde_json::json!([]), "{report}");
    assert_eq!(lab.df_counts("host01"), cache_before);
    assert_eq!(lab.image_tags("host01"), tags_before);
    assert_eq!(lab.container_names("host01").len(), 5);

    // label!=keep=true: everything unused goes except what carries the label.
    let report = prune_json(
        &lab,
        "host01",
        &[
            "--containers",
            "--networks",
            "--volumes",
            "--images",
            "-a",
            "--filter",
            "label!=keep=true",
        ],
    );
    let host = json_host(&report, "host01");
    let scope = if engine.keeps_named_volumes() {
        "named_and_anonymous"
    } else {
        "named_and_anonymous_legacy"
    };
    assert_eq!(host["volume_scope"], scope);
    // The twin host, pruned by the engine's own CLI with the same filter, is the oracle.
    let filter = ["--filter", "label!=keep=true"];
    for command in [
        &["container", "prune", "-f"][..],
        &["network", "prune", "-f"],
        if engine.keeps_named_volumes() {
            &["volume", "prune", "-af"]
        } else {
            &["volume", "prune", "-f"]
        },
        &["image", "prune", "-af"],
    ] {
        lab.docker("host02", &[command, &filter[..]].concat());
    }
    assert_eq!(lab.container_names("host01"), lab.container_names("host02"));
    assert_eq!(lab.network_names("host01"), lab.network_names("host02"));
    assert_eq!(lab.volume_names("host01"), lab.volume_names("host02"));
    assert_eq!(lab.image_tags("host01"), lab.image_tags("host02"));
    assert_eq!(lab.image_count("host01"), lab.image_count("host02"));

    let deleted_containers = host["kinds"]["containers"]["deleted"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(deleted_containers, 3);
    assert_eq!(
        host["kinds"]["networks"]["deleted"],
        serde_json::json!(["lab-net-a"])
    );

    assert_eq!(
        lab.container_names("host01"),
        ["lab-keep-stopped", "lab-running"]
    );
    let mut kept_networks = engine.builtin_networks().to_vec();
    kept_networks.push("lab-net-b");
    kept_networks.sort();
    assert_eq!(lab.network_names("host01"), kept_networks);
    assert_eq!(lab.volume_names("host01"), ["lab-inuse", "lab-keep"]);
    if engine.containerd_store() {
        // The containerd store reads `label!=keep=true` as "has keep, with another value":
        // an image without the label is kept, so every image stays.
        assert_eq!(lab.image_tags("host01"), tags_before);
    } else {
        // lab/worker:1 stays because the kept stopped container uses it; in-use images stay.
        assert_eq!(
            lab.image_tags("host01"),
            ["lab/inuse-running:1", "lab/keep:1", "lab/worker:1"]
        );
    }
}

fn exec_fallback_prunes_dangling_images_through_dial_stdio(engine: Engine) {
    let lab = Lab::start_on(engine, "exec", 1, &["host01"]);
    let tags_before = lab.image_tags("host01");
    let dangling_before = lab.dangling_count("host01");
    // Untagged intermediate images of the classic builder are dangling too (`images -a`).
    let all_dangling_before =
        lines(&lab.docker("host01", &["images", "-aq", "--filter", "dangling=true"])).len();
    assert!(dangling_before >= 2, "the seed makes dangling images");

    let run = lab.fleetprune(&["prune", "--images", "--yes", "--output", "json"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let host = json_host(&report, "host01");
    assert_eq!(host["transport"], "dial-stdio");
    let untagged = host["kinds"]["images"]["untagged"].as_array().unwrap();
    if engine.containerd_store() {
        // The containerd store names dangling images `moby-dangling@<digest>` and reports
        // removing that name as `Untagged: sha256:<digest>`; having no parent/child links,
        // it prunes the classic builder's untagged intermediate images as dangling too.
        assert_eq!(untagged.len(), all_dangling_before, "{untagged:?}");
        assert!(
            untagged
                .iter()
                .all(|u| u.as_str().unwrap().starts_with("sha256:"))
        );
    } else {
        assert!(untagged.is_empty(), "{untagged:?}");
    }
    assert!(bytes(&host["kinds"]["images"]["reclaimed_bytes"]) > 0);

    assert_eq!(lab.dangling_count("host01"), 0);
    assert_eq!(
        lab.image_tags("host01"),
        tags_before,
        "tagged images are kept"
    );

    // A socket that does not exist: the tunnel stage fails and says why, in docker's words.
    // (A Podman host's own docker_socket, which outranks the group's, is replaced too.)
    let inventory: String = std::fs::read_to_string(lab.inventory())
        .unwrap()
        .lines()
        .map(|line| match line.split_once("docker_socket: ") {
            Some((indent, _)) => format!("{indent}docker_socket: /var/run/nope.sock\n"),
            None => format!("{line}\n"),
        })
        .collect();
    let inventory = inventory.replace(
        "  vars:\n",
        "  vars:\n    fleetprune: { docker_socket: /var/run/nope.sock }\n",
    );
    let inventory = write_file(&lab.dir, "nope.yaml", &inventory);
    let run = common::fleetprune(&[
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        lab.known_hosts().to_str().unwrap(),
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(3)); // every host failed
    let report = json(&run);
    let error = &json_host(&report, "host01")["error"];
    assert_eq!(error["stage"], "tunnel", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("dial unix /var/run/nope.sock"),
        "{message}"
    );
}

fn wrong_host_key_and_unreachable_host_fail_alone(engine: Engine) {
    let lab = Lab::start_on(engine, "faults", 2, &[]);
    // host01's recorded key is some other host's key; host02's is right.
    let other_public = keygen(&lab.dir.join("other_key"), &["-t", "ed25519"], "");
    let other_public: Vec<&str> = other_public.split_whitespace().take(2).collect();
    let real = std::fs::read_to_string(lab.known_hosts()).unwrap();
    let host02_line = real
        .lines()
        .find(|l| l.starts_with(&format!("[127.0.0.1]:{} ", lab.port("host02"))))
        .unwrap();
    let known_hosts = write_file(
        &lab.dir,
        "known_hosts.tampered",
        &format!(
            "[127.0.0.1]:{} {}\n{host02_line}\n",
            lab.port("host01"),
            other_public.join(" ")
        ),
    );
    // A host on a port where nothing listens.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let inventory_text = std::fs::read_to_string(lab.inventory()).unwrap();
    let inventory = write_file(
        &lab.dir,
        "with-ghost.yaml",
        &format!(
            "{inventory_text}ghosts:\n  hosts:\n    ghost:\n      ansible_host: 127.0.0.1\n      ansible_port: {closed_port}\n"
        ),
    );
    let images_before = lab.image_count("host01");

    let run = common::fleetprune(&[
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "prune",
        "--images",
        "-a",
        "--yes",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report = json(&run);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["status"], "failed");
    assert_eq!(host01["error"]["stage"], "host_key");
    assert_eq!(host01["error"]["class"], "host_key_changed");
    let message = host01["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{message}"
    );
    assert_eq!(
        lab.image_count("host01"),
        images_before,
        "nothing deleted on host01"
    );

    let ghost = json_host(&report, "ghost");
    assert_eq!(ghost["error"]["stage"], "connect");
    assert_eq!(ghost["error"]["class"], "connect_refused");
    assert!(
        ghost["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{ghost}"
    );

    let host02 = json_host(&report, "host02");
    assert_eq!(host02["status"], "ok");
    assert!(bytes(&host02["reclaimed_bytes"]) > 0);
    // Images used by any container, running or stopped, are kept.
    assert_eq!(
        lab.image_tags("host02"),
        [
            "lab/inuse-running:1",
            "lab/inuse-stopped:1",
            "lab/old:1",
            "lab/web:1",
            "lab/worker:1"
        ]
    );
    assert_eq!(report["totals"]["failed"], 2);

    // The table says the same: hosts that succeeded, then failed ones, each in inventory order;
    // failures below it.
    let run = common::fleetprune(&[
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "prune",
        "--images",
        "-a",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(1));
    let table = stdout(&run);
    let order: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| ["host01", "host02", "ghost"].contains(w))
        .take(3)
        .collect();
    assert_eq!(order, ["host02", "host01", "ghost"], "{table}");
    assert!(table.contains("host01 (127.0.0.1:"), "{table}");
    assert!(
        table.contains("failed at host key: REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{table}"
    );
    assert!(
        table.contains("ghost (127.0.0.1:") && table.contains("failed at connect"),
        "{table}"
    );
}

#[test]
fn host_keys_are_checked_strictly_unless_accept_new() {
    let lab = Lab::start("hostkeys", 1, &[]);
    let empty = write_file(&lab.dir, "known_hosts.empty", "");
    let inventory = lab.inventory();
    let ping = |checking: &str| {
        common::fleetprune(&[
            "-i",
            inventory.to_str().unwrap(),
            "--known-hosts",
            empty.to_str().unwrap(),
            "--host-key-checking",
            checking,
            "ping",
            "--output",
            "json",
        ])
    };
    let strict = ping("strict");
    assert_eq!(strict.status.code(), Some(3)); // every host failed
    let report = json(&strict);
    assert_eq!(json_host(&report, "host01")["error"]["stage"], "host_key");
    assert_eq!(
        json_host(&report, "host01")["error"]["class"],
        "host_key_unknown"
    );

    let accept_new = ping("accept-new");
    assert_eq!(accept_new.status.code(), Some(0), "{}", stderr(&accept_new));
    assert_eq!(
        json_host(&json(&accept_new), "host01")["host_key"]["status"],
        "added"
    );
    // Recorded so that ssh finds it (hashed when the machine's ssh_config says HashKnownHosts
    // yes, as Debian's does).
    let learned = std::fs::read_to_string(&empty).unwrap();
    let found = std::process::Command::new("ssh-keygen")
        .arg("-F")
        .arg(format!("[127.0.0.1]:{}", lab.port("host01")))
        .arg("-f")
        .arg(&empty)
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "ssh-keygen -F does not find it in:\n{learned}"
    );
    assert!(learned.contains(" ssh-ed25519 "), "{learned}");

    let strict_again = ping("strict");
    assert_eq!(strict_again.status.code(), Some(0));
    let report = json(&strict_again);
    let host = json_host(&report, "host01");
    assert_eq!(host["host_key"]["status"], "verified");
    assert!(
        host["engine_version"]
            .as_str()
            .unwrap()
            .starts_with("20.10")
    );
}

/// Starts `ssh-agent` on a socket of our own; returns the socket and the agent's pid.
fn start_agent(dir: &std::path::Path) -> (std::path::PathBuf, u32) {
    let socket = dir.join("agent.sock");
    let output = std::process::Command::new("ssh-agent")
        .arg("-a")
        .arg(&socket)
        .arg("-s")
        .output()
        .expect("ssh-agent");
    assert!(output.status.success(), "ssh-agent: {}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let pid = text
        .split(';')
        .find_map(|part| part.trim().strip_prefix("SSH_AGENT_PID="))
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no agent pid in {text}"));
    (socket, pid)
}

#[test]
fn authentication_by_agent_by_encrypted_key_and_refused_keys() {
    let lab = Lab::start("auth", 1, &[]);
    let port = lab.port("host01");
    // An inventory that names no key file, so only the agent (or explicit --identity) is used.
    let inventory = write_file(
        &lab.dir,
        "no-key.yaml",
        &format!(
            "all:\n  hosts:\n    host01:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      ansible_user: fplab\n"
        ),
    );
    let known_hosts = lab.known_hosts();
    let ping = |extra: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fleetprune"));
        command
            .args(["ping", "--output", "json", "-i"])
            .arg(&inventory)
            .arg("--known-hosts")
            .arg(&known_hosts)
            .args(extra)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("FLEETPRUNE_KEY_PASSPHRASE")
            // No default keys from the real home directory.
            .env("HOME", &lab.dir)
            .stdin(std::process::Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run fleetprune")
    };

    // No agent, no key: refused at the auth stage.
    let run = ping(&[], &[]);
    assert_eq!(run.status.code(), Some(3)); // every host failed
    let report = json(&run);
    assert_eq!(report["hosts"][0]["error"]["stage"], "auth");

    // ssh-agent holding the lab key.
    let (socket, agent_pid) = start_agent(&lab.dir);
    let add = std::process::Command::new("ssh-add")
        .arg(lab.key())
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add");
    let run = ping(&[], &[("SSH_AUTH_SOCK", socket.to_str().unwrap())]);
    let _ = std::process::Command::new("kill")
        .arg(agent_pid.to_string())
        .status();
    assert!(add.status.success(), "ssh-add: {}", stderr(&add));
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));

    // An encrypted key, unlocked from FLEETPRUNE_KEY_PASSPHRASE; authorised on the host.
    let encrypted = lab.dir.join("client/id_encrypted");
    let public = keygen(&encrypted, &["-t", "ecdsa"], "s3cret");
    let authorized = lab.dir.join("client/authorized_keys");
    let mut keys = std::fs::read_to_string(&authorized).unwrap();
    keys.push_str(&public);
    std::fs::write(&authorized, keys).unwrap();
    let identity = encrypted.to_str().unwrap();

    // A locked key fails the hosts it is named for (key_unusable), not the run.
    let key_unusable = |run: &std::process::Output, says: &str| {
        assert_eq!(run.status.code(), Some(3), "{}", stderr(run)); // every host failed
        let report = json(run);
        let error = &report["hosts"][0]["error"];
        assert_eq!(error["class"], "key_unusable", "{error}");
        assert_eq!(error["stage"], "auth", "{error}");
        assert!(error["message"].as_str().unwrap().contains(says), "{error}");
    };
    let run = ping(&["--identity", identity], &[]);
    key_unusable(&run, "is encrypted: set FLEETPRUNE_KEY_PASSPHRASE");
    let run = ping(
        &["--identity", identity],
        &[("FLEETPRUNE_KEY_PASSPHRASE", "wrong")],
    );
    key_unusable(&run, "wrong passphrase");
    let run = ping(
        &["--identity", identity],
        &[("FLEETPRUNE_KEY_PASSPHRASE", "s3cret")],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));

    // A key the host does not accept.
    let stranger = lab.dir.join("client/id_stranger");
    keygen(&stranger, &["-t", "rsa", "-b", "2048"], "");
    let run = ping(&["--identity", stranger.to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(3)); // every host failed
    let report = json(&run);
    let error = &report["hosts"][0]["error"];
    assert_eq!(error["stage"], "auth");
    assert_eq!(error["class"], "auth_failed");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("permission denied (publickey) for fplab@127.0.0.1"),
        "{error}"
    );
}

/// The machine formats on real hosts: CSV rows carry the same exact bytes as the JSON report
/// written beside them with `--report`, the metrics file passes promtool and carries them too,
/// NDJSON has one event per host, `-v` lists deleted objects as host-prefixed lines, and
/// `fleetprune report` reads the saved report back.
#[test]
fn csv_report_metrics_ndjson_and_verbose_lines_agree_on_a_lab() {
    let lab = Lab::start("outputs", 2, &[]);
    let saved = lab.dir.join("host01.json");
    let metrics = lab.dir.join("fleetprune.prom");
    let run = lab.fleetprune(&[
        "prune",
        "--containers",
        "--images",
        "-a",
        "--yes",
        "--limit",
        "host01",
        "--output",
        "csv",
        "--report",
        saved.to_str().unwrap(),
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let mut rows = csv::Reader::from_reader(run.stdout.as_slice());
    let mut kinds = 0;
    for row in rows.deserialize::<std::collections::HashMap<String, String>>() {
        let row = row.unwrap();
        assert_eq!(row["host"], "host01");
        assert_eq!(row["kind_status"], "completed");
        let kind = row["kind"].as_str();
        let json_kind = &json_host(&report, "host01")["kinds"][kind];
        assert_eq!(
            row["reclaimed_bytes"],
            json_kind["reclaimed_bytes"].to_string()
        );
        assert_eq!(
            row["deleted"],
            json_kind["deleted"].as_array().unwrap().len().to_string()
        );
        kinds += 1;
    }
    assert_eq!(kinds, 2, "containers and images");
    assert!(kind_bytes(&report, "host01", "images") > 0, "{report}");

    let text = std::fs::read_to_string(&metrics).unwrap();
    let check = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&metrics).unwrap())
        .output()
        .expect("promtool is installed (lab/install-deps.sh)");
    assert!(check.status.success(), "{}", stderr(&check));
    let images = format!(
        "fleetprune_reclaimed_bytes{{command=\"prune\",host=\"host01\",kind=\"images\"}} {}",
        kind_bytes(&report, "host01", "images")
    );
    assert!(text.lines().any(|l| l == images), "{images} in\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("fleetprune_last_success_timestamp_seconds{command=\"prune\"} ")),
        "{text}"
    );

    // -v: each deleted object on a line of its own, prefixed by host and kind.
    let containers = || lines(&lab.docker("host02", &["ps", "-aq", "--no-trunc"]));
    let before = containers();
    let run = lab.fleetprune(&["prune", "--containers", "--yes", "-v", "--limit", "host02"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let listed: Vec<String> = stdout(&run)
        .lines()
        .filter_map(|l| l.strip_prefix("host02 containers "))
        .map(String::from)
        .collect();
    let after = containers();
    let removed: Vec<String> = before.into_iter().filter(|c| !after.contains(c)).collect();
    assert!(!removed.is_empty(), "the seed leaves stopped containers");
    assert_eq!(lines(&listed.join("\n")), removed, "{}", stdout(&run));
    // Without a terminal, one line per host on stderr as it finishes.
    assert!(stderr(&run).starts_with("host02 ok "), "{}", stderr(&run));

    // NDJSON: a host event per host, then the summary; every host ok, exit 0.
    let run = lab.fleetprune(&["df", "--output", "ndjson"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let events: Vec<serde_json::Value> = stdout(&run)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    for event in &events[..2] {
        assert_eq!(event["event"], "host");
        assert_eq!(event["status"], "ok");
        assert!(
            event["disk_usage"]["images"]["size_bytes"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    assert_eq!(events[2]["event"], "summary");
    assert_eq!(events[2]["totals"]["succeeded"], 2);

    // The saved report, read back.
    let run = common::fleetprune(&["report", saved.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let reclaimed = human_size(bytes(&report["totals"]["reclaimed_bytes"]));
    assert!(
        stdout(&run).ends_with(&format!("Total reclaimed space: {reclaimed}\n")),
        "{}",
        stdout(&run)
    );
}
