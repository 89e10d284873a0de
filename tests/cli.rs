//! The command-line contract: exact output and exit codes for input errors (found before any
//! host is contacted), `inventory`, and a host that cannot be reached. No lab needed.

mod common;

use common::{fleetprune, json, stderr, stdout, write_file};

const FARM: &str = "tests/fixtures/farm.yaml";

#[test]
fn inventory_prints_resolved_hosts_and_plans() {
    let run = fleetprune(&["inventory", "-i", FARM, "-u", "admin"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let expected = "\
HOST       ADDRESS          USER    IDENTITY         SOCKET                 GROUPS         PRUNE PLAN
build-01   127.0.0.1:22     admin   (default keys)   /var/run/docker.sock   all,builders   containers, images (all) [until=240h, label!=keep=true]
build-02   127.0.0.1:22     admin   (default keys)   /var/run/docker.sock   all,builders   containers, images (all) [until=240h, label!=keep=true]
gpu-box    127.0.0.2:2222   admin   (default keys)   /var/run/docker.sock   all,builders   containers, images [until=240h, label!=keep=true]
";
    assert_eq!(stdout(&run), expected);
}

#[test]
fn inventory_json_has_schema_version_and_plans() {
    let run = fleetprune(&[
        "inventory",
        "-i",
        FARM,
        "--limit",
        "gpu-box",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0));
    let report = json(&run);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "inventory");
    let host = &report["hosts"][0];
    assert_eq!(host["name"], "gpu-box");
    assert_eq!(host["port"], 2222);
    assert_eq!(
        host["plan"]["kinds"],
        serde_json::json!(["containers", "images"])
    );
    assert_eq!(host["plan"]["all"]["images"], false);
    assert_eq!(
        host["plan"]["filters"],
        serde_json::json!(["until=240h", "label!=keep=true"])
    );
}

#[test]
fn example_inventory_is_valid() {
    let run = fleetprune(&["inventory", "-i", "inventory/example.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(stdout(&run).lines().count(), 7, "{}", stdout(&run));
}

#[test]
fn broken_inventory_is_reported_with_place_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "all:\n  hosts:\n    a:\n      ansible_port: 99999\n",
            "farm.yaml:4:21: all.hosts.a.ansible_port: port must be between 1 and 65535, found 99999",
        ),
        (
            "all:\n  childs:\n    web:\n",
            "farm.yaml:2:3: all.childs: unexpected key \"childs\" (did you mean \"children\"?); a group may only have hosts, children and vars",
        ),
        (
            "all:\n  vars:\n    fleetprune:\n      prune:\n        images: true\n        filter: until=banana\n",
            "farm.yaml:6:17: all.vars.fleetprune.prune.filter: invalid until value \"banana\"",
        ),
    ];
    for (text, expected) in cases {
        let path = write_file(dir.path(), "farm.yaml", text);
        let run = fleetprune(&["ping", "-i", path.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "{text}");
        let message = stderr(&run);
        let expected = format!("fleetprune: {}/{expected}", dir.path().display());
        assert!(
            message.starts_with(&expected),
            "got {message:?}\nwant {expected:?}"
        );
        assert!(stdout(&run).is_empty());
    }
}

#[test]
fn bad_filter_flag_is_an_input_error() {
    let run = fleetprune(&[
        "prune", "-i", FARM, "--images", "--filter", "until=7d", "--yes",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "fleetprune: --filter until=7d: invalid until value \"7d\": docker accepts no d/w units: use 168h\n"
    );
}

#[test]
fn filter_a_kind_does_not_accept_is_an_input_error() {
    let run = fleetprune(&["prune", "-i", FARM, "--volumes", "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("host build-01: the until filter does not apply to volumes"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn build_cache_size_without_build_cache_is_an_input_error() {
    let run = fleetprune(&[
        "prune",
        "-i",
        FARM,
        "--images",
        "--max-used-space",
        "5GB",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains(
            "host build-01: the build cache size controls (reserved-space, max-used-space, min-free-space, keep-storage) apply only to build cache"
        ),
        "{}",
        stderr(&run)
    );
    let run = fleetprune(&[
        "prune",
        "-i",
        FARM,
        "--build-cache",
        "--max-used-space",
        "lots",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("invalid size \"lots\""),
        "{}",
        stderr(&run)
    );
}

#[test]
fn prune_without_kind_or_plan_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "bare.yaml",
        "all:\n  hosts:\n    a:\n      ansible_host: 127.0.0.1\n",
    );
    let run = fleetprune(&["prune", "-i", path.to_str().unwrap(), "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).starts_with("fleetprune: nothing to prune on a: give a kind"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn prune_without_terminal_and_without_yes_is_refused() {
    let run = fleetprune(&["prune", "-i", FARM, "--images"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "fleetprune: refusing to prune without confirmation: stdin is not a terminal; pass --yes (or -f/--force) to run unattended\n"
    );
}

#[test]
fn limit_matching_no_host_is_an_error() {
    let run = fleetprune(&["ping", "-i", FARM, "--limit", "web*"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        format!(
            "fleetprune: {FARM}: --limit \"web*\": term \"web*\" selects no host; check the spelling (a term that selects nothing is refused so a typo cannot change what is pruned)\n"
        )
    );
}

#[test]
fn limit_exclusion_matching_nothing_warns_and_excludes_nothing() {
    let run = fleetprune(&["inventory", "-i", FARM, "--limit", "all,!build-0l"]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("--limit term \"!build-0l\" selects no host, so it excludes nothing"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn unreachable_host_fails_with_a_row_and_exit_code_3_as_every_host_failed() {
    let dir = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let inventory = write_file(
        dir.path(),
        "down.yaml",
        &format!(
            "all:\n  hosts:\n    down-1:\n      ansible_host: 127.0.0.1\n      ansible_port: {closed_port}\n"
        ),
    );
    let known_hosts = write_file(dir.path(), "known_hosts", "");
    let run = fleetprune(&[
        "prune",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "--images",
        "--yes",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let table = stdout(&run);
    assert!(table.contains("\ndown-1   FAILED (refused) "), "{table}");
    assert!(table.contains("\nTOTAL    0/1 ok "), "{table}");
    // The cause is said once, with the stable class.
    assert!(
        table.contains(&format!(
            "  down-1 (127.0.0.1:{closed_port}): [connect_refused] failed at connect: cannot connect to 127.0.0.1:{closed_port}: Connection refused (os error 111)\n"
        )),
        "{table}"
    );
    assert!(table.ends_with("Total reclaimed space: 0B\n"), "{table}");
}

/// A TCP server on 127.0.0.1 that accepts connections and never says a word (a black hole for
/// SSH: the client waits for the server's identification forever).
fn black_hole() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        // Two connections at most per test; keep them open until the test process ends.
        for stream in listener.incoming().take(2).flatten() {
            held.push(stream);
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    (port, handle)
}

fn silent_host_inventory(
    dir: &std::path::Path,
    port: u16,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let inventory = write_file(
        dir,
        "silent.yaml",
        &format!(
            "all:\n  hosts:\n    silent-1:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
        ),
    );
    (inventory, write_file(dir, "known_hosts", ""))
}

#[test]
fn silent_host_times_out_at_its_stage() {
    let dir = tempfile::tempdir().unwrap();
    let (port, _server) = black_hole();
    let (inventory, known_hosts) = silent_host_inventory(dir.path(), port);
    let run = fleetprune(&[
        "ping",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "--connect-timeout",
        "1",
        "--timeout",
        "10",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report = json(&run);
    assert_eq!(report["hosts"][0]["error"]["stage"], "connect");
    assert_eq!(report["hosts"][0]["error"]["class"], "connect_timeout");
    let message = report["hosts"][0]["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!("no SSH session with 127.0.0.1:{port} within 1s")
    );
}

fn interrupted_run_reports_partially(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let (port, _server) = black_hole();
    let (inventory, known_hosts) = silent_host_inventory(dir.path(), port);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fleetprune"))
        .args(["prune", "--images", "--yes", "-i"])
        .arg(&inventory)
        .arg("--known-hosts")
        .arg(&known_hosts)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let kill = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let run = child.wait_with_output().unwrap();
    assert_eq!(run.status.code(), Some(code), "{signal}: {}", stderr(&run));
    let table = stdout(&run);
    assert!(
        table.contains("\nsilent-1   FAILED (interrupted) "),
        "{table}"
    );
    assert!(
        table.contains("[interrupted] failed at connect: interrupted"),
        "{table}"
    );
    assert!(
        stderr(&run).contains("interrupted; letting calls in flight finish"),
        "{}",
        stderr(&run)
    );
}

/// A bastion that is down must never be bypassed: the target below listens and would be
/// reachable directly, yet it is not contacted. A non-ssh connection is skipped.
#[test]
fn bastion_and_non_ssh_hosts_fail_without_being_contacted() {
    let dir = tempfile::tempdir().unwrap();
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    target.set_nonblocking(true).unwrap();
    let port = target.local_addr().unwrap().port();
    let bastion_port = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        closed.local_addr().unwrap().port()
    };
    let inventory = write_file(
        dir.path(),
        "bastion.yaml",
        &format!(
            "all:\n  hosts:\n    behind-bastion:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n      ansible_ssh_common_args: -o ProxyJump=127.0.0.1:{bastion_port}\n    on-controller:\n      ansible_connection: local\n"
        ),
    );
    let known_hosts = write_file(dir.path(), "known_hosts", "");
    let run = fleetprune(&[
        "ping",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    let behind = &report["hosts"][0];
    assert_eq!(behind["status"], "failed");
    assert_eq!(behind["error"]["stage"], "connect");
    assert_eq!(behind["error"]["class"], "connect_refused");
    assert!(
        behind["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "jump host 127.0.0.1:{bastion_port}: cannot connect"
            )),
        "{behind}"
    );
    let local = &report["hosts"][1];
    assert_eq!(local["error"]["stage"], "plan");
    assert!(
        local["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("skipped: ansible_connection is \"local\""),
        "{local}"
    );
    assert!(
        target.accept().is_err(),
        "the target was contacted directly, bypassing its bastion"
    );
}

/// With HOME unset (some service managers), the password database gives the home directory,
/// as OpenSSH does: `inventory` still works and `~/` key paths still expand.
#[test]
fn inventory_works_with_home_unset() {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_fleetprune"))
        .args(["inventory", "-i", FARM, "--output", "json"])
        .env_remove("HOME")
        .env_remove("FLEETPRUNE_KNOWN_HOSTS")
        .env("ANSIBLE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

/// ansible.cfg as Ansible finds it (here through ANSIBLE_CONFIG): its inventory, remote_user and
/// host_key_checking apply below inventory variables, and ANSIBLE_* variables override it.
#[test]
fn ansible_cfg_names_the_inventory_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "ansible.cfg",
        "[defaults]\ninventory = hosts ; relative to this file\nremote_user = cfg-user\nhost_key_checking = False\n",
    );
    write_file(
        dir.path(),
        "hosts",
        "[web]\nweb1\nweb2 ansible_user=inventory-user\n",
    );
    let run = |remote_user: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fleetprune"));
        command
            .args(["inventory", "--output", "json"])
            .env("ANSIBLE_CONFIG", &config)
            .env_remove("FLEETPRUNE_INVENTORY")
            .env_remove("ANSIBLE_INVENTORY")
            .env_remove("ANSIBLE_HOST_KEY_CHECKING");
        match remote_user {
            Some(user) => command.env("ANSIBLE_REMOTE_USER", user),
            None => command.env_remove("ANSIBLE_REMOTE_USER"),
        };
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        json(&output)
    };
    let report = run(None);
    assert_eq!(report["hosts"][0]["user"], "cfg-user");
    assert_eq!(report["hosts"][0]["host_key_checking"], "no");
    assert_eq!(report["hosts"][1]["user"], "inventory-user");
    assert_eq!(run(Some("env-user"))["hosts"][0]["user"], "env-user");
}

#[test]
fn interrupt_prints_the_partial_report_and_exits_130_or_143_for_sigterm() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        interrupted_run_reports_partially(signal, code);
    }
}

#[test]
fn inventory_with_33_plus_comment_lines_after_an_empty_value_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("all:\n  hosts:\n    a:\n");
    for i in 0..40 {
        text.push_str(&format!("# comment {i}\n"));
    }
    text.push_str("    b:\n");
    let inventory = write_file(dir.path(), "comments.yaml", &text);
    let run = fleetprune(&["inventory", "-i", inventory.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stdout(&run).contains("\nb "), "{}", stdout(&run));
}

#[test]
fn device_and_fifo_inputs_are_refused_without_reading_or_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in ["/dev/zero", fifo.to_str().unwrap()] {
        let run = fleetprune(&["inventory", "-i", path]);
        assert_eq!(run.status.code(), Some(2));
        assert_eq!(
            stderr(&run),
            format!("fleetprune: {path}: cannot read inventory: not a regular file\n")
        );
    }
    let inventory = write_file(
        dir.path(),
        "one.yaml",
        "all:\n  hosts:\n    one:\n      ansible_port: 1\n",
    );
    let run = fleetprune(&[
        "ping",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        "/dev/zero",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "fleetprune: cannot read known_hosts file /dev/zero: not a regular file\n"
    );
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ping_refusing_hosts(names: &[&str], host_vars: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let mut text = String::from("all:\n  hosts:\n");
    for name in names {
        text.push_str(&format!(
            "    {name}:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n{host_vars}"
        ));
    }
    let inventory = write_file(dir.path(), "refusing.yaml", &text);
    let known_hosts = write_file(dir.path(), "known_hosts", "");
    let mut all = vec![
        "ping",
        "--output",
        "json",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    fleetprune(&all)
}

fn classes(report: &serde_json::Value) -> Vec<String> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["error"]["class"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_failed_canary_batch_leaves_later_batches_cancelled() {
    let run = ping_refusing_hosts(&["h1", "h2", "h3", "h4"], "", &["--serial", "1"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report = json(&run);
    assert_eq!(
        classes(&report),
        ["connect_refused", "cancelled", "cancelled", "cancelled"]
    );
    let h2 = &report["hosts"][1];
    assert_eq!(h2["error"]["stage"], "queued");
    assert_eq!(h2["attempts"], 0);
    assert_eq!(
        h2["error"]["message"],
        "not started: the first batch (the canary) had 1 failed host(s); later batches were not started"
    );
    assert_eq!(report["safety"]["serial"], "1");
    assert_eq!(report["safety"]["batches"], serde_json::json!([1]));
    assert_eq!(report["totals"]["cancelled"], 3);
}

#[test]
fn max_fail_percentage_stops_starting_hosts_once_exceeded() {
    let run = ping_refusing_hosts(
        &["h1", "h2", "h3", "h4"],
        "",
        &["--forks", "1", "--max-fail-percentage", "25"],
    );
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report = json(&run);
    // 1 of 4 is not more than 25%; 2 of 4 is.
    assert_eq!(
        classes(&report),
        [
            "connect_refused",
            "connect_refused",
            "cancelled",
            "cancelled"
        ]
    );
    assert_eq!(
        report["safety"]["stopped"],
        "--max-fail-percentage 25 exceeded: 2 of 4 hosts failed"
    );
}

#[test]
fn transient_connect_failures_are_retried_and_the_attempts_reported() {
    let started = std::time::Instant::now();
    let run = ping_refusing_hosts(&["h1"], "", &["--retries", "2"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report = json(&run);
    let host = &report["hosts"][0];
    assert_eq!(host["attempts"], 3);
    assert_eq!(host["error"]["class"], "connect_refused");
    assert!(
        host["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("(after 3 attempts)"),
        "{host}"
    );
    assert_eq!(report["safety"]["retries"], 2);
    // Pauses of 1 s and 2 s, each scaled by a jitter factor of at least 0.5.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));
}

#[test]
fn an_unusable_key_file_fails_its_hosts_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = write_file(dir.path(), "garbage_key", "not a key\n");
    let missing = dir.path().join("missing_key");
    let vars_for =
        |key: &std::path::Path| format!("      ansible_ssh_private_key_file: {}\n", key.display());
    let port = closed_port();
    let text = format!(
        "all:\n  hosts:\n    garbage:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n{}    missing:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n{}    fine:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n",
        vars_for(&garbage),
        vars_for(&missing)
    );
    let inventory = write_file(dir.path(), "keys.yaml", &text);
    let known_hosts = write_file(dir.path(), "known_hosts", "");
    let run = fleetprune(&[
        "ping",
        "--output",
        "json",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let report = json(&run);
    assert_eq!(
        classes(&report),
        ["key_unusable", "key_unusable", "connect_refused"]
    );
    assert_eq!(
        report["hosts"][1]["error"]["message"],
        format!(
            "identity file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert_eq!(report["hosts"][0]["error"]["stage"], "auth");
}

#[test]
fn a_name_that_does_not_resolve_is_a_dns_failure() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = write_file(
        dir.path(),
        "dns.yaml",
        "all:\n  hosts:\n    nowhere:\n      ansible_host: no-such-host.invalid\n",
    );
    let known_hosts = write_file(dir.path(), "known_hosts", "");
    let run = fleetprune(&[
        "ping",
        "--output",
        "json",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run)); // every host failed
    let error = &json(&run)["hosts"][0]["error"];
    assert_eq!(error["class"], "dns", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot resolve no-such-host.invalid: "),
        "{error}"
    );
}

/// Every duration a flag or the inventory takes is bounded when parsed, the limit in the
/// message, exit 2 (issue 20: `--timeout 18446744073709551615` panicked in the deadline
/// addition, `report --since 1000000000w` in `now - age`, a huge `ServerAliveInterval` in the
/// keep-alive timer).
#[test]
fn duration_flags_past_their_limit_are_refused_naming_the_limit() {
    let huge = "18446744073709551615";
    let clap_error = |flag: &str, value: &str, limit: &str| {
        format!(
            "error: invalid value '{value}' for '{flag}': {limit}\n\nFor more information, try '--help'.\n"
        )
    };
    let range = |range: &str| format!("{huge} is not in {range}");
    let cases: [(&[&str], String); 7] = [
        (
            &["ping", "-i", FARM, "--timeout", huge],
            clap_error("--timeout <SECS>", huge, &range("1..=2147483647")),
        ),
        (
            &["ping", "-i", FARM, "--connect-timeout", huge],
            clap_error("--connect-timeout <SECS>", huge, &range("1..=2147483647")),
        ),
        (
            &["ping", "-i", FARM, "--grace", huge],
            clap_error("--grace <SECS>", huge, &range("0..=2147483647")),
        ),
        (
            &["plan", "-i", FARM, "--images", "--min-age", "36501d"],
            clap_error(
                "--min-age <DURATION>",
                "36501d",
                "duration \"36501d\" is longer than 36500d (100 years), the longest fleetprune accepts",
            ),
        ),
        (
            &["plan", "-i", FARM, "--images", "--unused-for", "9999999999999h"],
            clap_error(
                "--unused-for <DURATION>",
                "9999999999999h",
                "invalid duration \"9999999999999h\": expected e.g. 48h, 14d, 2h30m, at most 36500d (100 years)",
            ),
        ),
        (
            &["apply", "-i", FARM, "plan.json", "--max-age", "876001h"],
            clap_error(
                "--max-age <DURATION>",
                "876001h",
                "duration \"876001h\" is longer than 36500d (100 years), the longest fleetprune accepts",
            ),
        ),
        (
            &["report", "--since", "1000000000w", "."],
            "fleetprune: --since \"1000000000w\": expected a number and a unit: 90m, 36h, 7d, 2w; at most 36500d (100 years)\n".to_string(),
        ),
    ];
    for (args, expected) in cases {
        let run = fleetprune(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {}", stderr(&run));
        assert_eq!(stderr(&run), expected, "{args:?}");
        assert!(stdout(&run).is_empty(), "{args:?}");
    }
}

/// The inventory's durations too: a keep policy's ages, and the ssh times OpenSSH bounds at
/// INT_MAX ("invalid time value").
#[test]
fn inventory_durations_past_their_limit_are_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "all:\n  vars:\n    fleetprune:\n      prune:\n        images: true\n        min_age: 36501d\n  hosts:\n    a:\n",
            "fleetprune: farm.yaml:6:18: all.vars.fleetprune.prune.min_age: duration \"36501d\" is longer than 36500d (100 years), the longest fleetprune accepts\n",
        ),
        (
            "all:\n  vars:\n    ansible_ssh_common_args: -o ServerAliveInterval=18446744073709551615\n  hosts:\n    a:\n",
            "fleetprune: farm.yaml:3:30: all.vars.ansible_ssh_common_args: ssh option ServerAliveInterval: \"18446744073709551615\" is not a number of seconds, at most 2147483647 (as OpenSSH)\n",
        ),
        (
            "all:\n  vars:\n    ansible_ssh_common_args: -o ConnectTimeout=2147483648\n  hosts:\n    a:\n",
            "fleetprune: farm.yaml:3:30: all.vars.ansible_ssh_common_args: ssh option ConnectTimeout: \"2147483648\" is not a positive number of seconds, at most 2147483647 (as OpenSSH)\n",
        ),
    ];
    for (text, expected) in cases {
        let path = write_file(dir.path(), "farm.yaml", text);
        let run = fleetprune(&["ping", "-i", path.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "{text}: {}", stderr(&run));
        assert_eq!(
            stderr(&run).replace(&format!("{}/", dir.path().display()), ""),
            expected
        );
    }
}

/// Issue 20: text from a file or an argument reaches the terminal only through the sanitiser
/// remote text goes through (an inventory's host name with ESC/CR/LF in the error's key path, the
/// `--filter` error's prefix), and a huge echo is cut, saying how much was left out.
#[test]
fn errors_echo_files_and_arguments_without_control_characters_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "esc.yaml",
        "all:\n  hosts:\n    \"a\\e[2Jb\\rc\\nd\\u202Ee\":\n      ansible_port: 99999\n",
    );
    let run = fleetprune(&["ping", "-i", path.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        format!(
            "fleetprune: {}:3:5: all.hosts.a [2Jb c de: host pattern \"a\\u{{1b}}[2Jb\\rc\\nd\\u{{202e}}e\": unclosed '[' (a range looks like [01:20])\n",
            path.display()
        )
    );

    let run = fleetprune(&[
        "prune",
        "-i",
        FARM,
        "--images",
        "--filter",
        "unt\u{1b}[31mil=x",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "fleetprune: --filter unt [31mil=x: unknown filter key \"unt\\u{1b}[31mil\"; fleetprune accepts until, label, label! and dangling\n"
    );

    // A clap error echoing a line feed cannot forge a line.
    let run = fleetprune(&["ping", "-i", FARM, "--timeout", "1\nforged"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "error: invalid value '1 forged' for '--timeout <SECS>': invalid digit found in string\n\nFor more information, try '--help'.\n"
    );

    // 10,000 commas used to be echoed as one line of 70 kB.
    let commas = ",".repeat(10_000);
    let run = fleetprune(&["ping", "-i", FARM, "--limit", &commas]);
    assert_eq!(run.status.code(), Some(2));
    let commas = |n| ",".repeat(n);
    assert_eq!(
        stderr(&run),
        format!(
            "fleetprune: --limit: --limit \"{}… (9680 of 10080 characters left out) …{}\" has an empty term (check for doubled or trailing separators)\n",
            commas(200 - "--limit: --limit \"".len()),
            commas(200 - "\" has an empty term (check for doubled or trailing separators)".len()),
        )
    );
}
