//! The table of predicted prunes (`fleetprune plan`, `prune --dry-run`): per host the objects
//! and bytes each kind would lose, `≈` where the bytes are an estimate, with `-v` the objects
//! and why, with `--show-kept` what stays and why.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Layout, RunEnd, TableDraft, TableShape, bytes_cell, status, total_cells};
use crate::human_size::human_size;
use crate::outcome::HostOutcome;
use crate::outcome::prediction::{HostFacts, PlanReport};
use crate::plan::PruneKind;
use crate::plan::select::{Action, KindPlan};
use crate::report::run_info::{Detail, RunInfo};
use crate::report::{sanitize, seconds};

const COLUMNS: [PruneKind; 5] = [
    PruneKind::Containers,
    PruneKind::Images,
    PruneKind::Volumes,
    PruneKind::Networks,
    PruneKind::BuildCache,
];

const HEADER: [&str; 10] = [
    "HOST",
    "STATUS",
    "STORE",
    "CONTAINERS",
    "IMAGES",
    "VOLUMES",
    "NETWORKS",
    "BUILD CACHE",
    "PREDICTED",
    "TIME",
];

fn kind_cell(plan: &KindPlan) -> String {
    let objects = plan.doomed.len();
    match plan.kind {
        PruneKind::Networks => objects.to_string(),
        _ => format!("{objects} ({})", bytes_cell(plan.bytes, plan.exact)),
    }
}

/// The sums of a plan table: per kind (objects, bytes, exact, planned anywhere), and in all.
pub struct PlanSums {
    kinds: BTreeMap<PruneKind, (usize, u64, bool, bool)>,
    bytes: u64,
    exact: bool,
}

impl Default for PlanSums {
    fn default() -> PlanSums {
        PlanSums {
            kinds: BTreeMap::new(),
            bytes: 0,
            exact: true,
        }
    }
}

impl TableShape for PlanReport {
    type Sums = PlanSums;

    /// A row per host in inventory order; with `-v` or `--show-kept` its objects above the table.
    fn add(
        draft: &mut TableDraft,
        totals: &mut PlanSums,
        outcome: &HostOutcome<PlanReport>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let view = info.detail;
        if (view.objects || view.kept) && outcome.succeeded() {
            let mut lists = Vec::new();
            write_objects(&mut lists, outcome, view)?;
            draft.list(index, &lists)?;
        }
        let plan = &outcome.payload.plan;
        let store = outcome
            .payload
            .facts
            .as_ref()
            .map_or("-".to_string(), store_name);
        let mut row = vec![sanitize(&outcome.name), status(outcome), store];
        for kind in COLUMNS {
            match plan.kind(kind) {
                Some(k) if outcome.succeeded() => {
                    let total = totals.kinds.entry(kind).or_insert((0, 0, true, false));
                    total.0 += k.doomed.len();
                    total.1 = total.1.saturating_add(k.bytes);
                    total.2 &= k.exact;
                    total.3 = true;
                    row.push(kind_cell(k));
                }
                _ => row.push("-".to_string()),
            }
        }
        if outcome.succeeded() {
            totals.bytes = totals.bytes.saturating_add(plan.bytes());
            totals.exact &= plan.exact();
            row.push(bytes_cell(plan.bytes(), plan.exact()));
            add_notes(draft, outcome, index);
        } else {
            row.push("-".to_string());
        }
        row.push(seconds(outcome.duration));
        draft.row(0, index, row);
        draft.failure(index, outcome);
        Ok(())
    }

    fn write(
        out: &mut dyn Write,
        mut draft: TableDraft,
        totals: PlanSums,
        end: &RunEnd,
        _: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        let mut total_row = total_cells(end.tally);
        total_row.push(String::new());
        for kind in COLUMNS {
            total_row.push(match totals.kinds.get(&kind) {
                Some((objects, bytes, exact, true)) => match kind {
                    PruneKind::Networks => objects.to_string(),
                    _ => format!("{objects} ({})", bytes_cell(*bytes, *exact)),
                },
                _ => "-".to_string(),
            });
        }
        total_row.push(bytes_cell(totals.bytes, totals.exact));
        total_row.push(String::new());
        draft.write_table(out, &HEADER, Some(total_row), layout)?;
        draft.write_notes(out)?;
        draft.write_failures(out, end.safety)?;
        writeln!(out)?;
        writeln!(
            out,
            "Predicted reclaimable space: {} (nothing was deleted)",
            bytes_cell(totals.bytes, totals.exact)
        )
    }
}

fn store_name(facts: &HostFacts) -> String {
    if facts.engine == crate::model::engine_kind::EngineKind::Podman {
        // Podman's containers/storage: neither of Docker's stores.
        return "podman".to_string();
    }
    match facts.image_store {
        crate::snapshot::ImageStore::Graphdriver => "graphdriver".to_string(),
        crate::snapshot::ImageStore::Containerd => "containerd".to_string(),
    }
}

/// Why some figures are estimates (and policy facts), once each with the hosts they apply to.
fn add_notes(draft: &mut TableDraft, outcome: &HostOutcome<PlanReport>, index: usize) {
    for kind in &outcome.payload.plan.kinds {
        let estimates = kind.notes.iter().map(|n| format!("≈ {n}"));
        for note in estimates.chain(kind.info.iter().cloned()) {
            draft.note(index, &outcome.name, format!("{}: {note}", kind.kind));
        }
    }
}

fn short(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    if hex.len() > 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex[..12].to_string()
    } else {
        hex.to_string()
    }
}

/// One host's objects: what goes (and why), and with `--show-kept` what stays.
fn write_objects(
    out: &mut dyn Write,
    outcome: &HostOutcome<PlanReport>,
    view: Detail,
) -> io::Result<()> {
    writeln!(out, "== {} ==", sanitize(&outcome.name))?;
    for kind in &outcome.payload.plan.kinds {
        if view.objects {
            writeln!(
                out,
                "{}: {} to remove, {}",
                kind.kind,
                kind.doomed.len(),
                bytes_cell(kind.bytes, kind.exact)
            )?;
            for doomed in &kind.doomed {
                let action = match doomed.action {
                    Action::Delete => "delete",
                    Action::Untag => "untag ",
                };
                let untag = if doomed.untagged.is_empty() {
                    String::new()
                } else {
                    format!(" untag {}", sanitize(&doomed.untagged.join(", ")))
                };
                writeln!(
                    out,
                    "  {action} {:<12} {:<30} {:<10} {}{untag}",
                    short(&doomed.id),
                    sanitize(&doomed.name),
                    human_size(doomed.bytes),
                    doomed.reason,
                )?;
            }
        }
        if view.kept && !kind.kept.is_empty() {
            writeln!(out, "{}: {} kept", kind.kind, kind.kept.len())?;
            for kept in &kind.kept {
                writeln!(
                    out,
                    "  keep   {:<12} {:<30} {}",
                    short(&kept.id),
                    sanitize(&kept.name),
                    sanitize(&kept.reason.to_string())
                )?;
            }
        }
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::FleetRun;
    use crate::plan::select::ObjectPlan;

    fn plan(objects: usize) -> ObjectPlan {
        ObjectPlan::stopped_containers_for_tests(objects)
    }

    fn run_of(plan: ObjectPlan) -> FleetRun<PlanReport> {
        FleetRun {
            outcomes: vec![HostOutcome {
                name: "build-01".into(),
                address: "10.0.0.1:22".into(),
                host_key: None,
                connection: None,
                payload: PlanReport {
                    description: "containers".into(),
                    facts: Some(HostFacts {
                        engine_id: "ENGINE".into(),
                        engine: crate::model::engine_kind::EngineKind::Docker,
                        image_store: crate::snapshot::ImageStore::Graphdriver,
                        daemon_time: "2026-06-01T12:00:00Z".parse().unwrap(),
                        docker_root_dir: "/var/lib/docker".into(),
                        filesystem: None,
                        containerd_filesystems: Vec::new(),
                        deciding_filesystems: Vec::new(),
                    }),
                    plan,
                },
                failure: None,
                duration: std::time::Duration::from_millis(1500),
                attempts: 1,
            }],
            safety: crate::outcome::SafetyReport::default(),
        }
    }

    #[test]
    fn plan_json_is_one_whole_document() {
        let info = crate::report::run_info::RunInfo::starting("plan", Vec::new(), None);
        let out = crate::report::render::whole::json(&run_of(plan(1)), &info);
        let mut document: serde_json::Value = serde_json::from_str(&out).unwrap();
        // The run's times are the run's own; the rest is fixed.
        for key in ["started_at", "finished_at"] {
            assert!(document[key].is_string(), "{key}");
            document.as_object_mut().unwrap().remove(key);
        }
        let expected = serde_json::json!({
            "schema_version": 1,
            "command": "plan",
            "fleetprune_version": env!("CARGO_PKG_VERSION"),
            "inventory": [],
            "limit": null,
            "hosts": [{
                "name": "build-01", "address": "10.0.0.1:22", "status": "ok",
                "transport": null, "engine_version": null, "api_version": null,
                "host_key": null, "duration_ms": 1500, "attempts": 1, "error": null,
                "description": "containers",
                "facts": {
                    "engine_id": "ENGINE", "engine": "docker", "image_store": "graphdriver",
                    "daemon_time": "2026-06-01T12:00:00Z", "docker_root_dir": "/var/lib/docker"
                },
                "predicted_bytes": 1000,
                "exact": true,
                "kinds": {
                    "containers": {
                        "doomed": [{
                            "id": "c0", "name": "box-0", "action": "delete",
                            "reason": "stopped", "bytes": 1000
                        }],
                        "predicted_bytes": 1000,
                        "exact": true
                    }
                }
            }],
            "totals": {
                "hosts": 1, "succeeded": 1, "failed": 0, "cancelled": 0, "outcome_unknown": 0,
                "objects": 1, "predicted_bytes": 1000, "exact": true
            },
            "safety": {
                "serial": null, "batches": [], "max_fail_percentage": null, "retries": 0,
                "stopped": null
            }
        });
        assert_eq!(document, expected);
    }

    #[test]
    fn plan_table_marks_estimates() {
        let mut estimate = plan(2);
        estimate.kinds[0].exact = false;
        estimate.kinds[0].notes.push("sizes unknown".into());
        let info = crate::report::run_info::RunInfo::starting("plan", Vec::new(), None);
        let table =
            crate::report::render::whole::table(&run_of(estimate), &info, Layout::default());
        assert!(table.contains("2 (≈2kB)"), "{table}");
        assert!(
            table.contains("build-01: containers: ≈ sizes unknown"),
            "{table}"
        );
        assert!(
            table.ends_with("Predicted reclaimable space: ≈2kB (nothing was deleted)\n"),
            "{table}"
        );
    }
}
