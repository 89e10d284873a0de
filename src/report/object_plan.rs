//! Predicted prunes (`fleetprune plan`, `prune --dry-run`) for people and programs: per host the
//! objects and bytes each kind would lose, `≈` where the bytes are an estimate, with `-v` the
//! objects and why, with `--show-kept` what stays and why.

use std::collections::BTreeMap;
use std::io::{self, Write};

use tabled::builder::Builder;

use super::run_info::Detail;
use super::table::{Layout, status, write_failures, write_table};
use super::{sanitize, seconds};
use crate::human_size::human_size;
use crate::outcome::prediction::{HostFacts, PlanReport};
use crate::outcome::{FleetRun, HostOutcome};
use crate::plan::PruneKind;
use crate::plan::select::{Action, KindPlan, ObjectPlan};

const COLUMNS: [PruneKind; 5] = [
    PruneKind::Containers,
    PruneKind::Images,
    PruneKind::Volumes,
    PruneKind::Networks,
    PruneKind::BuildCache,
];

/// `16.78MB`, or `≈16.78MB` for an estimate.
pub fn bytes_cell(bytes: u64, exact: bool) -> String {
    if exact {
        human_size(bytes)
    } else {
        format!("≈{}", human_size(bytes))
    }
}

fn kind_cell(plan: &KindPlan) -> String {
    let objects = plan.doomed.len();
    match plan.kind {
        PruneKind::Networks => objects.to_string(),
        _ => format!("{objects} ({})", bytes_cell(plan.bytes, plan.exact)),
    }
}

/// The plan table: one row per host, a total, then object lists when asked.
pub fn write_table_report(
    out: &mut dyn Write,
    run: &FleetRun<PlanReport>,
    view: Detail,
    layout: Layout,
) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    if view.objects || view.kept {
        for outcome in outcomes.iter().filter(|o| o.succeeded()) {
            write_objects(out, outcome, view)?;
        }
    }
    let mut builder = Builder::default();
    builder.push_record([
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
    ]);
    let mut totals: BTreeMap<PruneKind, (usize, u64, bool, bool)> = BTreeMap::new();
    let mut total_bytes = 0u64;
    let mut total_exact = true;
    for outcome in outcomes {
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
                    let total = totals.entry(kind).or_insert((0, 0, true, false));
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
            total_bytes = total_bytes.saturating_add(plan.bytes());
            total_exact &= plan.exact();
            row.push(bytes_cell(plan.bytes(), plan.exact()));
        } else {
            row.push("-".to_string());
        }
        row.push(seconds(outcome.duration));
        builder.push_record(row);
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let mut total_row = vec![
        "TOTAL".to_string(),
        format!("{ok}/{} ok", outcomes.len()),
        String::new(),
    ];
    for kind in COLUMNS {
        total_row.push(match totals.get(&kind) {
            Some((objects, bytes, exact, true)) => match kind {
                PruneKind::Networks => objects.to_string(),
                _ => format!("{objects} ({})", bytes_cell(*bytes, *exact)),
            },
            _ => "-".to_string(),
        });
    }
    total_row.push(bytes_cell(total_bytes, total_exact));
    total_row.push(String::new());
    builder.push_record(total_row);
    write_table(out, builder, layout)?;
    write_notes(out, outcomes)?;
    write_failures(out, run)?;
    writeln!(out)?;
    writeln!(
        out,
        "Predicted reclaimable space: {} (nothing was deleted)",
        bytes_cell(total_bytes, total_exact)
    )
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
fn write_notes(out: &mut dyn Write, outcomes: &[HostOutcome<PlanReport>]) -> io::Result<()> {
    let mut notes: Vec<(String, Vec<String>)> = Vec::new();
    for outcome in outcomes.iter().filter(|o| o.succeeded()) {
        for kind in &outcome.payload.plan.kinds {
            let estimates = kind.notes.iter().map(|n| format!("≈ {n}"));
            for note in estimates.chain(kind.info.iter().cloned()) {
                let text = format!("{}: {note}", kind.kind);
                match notes.iter_mut().find(|(t, _)| *t == text) {
                    Some((_, hosts)) => hosts.push(sanitize(&outcome.name)),
                    None => notes.push((text, vec![sanitize(&outcome.name)])),
                }
            }
        }
    }
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Notes:")?;
    for (text, hosts) in notes {
        let shown = if hosts.len() > 4 {
            format!("{}, ... ({} hosts)", hosts[..4].join(", "), hosts.len())
        } else {
            hosts.join(", ")
        };
        writeln!(out, "  {shown}: {text}")?;
    }
    Ok(())
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

/// Above this many objects on a host, the prompt shows counts per kind instead of names.
pub const PROMPT_OBJECT_LIST_LIMIT: usize = 12;

/// The confirmation text of `apply`: the host count, each host's objects (or a summary per kind
/// above [`PROMPT_OBJECT_LIST_LIMIT`]) and the predicted total.
pub fn apply_warning(file: &crate::plan::file::PlanFile, hosts: &[crate::host::Host]) -> String {
    let plans: Vec<(&str, &ObjectPlan)> = file
        .hosts
        .iter()
        .filter(|saved| hosts.iter().any(|h| h.name == saved.name))
        .map(|saved| (saved.name.as_str(), &saved.plan))
        .collect();
    format!("WARNING! {}", plan_warning(&plans))
}

/// The part of a prompt listing what each host would lose.
pub fn plan_warning(plans: &[(&str, &ObjectPlan)]) -> String {
    let total: u64 = plans
        .iter()
        .fold(0u64, |sum, (_, p)| sum.saturating_add(p.bytes()));
    let exact = plans.iter().all(|(_, p)| p.exact());
    let objects: usize = plans.iter().map(|(_, p)| p.doomed_count()).sum();
    let mut text = format!(
        "This will delete {objects} objects on {} host{}, freeing {}:\n",
        plans.len(),
        if plans.len() == 1 { "" } else { "s" },
        bytes_cell(total, exact)
    );
    for (name, plan) in plans {
        text.push_str(&format!(
            "  {} ({} objects, {}):\n",
            sanitize(name),
            plan.doomed_count(),
            bytes_cell(plan.bytes(), plan.exact())
        ));
        let detailed = plan.doomed_count() <= PROMPT_OBJECT_LIST_LIMIT;
        for kind in plan.kinds.iter().filter(|k| !k.doomed.is_empty()) {
            if detailed {
                for d in &kind.doomed {
                    let verb = match d.action {
                        Action::Delete => "delete",
                        Action::Untag => "untag",
                    };
                    text.push_str(&format!(
                        "    {verb} {} {} ({})\n",
                        kind.kind,
                        sanitize(&d.name),
                        human_size(d.bytes)
                    ));
                }
            } else {
                text.push_str(&format!(
                    "    {}: {} ({})\n",
                    kind.kind,
                    kind.doomed.len(),
                    bytes_cell(kind.bytes, kind.exact)
                ));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::HostOutcome;
    use crate::plan::select::{Doomed, KindPlan, Reason};

    fn plan(objects: usize) -> ObjectPlan {
        let doomed = (0..objects)
            .map(|i| Doomed {
                id: format!("c{i}"),
                name: format!("box-{i}"),
                action: Action::Delete,
                reason: Reason::Stopped,
                bytes: 1000,
                untagged: Vec::new(),
                refs: Vec::new(),
                reported: None,
            })
            .collect();
        ObjectPlan {
            kinds: vec![KindPlan {
                kind: PruneKind::Containers,
                doomed,
                kept: Vec::new(),
                freed_layers: Vec::new(),
                bytes: 1000 * objects as u64,
                exact: true,
                notes: Vec::new(),
                info: Vec::new(),
            }],
        }
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
        let mut out = Vec::new();
        let info = crate::report::run_info::RunInfo::starting("plan", Vec::new(), None);
        crate::report::json::write(&mut out, &run_of(plan(1)), &info).unwrap();
        let mut document: serde_json::Value = serde_json::from_slice(&out).unwrap();
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
        let mut out = Vec::new();
        write_table_report(
            &mut out,
            &run_of(estimate),
            Detail::default(),
            Layout::default(),
        )
        .unwrap();
        let table = String::from_utf8(out).unwrap();
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

    #[test]
    fn prompt_lists_objects_per_host_and_summarises_long_lists() {
        let short = plan(2);
        let long = plan(PROMPT_OBJECT_LIST_LIMIT + 1);
        let text = plan_warning(&[("a", &short), ("b", &long)]);
        assert!(
            text.starts_with("This will delete 15 objects on 2 hosts, freeing 15kB:"),
            "{text}"
        );
        assert!(
            text.contains("  a (2 objects, 2kB):\n    delete containers box-0 (1kB)\n"),
            "{text}"
        );
        assert!(
            text.contains("  b (13 objects, 13kB):\n    containers: 13 (13kB)\n"),
            "{text}"
        );
    }
}
