//! Human output: one row per host in inventory order, a TOTAL row, failures and per-host notes
//! below the table, and with `-v` docker's own `Deleted Images:` style lists.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::{Padding, Style};

use super::{human_size, sanitize, seconds};
use crate::df::{DiskUsage, UsageLine};
use crate::host::Host;
use crate::outcome::HostOutcome;
use crate::plan::PruneKind;
use crate::prune::{KindReport, PruneReport};
use crate::transport::ssh::HostKeyCheck;
use crate::transport::tunnel::TransportKind;

const PRUNE_COLUMNS: [PruneKind; 5] = [
    PruneKind::Containers,
    PruneKind::Images,
    PruneKind::Volumes,
    PruneKind::Networks,
    PruneKind::BuildCache,
];

/// Plain columns three spaces apart, as docker prints its tables.
fn write_table(out: &mut dyn Write, builder: Builder) -> io::Result<()> {
    let mut table = builder.build();
    table.with(Style::empty()).with(Padding::new(0, 3, 0, 0));
    for line in table.to_string().lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn status<T>(outcome: &HostOutcome<T>) -> &'static str {
    if outcome.succeeded() { "ok" } else { "FAILED" }
}

/// A prune cell: objects removed and bytes; images show bytes only, because the daemon's list
/// mixes image and layer IDs; networks have no size.
fn prune_cell(kind: PruneKind, objects: usize, bytes: u64) -> String {
    match kind {
        PruneKind::Images => human_size(bytes),
        PruneKind::Networks => objects.to_string(),
        _ => format!("{objects} ({})", human_size(bytes)),
    }
}

/// Failures and notes below a table: `host: failed at <stage>: <reason>`.
fn write_failures<T>(out: &mut dyn Write, outcomes: &[HostOutcome<T>]) -> io::Result<()> {
    let failed: Vec<&HostOutcome<T>> = outcomes.iter().filter(|o| !o.succeeded()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Failed hosts:")?;
    for outcome in failed {
        if let Some(failure) = &outcome.failure {
            writeln!(
                out,
                "  {} ({}): failed at {}: {}",
                outcome.name,
                outcome.address,
                failure.stage,
                sanitize(&failure.message)
            )?;
        }
    }
    Ok(())
}

/// The prune summary table.
pub fn write_prune(
    out: &mut dyn Write,
    outcomes: &[HostOutcome<PruneReport>],
    verbose: bool,
) -> io::Result<()> {
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
    for outcome in outcomes {
        let mut row = vec![outcome.name.clone(), status(outcome).to_string()];
        for total in &mut totals {
            let report = outcome.payload.kind(total.kind);
            total.add(report);
            row.push(report.map_or_else(
                || "-".to_string(),
                |r| prune_cell(r.kind, r.deleted.len(), r.reclaimed_bytes),
            ));
        }
        row.push(human_size(outcome.payload.reclaimed_bytes()));
        row.push(seconds(outcome.duration));
        builder.push_record(row);
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let mut total_row = vec!["TOTAL".to_string(), format!("{ok}/{} ok", outcomes.len())];
    total_row.extend(totals.iter().map(KindTotal::cell));
    let reclaimed: u64 = outcomes.iter().map(|o| o.payload.reclaimed_bytes()).sum();
    total_row.push(human_size(reclaimed));
    total_row.push(String::new());
    builder.push_record(total_row);
    write_table(out, builder)?;
    write_prune_notes(out, outcomes)?;
    write_failures(out, outcomes)?;
    writeln!(out)?;
    writeln!(out, "Total reclaimed space: {}", human_size(reclaimed))
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
            self.objects += report.deleted.len();
            self.bytes += report.reclaimed_bytes;
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
        if let Some(scope) = outcome.payload.volume_scope {
            note(format!("volumes: {scope}"), &outcome.name);
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

/// docker's own per-kind lists, under a header naming the host.
fn write_deleted_lists(out: &mut dyn Write, outcome: &HostOutcome<PruneReport>) -> io::Result<()> {
    let reports: Vec<&KindReport> = outcome
        .payload
        .kinds
        .iter()
        .filter(|k| !k.deleted.is_empty() || !k.untagged.is_empty())
        .collect();
    if reports.is_empty() {
        return Ok(());
    }
    writeln!(out, "== {} ==", outcome.name)?;
    for report in reports {
        let heading = match report.kind {
            PruneKind::Containers => "Deleted Containers:",
            PruneKind::Networks => "Deleted Networks:",
            PruneKind::Volumes => "Deleted Volumes:",
            PruneKind::Images => "Deleted Images:",
            PruneKind::BuildCache => "Deleted build cache objects:",
        };
        writeln!(out, "{heading}")?;
        for reference in &report.untagged {
            writeln!(out, "untagged: {}", sanitize(reference))?;
        }
        for id in &report.deleted {
            if report.kind == PruneKind::Images {
                writeln!(out, "deleted: {}", sanitize(id))?;
            } else {
                writeln!(out, "{}", sanitize(id))?;
            }
        }
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
pub fn write_df(out: &mut dyn Write, outcomes: &[HostOutcome<DiskUsage>]) -> io::Result<()> {
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
    for outcome in outcomes {
        let usage = &outcome.payload;
        if outcome.succeeded() {
            total.add(usage);
            builder.push_record([
                outcome.name.clone(),
                status(outcome).to_string(),
                usage_cell(&usage.images),
                usage_cell(&usage.containers),
                usage_cell(&usage.volumes),
                usage_cell(&usage.build_cache),
                human_size(usage.size_bytes()),
                human_size(usage.reclaimable_bytes()),
            ]);
        } else {
            let mut row = vec![outcome.name.clone(), status(outcome).to_string()];
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
    write_table(out, builder)?;
    writeln!(
        out,
        "(cells: size (reclaimable), computed as `docker system df` does)"
    )?;
    write_failures(out, outcomes)
}

/// `fleetprune ping`: what each host's connection looks like.
pub fn write_ping(out: &mut dyn Write, outcomes: &[HostOutcome<()>]) -> io::Result<()> {
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
    for outcome in outcomes {
        let host_key = match &outcome.host_key {
            Some(HostKeyCheck::Verified { .. }) => "verified",
            Some(HostKeyCheck::Added { .. }) => "added",
            Some(HostKeyCheck::Unchecked { .. }) => "unchecked",
            None => "-",
        };
        let (transport, engine, api) = match &outcome.connection {
            Some(c) => (
                c.transport.to_string(),
                sanitize(&c.engine_version),
                c.api_version.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        builder.push_record([
            outcome.name.clone(),
            status(outcome).to_string(),
            outcome.address.clone(),
            host_key.to_string(),
            transport,
            engine,
            api,
            seconds(outcome.duration),
        ]);
    }
    write_table(out, builder)?;
    write_failures(out, outcomes)
}

/// `fleetprune inventory`: resolved hosts and their effective plans; nothing is contacted.
pub fn write_inventory(out: &mut dyn Write, hosts: &[Host]) -> io::Result<()> {
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
        builder.push_record([
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
        ]);
    }
    write_table(out, builder)
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
