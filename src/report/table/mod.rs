//! Human output: one row per host (hosts that succeeded first, each group in inventory order),
//! a TOTAL row, notes, what was left alone and failures below the table, and with `-v` the
//! objects as host-prefixed lines above it. The same tables render as Markdown
//! (`--output markdown`) to paste into a ticket, and fit a terminal's width.
//!
//! A table is built host by host ([`TableDraft`]) as the fleet finishes them: rows and totals are
//! kept, the longer per-host text is spooled; the whole table is written once the run ends. Each
//! command's columns are in a module of its own.

pub mod apply;
pub mod df;
pub mod ping;
pub mod plan;
pub mod prune;

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Padding, Style, Width};

use super::run_info::RunInfo;
use super::sanitize;
use super::spool::Spool;
use crate::host::Host;
use crate::human_size::human_size;
use crate::model::failure::Stage;
use crate::outcome::{HostOutcome, SafetyReport, Tally};
use crate::plan::PruneKind;

/// A command's table: what it adds to the draft per host, and how the draft ends.
pub trait TableShape: Sized {
    /// The sums of the TOTAL row and the closing line, added up host by host.
    type Sums: Default + Send;
    /// Adds the host at `index` of the run.
    fn add(
        draft: &mut TableDraft,
        sums: &mut Self::Sums,
        outcome: &HostOutcome<Self>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()>;
    /// Writes the table and everything around it.
    fn write(
        out: &mut dyn Write,
        draft: TableDraft,
        sums: Self::Sums,
        end: &RunEnd,
        info: &RunInfo,
        layout: Layout,
    ) -> io::Result<()>;
}

/// How the run ended, as every table's foot shows it.
pub struct RunEnd<'a> {
    pub tally: &'a Tally,
    pub safety: &'a SafetyReport,
}

/// Between a kept row's cells: the unit separator, which no cell shows (remote text is
/// sanitised of control characters; a stray one in a cell becomes a space).
const CELL_SEPARATOR: char = '\u{1f}';

/// A table report being built host by host.
#[derive(Default)]
pub struct TableDraft {
    /// Text above the table (`-v` object lists), per host.
    lists: Spool,
    /// Rows with their place: (group, host index, cells joined by [`CELL_SEPARATOR`]); group 0
    /// comes first. One string a row: kept for every host until the end, it is kept small.
    rows: Vec<(u8, usize, Box<str>)>,
    notes: Notes,
    /// "Left alone" lines, per host.
    left_alone: Spool,
    /// Failure lines by host index.
    failures: Vec<(usize, String)>,
    /// Lines of hosts a busy guard skipped, by host index.
    skipped: Vec<(usize, String)>,
}

impl TableDraft {
    /// Text the host shows above the table.
    pub fn list(&mut self, index: usize, text: &[u8]) -> io::Result<()> {
        self.lists.put(index, text)
    }

    /// A row of the host at `index`; `group` 0 rows come before group 1 rows.
    pub fn row(&mut self, group: u8, index: usize, cells: Vec<String>) {
        let mut joined = String::new();
        for (place, cell) in cells.iter().enumerate() {
            if place > 0 {
                joined.push(CELL_SEPARATOR);
            }
            joined.extend(
                cell.chars()
                    .map(|c| if c == CELL_SEPARATOR { ' ' } else { c }),
            );
        }
        self.rows.push((group, index, joined.into_boxed_str()));
    }

    /// A note (already safe to show) about the host at `index`.
    pub fn note(&mut self, index: usize, host: &str, text: String) {
        self.notes.add(index, host, text);
    }

    /// The host's "left alone" lines.
    pub fn left_alone(&mut self, index: usize, text: &[u8]) -> io::Result<()> {
        self.left_alone.put(index, text)
    }

    /// Remembers the host's failure line, when it failed or its busy guard skipped it.
    pub fn failure<T>(&mut self, index: usize, outcome: &HostOutcome<T>) {
        if let Some(line) = failure_line(outcome) {
            if outcome.busy() {
                self.skipped.push((index, line));
            } else {
                self.failures.push((index, line));
            }
        }
    }

    /// The `-v` lists, then the table of `header`, the rows and `total_row`.
    pub fn write_table(
        &mut self,
        out: &mut dyn Write,
        header: &[&str],
        total_row: Option<Vec<String>>,
        layout: Layout,
    ) -> io::Result<()> {
        self.lists.copy_to(out)?;
        let mut builder = Builder::default();
        builder.push_record(header.iter().copied());
        self.rows.sort_by_key(|(group, index, _)| (*group, *index));
        for (_, _, cells) in std::mem::take(&mut self.rows) {
            builder.push_record(cells.split(CELL_SEPARATOR));
        }
        if let Some(row) = total_row {
            builder.push_record(row);
        }
        write_table(out, builder, layout)
    }

    /// Notes, then what was left alone.
    pub fn write_notes(&mut self, out: &mut dyn Write) -> io::Result<()> {
        std::mem::take(&mut self.notes).write(out)?;
        if self.left_alone.len() > 0 {
            writeln!(out)?;
            writeln!(out, "Left alone:")?;
            self.left_alone.copy_to(out)?;
        }
        Ok(())
    }

    /// The failed hosts, the hosts a busy guard skipped, then the run's safety valves.
    pub fn write_failures(&mut self, out: &mut dyn Write, safety: &SafetyReport) -> io::Result<()> {
        for (heading, lines) in [
            ("Failed hosts:", &mut self.failures),
            ("Skipped hosts:", &mut self.skipped),
        ] {
            if lines.is_empty() {
                continue;
            }
            writeln!(out)?;
            writeln!(out, "{heading}")?;
            lines.sort_by_key(|(index, _)| *index);
            for (_, line) in lines.iter() {
                writeln!(out, "{line}")?;
            }
        }
        write_safety(out, safety)
    }
}

/// Notes below a table, once each with the hosts they apply to, in the order the hosts (in
/// inventory order) first showed them; a note names its first few hosts and counts the rest.
#[derive(Default)]
struct Notes {
    notes: Vec<Note>,
}

struct Note {
    text: String,
    /// Where the note first shows: (host index, position among that host's notes).
    first: (usize, usize),
    /// The first hosts by index, at most [`HOSTS_NAMED`].
    hosts: Vec<(usize, String)>,
    count: usize,
}

/// How many hosts a note names before it counts the rest.
const HOSTS_NAMED: usize = 4;

impl Notes {
    fn add(&mut self, index: usize, host: &str, text: String) {
        let position = self
            .notes
            .iter()
            .filter(|n| n.hosts.iter().any(|(i, _)| *i == index))
            .count();
        let note = match self.notes.iter_mut().find(|n| n.text == text) {
            Some(note) => note,
            None => {
                self.notes.push(Note {
                    text,
                    first: (index, position),
                    hosts: Vec::new(),
                    count: 0,
                });
                self.notes.last_mut().expect("just pushed")
            }
        };
        note.count += 1;
        note.first = note.first.min((index, position));
        note.hosts.push((index, sanitize(host)));
        note.hosts.sort_by_key(|(i, _)| *i);
        note.hosts.truncate(HOSTS_NAMED + 1);
    }

    fn write(mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.notes.is_empty() {
            return Ok(());
        }
        self.notes.sort_by_key(|n| n.first);
        writeln!(out)?;
        writeln!(out, "Notes:")?;
        for note in self.notes {
            let names: Vec<&str> = note.hosts.iter().map(|(_, name)| name.as_str()).collect();
            writeln!(out, "  {}: {}", host_list(&names, note.count), note.text)?;
        }
        Ok(())
    }
}

/// `a`, `a, b`, or `a, b, c, d, ... (12 hosts)` past a handful of names.
fn host_list(first: &[&str], count: usize) -> String {
    if count <= HOSTS_NAMED {
        first[..count.min(first.len())].join(", ")
    } else {
        format!("{}, ... ({count} hosts)", first[..HOSTS_NAMED].join(", "))
    }
}

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

/// `16.78MB`, or `≈16.78MB` for an estimate.
pub fn bytes_cell(bytes: u64, exact: bool) -> String {
    if exact {
        human_size(bytes)
    } else {
        format!("≈{}", human_size(bytes))
    }
}

/// `TOTAL`, `3/4 ok`: the first two cells of every TOTAL row.
fn total_cells(tally: &Tally) -> Vec<String> {
    vec![
        "TOTAL".to_string(),
        format!("{}/{} ok", tally.succeeded, tally.hosts),
    ]
}

/// A failed host's line below a table: `host (address): [class] failed at <stage>: <reason>`;
/// a host its busy guard skipped: `host (address): skipped (busy): <reason>`.
fn failure_line<T>(outcome: &HostOutcome<T>) -> Option<String> {
    let failure = outcome.failure.as_ref()?;
    let name = sanitize(&outcome.name);
    let address = sanitize(&outcome.address);
    let message = sanitize(&failure.message);
    Some(if outcome.busy() {
        format!("  {name} ({address}): skipped (busy): {message}")
    } else if failure.stage == Stage::Queued {
        format!("  {name} ({address}): [{}] {message}", failure.class)
    } else {
        format!(
            "  {name} ({address}): [{}] failed at {}: {message}",
            failure.class, failure.stage
        )
    })
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
        assert_eq!(host_list(&["a", "b"], 2), "a, b");
        assert_eq!(
            host_list(&["h1", "h2", "h3", "h4", "h5"], 6),
            "h1, h2, h3, h4, ... (6 hosts)"
        );
    }

    #[test]
    fn notes_list_hosts_in_inventory_order_whatever_order_they_finished_in() {
        let mut notes = Notes::default();
        for index in [5, 2, 0, 3, 1, 4] {
            notes.add(
                index,
                &format!("h{index}"),
                "volumes: anonymous only".into(),
            );
        }
        notes.add(3, "h3", "first seen on h3".into());
        notes.add(1, "h1", "first seen on h1".into());
        let mut out = Vec::new();
        notes.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\nNotes:\n  h0, h1, h2, h3, ... (6 hosts): volumes: anonymous only\n  h1: first seen on h1\n  h3: first seen on h3\n"
        );
    }
}
