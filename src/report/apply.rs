//! `fleetprune apply` for people and programs: per host the planned objects and bytes beside
//! what was actually deleted and freed, and what was left alone and why.

use std::io::{self, Write};

use tabled::builder::Builder;

use super::object_plan::bytes_cell;
use super::table::{Layout, status, write_failures, write_left_alone, write_table};
use super::{sanitize, seconds};
use crate::human_size::human_size;
use crate::outcome::FleetRun;
use crate::outcome::reclaim::{KindReport, PruneReport, SkipReason};

/// The apply (and rmi) table: planned vs actual per host, then what was skipped; with
/// `verbose`, first docker's own lists of what each host untagged and deleted.
pub fn write_table_report(
    out: &mut dyn Write,
    run: &FleetRun<PruneReport>,
    verbose: bool,
    layout: Layout,
) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    if verbose {
        for outcome in outcomes {
            let kinds: Vec<&KindReport> = outcome
                .payload
                .kinds
                .iter()
                .filter(|k| !k.deleted.is_empty() || !k.untagged.is_empty())
                .collect();
            if kinds.is_empty() {
                continue;
            }
            writeln!(out, "== {} ==", sanitize(&outcome.name))?;
            for kind in kinds {
                writeln!(out, "{}:", kind.kind)?;
                for reference in &kind.untagged {
                    writeln!(out, "untagged: {}", sanitize(reference))?;
                }
                for id in &kind.deleted {
                    writeln!(out, "deleted: {}", sanitize(id))?;
                }
            }
            writeln!(out)?;
        }
    }
    let mut builder = Builder::default();
    builder.push_record([
        "HOST",
        "STATUS",
        "PLANNED",
        "DONE",
        "IN USE NOW",
        "ALREADY GONE",
        "CHANGED",
        "FAILED",
        "PREDICTED",
        "RECLAIMED",
        "TIME",
    ]);
    let (mut planned_bytes, mut reclaimed, mut exact) = (0u64, 0u64, true);
    for outcome in outcomes {
        let r = &outcome.payload;
        let planned_exact = r.selections().all(|k| k.planned_exact);
        let reclaimed_exact = r.reclaimed_exact();
        planned_bytes = planned_bytes.saturating_add(r.planned_bytes());
        reclaimed = reclaimed.saturating_add(r.reclaimed_bytes());
        exact &= reclaimed_exact;
        builder.push_record([
            sanitize(&outcome.name),
            status(outcome),
            r.planned_objects().to_string(),
            r.done_objects().to_string(),
            r.skipped(|s| matches!(s, SkipReason::InUseNow(_)))
                .to_string(),
            r.skipped(|s| matches!(s, SkipReason::AlreadyGone))
                .to_string(),
            r.skipped(|s| matches!(s, SkipReason::Changed(_)))
                .to_string(),
            r.skipped(|s| matches!(s, SkipReason::Failed(_)))
                .to_string(),
            bytes_cell(r.planned_bytes(), planned_exact),
            bytes_cell(r.reclaimed_bytes(), reclaimed_exact),
            seconds(outcome.duration),
        ]);
    }
    write_table(out, builder, layout)?;
    write_left_alone(out, outcomes)?;
    write_failures(out, run)?;
    writeln!(out)?;
    writeln!(
        out,
        "Total reclaimed space: {} (planned {})",
        bytes_cell(reclaimed, exact),
        human_size(planned_bytes)
    )
}

/// The confirmation text of `rmi`: for each reference, the hosts where it exists, whether its
/// image goes and which container keeps it; hosts that could not be checked.
pub fn rmi_warning(refs: &[String], preview: &FleetRun<PruneReport>) -> String {
    let mut text = format!(
        "WARNING! This will remove {} on {} host{}:\n",
        refs.join(", "),
        preview.outcomes.len(),
        if preview.outcomes.len() == 1 { "" } else { "s" }
    );
    let (mut images, mut bytes) = (0usize, 0u64);
    for outcome in &preview.outcomes {
        let name = sanitize(&outcome.name);
        if let Some(failure) = &outcome.failure {
            text.push_str(&format!("  {name}: not checked ({})\n", failure.class));
            continue;
        }
        let Some(kind) = outcome
            .payload
            .preview
            .as_ref()
            .and_then(|p| p.kinds.first())
        else {
            continue;
        };
        if kind.doomed.is_empty() && kind.kept.is_empty() {
            text.push_str(&format!("  {name}: not present\n"));
        }
        for doomed in &kind.doomed {
            images += 1;
            bytes = bytes.saturating_add(doomed.bytes);
            let what = match doomed.action {
                crate::plan::select::Action::Delete => {
                    format!("image deleted ({})", human_size(doomed.bytes))
                }
                crate::plan::select::Action::Untag => "untag only, other references stay".into(),
            };
            text.push_str(&format!(
                "  {name}: {} {what}\n",
                sanitize(&doomed.untagged.join(", "))
            ));
        }
        for kept in &kind.kept {
            text.push_str(&format!(
                "  {name}: {} kept: {}\n",
                sanitize(&kept.name),
                sanitize(&kept.reason.to_string())
            ));
        }
    }
    text.push_str(&format!(
        "{images} image(s) affected, about {} freed\n",
        human_size(bytes)
    ));
    text
}
