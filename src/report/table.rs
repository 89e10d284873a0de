//! Human output: one row per host in inventory order (failed hosts after the others), a TOTAL
//! row, failures and per-host notes below the table, and with `-v` the deleted objects as
//! host-prefixed lines (`host01 images deleted sha256:...`) that grep can use. The same tables
//! render as Markdown (`--output markdown`) to paste into a ticket, and fit a terminal's width.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Padding, Style, Width};

use super::object_plan::bytes_cell;
use super::{sanitize, seconds};
use crate::host::Host;
use crate::human_size::human_size;
use crate::model::connection::HostKeyCheck;
use crate::model::connection::TransportKind;
use crate::model::engine_kind::EngineKind;
use crate::model::failure::Stage;
use crate::outcome::disk_usage::{DiskUsage, UsageLine};
use crate::outcome::reclaim::{KindReport, PruneReport};
use crate::outcome::{FleetRun, HostOutcome, SafetyReport};
use crate::plan::PruneKind;

const PRUNE_COLUMNS: [PruneKind; 5] = [
    PruneKind::Containers,
    PruneKind::Images,
    PruneKind::Volumes,
    PruneKind::Networks,
    PruneKind::BuildCache,
];

/// How tables are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    /// A Markdown table instead of plain columns.
    pub markdown: bool,
    /// Columns available (a terminal's width); wider tables wrap their widest cells.
    pub width: Option<usize>,
}

/// Plain columns three spaces apart, as docker prints its tables; or a Markdown table.
pub(crate) fn write_table(out: &mut dyn Write, builder: Builder, layout: Layout) -> io::Result<()> {
    if layout.markdown {
        let rows: Vec<Vec<String>> = builder.into();
        let escaped: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| cell.replace('|', "\\|"))
                    .collect()
            })
            .collect();
        let mut table = Builder::from(escaped).build();
        table.with(Style::markdown());
        return writeln!(out, "{table}");
    }
    let mut table = builder.build();
    table.with(Style::empty()).with(Padding::new(0, 3, 0, 0));
    if let Some(width) = layout.width {
        table.with(
            Width::truncate(width + 3)
                .suffix("…")
                .priority(Priority::max(true)),
        );
    }
    for line in table.to_string().lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Hosts that succeeded, then the others, each in inventory order: failures stay easy to find.
fn ok_first<T>(outcomes: &[HostOutcome<T>]) -> impl Iterator<Item = &HostOutcome<T>> {
    outcomes
        .iter()
        .filter(|o| o.succeeded())
        .chain(outcomes.iter().filter(|o| !o.succeeded()))
}

/// `ok`, or `FAILED (refused)` with the failure class's short form.
pub(crate) fn status<T>(outcome: &HostOutcome<T>) -> String {
    match &outcome.failure {
        None => "ok".to_string(),
        Some(_) if outcome.busy() => "skipped (busy)".to_string(),
        Some(failure) => format!("FAILED ({})", failure.class.short()),
    }
}

/// A prune cell: objects removed and bytes; images show bytes only, because the daemon's list
/// mixes image and layer IDs; networks have no size.
pub(crate) fn prune_cell(kind: PruneKind, objects: usize, bytes: u64) -> String {
    match kind {
        PruneKind::Images => human_size(bytes),
        PruneKind::Networks => objects.to_string(),
        _ => format!("{objects} ({})", human_size(bytes)),
    }
}

/// Failures below a table: `host (address): [class] failed at <stage>: <reason>`; hosts a busy
/// guard skipped under their own heading, `host (address): skipped (busy): <reason>`; then why
/// the run stopped early, if it did.
pub(crate) fn write_failures<T>(out: &mut dyn Write, run: &FleetRun<T>) -> io::Result<()> {
    let (busy, failed): (Vec<&HostOutcome<T>>, Vec<&HostOutcome<T>>) = run
        .outcomes
        .iter()
        .filter(|o| !o.succeeded())
        .partition(|o| o.busy());
    if !failed.is_empty() {
        writeln!(out)?;
        writeln!(out, "Failed hosts:")?;
    }
    for outcome in failed {
        if let Some(failure) = &outcome.failure {
            let name = sanitize(&outcome.name);
            let address = sanitize(&outcome.address);
            let message = sanitize(&failure.message);
            if failure.stage == Stage::Queued {
                writeln!(out, "  {name} ({address}): [{}] {message}", failure.class)?;
            } else {
                writeln!(
                    out,
                    "  {name} ({address}): [{}] failed at {}: {message}",
                    failure.class, failure.stage
                )?;
            }
        }
    }
    if !busy.is_empty() {
        writeln!(out)?;
        writeln!(out, "Skipped hosts:")?;
    }
    for outcome in busy {
        if let Some(failure) = &outcome.failure {
            writeln!(
                out,
                "  {} ({}): skipped (busy): {}",
                sanitize(&outcome.name),
                sanitize(&outcome.address),
                sanitize(&failure.message)
            )?;
        }
    }
    write_safety(out, &run.safety)
}

/// The safety valves, when any was set, and why the run stopped early.
fn write_safety(out: &mut dyn Write, safety: &SafetyReport) -> io::Result<()> {
    let mut lines = Vec::new();
    if let Some(serial) = &safety.serial {
        let sizes: Vec<String> = safety.batches.iter().map(usize::to_string).collect();
        lines.push(format!(
            "--serial {serial}: batches of {} (the first is the canary)",
            sizes.join(", ")
        ));
    }
    if let Some(percentage) = safety.max_fail_percentage {
        lines.push(format!("--max-fail-percentage {percentage}"));
    }
    if safety.retries > 0 {
        lines.push(format!("--retries {}", safety.retries));
    }
    if let Some(reason) = &safety.stopped {
        lines.push(format!("stopped early: {reason}"));
    }
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Run:")?;
    for line in lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// The prune summary table.
pub fn write_prune(
    out: &mut dyn Write,
    run: &FleetRun<PruneReport>,
    verbose: bool,
    layout: Layout,
) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    if verbose {
        for outcome in outcomes {
            write_deleted_lists(out, outcome)?;
        }
    }
    let mut builder = Builder::default();
    builder.push_record([
        "HOST",
        "STATUS",
        "CONTAINERS",
        "IMAGES",
        "VOLUMES",
        "NETWORKS",
        "BUILD CACHE",
        "RECLAIMED",
        "TIME",
    ]);
    let mut totals: Vec<KindTotal> = PRUNE_COLUMNS.iter().map(|k| KindTotal::new(*k)).collect();
    for outcome in ok_first(outcomes) {
        let mut row = vec![sanitize(&outcome.name), status(outcome)];
        for total in &mut totals {
            let report = outcome.payload.kind(total.kind);
            total.add(report);
            let cell = match report {
                // Deletes by ID cut off with one in flight: more may have gone.
                Some(r) if outcome.payload.in_flight == Some(r.kind) => {
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
                None if outcome.payload.unsupported.contains(&total.kind) => "n/a".to_string(),
                // Sent, never answered: the daemon may have deleted some.
                None if outcome.payload.in_flight == Some(total.kind) => "?".to_string(),
                None => "-".to_string(),
            };
            row.push(cell);
        }
        row.push(human_size(outcome.payload.reclaimed_bytes()));
        row.push(seconds(outcome.duration));
        builder.push_record(row);
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let mut total_row = vec!["TOTAL".to_string(), format!("{ok}/{} ok", outcomes.len())];
    total_row.extend(totals.iter().map(KindTotal::cell));
    let reclaimed = outcomes.iter().fold(0u64, |sum, o| {
        sum.saturating_add(o.payload.reclaimed_bytes())
    });
    total_row.push(human_size(reclaimed));
    total_row.push(String::new());
    builder.push_record(total_row);
    write_table(out, builder, layout)?;
    write_prune_notes(out, outcomes)?;
    write_left_alone(out, outcomes)?;
    write_failures(out, run)?;
    writeln!(out)?;
    let exact = outcomes.iter().all(|o| o.payload.reclaimed_exact());
    write!(
        out,
        "Total reclaimed space: {}",
        bytes_cell(reclaimed, exact)
    )?;
    if outcomes.iter().any(|o| o.payload.selected()) {
        let planned = outcomes
            .iter()
            .fold(0u64, |sum, o| sum.saturating_add(o.payload.planned_bytes()));
        write!(out, " (planned {})", human_size(planned))?;
    }
    writeln!(out)
}

/// The objects a keep policy, a saved plan or `rmi` chose and left alone, and why.
pub(crate) fn write_left_alone(
    out: &mut dyn Write,
    outcomes: &[HostOutcome<PruneReport>],
) -> io::Result<()> {
    let skipped: Vec<_> = outcomes
        .iter()
        .flat_map(|o| {
            o.payload
                .kinds
                .iter()
                .flat_map(move |k| k.skipped().iter().map(move |s| (o, k.kind, s)))
        })
        .collect();
    if skipped.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Left alone:")?;
    for (outcome, kind, skip) in skipped {
        writeln!(
            out,
            "  {} {kind} {} ({}): {}",
            sanitize(&outcome.name),
            sanitize(&skip.name),
            sanitize(&skip.id),
            sanitize(&skip.reason.to_string())
        )?;
    }
    Ok(())
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
fn write_prune_notes<'a>(
    out: &mut dyn Write,
    outcomes: &'a [HostOutcome<PruneReport>],
) -> io::Result<()> {
    let mut notes: Vec<(String, Vec<&str>)> = Vec::new();
    let mut note = |text: String, host: &'a str| match notes.iter_mut().find(|(t, _)| *t == text) {
        Some((_, hosts)) => hosts.push(host),
        None => notes.push((text, vec![host])),
    };
    for outcome in outcomes {
        for text in &outcome.payload.notes {
            note(sanitize(text), &outcome.name);
        }
        if let Some(scope) = outcome.payload.volume_scope {
            note(format!("volumes: {scope}"), &outcome.name);
        }
        if let Some(kind) = outcome.payload.in_flight {
            note(
                format!(
                    "{kind}: OUTCOME UNKNOWN (?): the request was sent and no usable answer came; the daemon may have deleted objects, a re-run reports what is left"
                ),
                &outcome.name,
            );
        }
        for kind in &outcome.payload.unsupported {
            note(
                format!("{kind}: not supported by this engine (n/a)"),
                &outcome.name,
            );
        }
        for report in &outcome.payload.kinds {
            if let Some(text) = &report.note {
                note(
                    format!("{}: {}", report.kind, sanitize(text)),
                    &outcome.name,
                );
            }
            if let Some(odd) = &report.odd_reclaimed {
                note(
                    format!(
                        "{}: the daemon reported SpaceReclaimed {} (*), not a byte count; counted as 0",
                        report.kind,
                        sanitize(odd)
                    ),
                    &outcome.name,
                );
            }
        }
        if let Some(connection) = &outcome.connection
            && connection.transport == TransportKind::DialStdio
        {
            note(
                "reached through `docker system dial-stdio` (the server refuses stream-local forwarding)"
                    .to_string(),
                &outcome.name,
            );
        }
    }
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Notes:")?;
    for (text, hosts) in notes {
        let hosts: Vec<String> = hosts.iter().map(|h| sanitize(h)).collect();
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        writeln!(out, "  {}: {text}", host_list(&hosts))?;
    }
    Ok(())
}

/// `a`, `a, b`, or `a, b, c, ... (12 hosts)` past a handful of names.
fn host_list(hosts: &[&str]) -> String {
    const SHOWN: usize = 4;
    if hosts.len() <= SHOWN {
        hosts.join(", ")
    } else {
        format!("{}, ... ({} hosts)", hosts[..SHOWN].join(", "), hosts.len())
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

fn usage_cell(line: &UsageLine) -> String {
    format!(
        "{} ({})",
        human_size(line.size_bytes),
        human_size(line.reclaimable_bytes)
    )
}

/// The fleet-wide `docker system df` table: each cell is `size (reclaimable)`.
pub fn write_df(out: &mut dyn Write, run: &FleetRun<DiskUsage>, layout: Layout) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    let mut builder = Builder::default();
    builder.push_record([
        "HOST",
        "STATUS",
        "IMAGES",
        "CONTAINERS",
        "LOCAL VOLUMES",
        "BUILD CACHE",
        "SIZE",
        "RECLAIMABLE",
    ]);
    let mut total = DiskUsage::default();
    for outcome in ok_first(outcomes) {
        let usage = &outcome.payload;
        if outcome.succeeded() {
            total.add(usage);
            builder.push_record([
                sanitize(&outcome.name),
                status(outcome),
                usage_cell(&usage.images),
                usage_cell(&usage.containers),
                usage_cell(&usage.volumes),
                usage_cell(&usage.build_cache),
                human_size(usage.size_bytes()),
                human_size(usage.reclaimable_bytes()),
            ]);
        } else {
            let mut row = vec![sanitize(&outcome.name), status(outcome)];
            row.extend(std::iter::repeat_n("-".to_string(), 6));
            builder.push_record(row);
        }
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    builder.push_record([
        "TOTAL".to_string(),
        format!("{ok}/{} ok", outcomes.len()),
        usage_cell(&total.images),
        usage_cell(&total.containers),
        usage_cell(&total.volumes),
        usage_cell(&total.build_cache),
        human_size(total.size_bytes()),
        human_size(total.reclaimable_bytes()),
    ]);
    write_table(out, builder, layout)?;
    writeln!(
        out,
        "(cells: size (reclaimable), computed as `docker system df` does)"
    )?;
    write_failures(out, run)
}

/// `fleetprune ping`: what each host's connection looks like.
pub fn write_ping(out: &mut dyn Write, run: &FleetRun<()>, layout: Layout) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    let mut builder = Builder::default();
    builder.push_record([
        "HOST",
        "STATUS",
        "ADDRESS",
        "HOST KEY",
        "TRANSPORT",
        "ENGINE",
        "API",
        "TIME",
    ]);
    for outcome in ok_first(outcomes) {
        let host_key = match &outcome.host_key {
            Some(HostKeyCheck::Verified { .. }) => "verified",
            Some(HostKeyCheck::Added { .. }) => "added",
            Some(HostKeyCheck::Unchecked { .. }) => "unchecked",
            Some(HostKeyCheck::Certified { .. }) => "certified",
            None => "-",
        };
        let (transport, engine, api) = match &outcome.connection {
            Some(c) => (
                match &c.found_socket {
                    Some(socket) => format!("{} {}", c.transport, sanitize(socket)),
                    None => c.transport.to_string(),
                },
                match c.engine {
                    EngineKind::Docker => sanitize(&c.engine_version),
                    EngineKind::Podman => format!("podman {}", sanitize(&c.engine_version)),
                },
                c.api_version.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        builder.push_record([
            sanitize(&outcome.name),
            status(outcome),
            sanitize(&outcome.address),
            host_key.to_string(),
            transport,
            engine,
            api,
            seconds(outcome.duration),
        ]);
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let mut total_row = vec!["TOTAL".to_string(), format!("{ok}/{} ok", outcomes.len())];
    total_row.extend(std::iter::repeat_n(String::new(), 6));
    builder.push_record(total_row);
    write_table(out, builder, layout)?;
    write_failures(out, run)
}

/// `fleetprune inventory`: resolved hosts and their effective plans; nothing is contacted.
pub fn write_inventory(out: &mut dyn Write, hosts: &[Host], layout: Layout) -> io::Result<()> {
    let mut builder = Builder::default();
    builder.push_record([
        "HOST",
        "ADDRESS",
        "USER",
        "IDENTITY",
        "SOCKET",
        "GROUPS",
        "PRUNE PLAN",
    ]);
    for host in hosts {
        let row = [
            host.name.clone(),
            host.endpoint(),
            host.user.clone(),
            host.identity
                .as_ref()
                .map_or_else(|| "(default keys)".to_string(), |p| p.display().to_string()),
            host.docker_socket.clone(),
            host.groups.join(","),
            match (&host.refused, &host.plan) {
                (Some(refusal), _) => format!("(not contacted) {refusal}"),
                (None, Some(plan)) => plan.describe(),
                (None, None) => "(none)".to_string(),
            },
        ];
        builder.push_record(row.map(|cell| sanitize(&cell)));
    }
    write_table(out, builder, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_are_shortened_past_four_names() {
        assert_eq!(host_list(&["a", "b"]), "a, b");
        assert_eq!(
            host_list(&["h1", "h2", "h3", "h4", "h5", "h6"]),
            "h1, h2, h3, h4, ... (6 hosts)"
        );
    }
}
