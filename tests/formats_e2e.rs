//! Every fleet command in every output format, on a real lab host: `ping`, `df`, `plan`,
//! `prune` (the daemon's endpoints and a keep policy), `apply` and `rmi` each write table,
//! markdown, json, ndjson and csv to stdout, their JSON to `--report` and their samples (labelled
//! with the command) to `--metrics-file`; then `report` sums the prune, policy prune, apply and
//! rmi reports and writes every format too. Each output is parsed, not just looked at.

mod common;

use std::path::Path;

use common::{Lab, json, stderr, stdout};

const FORMATS: [&str; 5] = ["table", "markdown", "json", "ndjson", "csv"];

/// Checks that `text` is a document of `format` naming `host`.
fn check_format(format: &str, text: &str, host: &str, command: &str) {
    let context = || format!("{command} -o {format}:\n{text}");
    match format {
        "table" => assert!(
            text.contains("TOTAL") || text.contains(host),
            "{}",
            context()
        ),
        "markdown" => assert!(text.contains("| ") && text.contains(host), "{}", context()),
        "json" => {
            let document: serde_json::Value =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {}", context()));
            assert_eq!(document["command"], command, "{}", context());
            assert_eq!(document["hosts"][0]["name"], host, "{}", context());
        }
        "ndjson" => {
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|line| {
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", context()))
                })
                .collect();
            assert_eq!(lines.first().unwrap()["event"], "host", "{}", context());
            assert_eq!(lines.first().unwrap()["command"], command, "{}", context());
            assert_eq!(lines.last().unwrap()["event"], "summary", "{}", context());
        }
        "csv" => {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader
                .headers()
                .unwrap_or_else(|e| panic!("{e}: {}", context()))
                .clone();
            assert_eq!(&header[0], "host", "{}", context());
            let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            assert!(!rows.is_empty(), "{}", context());
            assert!(
                rows.iter().all(|r| r.len() == header.len()),
                "{}",
                context()
            );
            assert_eq!(&rows[0][0], host, "{}", context());
        }
        other => panic!("unknown format {other}"),
    }
}

/// Runs `args` in every format with `--report` and `--metrics-file`; checks stdout, the report
/// and the metrics; returns the report files.
fn every_format(lab: &Lab, dir: &Path, name: &str, command: &str, args: &[&str]) -> Vec<String> {
    let host = &lab.hosts[0];
    let mut reports = Vec::new();
    for format in FORMATS {
        let report = dir.join(format!("{name}-{format}.json"));
        let metrics = dir.join(format!("{name}-{format}.prom"));
        let mut all = args.to_vec();
        all.extend_from_slice(&[
            "-o",
            format,
            "--report",
            report.to_str().unwrap(),
            "--metrics-file",
            metrics.to_str().unwrap(),
        ]);
        let run = lab.fleetprune(&all);
        assert_eq!(
            run.status.code(),
            Some(0),
            "{name} -o {format}: {}\n{}",
            stdout(&run),
            stderr(&run)
        );
        check_format(format, &stdout(&run), host, command);
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("--report written"))
                .expect("--report is JSON");
        assert_eq!(saved["command"], command, "{name}: {saved}");
        let samples = std::fs::read_to_string(&metrics).expect("--metrics-file written");
        assert!(
            samples.contains(&format!(
                "fleetprune_host_success{{command=\"{command}\",host=\"{host}\"}} 1"
            )),
            "{name} -o {format}: {samples}"
        );
        reports.push(report.to_str().unwrap().to_string());
    }
    reports
}

#[test]
fn every_command_writes_every_format_and_report_sums_every_reclaiming_command() {
    let lab = Lab::start("formats", 1, &[]);
    let dir = tempfile::tempdir().unwrap();
    let host = lab.hosts[0].clone();

    every_format(&lab, dir.path(), "ping", "ping", &["ping"]);
    every_format(&lab, dir.path(), "df", "df", &["df"]);
    let plan_file = dir.path().join("plan.json");
    every_format(
        &lab,
        dir.path(),
        "plan",
        "plan",
        &[
            "plan",
            "--containers",
            "--save",
            plan_file.to_str().unwrap(),
        ],
    );
    let mut reclaiming = Vec::new();
    // The first run of each deletes; the others find nothing left, and still write everything.
    reclaiming.extend(every_format(
        &lab,
        dir.path(),
        "apply",
        "apply",
        &["apply", plan_file.to_str().unwrap(), "--yes"],
    ));
    reclaiming.extend(every_format(
        &lab,
        dir.path(),
        "prune",
        "prune",
        &["prune", "--networks", "--yes"],
    ));
    let policy = every_format(
        &lab,
        dir.path(),
        "policy",
        "prune",
        &["prune", "--images", "-a", "--keep-last", "2", "--yes"],
    );
    // A policy prune and a plain one have one JSON host shape.
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&policy[2]).unwrap()).unwrap();
    let host_entry = &first["hosts"][0];
    for key in [
        "plan",
        "volume_scope",
        "kinds",
        "reclaimed_bytes",
        "completed",
        "in_flight",
        "not_started",
    ] {
        assert!(host_entry.get(key).is_some(), "{key}: {host_entry}");
    }
    assert!(
        host_entry["kinds"]["images"]["planned"].as_u64().is_some(),
        "{host_entry}"
    );
    reclaiming.extend(policy);
    reclaiming.extend(every_format(
        &lab,
        dir.path(),
        "rmi",
        "rmi",
        &["rmi", "lab/app:1", "--yes"],
    ));

    // report: every reclaiming command's reports summed, in every format.
    let mut args = vec!["report"];
    args.extend(reclaiming.iter().map(String::as_str));
    for format in FORMATS {
        let mut all = args.clone();
        all.extend_from_slice(&["-o", format]);
        let run = common::fleetprune(&all);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let text = stdout(&run);
        match format {
            "json" => {
                let document = json(&run);
                assert_eq!(document["command"], "report");
                assert_eq!(document["reports"], reclaiming.len());
                assert_eq!(
                    document["commands"],
                    serde_json::json!(["apply", "prune", "rmi"])
                );
                assert_eq!(document["hosts"][0]["name"], host.as_str());
                assert_eq!(document["hosts"][0]["runs"], reclaiming.len());
            }
            "ndjson" => {
                let last: serde_json::Value =
                    serde_json::from_str(text.lines().last().unwrap()).unwrap();
                assert_eq!(last["event"], "summary", "{text}");
            }
            _ => check_format(format, &text, &host, "report"),
        }
    }
}
