//! The output contract without a lab: every format of every command as a whole document, parsed
//! by a real consumer (serde_json, the csv crate, promtool); exit codes; closed pipes; live lines
//! with and without a terminal (a pseudo-terminal from `script`); `--shard`; `report`;
//! completions, man page, `--version` and `--help`.
//!
//! Hosts here are unreachable on purpose (port 1 refuses, a silent listener never answers), so
//! each run's outcome is known exactly.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fleetprune, fleetprune_command, stderr, stdout, write_file};
use serde_json::{Value, json};

/// Two hosts that refuse connections (port 1) and one that is not an ssh host.
const DOWN: &str = "all:
  hosts:
    down-1: {ansible_host: 127.0.0.1, ansible_port: 1}
    down-2: {ansible_host: 127.0.0.1, ansible_port: 1}
    local-1: {ansible_connection: local}
";

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(inventory: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "inventory.yaml", inventory);
        write_file(dir.path(), "known_hosts", "");
        Setup { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn args(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec![
            "-i".to_string(),
            self.path("inventory.yaml"),
            "--known-hosts".to_string(),
            self.path("known_hosts"),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let all = self.args(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        fleetprune(&all)
    }

    fn command(&self, args: &[&str]) -> Command {
        let all = self.args(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        fleetprune_command(&all)
    }
}

/// The JSON document with its times and durations replaced, so it can be compared whole.
fn normalized(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    match key.as_str() {
                        "started_at" | "finished_at" => {
                            let text = field.as_str().expect("a time string");
                            assert!(
                                text.parse::<jiff::Timestamp>().is_ok(),
                                "{key} {text} is RFC 3339"
                            );
                            *field = json!("<time>");
                        }
                        "duration_ms" => *field = json!(0),
                        "inventory" => *field = json!(["<inventory>"]),
                        _ => walk(field),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

fn refused(name: &str) -> Value {
    json!({
        "name": name,
        "address": "127.0.0.1:1",
        "status": "failed",
        "transport": null,
        "engine_version": null,
        "api_version": null,
        "host_key": null,
        "duration_ms": 0,
        "attempts": 1,
        "error": {
            "stage": "connect",
            "class": "connect_refused",
            "message": "cannot connect to 127.0.0.1:1: Connection refused (os error 111)"
        }
    })
}

fn skipped() -> Value {
    json!({
        "name": "local-1",
        "address": "local-1:22",
        "status": "failed",
        "transport": null,
        "engine_version": null,
        "api_version": null,
        "host_key": null,
        "duration_ms": 0,
        "attempts": 0,
        "error": {
            "stage": "plan",
            "class": "skipped",
            "message": "skipped: ansible_connection is \"local\"; fleetprune reaches hosts over ssh only, so this host is not contacted"
        }
    })
}

fn with(mut host: Value, extra: Value) -> Value {
    let map = host.as_object_mut().unwrap();
    for (key, value) in extra.as_object().unwrap() {
        map.insert(key.clone(), value.clone());
    }
    host
}

fn run_facts() -> Value {
    json!({
        "fleetprune_version": env!("CARGO_PKG_VERSION"),
        "started_at": "<time>",
        "finished_at": "<time>",
        "inventory": ["<inventory>"],
        "limit": null,
    })
}

fn safety() -> Value {
    json!({"serial": null, "batches": [3], "max_fail_percentage": null, "retries": 0, "stopped": null})
}

fn counts() -> Value {
    json!({"hosts": 3, "succeeded": 0, "failed": 3, "cancelled": 0, "outcome_unknown": 0})
}

fn document(command: &str, hosts: Vec<Value>, totals: Value) -> Value {
    with(
        json!({"schema_version": 1, "command": command}),
        with(
            run_facts(),
            json!({"hosts": hosts, "totals": totals, "safety": safety()}),
        ),
    )
}

fn prune_host(host: Value) -> Value {
    with(
        host,
        json!({
            "plan": {
                "kinds": ["images"],
                "all": {"images": true, "volumes": true, "build_cache": true},
                "filters": ["until=24h"],
                "description": "images (all) [until=24h]"
            },
            "volume_scope": null,
            "kinds": {},
            "reclaimed_bytes": 0,
            "completed": [],
            "in_flight": [],
            "not_started": []
        }),
    )
}

#[test]
fn json_documents_are_whole_and_carry_run_facts_and_plans() {
    let setup = Setup::new(DOWN);
    let prune_args = [
        "prune",
        "--images",
        "-a",
        "--filter",
        "until=24h",
        "--yes",
        "-o",
        "json",
    ];
    let cases = [
        (
            &["ping", "-o", "json"][..],
            document(
                "ping",
                vec![refused("down-1"), refused("down-2"), skipped()],
                counts(),
            ),
        ),
        (
            &["df", "-o", "json"][..],
            document(
                "df",
                vec![
                    with(refused("down-1"), json!({"disk_usage": null})),
                    with(refused("down-2"), json!({"disk_usage": null})),
                    with(skipped(), json!({"disk_usage": null})),
                ],
                with(
                    counts(),
                    json!({"disk_usage": {
                        "images": {"total": 0, "active": 0, "size_bytes": 0, "reclaimable_bytes": 0},
                        "containers": {"total": 0, "active": 0, "size_bytes": 0, "reclaimable_bytes": 0},
                        "volumes": {"total": 0, "active": 0, "size_bytes": 0, "reclaimable_bytes": 0},
                        "build_cache": {"total": 0, "active": 0, "size_bytes": 0, "reclaimable_bytes": 0}
                    }}),
                ),
            ),
        ),
        (
            &prune_args[..],
            document(
                "prune",
                vec![
                    prune_host(refused("down-1")),
                    prune_host(refused("down-2")),
                    prune_host(skipped()),
                ],
                with(counts(), json!({"reclaimed_bytes": 0, "kinds": {}})),
            ),
        ),
    ];
    for (args, expected) in cases {
        let run = setup.run(args);
        assert_eq!(run.status.code(), Some(3), "{args:?}: {}", stderr(&run));
        let report: Value = serde_json::from_slice(&run.stdout).expect("one JSON document");
        assert_eq!(normalized(report), expected, "{args:?}");

        // NDJSON has the same shapes: each host's entry with `event` and `command`, then the
        // document without `hosts`.
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "json" { "ndjson" } else { a })
            .collect();
        let run = setup.run(&args);
        assert_eq!(run.status.code(), Some(3), "{args:?}: {}", stderr(&run));
        let mut events: Vec<Value> = stdout(&run)
            .lines()
            .map(|l| normalized(serde_json::from_str(l).expect("a JSON line")))
            .collect();
        let summary = events.pop().unwrap();
        events.sort_by_key(|e| e["name"].as_str().unwrap().to_string());
        let command = expected["command"].clone();
        let hosts: Vec<Value> = expected["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| with(json!({"event": "host", "command": command}), h.clone()))
            .collect();
        assert_eq!(events, hosts, "{args:?}");
        let mut document = expected.clone();
        document.as_object_mut().unwrap().remove("hosts");
        assert_eq!(
            summary,
            with(json!({"event": "summary"}), document),
            "{args:?}"
        );
    }
}

#[test]
fn ndjson_is_one_event_per_host_then_a_summary() {
    let setup = Setup::new(DOWN);
    let run = setup.run(&["ping", "-o", "ndjson", "--limit", "down-*"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let events: Vec<Value> = stdout(&run)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(events.len(), 3, "{}", stdout(&run));
    let mut hosts: Vec<Value> = events[..2].iter().cloned().map(normalized).collect();
    hosts.sort_by_key(|h| h["name"].as_str().unwrap().to_string());
    let event = json!({"event": "host", "command": "ping"});
    assert_eq!(
        hosts,
        [
            with(event.clone(), refused("down-1")),
            with(event, refused("down-2"))
        ]
    );
    let summary = with(
        json!({"event": "summary", "schema_version": 1, "command": "ping"}),
        with(
            run_facts(),
            json!({
                "limit": "down-*",
                "totals": {"hosts": 2, "succeeded": 0, "failed": 2, "cancelled": 0, "outcome_unknown": 0},
                "safety": {"serial": null, "batches": [2], "max_fail_percentage": null, "retries": 0, "stopped": null}
            }),
        ),
    );
    assert_eq!(normalized(events[2].clone()), summary);
}

#[test]
fn ndjson_lines_are_streamed_as_hosts_finish() {
    // down-1 refuses at once; silent-1 accepts and never speaks, so it takes the 3s connect timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let setup = Setup::new(&format!(
        "all:\n  hosts:\n    down-1: {{ansible_host: 127.0.0.1, ansible_port: 1}}\n    silent-1: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n"
    ));
    let mut child = setup
        .command(&["ping", "-o", "ndjson", "--connect-timeout", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["name"], "down-1");
    assert!(
        started.elapsed() < Duration::from_secs(2) && child.try_wait().unwrap().is_none(),
        "down-1's line came while silent-1 was still running"
    );
    let rest: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert_eq!(rest[0]["name"], "silent-1");
    assert_eq!(rest[0]["error"]["class"], "connect_timeout");
    assert_eq!(rest[1]["event"], "summary");
    assert_eq!(child.wait().unwrap().code(), Some(3));
    drop(listener);
}

#[test]
fn csv_has_a_row_per_host_and_kind_read_by_the_csv_crate() {
    let setup = Setup::new(DOWN);
    let read = |args: &[&str]| -> Vec<csv::StringRecord> {
        let run = setup.run(args);
        assert_eq!(run.status.code(), Some(3), "{args:?}: {}", stderr(&run));
        let mut reader = csv::Reader::from_reader(run.stdout.as_slice());
        let mut rows = vec![reader.headers().unwrap().clone()];
        rows.extend(reader.records().map(Result::unwrap));
        rows
    };
    let message = "cannot connect to 127.0.0.1:1: Connection refused (os error 111)";
    let skipped = "skipped: ansible_connection is \"local\"; fleetprune reaches hosts over ssh only, so this host is not contacted";
    let rows = read(&["ping", "-o", "csv"]);
    let expected: Vec<Vec<&str>> = vec![
        vec![
            "host",
            "address",
            "status",
            "host_key",
            "fingerprint",
            "transport",
            "engine_version",
            "api_version",
            "duration_ms",
            "attempts",
            "error_stage",
            "error_class",
            "error_message",
        ],
        vec![
            "down-1",
            "127.0.0.1:1",
            "failed",
            "",
            "",
            "",
            "",
            "",
            "0",
            "1",
            "connect",
            "connect_refused",
            message,
        ],
        vec![
            "down-2",
            "127.0.0.1:1",
            "failed",
            "",
            "",
            "",
            "",
            "",
            "0",
            "1",
            "connect",
            "connect_refused",
            message,
        ],
        vec![
            "local-1",
            "local-1:22",
            "failed",
            "",
            "",
            "",
            "",
            "",
            "0",
            "0",
            "plan",
            "skipped",
            skipped,
        ],
    ];
    let without_durations = |rows: Vec<csv::StringRecord>, column: usize| -> Vec<Vec<String>> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                r.iter()
                    .enumerate()
                    .map(|(c, v)| {
                        if i > 0 && c == column {
                            "0".into()
                        } else {
                            v.to_string()
                        }
                    })
                    .collect()
            })
            .collect()
    };
    assert_eq!(without_durations(rows, 8), expected);

    let rows = read(&[
        "prune", "--images", "--yes", "-o", "csv", "--limit", "down-1",
    ]);
    assert_eq!(
        without_durations(rows, 7),
        [
            vec![
                "host",
                "address",
                "status",
                "kind",
                "kind_status",
                "deleted",
                "reclaimed_bytes",
                "duration_ms",
                "error_stage",
                "error_class",
                "error_message",
                "planned",
                "skipped"
            ],
            // The connection failed before the plan ran: its kinds were not started.
            vec![
                "down-1",
                "127.0.0.1:1",
                "failed",
                "images",
                "not_started",
                "0",
                "0",
                "0",
                "connect",
                "connect_refused",
                message,
                "",
                ""
            ],
        ]
    );

    let rows = read(&["df", "-o", "csv", "--limit", "down-1"]);
    assert_eq!(
        rows.iter()
            .map(|r| r.iter().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [
            vec![
                "host",
                "address",
                "status",
                "kind",
                "total",
                "active",
                "size_bytes",
                "reclaimable_bytes",
                "error_stage",
                "error_class",
                "error_message"
            ],
            vec![
                "down-1",
                "127.0.0.1:1",
                "failed",
                "",
                "",
                "",
                "",
                "",
                "connect",
                "connect_refused",
                message
            ],
        ]
    );
}

#[test]
fn markdown_is_a_table_to_paste_with_failed_rows_last() {
    let setup = Setup::new(DOWN);
    let run = setup.run(&["ping", "-o", "markdown", "--limit", "down-1"]);
    assert_eq!(run.status.code(), Some(3));
    let text = stdout(&run);
    let table: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(
        table[..2],
        [
            "| HOST   | STATUS           | ADDRESS     | HOST KEY | TRANSPORT | ENGINE | API | TIME |",
            "|--------|------------------|-------------|----------|-----------|--------|-----|------|",
        ]
    );
    assert!(table[2].starts_with("| down-1 | FAILED (refused) | 127.0.0.1:1 |"));
    assert_eq!(
        table[3],
        "| TOTAL  | 0/1 ok           |             |          |           |        |     |      |"
    );
    for args in [&["df"][..], &["prune", "--images", "--yes"][..]] {
        let run = setup.run(&[args, &["-o", "markdown", "--limit", "down-1"]].concat());
        let text = stdout(&run);
        let mut lines = text.lines();
        assert!(
            lines.next().unwrap().starts_with("| HOST   | STATUS "),
            "{text}"
        );
        assert!(lines.next().unwrap().starts_with("|--------|"), "{text}");
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("| down-1 | FAILED (refused) |"),
            "{text}"
        );
        assert!(
            lines.next().unwrap().starts_with("| TOTAL  | 0/1 ok "),
            "{text}"
        );
    }
}

#[test]
fn inventory_in_every_format() {
    let setup = Setup::new("all:\n  hosts:\n    a|b: {ansible_host: 10.0.0.1}\n");
    let csv_run = setup.run(&["inventory", "-o", "csv"]);
    assert_eq!(
        stdout(&csv_run),
        "host,address,port,user,identity,docker_socket,groups,refused,plan\n\
         a|b,10.0.0.1,22,root,,/var/run/docker.sock,\"all,ungrouped\",,\n"
            .replace("root", &whoami())
    );
    let markdown = stdout(&setup.run(&["inventory", "-o", "markdown"]));
    assert!(markdown.contains("| a\\|b | 10.0.0.1:22 |"), "{markdown}");
    let ndjson = stdout(&setup.run(&["inventory", "-o", "ndjson"]));
    let events: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "host");
    assert_eq!(events[0]["name"], "a|b");
    assert_eq!(events[1]["event"], "summary");
    assert_eq!(events[1]["totals"]["hosts"], 1);
    let json: Value =
        serde_json::from_slice(&setup.run(&["inventory", "-o", "json"]).stdout).unwrap();
    assert_eq!(json["fleetprune_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["inventory"][0], setup.path("inventory.yaml"));
}

fn whoami() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn ansible_forks_habit_gets_a_helpful_error() {
    for args in [
        &["ping", "-f", "10"][..],
        &["prune", "--images", "-f10"][..],
    ] {
        let run = fleetprune(args);
        assert_eq!(run.status.code(), Some(2));
        assert_eq!(
            stderr(&run),
            "fleetprune: -f 10: use --forks 10 for 10 hosts at a time (Ansible's -f); in fleetprune -f is docker's --force (the same as --yes)\n"
        );
    }
}

/// 300 refusing hosts: a report long enough that a reader closing early hits a closed pipe.
fn many_down() -> Setup {
    let mut text = "all:\n  hosts:\n".to_string();
    for i in 0..300 {
        text.push_str(&format!(
            "    down-{i:03}: {{ansible_host: 127.0.0.1, ansible_port: 1}}\n"
        ));
    }
    Setup::new(&text)
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_earned_exit_code() {
    let setup = many_down();
    for format in ["table", "ndjson", "csv", "json"] {
        let mut child = setup
            .command(&["ping", "-o", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close stdout, as `| head -c1` does.
        let mut out = child.stdout.take().unwrap();
        out.read_exact(&mut [0u8; 1]).unwrap();
        drop(out);
        let mut errors = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut errors)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(3), "{format}: {errors}");
        assert!(!errors.contains("Broken pipe"), "{format}: {errors}");
        assert!(!errors.contains("panicked"), "{format}: {errors}");
    }
}

#[test]
fn a_closed_stderr_is_no_panic() {
    let setup = many_down();
    let mut child = setup
        .command(&["ping", "--limit", "all,!nothing*"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the first write: the warning and every live line hit a closed pipe.
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
fn live_lines_without_a_terminal_and_none_with_quiet() {
    let setup = Setup::new(DOWN);
    let run = setup.run(&["ping", "--limit", "down-1"]);
    assert_eq!(
        stderr(&run)
            .lines()
            .map(|l| l.rsplit_once(" (").map_or(l, |(line, _)| line))
            .collect::<Vec<_>>(),
        [
            "down-1 FAILED at connect: [connect_refused] cannot connect to 127.0.0.1:1: Connection refused (os error 111)"
        ]
    );
    let run = setup.run(&["ping", "--limit", "down-1", "-q"]);
    assert_eq!(stderr(&run), "");
    assert!(stdout(&run).contains("Failed hosts:"), "{}", stdout(&run));
}

#[test]
fn logs_have_no_colour_in_a_pipe() {
    let setup = Setup::new(DOWN);
    let run = setup.run(&["inventory", "--limit", "all,!nothing*"]);
    assert!(stderr(&run).contains("WARN"), "{}", stderr(&run));
    assert!(!stderr(&run).contains('\u{1b}'), "{:?}", stderr(&run));
}

/// Runs `command` in a pseudo-terminal (util-linux `script`) `cols` wide and returns all it wrote.
fn in_terminal(command: &[String], cols: u16, env: &[(&str, &str)]) -> String {
    let line = command
        .iter()
        .map(|a| shlex::try_quote(a).unwrap().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    // script's terminal has no size of its own.
    let line = format!("stty cols {cols} rows 40; exec {line}");
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .env("ANSIBLE_CONFIG", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script is installed");
    assert!(output.status.success() || output.status.code().is_some());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn on_a_terminal_the_bar_names_running_hosts_and_failures_print_above_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let setup = Setup::new(&format!(
        "all:\n  hosts:\n    down-1: {{ansible_host: 127.0.0.1, ansible_port: 1}}\n    silent-1: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n"
    ));
    let mut command = vec![env!("CARGO_BIN_EXE_fleetprune").to_string()];
    command.extend(setup.args(&["ping", "--connect-timeout", "2"]));
    let screen = in_terminal(&command, 200, &[]);
    assert!(
        screen.contains("running silent-1 (connect)"),
        "the bar names the running host and its stage: {screen:?}"
    );
    assert!(screen.contains("/2 hosts"), "{screen:?}");
    assert!(
        screen.contains("down-1 FAILED at connect: [connect_refused]"),
        "{screen:?}"
    );
    // -q on a terminal: no bar, only the report.
    let mut quiet = vec![env!("CARGO_BIN_EXE_fleetprune").to_string()];
    quiet.extend(setup.args(&["ping", "--limit", "down-1", "-q"]));
    let screen = in_terminal(&quiet, 200, &[]);
    assert!(!screen.contains("/1 hosts"), "{screen:?}");
    assert!(screen.contains("Failed hosts:"), "{screen:?}");
    // Logs on a terminal are coloured unless NO_COLOR is set.
    let warn = setup.args(&["inventory", "--limit", "all,!nothing*"]);
    let mut command = vec![env!("CARGO_BIN_EXE_fleetprune").to_string()];
    command.extend(warn);
    assert!(in_terminal(&command, 200, &[]).contains("\u{1b}["));
    assert!(!in_terminal(&command, 200, &[("NO_COLOR", "1")]).contains("\u{1b}["));
    drop(listener);
}

#[test]
fn the_table_fits_the_terminal_width() {
    let long = "a-host-with-a-rather-long-name-from-a-generated-inventory-in-a-big-fleet";
    let setup = Setup::new(&format!(
        "all:\n  hosts:\n    {long}: {{ansible_host: 127.0.0.1, ansible_port: 1}}\n"
    ));
    let mut command = vec![env!("CARGO_BIN_EXE_fleetprune").to_string()];
    command.extend(setup.args(&["ping", "-q"]));
    let screen = in_terminal(&command, 80, &[]);
    let table: Vec<&str> = screen
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(table.len() > 2, "{screen}");
    for line in table {
        assert!(line.trim_end().chars().count() <= 80, "{line:?}");
    }
    // Not a terminal: full rows, whatever the width.
    let run = setup.run(&["ping", "-q"]);
    assert!(stdout(&run).contains(long));
}

#[test]
fn shards_cover_the_inventory_exactly_once() {
    let mut text = "all:\n  hosts:\n".to_string();
    let names: Vec<String> = (1..=60).map(|i| format!("node{i:03}.example")).collect();
    for name in &names {
        text.push_str(&format!("    {name}: {{}}\n"));
    }
    let setup = Setup::new(&text);
    let mut seen: Vec<String> = Vec::new();
    for index in 1..=4 {
        let shard = format!("{index}/4");
        let run = setup.run(&["inventory", "--shard", &shard, "-o", "json"]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let report: Value = serde_json::from_slice(&run.stdout).unwrap();
        assert_eq!(report["shard"], shard);
        let hosts = report["hosts"].as_array().unwrap();
        assert!(
            !hosts.is_empty() && hosts.len() < 30,
            "{shard}: {}",
            hosts.len()
        );
        seen.extend(
            hosts
                .iter()
                .map(|h| h["name"].as_str().unwrap().to_string()),
        );
    }
    seen.sort();
    assert_eq!(seen, names, "every host in exactly one shard");

    // auto/N reads a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (from 0).
    let auto = setup
        .command(&["inventory", "--shard", "auto/4", "-o", "json"])
        .env("JOB_COMPLETION_INDEX", "0")
        .output()
        .unwrap();
    let auto: Value = serde_json::from_slice(&auto.stdout).unwrap();
    assert_eq!(auto["shard"], "1/4");
    let run = setup.run(&["inventory", "--shard", "auto/4"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("JOB_COMPLETION_INDEX"),
        "{}",
        stderr(&run)
    );
    let run = setup.run(&["inventory", "--shard", "5/4"]);
    assert_eq!(run.status.code(), Some(2));
}

/// A saved prune report as `--report` writes it (only what `report` reads matters here).
fn saved_report(finished_at: &str, hosts: Value) -> String {
    json!({
        "schema_version": 1,
        "command": "prune",
        "fleetprune_version": "0.1.0",
        "started_at": finished_at,
        "finished_at": finished_at,
        "inventory": ["inventory.yaml"],
        "limit": null,
        "hosts": hosts,
        "totals": {},
        "safety": {}
    })
    .to_string()
}

fn saved_host(name: &str, images: (usize, u64), containers: Option<(usize, u64)>) -> Value {
    let kind = |(count, bytes): (usize, u64)| json!({"deleted": vec!["x"; count], "reclaimed_bytes": bytes});
    let mut kinds = json!({"images": kind(images)});
    if let Some(containers) = containers {
        kinds["containers"] = kind(containers);
    }
    json!({"name": name, "status": "ok", "error": null, "kinds": kinds})
}

fn failed_host(name: &str) -> Value {
    json!({"name": name, "status": "failed", "kinds": {},
           "error": {"stage": "auth", "class": "auth_failed", "message": "no key accepted"}})
}

#[test]
fn report_merges_shards_and_sums_a_week() {
    let dir = tempfile::tempdir().unwrap();
    let at = |age_hours: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(age_hours)).to_string()
    };
    let shard1 = write_file(
        dir.path(),
        "shard-1.json",
        &saved_report(
            &at(1),
            json!([saved_host("a", (2, 2_000_000), Some((1, 500_000)))]),
        ),
    );
    let shard2 = write_file(
        dir.path(),
        "shard-2.json",
        &saved_report(
            &at(1),
            json!([saved_host("b", (1, 1_000_000), None), failed_host("c")]),
        ),
    );
    let run = fleetprune(&["report", shard1.to_str().unwrap(), shard2.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = stdout(&run);
    let table: Vec<&str> = text.lines().skip(2).take(5).collect();
    assert_eq!(
        table,
        [
            "HOST    RUNS   FAILED   CONTAINERS   IMAGES   VOLUMES   NETWORKS   BUILD CACHE   RECLAIMED",
            "a       1      0        1 (500kB)    2MB      -         -          -             2.5MB",
            "b       1      0        -            1MB      -         -          -             1MB",
            "c       1      1        -            -        -         -          -             0B",
            "TOTAL   3      1        1 (500kB)    3MB      -         -          -             3.5MB",
        ],
        "{text}"
    );
    assert!(text.starts_with("2 report(s), finished "), "{text}");
    assert!(
        text.contains("  c: [auth_failed] at auth: no key accepted\n"),
        "{text}"
    );

    // A week of nightly runs in a directory; an older one is left out.
    let week = dir.path().join("nightly");
    std::fs::create_dir(&week).unwrap();
    for (day, age) in [(1, 24), (2, 48), (9, 24 * 9)] {
        write_file(
            &week,
            &format!("day-{day}.json"),
            &saved_report(&at(age), json!([saved_host("a", (1, 1_000_000), None)])),
        );
    }
    write_file(&week, "notes.txt", "not a report");
    let run = fleetprune(&["report", "--since", "7d", week.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.starts_with("2 report(s), finished "), "{text}");
    assert!(
        text.contains("\nTOTAL   2      0        -            2MB "),
        "{text}"
    );
    assert!(text.ends_with("Total reclaimed space: 2MB\n"), "{text}");

    // A df report cannot be summed; the message names the file.
    let df = write_file(
        dir.path(),
        "df.json",
        &json!({"schema_version": 1, "command": "df", "hosts": []}).to_string(),
    );
    let run = fleetprune(&["report", df.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).starts_with(&format!("fleetprune: {}: a df report", df.display())),
        "{}",
        stderr(&run)
    );
}

#[test]
fn report_file_holds_the_json_while_the_table_goes_to_stdout() {
    let setup = Setup::new(DOWN);
    let path = setup.path("last-run.json");
    let run = setup.run(&["ping", "--report", &path]);
    assert_eq!(run.status.code(), Some(3));
    assert!(stdout(&run).starts_with("HOST "), "{}", stdout(&run));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["command"], "ping");
    assert_eq!(saved["hosts"].as_array().unwrap().len(), 3);
    // inventory too: the resolved hosts as JSON in the file, the table on stdout.
    let run = setup.run(&["inventory", "--report", &path]);
    assert_eq!(run.status.code(), Some(0));
    assert!(stdout(&run).starts_with("HOST "), "{}", stdout(&run));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["command"], "inventory");
}

/// Checks an exposition with Prometheus's own promtool (Debian's `prometheus` package, installed
/// by lab/install-deps.sh).
fn promtool_check(path: &Path) {
    let text = std::fs::read(path).unwrap();
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (lab/install-deps.sh installs Debian's prometheus)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &text).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn metrics_file_is_valid_prometheus_text_and_keeps_the_last_success() {
    let setup = Setup::new(DOWN);
    let path = setup.path("fleetprune.prom");
    std::fs::write(
        &path,
        "fleetprune_last_success_timestamp_seconds{command=\"prune\"} 1700000000\n",
    )
    .unwrap();
    let run = setup.run(&["prune", "--images", "--yes", "--metrics-file", &path, "-q"]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    promtool_check(Path::new(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    for line in [
        "# TYPE fleetprune_hosts gauge",
        "fleetprune_hosts{command=\"prune\",status=\"ok\"} 0",
        "fleetprune_hosts{command=\"prune\",status=\"failed\"} 3",
        "fleetprune_hosts{command=\"prune\",status=\"skipped\"} 0",
        "fleetprune_host_success{command=\"prune\",host=\"down-1\"} 0",
        "fleetprune_failures{command=\"prune\",stage=\"connect\",class=\"connect_refused\"} 2",
        "fleetprune_failures{command=\"prune\",stage=\"plan\",class=\"skipped\"} 1",
        // The run failed: the previous success is carried over.
        "fleetprune_last_success_timestamp_seconds{command=\"prune\"} 1700000000",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(text.contains("\nfleetprune_run_duration_seconds{command=\"prune\"} "));
    assert!(text.contains("\nfleetprune_last_run_timestamp_seconds{command=\"prune\"} "));
    // Written atomically: no temporary file left beside it.
    let names: Vec<String> = std::fs::read_dir(setup.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn completions_man_version_and_help() {
    let bash = fleetprune(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let script = write_file(dir.path(), "fleetprune.bash", &stdout(&bash));
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&bash).contains("--metrics-file"));
    for shell in ["zsh", "fish"] {
        let run = fleetprune(&["completions", shell]);
        assert_eq!(run.status.code(), Some(0));
        assert!(stdout(&run).contains("forks"), "{shell}");
    }
    let man = fleetprune(&["man"]);
    assert!(
        stdout(&man).contains(".TH fleetprune 1"),
        "{}",
        stdout(&man)
    );

    let version = stdout(&fleetprune(&["--version"]));
    let revision = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    let revision = String::from_utf8(revision.stdout).unwrap();
    assert!(
        version.starts_with(&format!(
            "fleetprune {} (revision {}; russh ",
            env!("CARGO_PKG_VERSION"),
            revision.trim()
        )),
        "{version}"
    );
    assert!(version.contains("crypto backend ring"), "{version}");

    let help = stdout(&fleetprune(&["prune", "--help"]));
    let (own, global) = help.split_once("Global options:").expect("a heading");
    assert!(
        own.contains("--images") && !own.contains("--forks"),
        "{help}"
    );
    assert!(
        global.contains("--forks") && global.contains("--inventory"),
        "{help}"
    );
    assert!(
        help.contains("Examples:\n  # What `docker system prune"),
        "{help}"
    );
}
