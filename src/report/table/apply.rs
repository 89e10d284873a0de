//! The table of `apply` and `rmi`: per host the planned objects and bytes beside what was
//! actually deleted and freed, and what was left alone and why.

use std::io::{self, Write};

use super::prune::{PruneSums, left_alone};
use super::{Layout, RunEnd, TableDraft, bytes_cell, status};
use crate::human_size::human_size;
use crate::outcome::HostOutcome;
use crate::outcome::reclaim::{KindReport, PruneReport, SkipReason};
use crate::report::run_info::RunInfo;
use crate::report::{sanitize, seconds};

const HEADER: [&str; 11] = [
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
];

/// Adds a host of `apply` or `rmi`: with `-v`, first docker's own lists of what it untagged
/// and deleted; its row (hosts in inventory order); what it left alone; its failure.
pub(super) fn add(
    draft: &mut TableDraft,
    outcome: &HostOutcome<PruneReport>,
    info: &RunInfo,
    index: usize,
) -> io::Result<()> {
    let r = &outcome.payload;
    if info.detail.objects {
        draft.list(index, &deleted_lists(outcome).into_bytes())?;
    }
    let planned_exact = r.selections().all(|k| k.planned_exact);
    draft.row(
        0,
        index,
        vec![
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
            bytes_cell(r.reclaimed_bytes(), r.reclaimed_exact()),
            seconds(outcome.duration),
        ],
    );
    draft.left_alone(index, &left_alone(outcome))?;
    draft.failure(index, outcome);
    Ok(())
}

/// `== host ==`, then per kind what went: `untagged: ...`, `deleted: ...`.
fn deleted_lists(outcome: &HostOutcome<PruneReport>) -> String {
    let kinds: Vec<&KindReport> = outcome
        .payload
        .kinds
        .iter()
        .filter(|k| !k.deleted.is_empty() || !k.untagged.is_empty())
        .collect();
    if kinds.is_empty() {
        return String::new();
    }
    let mut text = format!("== {} ==\n", sanitize(&outcome.name));
    for kind in kinds {
        text.push_str(&format!("{}:\n", kind.kind));
        for reference in &kind.untagged {
            text.push_str(&format!("untagged: {}\n", sanitize(reference)));
        }
        for id in &kind.deleted {
            text.push_str(&format!("deleted: {}\n", sanitize(id)));
        }
    }
    text.push('\n');
    text
}

/// The apply table, what was left alone, failures, and the total beside the plan's.
pub(super) fn write(
    out: &mut dyn Write,
    mut draft: TableDraft,
    totals: PruneSums,
    end: &RunEnd,
    layout: Layout,
) -> io::Result<()> {
    // No TOTAL row: the totals are the last line.
    draft.write_table(out, &HEADER, None, layout)?;
    draft.write_notes(out)?;
    draft.write_failures(out, end.safety)?;
    writeln!(out)?;
    writeln!(
        out,
        "Total reclaimed space: {} (planned {})",
        bytes_cell(totals.reclaimed, totals.exact),
        human_size(totals.planned.unwrap_or(0))
    )
}
