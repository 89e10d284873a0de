//! Fault injection end to end: a lab of real sshd + dockerd hosts where host01's tunnel goes
//! through a misbehaving proxy in front of its real Docker socket (tests/fault_proxy), and host02
//! is healthy. Each fault is checked for the faulty host's class and message, the other host's
//! result, the exit code, and what is on the faulty host compared with the report.

mod common;
mod fault_proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{Lab, json, json_host, stderr, stdout, write_file};
use fault_proxy::{Fault, FaultProxy, HOSTILE_TEXT, http_instead_of_ssh, raw_answers};

/// Writes an inventory of `(name, ssh port, docker socket)` hosts that log in to the lab as the
/// lab's own inventory does (the lab user and key), written here so that it does not depend on
/// the layout of the lab's generated file.
fn write_inventory(lab: &Lab, file: &str, hosts: &[(&str, u16, Option<&Path>)]) -> PathBuf {
    let mut text = format!(
        "all:\n  vars:\n    ansible_user: fplab\n    ansible_ssh_private_key_file: {}\n  hosts:\n",
        lab.key().display()
    );
    for (name, port, socket) in hosts {
        text.push_str(&format!(
            "    {name}:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
        ));
        if let Some(socket) = socket {
            text.push_str(&format!(
                "      fleetprune: {{ docker_socket: {} }}\n",
                socket.display()
            ));
        }
    }
    write_file(&lab.dir, file, &text)
}

/// A two-host lab whose host01 is reached through a fault proxy.
struct FaultLab {
    lab: Lab,
    proxy: FaultProxy,
    inventory: PathBuf,
}

impl FaultLab {
    fn start(name: &str) -> FaultLab {
        let lab = Lab::start(name, 2, &[]);
        let proxy = FaultProxy::start(&lab.dir.join("hosts/host01/run/docker.sock"));
        let proxied = proxy.socket.clone();
        let hosts = [
            ("host01", lab.port("host01"), Some(proxied.as_path())),
            ("host02", lab.port("host02"), None),
        ];
        let inventory = write_inventory(&lab, "faults.yaml", &hosts);
        FaultLab {
            lab,
            proxy,
            inventory,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let known_hosts = self.lab.known_hosts();
        let mut all = vec![
            "-i",
            self.inventory.to_str().expect("utf-8"),
            "--known-hosts",
            known_hosts.to_str().expect("utf-8"),
        ];
        all.extend_from_slice(args);
        common::fleetprune(&all)
    }

    /// Runs `args` with `fault` on host01 and checks that host02 was not affected; returns the
    /// JSON report.
    fn run_with(&self, fault: Fault, args: &[&str], exit: i32) -> serde_json::Value {
        self.proxy.set(fault.clone());
        let run = self.run(&[args, &["--output", "json"]].concat());
        self.proxy.set(Fault::None);
        assert_eq!(run.status.code(), Some(exit), "{fault:?}: {}", stderr(&run));
        let report = json(&run);
        assert_eq!(
            json_host(&report, "host02")["status"],
            "ok",
            "{fault:?}: the healthy host must be intact: {report}"
        );
        report
    }

    /// Makes one more dangling image on `host` (a rebuild of the same tag).
    fn add_dangling_image(&self, host: &str, seed: u64) {
        let socket = self
            .lab
            .dir
            .join("hosts")
            .join(host)
            .join("run/docker.sock");
        let mut build = Command::new("/usr/bin/docker")
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(["build", "-q", "-t", "soak/rebuilt:1", "-"])
            .env("DOCKER_BUILDKIT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker build");
        {
            use std::io::Write;
            let mut stdin = build.stdin.take().expect("stdin");
            writeln!(stdin, "FROM lab/busybox:latest\nLABEL soak={seed}").expect("dockerfile");
        }
        let output = build.wait_with_output().expect("docker build");
        assert!(output.status.success(), "{}", stderr(&output));
    }
}

fn class(report: &serde_json::Value, host: &str) -> String {
    json_host(report, host)["error"]["class"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn message(report: &serde_json::Value, host: &str) -> String {
    json_host(report, host)["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn hostile_engine_answers_fail_only_their_host_with_a_stable_class() {
    let fl = FaultLab::start("answers");

    // An endless chunked body and a 2 GB Content-Length: cut at the cap, not read into memory.
    for fault in [
        Fault::EndlessChunkedBody { path: "/version" },
        Fault::HugeContentLength { path: "/version" },
    ] {
        let report = fl.run_with(fault.clone(), &["ping"], 1);
        assert_eq!(class(&report, "host01"), "response_too_large", "{fault:?}");
        assert_eq!(json_host(&report, "host01")["error"]["stage"], "engine");
        assert_eq!(
            message(&report, "host01"),
            "the answer to GET /version is larger than fleetprune's 67108864-byte cap on engine responses"
        );
    }

    // A huge engine version string is kept cut, saying so.
    let report = fl.run_with(Fault::HugeVersion { len: 8_000_000 }, &["ping"], 0);
    let version = json_host(&report, "host01")["engine_version"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(version.len() < 400, "{} bytes kept", version.len());
    assert!(version.ends_with("… (8000000 bytes in all)"), "{version}");

    // Bidi overrides and CR/LF from the host: exact in JSON, harmless in the table.
    let report = fl.run_with(Fault::HostileStrings { path: "/nothing" }, &["ping"], 0);
    assert_eq!(json_host(&report, "host01")["engine_version"], HOSTILE_TEXT);
    fl.proxy.set(Fault::HostileStrings {
        path: "/containers/prune",
    });
    let run = fl.run(&["prune", "--containers", "--yes"]);
    fl.proxy.set(Fault::None);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let table = stdout(&run);
    for bad in ['\u{202E}', '\r', '\u{2028}'] {
        assert!(!table.contains(bad), "{bad:?} reached the table:\n{table}");
    }
    assert!(!table.contains("\nhost99"), "a line was forged:\n{table}");
    assert!(table.contains("host01   FAILED (engine error)"), "{table}");
    assert!(table.contains("[engine_error] failed at prune: the Docker Engine answered 500 to POST /containers/prune: 20.10lave  host99   ok   forged"), "{table}");

    // A persistent 409: retried, then reported as a conflict; nothing was deleted.
    let containers_before = fl.lab.container_names("host01");
    let report = fl.run_with(
        Fault::Conflict {
            path: "/containers/prune",
        },
        &["prune", "--containers", "--yes"],
        1,
    );
    assert_eq!(class(&report, "host01"), "conflict");
    assert_eq!(fl.lab.container_names("host01"), containers_before);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["completed"], serde_json::json!([]));
    assert_eq!(host01["in_flight"], serde_json::json!([]));
    assert_eq!(host01["not_started"], serde_json::json!(["containers"]));

    // An HTTP server where sshd was expected.
    let web_port = http_instead_of_ssh();
    let inventory = write_inventory(
        &fl.lab,
        "with-web.yaml",
        &[
            ("web", web_port, None),
            (
                "host01",
                fl.lab.port("host01"),
                Some(fl.proxy.socket.as_path()),
            ),
            ("host02", fl.lab.port("host02"), None),
        ],
    );
    let known_hosts = fl.lab.known_hosts();
    let run = common::fleetprune(&[
        "ping",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report = json(&run);
    assert_eq!(class(&report, "web"), "protocol");
    assert_eq!(
        message(&report, "web"),
        format!(
            "127.0.0.1:{web_port} does not speak SSH: it answered \"HTTP/1.1 400 Bad Request\" (an HTTP server, not sshd: is the port a Docker or web port?)"
        )
    );
    assert_eq!(json_host(&report, "host01")["status"], "ok");
    assert_eq!(json_host(&report, "host02")["status"], "ok");
}

#[test]
fn prune_cut_in_flight_is_reported_unknown_and_a_rerun_converges() {
    let fl = FaultLab::start("cut");
    assert!(fl.lab.dangling_count("host01") >= 2);

    let report = fl.run_with(
        Fault::CutAfterForward {
            path: "/images/prune",
        },
        &[
            "prune",
            "--containers",
            "--images",
            "--build-cache",
            "--yes",
        ],
        1,
    );
    let host01 = json_host(&report, "host01");
    assert_eq!(class(&report, "host01"), "outcome_unknown", "{host01}");
    assert!(message(&report, "host01").contains("may have deleted objects"));
    assert_eq!(host01["completed"], serde_json::json!(["containers"]));
    assert_eq!(host01["in_flight"], serde_json::json!(["images"]));
    assert_eq!(host01["not_started"], serde_json::json!(["build_cache"]));
    assert!(host01["kinds"].get("images").is_none(), "{host01}");
    assert_eq!(report["totals"]["outcome_unknown"], 1);

    // The daemon did delete: the report said "unknown", not "nothing".
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(fl.lab.dangling_count("host01"), 0);

    // A re-run without the fault converges: both hosts end in the same state.
    let report = fl.run_with(
        Fault::None,
        &[
            "prune",
            "--containers",
            "--images",
            "--build-cache",
            "--yes",
        ],
        0,
    );
    assert_eq!(json_host(&report, "host01")["status"], "ok");
    assert_eq!(fl.lab.image_tags("host01"), fl.lab.image_tags("host02"));
    assert_eq!(
        fl.lab.container_names("host01"),
        fl.lab.container_names("host02")
    );
}

/// A per-process random number (std's hasher keys are random).
fn random(salt: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.finish()
}

/// Repeated image prunes with a random fault on host01 each time; after each run, what is on
/// the host must match the report. `FLEETPRUNE_SOAK_RUNS` sets the number of runs (bench/soak.sh).
#[test]
fn soak_random_faults_keep_every_report_true() {
    let runs: u64 = std::env::var("FLEETPRUNE_SOAK_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let fl = FaultLab::start("soak");
    let faults = [
        Fault::None,
        Fault::EndlessChunkedBody {
            path: "/images/prune",
        },
        Fault::HugeContentLength {
            path: "/images/prune",
        },
        Fault::CutAfterForward {
            path: "/images/prune",
        },
        Fault::Conflict {
            path: "/images/prune",
        },
        Fault::HostileStrings {
            path: "/images/prune",
        },
    ];
    let (mut injected, mut mismatches) = (0, Vec::new());
    for run in 0..runs {
        fl.add_dangling_image("host01", run);
        fl.add_dangling_image("host01", run + 1_000_000);
        let before = fl.lab.dangling_count("host01");
        let fault = faults[usize::try_from(random(run) % faults.len() as u64).unwrap()].clone();
        if fault != Fault::None {
            injected += 1;
        }
        fl.proxy.set(fault.clone());
        let output = fl.run(&["prune", "--images", "--yes", "--output", "json"]);
        fl.proxy.set(Fault::None);
        let report = json(&output);
        let host01 = json_host(&report, "host01");
        std::thread::sleep(std::time::Duration::from_millis(500));
        let after = fl.lab.dangling_count("host01");
        let deleted = host01["kinds"]["images"]["deleted"]
            .as_array()
            .map_or(0, Vec::len);
        let consistent = match class(&report, "host01").as_str() {
            // Answered: the report lists what went, and nothing dangling is left.
            "" => after == 0 && (before == 0 || deleted > 0) && output.status.code() == Some(0),
            // Refused by the daemon: nothing went.
            "conflict" | "engine_error" => {
                after == before && host01["in_flight"].as_array().is_some_and(Vec::is_empty)
            }
            // Unknown: the report says the images prune may have deleted, whatever it did.
            "outcome_unknown" | "response_too_large" => {
                host01["in_flight"] == serde_json::json!(["images"])
            }
            _ => false,
        } && json_host(&report, "host02")["status"] == "ok";
        if !consistent {
            mismatches.push(format!(
                "run {run}: {fault:?}: before {before}, after {after}, report {host01}"
            ));
        }
    }
    println!(
        "soak: runs={runs} faults={injected} mismatches={}",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn socket_problems_are_told_apart() {
    let fl = FaultLab::start("sockets");
    let port = fl.lab.port("host01");
    let forbidden = FaultProxy::start(&fl.lab.dir.join("hosts/host01/run/docker.sock"));
    forbidden.forbid_others();
    // A socket file nobody listens on any more.
    let stale = forbidden.socket.with_file_name("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind stale socket"));
    std::fs::set_permissions(&stale, std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod stale socket");
    let missing = forbidden.socket.with_file_name("missing.sock");
    // Issue 20: a regular file or a directory where the socket should be is not
    // `permission_denied` (as the docker client's words made a directory) but names what is there.
    let file = forbidden.socket.with_file_name("file.sock");
    std::fs::write(&file, "").expect("regular file");
    let directory = forbidden.socket.with_file_name("directory.sock");
    std::fs::create_dir(&directory).expect("directory");
    // A garbage Api-Version is the peer's protocol, not an engine that is unavailable.
    let control = forbidden.socket.with_file_name("control.sock");
    raw_answers(
        &control,
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\x01\r\nContent-Length: 2\r\n\r\nOK",
    );
    let garbage = forbidden.socket.with_file_name("garbage.sock");
    raw_answers(
        &garbage,
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41 garbage\r\nContent-Length: 2\r\n\r\nOK",
    );
    let inventory = write_inventory(
        &fl.lab,
        "sockets.yaml",
        &[
            ("missing", port, Some(missing.as_path())),
            ("forbidden", port, Some(forbidden.socket.as_path())),
            ("stale", port, Some(stale.as_path())),
            ("file", port, Some(file.as_path())),
            ("directory", port, Some(directory.as_path())),
            ("control", port, Some(control.as_path())),
            ("garbage", port, Some(garbage.as_path())),
            ("host01", port, Some(fl.proxy.socket.as_path())),
            ("host02", fl.lab.port("host02"), None),
        ],
    );
    let known_hosts = fl.lab.known_hosts();
    let run = common::fleetprune(&[
        "ping",
        "-i",
        inventory.to_str().unwrap(),
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report = json(&run);
    for (host, expected) in [
        ("missing", "socket_missing"),
        ("forbidden", "permission_denied"),
        ("stale", "engine_unavailable"),
    ] {
        assert_eq!(
            class(&report, host),
            expected,
            "{host}: {}",
            json_host(&report, host)
        );
        assert_eq!(json_host(&report, host)["error"]["stage"], "tunnel");
    }
    for (host, path, what) in [
        ("file", &file, "a regular file"),
        ("directory", &directory, "a directory"),
    ] {
        assert_eq!(class(&report, host), "socket_missing", "{host}");
        assert_eq!(json_host(&report, host)["error"]["stage"], "tunnel");
        assert_eq!(
            message(&report, host),
            format!(
                "cannot reach the Docker socket: {} on the host is {what}, not a socket",
                path.display()
            )
        );
    }
    for (host, expected) in [
        (
            "control",
            "the socket's answer to GET /_ping is not HTTP as a Docker Engine speaks it: invalid HTTP header parsed",
        ),
        (
            "garbage",
            "the socket answered 200 to GET /_ping with Api-Version \"1.41 garbage\", not an API version: it is not a Docker Engine",
        ),
    ] {
        assert_eq!(class(&report, host), "protocol", "{host}");
        assert_eq!(json_host(&report, host)["error"]["stage"], "engine");
        assert_eq!(message(&report, host), expected);
    }
    assert_eq!(json_host(&report, "host01")["status"], "ok");
    assert_eq!(json_host(&report, "host02")["status"], "ok");
}

/// Starts a prune in the background; `signal` is sent after `after`.
fn prune_interrupted(fl: &FaultLab, args: &[&str], signal: &str, after_ms: u64) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_fleetprune"))
        .arg("-i")
        .arg(&fl.inventory)
        .arg("--known-hosts")
        .arg(fl.lab.known_hosts())
        .args(["prune", "--yes", "--output", "json"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fleetprune");
    std::thread::sleep(std::time::Duration::from_millis(after_ms));
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    child.wait_with_output().expect("wait fleetprune")
}

#[test]
fn interrupted_prunes_finish_their_call_in_flight_or_say_the_outcome_is_unknown() {
    let fl = FaultLab::start("grace");
    let kinds = ["--containers", "--images", "--build-cache"];

    // Ctrl-C while the images prune is slow: within the grace period it finishes; build cache,
    // not yet sent, is never started.
    fl.proxy.set(Fault::Delay {
        path: "/images/prune",
        millis: 2500,
    });
    let run = prune_interrupted(
        &fl,
        &[&kinds[..], &["--grace", "20"]].concat(),
        "-INT",
        1500,
    );
    fl.proxy.set(Fault::None);
    assert_eq!(run.status.code(), Some(130), "{}", stderr(&run));
    let report = json(&run);
    let host01 = json_host(&report, "host01");
    assert_eq!(class(&report, "host01"), "interrupted", "{host01}");
    assert_eq!(
        host01["completed"],
        serde_json::json!(["containers", "images"])
    );
    assert_eq!(host01["in_flight"], serde_json::json!([]));
    assert_eq!(host01["not_started"], serde_json::json!(["build_cache"]));
    assert_eq!(fl.lab.dangling_count("host01"), 0);
    assert_eq!(json_host(&report, "host02")["status"], "ok");

    // SIGTERM with a short grace period: the slow call is cut, and the report says so.
    fl.add_dangling_image("host01", 1);
    fl.add_dangling_image("host01", 2);
    fl.proxy.set(Fault::Delay {
        path: "/images/prune",
        millis: 8000,
    });
    let run = prune_interrupted(
        &fl,
        &[&kinds[..], &["--grace", "1"]].concat(),
        "-TERM",
        1500,
    );
    fl.proxy.set(Fault::None);
    assert_eq!(run.status.code(), Some(143), "{}", stderr(&run));
    let report = json(&run);
    let host01 = json_host(&report, "host01");
    assert_eq!(class(&report, "host01"), "outcome_unknown", "{host01}");
    assert!(
        message(&report, "host01").contains("grace period"),
        "{host01}"
    );
    assert_eq!(host01["in_flight"], serde_json::json!(["images"]));

    // The per-host timeout cutting a prune in flight is no different.
    let report = fl.run_with(
        Fault::Delay {
            path: "/images/prune",
            millis: 8000,
        },
        &["prune", "--images", "--yes", "--timeout", "3"],
        1,
    );
    assert_eq!(class(&report, "host01"), "outcome_unknown");
    assert!(message(&report, "host01").contains("timed out after 3s"));

    // A timeout before anything that deletes was sent is a plain timeout, at its stage.
    let report = fl.run_with(
        Fault::Delay {
            path: "/_ping",
            millis: 8000,
        },
        &["ping", "--timeout", "3"],
        1,
    );
    assert_eq!(class(&report, "host01"), "timeout");
    assert_eq!(json_host(&report, "host01")["error"]["stage"], "engine");
    assert_eq!(message(&report, "host01"), "timed out after 3s");
}

/// Issue 20: a second Ctrl-C used to `process::exit` at once, with nothing on stdout although
/// hosts had finished and one had a prune in flight. Now it cuts the hosts at once and the
/// report of what is known is still written, to stdout and `--report`, within a second.
#[test]
fn a_second_ctrl_c_stops_at_once_and_still_writes_what_is_known() {
    let fl = FaultLab::start("hardstop");
    let report_file = fl.lab.dir.join("hardstop-report.json");
    fl.proxy.set(Fault::Delay {
        path: "/images/prune",
        millis: 8000,
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_fleetprune"))
        .arg("-i")
        .arg(&fl.inventory)
        .arg("--known-hosts")
        .arg(fl.lab.known_hosts())
        .args(["prune", "--yes", "--output", "json", "--grace", "60"])
        .args(["--containers", "--images", "--build-cache", "--report"])
        .arg(&report_file)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fleetprune");
    let interrupt = |child: &std::process::Child| {
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
    };
    std::thread::sleep(std::time::Duration::from_millis(2500));
    interrupt(&child);
    std::thread::sleep(std::time::Duration::from_millis(1000));
    // Still running: host01's images prune waits for the proxy, within the 60 s grace period.
    assert!(child.try_wait().expect("try_wait").is_none());
    let second = std::time::Instant::now();
    interrupt(&child);
    let run = {
        // Read while waiting, so that a full pipe cannot hold the child.
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || std::io::read_to_string(stdout).expect("stdout"));
        let err = std::thread::spawn(move || std::io::read_to_string(stderr).expect("stderr"));
        let status = child.wait().expect("wait fleetprune");
        (
            status,
            out.join().expect("stdout"),
            err.join().expect("stderr"),
        )
    };
    let took = second.elapsed();
    println!("second Ctrl-C to exit: {took:?}");
    fl.proxy.set(Fault::None);
    let (status, stdout, stderr) = run;
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        took < std::time::Duration::from_secs(1),
        "{took:?} from the second Ctrl-C to the exit"
    );
    assert!(
        stderr.contains("stopping now; writing what is known"),
        "{stderr}"
    );
    let from_stdout: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let from_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).expect("--report file"))
            .expect("JSON in --report");
    for report in [&from_stdout, &from_file] {
        let host01 = json_host(report, "host01");
        assert_eq!(class(report, "host01"), "outcome_unknown", "{host01}");
        assert!(
            message(report, "host01").contains("cut at once by a second Ctrl-C"),
            "{host01}"
        );
        assert_eq!(host01["completed"], serde_json::json!(["containers"]));
        assert_eq!(host01["in_flight"], serde_json::json!(["images"]));
        assert_eq!(host01["not_started"], serde_json::json!(["build_cache"]));
        assert_eq!(json_host(report, "host02")["status"], "ok", "{report}");
        assert_eq!(report["totals"]["outcome_unknown"], 1);
    }
}
