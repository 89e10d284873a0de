//! Whole documents of every format for successful hosts: a plain prune (the daemon chose) and
//! a keep-policy prune (deleted by ID, one object left alone) side by side, so the one reclaim
//! shape is pinned in JSON, NDJSON, CSV, the table and Markdown; and the table and Markdown of
//! a run where one host was skipped busy and one failed.

use std::time::Duration;

use super::json;
use super::render::whole;
use super::run_info::RunInfo;
use super::table::Layout;
use crate::api_version::ApiVersion;
use crate::model::connection::{HostKeyCheck, TransportKind};
use crate::outcome::reclaim::{KindReport, PruneReport, Selection, SkipReason, Skipped};
use crate::outcome::{ConnectionInfo, FleetRun, HostOutcome, SafetyReport};
use crate::plan::PruneKind;

fn ok_host(name: &str, payload: PruneReport) -> HostOutcome<PruneReport> {
    HostOutcome {
        name: name.into(),
        address: format!("{name}:22"),
        host_key: Some(HostKeyCheck::Verified {
            fingerprint: "SHA256:key".into(),
        }),
        connection: Some(ConnectionInfo {
            transport: TransportKind::StreamLocal,
            found_socket: None,
            engine_version: "26.1.5".into(),
            engine: crate::model::engine_kind::EngineKind::Docker,
            api_version: ApiVersion::new(1, 45),
        }),
        payload,
        failure: None,
        duration: Duration::from_millis(400),
        attempts: 1,
    }
}

fn run() -> FleetRun<PruneReport> {
    let daemon = PruneReport {
        planned: vec![PruneKind::Containers],
        kinds: vec![KindReport {
            kind: PruneKind::Containers,
            untagged: Vec::new(),
            deleted: vec!["c1".into()],
            reclaimed_bytes: 1000,
            odd_reclaimed: None,
            reclaimed_exact: true,
            selection: None,
            note: None,
        }],
        ..PruneReport::default()
    };
    let policy = PruneReport {
        planned: vec![PruneKind::Images],
        kinds: vec![KindReport {
            kind: PruneKind::Images,
            untagged: vec!["app:1".into()],
            deleted: vec!["sha256:a".into()],
            reclaimed_bytes: 5000,
            odd_reclaimed: None,
            reclaimed_exact: true,
            selection: Some(Selection {
                planned: 2,
                planned_bytes: 9000,
                planned_exact: true,
                skipped: vec![Skipped {
                    id: "sha256:b".into(),
                    name: "app:2".into(),
                    reason: SkipReason::InUseNow("web".into()),
                }],
                finished: true,
            }),
            note: None,
        }],
        ..PruneReport::default()
    };
    FleetRun {
        outcomes: vec![ok_host("build-01", daemon), ok_host("build-02", policy)],
        safety: SafetyReport::default(),
    }
}

fn info() -> RunInfo {
    let mut info = RunInfo::starting("prune", vec!["farm.yaml".into()], None);
    info.started_at = "2026-06-01T12:00:00Z".parse().unwrap();
    info.finished_at = "2026-06-01T12:00:01Z".parse().unwrap();
    info
}

#[test]
fn json_document_has_one_host_shape_for_daemon_and_policy_prunes() {
    let document: serde_json::Value = serde_json::from_str(&whole::json(&run(), &info())).unwrap();
    let host = |name: &str, payload: serde_json::Value| {
        let mut entry = serde_json::json!({
            "name": name, "address": format!("{name}:22"), "status": "ok",
            "transport": "stream-local", "engine": "docker", "engine_version": "26.1.5",
            "api_version": "1.45",
            "host_key": {"status": "verified", "fingerprint": "SHA256:key"},
            "duration_ms": 400, "attempts": 1, "error": null,
            "plan": null, "volume_scope": null, "in_flight": [],
        });
        entry
            .as_object_mut()
            .unwrap()
            .extend(payload.as_object().unwrap().clone());
        entry
    };
    let expected = serde_json::json!({
        "schema_version": 1,
        "command": "prune",
        "fleetprune_version": env!("CARGO_PKG_VERSION"),
        "started_at": "2026-06-01T12:00:00Z",
        "finished_at": "2026-06-01T12:00:01Z",
        "inventory": ["farm.yaml"],
        "limit": null,
        "hosts": [
            host("build-01", serde_json::json!({
                "kinds": {"containers": {
                    "deleted": ["c1"], "reclaimed_bytes": 1000, "reclaimed_exact": true
                }},
                "reclaimed_bytes": 1000,
                "completed": ["containers"],
                "not_started": []
            })),
            host("build-02", serde_json::json!({
                "kinds": {"images": {
                    "untagged": ["app:1"], "deleted": ["sha256:a"], "reclaimed_bytes": 5000,
                    "reclaimed_exact": true, "planned": 2, "planned_bytes": 9000,
                    "planned_exact": true,
                    "skipped": [{"id": "sha256:b", "name": "app:2",
                                 "reason": {"why": "in_use_now", "detail": "web"}}]
                }},
                "reclaimed_bytes": 5000,
                "planned_bytes": 9000,
                "completed": ["images"],
                "not_started": []
            })),
        ],
        "totals": {
            "hosts": 2, "succeeded": 2, "failed": 0, "cancelled": 0, "outcome_unknown": 0,
            "reclaimed_bytes": 6000,
            "kinds": {
                "containers": {"deleted": 1, "reclaimed_bytes": 1000},
                "images": {"deleted": 1, "reclaimed_bytes": 5000}
            },
            "planned_objects": 2, "done_objects": 1, "planned_bytes": 9000
        },
        "safety": {
            "serial": null, "batches": [], "max_fail_percentage": null, "retries": 0,
            "stopped": null
        }
    });
    assert_eq!(document, expected);
}

#[test]
fn ndjson_lines_are_the_documents_hosts_then_its_summary() {
    let (run, info) = (run(), info());
    let document: serde_json::Value = serde_json::from_str(&whole::json(&run, &info)).unwrap();
    let lines = whole::ndjson(&run, &info);
    let lines: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (line, host) in lines.iter().zip(document["hosts"].as_array().unwrap()) {
        let mut expected = host.clone();
        let fields = expected.as_object_mut().unwrap();
        fields.insert("event".into(), "host".into());
        fields.insert("command".into(), "prune".into());
        assert_eq!(line, &expected);
    }
    let summary = &lines[2];
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["totals"], document["totals"]);
}

#[test]
fn csv_has_planned_and_skipped_only_where_fleetprune_chose() {
    let csv = whole::csv(&run(), &info());
    assert_eq!(
        csv,
        "host,address,status,kind,kind_status,deleted,reclaimed_bytes,duration_ms,error_stage,error_class,error_message,planned,skipped\n\
         build-01,build-01:22,ok,containers,completed,1,1000,400,,,,,\n\
         build-02,build-02:22,ok,images,completed,1,5000,400,,,,2,1\n"
    );
}

#[test]
fn table_and_markdown_show_both_hosts_what_was_left_alone_and_the_plan() {
    let table = whole::table(&run(), &info(), Layout::default());
    assert_eq!(
        table,
        "HOST       STATUS   CONTAINERS   IMAGES   VOLUMES   NETWORKS   BUILD CACHE   RECLAIMED   TIME\n\
         build-01   ok       1 (1kB)      -        -         -          -             1kB         0.4s\n\
         build-02   ok       -            5kB      -         -          -             5kB         0.4s\n\
         TOTAL      2/2 ok   1 (1kB)      5kB      -         -          -             6kB\n\
         \n\
         Left alone:\n  build-02 images app:2 (sha256:b): kept: in use now (web)\n\
         \n\
         Total reclaimed space: 6kB (planned 9kB)\n"
    );
    let markdown = whole::table(
        &run(),
        &info(),
        Layout {
            markdown: true,
            width: None,
        },
    );
    assert_eq!(
        markdown,
        "| HOST     | STATUS | CONTAINERS | IMAGES | VOLUMES | NETWORKS | BUILD CACHE | RECLAIMED | TIME |\n\
         |----------|--------|------------|--------|---------|----------|-------------|-----------|------|\n\
         | build-01 | ok     | 1 (1kB)    | -      | -       | -        | -           | 1kB       | 0.4s |\n\
         | build-02 | ok     | -          | 5kB    | -       | -        | -           | 5kB       | 0.4s |\n\
         | TOTAL    | 2/2 ok | 1 (1kB)    | 5kB    | -       | -        | -           | 6kB       |      |\n\
         \n\
         Left alone:\n  build-02 images app:2 (sha256:b): kept: in use now (web)\n\
         \n\
         Total reclaimed space: 6kB (planned 9kB)\n"
    );
}

#[test]
fn streamed_json_is_byte_for_byte_the_document_written_at_once() {
    use super::json::JsonShape;
    let (run, info) = (run(), info());
    let hosts: Vec<_> = run
        .outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| PruneReport::host(outcome, &info, index))
        .collect();
    let mut totals = <PruneReport as JsonShape>::Totals::default();
    for outcome in &run.outcomes {
        PruneReport::add_to_totals(&mut totals, outcome);
    }
    let mut at_once = Vec::new();
    json::write_whole_document(&mut at_once, &info, hosts, &run, &totals).unwrap();
    assert_eq!(
        whole::json(&run, &info),
        String::from_utf8(at_once).unwrap()
    );
}

#[test]
fn metrics_have_every_host_in_inventory_order_and_the_command() {
    let metrics = whole::metrics(&run(), &info());
    assert_eq!(
        metrics,
        r#"# HELP fleetprune_deleted_objects Objects the daemon reported deleted in the last run, per host and kind.
# TYPE fleetprune_deleted_objects gauge
fleetprune_deleted_objects{command="prune",host="build-01",kind="containers"} 1
fleetprune_deleted_objects{command="prune",host="build-02",kind="images"} 1
# HELP fleetprune_host_success 1 when the host succeeded in the last run, else 0.
# TYPE fleetprune_host_success gauge
fleetprune_host_success{command="prune",host="build-01"} 1
fleetprune_host_success{command="prune",host="build-02"} 1
# HELP fleetprune_hosts Hosts in the last run, by status.
# TYPE fleetprune_hosts gauge
fleetprune_hosts{command="prune",status="ok"} 2
fleetprune_hosts{command="prune",status="skipped"} 0
fleetprune_hosts{command="prune",status="failed"} 0
# HELP fleetprune_last_run_timestamp_seconds When the last run finished (Unix time).
# TYPE fleetprune_last_run_timestamp_seconds gauge
fleetprune_last_run_timestamp_seconds{command="prune"} 1780315201
# HELP fleetprune_last_success_timestamp_seconds When the last run in which every host succeeded finished (Unix time).
# TYPE fleetprune_last_success_timestamp_seconds gauge
fleetprune_last_success_timestamp_seconds{command="prune"} 1780315201
# HELP fleetprune_reclaimed_bytes Bytes the daemon reported reclaimed in the last run, per host and kind.
# TYPE fleetprune_reclaimed_bytes gauge
fleetprune_reclaimed_bytes{command="prune",host="build-01",kind="containers"} 1000
fleetprune_reclaimed_bytes{command="prune",host="build-02",kind="images"} 5000
# HELP fleetprune_run_duration_seconds How long the last run took.
# TYPE fleetprune_run_duration_seconds gauge
fleetprune_run_duration_seconds{command="prune"} 1
"#
    );
}

/// build-01 pruned, build-02 skipped by its busy guard, build-03 unreachable.
fn run_with_a_busy_host() -> FleetRun<PruneReport> {
    use crate::model::failure::{ErrorClass, HostFailure, Stage};
    let mut outcomes = run().outcomes;
    outcomes.truncate(1);
    let mut busy = ok_host("build-02", PruneReport::default());
    busy.failure = Some(HostFailure::new(
        Stage::Prune,
        ErrorClass::Busy,
        "running container ci-build-7 matches busy_if_running label=ci.job=build",
    ));
    let mut down = ok_host("build-03", PruneReport::default());
    down.connection = None;
    down.failure = Some(HostFailure::new(
        Stage::Connect,
        ErrorClass::ConnectRefused,
        "cannot connect to build-03:22: Connection refused",
    ));
    outcomes.extend([busy, down]);
    FleetRun {
        outcomes,
        safety: SafetyReport::default(),
    }
}

#[test]
fn a_busy_host_reads_as_skipped_with_its_reason_not_as_a_failure() {
    let table = whole::table(&run_with_a_busy_host(), &info(), Layout::default());
    assert_eq!(
        table,
        "HOST       STATUS             CONTAINERS   IMAGES   VOLUMES   NETWORKS   BUILD CACHE   RECLAIMED   TIME\n\
         build-01   ok                 1 (1kB)      -        -         -          -             1kB         0.4s\n\
         build-02   skipped (busy)     -            -        -         -          -             0B          0.4s\n\
         build-03   FAILED (refused)   -            -        -         -          -             0B          0.4s\n\
         TOTAL      1/3 ok             1 (1kB)      -        -         -          -             1kB\n\
         \n\
         Failed hosts:\n  \
         build-03 (build-03:22): [connect_refused] failed at connect: cannot connect to build-03:22: Connection refused\n\
         \n\
         Skipped hosts:\n  \
         build-02 (build-02:22): skipped (busy): running container ci-build-7 matches busy_if_running label=ci.job=build\n\
         \n\
         Total reclaimed space: 1kB\n"
    );
    let markdown = whole::table(
        &run_with_a_busy_host(),
        &info(),
        Layout {
            markdown: true,
            width: None,
        },
    );
    assert_eq!(
        markdown,
        "| HOST     | STATUS           | CONTAINERS | IMAGES | VOLUMES | NETWORKS | BUILD CACHE | RECLAIMED | TIME |\n\
         |----------|------------------|------------|--------|---------|----------|-------------|-----------|------|\n\
         | build-01 | ok               | 1 (1kB)    | -      | -       | -        | -           | 1kB       | 0.4s |\n\
         | build-02 | skipped (busy)   | -          | -      | -       | -        | -           | 0B        | 0.4s |\n\
         | build-03 | FAILED (refused) | -          | -      | -       | -        | -           | 0B        | 0.4s |\n\
         | TOTAL    | 1/3 ok           | 1 (1kB)    | -      | -       | -        | -           | 1kB       |      |\n\
         \n\
         Failed hosts:\n  \
         build-03 (build-03:22): [connect_refused] failed at connect: cannot connect to build-03:22: Connection refused\n\
         \n\
         Skipped hosts:\n  \
         build-02 (build-02:22): skipped (busy): running container ci-build-7 matches busy_if_running label=ci.job=build\n\
         \n\
         Total reclaimed space: 1kB\n"
    );
}
