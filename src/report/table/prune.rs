//! The table of `prune` (with or without a keep policy), and of `apply` and `rmi`, which carry
//! out a reviewed list and so put planned beside done ([`super::apply`]).

use std::io::{self, Write};

use super::{Layout, RunEnd, TableDraft, TableShape, bytes_cell, prune_cell, status, total_cells};
use crate::human_size::human_size;
use crate::model::connection::TransportKind;
use crate::outcome::HostOutcome;
use crate::outcome::reclaim::{KindReport, PruneReport};
use crate::plan::PruneKind;
use crate::report::run_info::RunInfo;
use crate::report::{sanitize, seconds};

const COLUMNS: [PruneKind; 5] = [
    PruneKind::Containers,
    PruneKind::Images,
    PruneKind::Volumes,
    PruneKind::Networks,
    PruneKind::BuildCache,
];

const HEADER: [&str; 9] = [
    "HOST",
    "STATUS",
    "CONTAINERS",
    "IMAGES",
    "VOLUMES",
    "NETWORKS",
    "BUILD CACHE",
    "RECLAIMED",
    "TIME",
];

/// The sums of a prune table (and of an apply table, which uses the byte sums).
pub struct PruneSums {
    kinds: Vec<KindTotal>,
    pub(super) reclaimed: u64,
    pub(super) exact: bool,
    /// Deletes by ID: the bytes planned, when any host chose its objects.
    pub(super) planned: Option<u64>,
}

impl Default for PruneSums {
    fn default() -> PruneSums {
        PruneSums {
            kinds: COLUMNS.iter().map(|k| KindTotal::new(*k)).collect(),
            reclaimed: 0,
            exact: true,
            planned: None,
        }
    }
}

/// `apply` and `rmi` show a reviewed list carried out; `prune` the kinds it pruned.
fn is_apply(info: &RunInfo) -> bool {
    matches!(info.command, "apply" | "rmi")
}

impl TableShape for PruneReport {
    type Sums = PruneSums;

    fn add(
        draft: &mut TableDraft,
        totals: &mut PruneSums,
        outcome: &HostOutcome<PruneReport>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let report = &outcome.payload;
        totals.reclaimed = totals.reclaimed.saturating_add(report.reclaimed_bytes());
        totals.exact &= report.reclaimed_exact();
        if report.selected() || is_apply(info) {
            let planned = totals.planned.get_or_insert(0);
            *planned = planned.saturating_add(report.planned_bytes());
        }
        if is_apply(info) {
            return super::apply::add(draft, outcome, info, index);
        }
        if info.detail.objects {
            let mut lists = Vec::new();
            write_deleted_lists(&mut lists, outcome)?;
            draft.list(index, &lists)?;
        }
        let mut row = vec![sanitize(&outcome.name), status(outcome)];
        for total in &mut totals.kinds {
            let kind = report.kind(total.kind);
            total.add(kind);
            row.push(kind_cell(report, total.kind, kind));
        }
        row.push(human_size(report.reclaimed_bytes()));
        row.push(seconds(outcome.duration));
        draft.row(u8::from(!outcome.succeeded()), index, row);
        add_notes(draft, outcome, index);
        draft.left_alone(index, &left_alone(outcome))?;
        draft.failure(index, outcome);
        Ok(())
    }

    fn write(
        out: &mut dyn Write,
        mut draft: TableDraft,
        totals: PruneSums,
        end: &RunEnd,
        info: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        if is_apply(info) {
            return super::apply::write(out, draft, totals, end, layout);
        }
        let mut total_row = total_cells(end.tally);
        total_row.extend(totals.kinds.iter().map(KindTotal::cell));
        total_row.push(human_size(totals.reclaimed));
        total_row.push(String::new());
        draft.write_table(out, &HEADER, Some(total_row), layout)?;
        draft.write_notes(out)?;
        draft.write_failures(out, end.safety)?;
        writeln!(out)?;
        write!(
            out,
            "Total reclaimed space: {}",
            bytes_cell(totals.reclaimed, totals.exact)
        )?;
        if let Some(planned) = totals.planned {
            write!(out, " (planned {})", human_size(planned))?;
        }
        writeln!(out)
    }
}

/// One kind's cell of a host's row.
fn kind_cell(report: &PruneReport, kind: PruneKind, done: Option<&KindReport>) -> String {
    match done {
        // Deletes by ID cut off with one in flight: more may have gone.
        Some(r) if report.in_flight == Some(r.kind) => {
            format!(
                "{}?",
                prune_cell(r.kind, r.deleted.len(), r.reclaimed_bytes)
            )
        }
        Some(r) if r.odd_reclaimed.is_some() => {
            format!(
                "{}*",
                prune_cell(r.kind, r.deleted.len(), r.reclaimed_bytes)
            )
        }
        Some(r) => prune_cell(r.kind, r.deleted.len(), r.reclaimed_bytes),
        None if report.unsupported.contains(&kind) => "n/a".to_string(),
        // Sent, never answered: the daemon may have deleted some.
        None if report.in_flight == Some(kind) => "?".to_string(),
        None => "-".to_string(),
    }
}

/// The objects a keep policy, a saved plan or `rmi` chose and left alone on this host, and why.
pub(super) fn left_alone(outcome: &HostOutcome<PruneReport>) -> Vec<u8> {
    let mut text = String::new();
    for kind in &outcome.payload.kinds {
        for skip in kind.skipped() {
            text.push_str(&format!(
                "  {} {} {} ({}): {}\n",
                sanitize(&outcome.name),
                kind.kind,
                sanitize(&skip.name),
                sanitize(&skip.id),
                sanitize(&skip.reason.to_string())
            ));
        }
    }
    text.into_bytes()
}

/// A column total; shown as `-` when no host ran the kind.
struct KindTotal {
    kind: PruneKind,
    ran: bool,
    objects: usize,
    bytes: u64,
}

impl KindTotal {
    fn new(kind: PruneKind) -> KindTotal {
        KindTotal {
            kind,
            ran: false,
            objects: 0,
            bytes: 0,
        }
    }

    fn add(&mut self, report: Option<&KindReport>) {
        if let Some(report) = report {
            self.ran = true;
            self.objects = self.objects.saturating_add(report.deleted.len());
            self.bytes = self.bytes.saturating_add(report.reclaimed_bytes);
        }
    }

    fn cell(&self) -> String {
        if !self.ran {
            return "-".to_string();
        }
        prune_cell(self.kind, self.objects, self.bytes)
    }
}

/// Per-host facts that change what a number means (legacy volume behaviour, exec transport),
/// one line per fact with the hosts it applies to, so a large fleet stays readable.
fn add_notes(draft: &mut TableDraft, outcome: &HostOutcome<PruneReport>, index: usize) {
    let report = &outcome.payload;
    let mut note = |text: String| draft.note(index, &outcome.name, text);
    for text in &report.notes {
        note(sanitize(text));
    }
    if let Some(scope) = report.volume_scope {
        note(format!("volumes: {scope}"));
    }
    if let Some(kind) = report.in_flight {
        note(format!(
            "{kind}: OUTCOME UNKNOWN (?): the request was sent and no usable answer came; the daemon may have deleted objects, a re-run reports what is left"
        ));
    }
    for kind in &report.unsupported {
        note(format!("{kind}: not supported by this engine (n/a)"));
    }
    for kind in &report.kinds {
        if let Some(text) = &kind.note {
            note(format!("{}: {}", kind.kind, sanitize(text)));
        }
        if let Some(odd) = &kind.odd_reclaimed {
            note(format!(
                "{}: the daemon reported SpaceReclaimed {} (*), not a byte count; counted as 0",
                kind.kind,
                sanitize(odd)
            ));
        }
    }
    if let Some(connection) = &outcome.connection
        && connection.transport == TransportKind::DialStdio
    {
        note(
            "reached through `docker system dial-stdio` (the server refuses stream-local forwarding)"
                .to_string(),
        );
    }
}

/// The deleted objects, one per line, prefixed by host and kind: `host01 containers 1f57...`,
/// `host01 images untagged lab/app:1`, `host01 images deleted sha256:...`; then a blank line.
fn write_deleted_lists(out: &mut dyn Write, outcome: &HostOutcome<PruneReport>) -> io::Result<()> {
    let name = sanitize(&outcome.name);
    let mut any = false;
    if let Some(socket) = outcome
        .connection
        .as_ref()
        .and_then(|c| c.found_socket.as_ref())
    {
        writeln!(
            out,
            "{name} socket {} (docker_socket auto)",
            sanitize(socket)
        )?;
        any = true;
    }
    for report in &outcome.payload.kinds {
        let kind = report.kind.to_string().replace(' ', "_");
        for reference in &report.untagged {
            writeln!(out, "{name} {kind} untagged {}", sanitize(reference))?;
            any = true;
        }
        for id in &report.deleted {
            if report.kind == PruneKind::Images {
                writeln!(out, "{name} {kind} deleted {}", sanitize(id))?;
            } else {
                writeln!(out, "{name} {kind} {}", sanitize(id))?;
            }
            any = true;
        }
    }
    if any {
        writeln!(out)?;
    }
    Ok(())
}
