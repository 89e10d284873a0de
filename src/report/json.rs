//! Machine output: one JSON document per run with a `schema_version`, per-host results in
//! inventory order and totals; and the same shapes as NDJSON events (one `host` event per host as
//! it finishes, then one `summary`). This module is the one home of every JSON shape fleetprune
//! writes (saved reports are read back by [`super::saved`]). The schema is documented in
//! docs/json.md; additive changes keep the version, anything else bumps it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::value::RawValue;

use crate::api_version::ApiVersion;
use crate::host::Host;
use crate::model::connection::HostKeyCheck;
use crate::model::connection::TransportKind;
use crate::model::engine_kind::EngineKind;
use crate::model::failure::HostFailure;
use crate::outcome::disk_usage::DiskUsage;
use crate::outcome::prediction::{HostFacts, PlanReport};
use crate::outcome::reclaim::{KindReport, PruneReport, Skipped};
use crate::outcome::{HostOutcome, SafetyReport, Tally};
use crate::plan::select::ObjectPlan;
use crate::plan::{AllScope, PruneKind, PrunePlan, VolumeScope};

use super::run_info::{RunInfo, VERSION};
use super::saved::{SavedFailure, Summary};
use super::spool::Spool;

/// Bumped on any change that is not purely additive.
pub const SCHEMA_VERSION: u32 = 1;

/// When and with what a run ran: in every document and in the NDJSON summary.
#[derive(Serialize)]
struct RunJson<'a> {
    fleetprune_version: &'static str,
    /// RFC 3339, UTC.
    started_at: String,
    finished_at: String,
    /// The inventory sources as given.
    inventory: &'a [String],
    limit: Option<&'a str>,
    /// `--shard` as resolved (`2/4`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a str>,
}

impl<'a> RunJson<'a> {
    fn new(info: &'a RunInfo) -> RunJson<'a> {
        RunJson {
            fleetprune_version: VERSION,
            started_at: info.started_at.to_string(),
            finished_at: info.finished_at.to_string(),
            inventory: &info.inventory,
            limit: info.limit.as_deref(),
            shard: info.shard.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Document<'a, H: Serialize, T: Serialize> {
    schema_version: u32,
    command: &'a str,
    #[serde(flatten)]
    run: RunJson<'a>,
    hosts: H,
    totals: T,
    /// The run's safety valves; absent for `inventory`, which contacts nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    safety: Option<&'a SafetyReport>,
}

/// The fields every command reports per host.
#[derive(Serialize)]
pub(crate) struct HostJson<'a, P: Serialize> {
    name: &'a str,
    address: &'a str,
    status: &'static str,
    transport: Option<TransportKind>,
    /// `docker` or `podman`.
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<EngineKind>,
    engine_version: Option<&'a str>,
    api_version: Option<ApiVersion>,
    /// The socket `docker_socket: auto` found (absent when the socket was named).
    #[serde(skip_serializing_if = "Option::is_none")]
    docker_socket: Option<&'a str>,
    host_key: Option<&'a HostKeyCheck>,
    duration_ms: u128,
    /// SSH connection attempts; 0 when the host was never started.
    attempts: u32,
    error: Option<&'a HostFailure>,
    #[serde(flatten)]
    payload: P,
}

pub(crate) fn host_json<'a, T, P: Serialize>(
    outcome: &'a HostOutcome<T>,
    payload: P,
) -> HostJson<'a, P> {
    HostJson {
        name: &outcome.name,
        address: &outcome.address,
        status: if outcome.succeeded() {
            "ok"
        } else if outcome.busy() {
            "skipped"
        } else {
            "failed"
        },
        transport: outcome.connection.as_ref().map(|c| c.transport),
        engine: outcome.connection.as_ref().map(|c| c.engine),
        engine_version: outcome
            .connection
            .as_ref()
            .map(|c| c.engine_version.as_str()),
        api_version: outcome.connection.as_ref().map(|c| c.api_version),
        docker_socket: outcome
            .connection
            .as_ref()
            .and_then(|c| c.found_socket.as_deref()),
        host_key: outcome.host_key.as_ref(),
        duration_ms: outcome.duration.as_millis(),
        attempts: outcome.attempts,
        error: outcome.failure.as_ref(),
        payload,
    }
}

#[derive(Serialize)]
pub(crate) struct Counts {
    hosts: usize,
    succeeded: usize,
    /// Every host that did not succeed, `cancelled` and `outcome_unknown` ones included.
    failed: usize,
    /// Hosts never started.
    cancelled: usize,
    /// Hosts where a prune request may have deleted objects without the report knowing.
    outcome_unknown: usize,
}

impl From<&Tally> for Counts {
    fn from(tally: &Tally) -> Counts {
        Counts {
            hosts: tally.hosts,
            succeeded: tally.succeeded,
            failed: tally.failed(),
            cancelled: tally.cancelled,
            outcome_unknown: tally.outcome_unknown,
        }
    }
}

/// A document's `totals`: the host counts, then the command's own sums.
#[derive(Serialize)]
struct TotalsJson<'a, T: Serialize> {
    #[serde(flatten)]
    counts: Counts,
    #[serde(flatten)]
    sums: &'a T,
}

impl<'a, T: Serialize> TotalsJson<'a, T> {
    fn new(tally: &Tally, sums: &'a T) -> TotalsJson<'a, T> {
        TotalsJson {
            counts: Counts::from(tally),
            sums,
        }
    }
}

pub(crate) fn write_document<H: Serialize, T: Serialize>(
    out: &mut dyn Write,
    command: &str,
    info: &RunInfo,
    hosts: H,
    totals: T,
    safety: Option<&SafetyReport>,
) -> io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        command,
        run: RunJson::new(info),
        hosts,
        totals,
        safety,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// A command's JSON shapes: one host entry, and the sums its totals add up host by host.
pub trait JsonShape: Sized {
    /// The command's sums over the hosts (besides the host counts every command has).
    type Totals: Default + Serialize + Send;
    /// The entry of the host at `index` of the run.
    fn host<'a>(
        outcome: &'a HostOutcome<Self>,
        info: &'a RunInfo,
        index: usize,
    ) -> impl Serialize + 'a;
    /// Adds a finished host to the sums.
    fn add_to_totals(totals: &mut Self::Totals, outcome: &HostOutcome<Self>);
}

/// The document with every host entry in memory, as one serialization: what the streamed
/// document must equal.
#[cfg(test)]
pub(crate) fn write_whole_document<H: Serialize, T: Serialize, P>(
    out: &mut dyn Write,
    info: &RunInfo,
    hosts: Vec<H>,
    run: &crate::outcome::FleetRun<P>,
    totals: &T,
) -> io::Result<()> {
    let totals = TotalsJson::new(&Tally::of(&run.outcomes), totals);
    write_document(out, info.command, info, hosts, totals, Some(&run.safety))
}

/// `--output json` (and `--report`), built host by host: each host's entry is rendered as it
/// finishes and spooled; the document, hosts in inventory order, is written at the end.
#[derive(Default)]
pub(crate) struct DocumentDraft {
    entries: Spool,
}

/// How deep a host entry sits in the document (`{ "hosts": [ {...` ): its lines' indent.
const ENTRY_INDENT: &[u8] = b"    ";

impl DocumentDraft {
    /// Renders the entry of the host at `index`, as the pretty-printed document will show it.
    pub(crate) fn add<T: JsonShape>(
        &mut self,
        outcome: &HostOutcome<T>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let mut entry = Vec::new();
        serde_json::to_writer_pretty(&mut entry, &T::host(outcome, info, index))?;
        // JSON text has no raw newline inside a string: every newline starts a line to indent.
        let mut indented = Vec::with_capacity(entry.len() + entry.len() / 8);
        for byte in entry {
            indented.push(byte);
            if byte == b'\n' {
                indented.extend_from_slice(ENTRY_INDENT);
            }
        }
        self.entries.put(index, &indented)
    }

    /// The whole document: the run, every spooled host in inventory order, the totals.
    pub(crate) fn write<T: Serialize>(
        &mut self,
        out: &mut dyn Write,
        info: &RunInfo,
        tally: &Tally,
        totals: &T,
        safety: &SafetyReport,
    ) -> io::Result<()> {
        let totals = TotalsJson::new(tally, totals);
        let hosts = SpooledEntries(RefCell::new(&mut self.entries));
        write_document(out, info.command, info, hosts, totals, Some(safety))
    }
}

/// The spooled host entries as the document's `hosts` array, read back one at a time.
struct SpooledEntries<'a>(RefCell<&'a mut Spool>);

impl Serialize for SpooledEntries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut spool = self.0.borrow_mut();
        let mut hosts = serializer.serialize_seq(Some(spool.len()))?;
        let mut failed = None;
        let read = spool.for_each(|piece| {
            let entry: &RawValue = serde_json::from_slice(piece)?;
            hosts
                .serialize_element(entry)
                .map_err(|error| failed = Some(error))
                .map_err(|()| io::Error::other("a host entry could not be written"))
        });
        if let Some(error) = failed {
            return Err(error);
        }
        read.map_err(S::Error::custom)?;
        hosts.end()
    }
}

#[derive(Serialize)]
struct HostEvent<'a, H: Serialize> {
    event: &'static str,
    command: &'a str,
    #[serde(flatten)]
    host: H,
}

/// `--output ndjson`: one line for a host that finished, fields as in the document's `hosts`.
pub fn write_host_event<T: JsonShape>(
    out: &mut dyn Write,
    outcome: &HostOutcome<T>,
    info: &RunInfo,
    index: usize,
) -> io::Result<()> {
    let event = HostEvent {
        event: "host",
        command: info.command,
        host: T::host(outcome, info, index),
    };
    serde_json::to_writer(&mut *out, &event)?;
    writeln!(out)
}

#[derive(Serialize)]
struct SummaryEvent<'a, T: Serialize> {
    event: &'static str,
    schema_version: u32,
    command: &'a str,
    #[serde(flatten)]
    run: RunJson<'a>,
    totals: T,
    safety: &'a SafetyReport,
}

/// `--output ndjson`: the last line, the document without `hosts`.
pub(crate) fn write_summary_event<T: Serialize>(
    out: &mut dyn Write,
    info: &RunInfo,
    tally: &Tally,
    totals: &T,
    safety: &SafetyReport,
) -> io::Result<()> {
    let event = SummaryEvent {
        event: "summary",
        schema_version: SCHEMA_VERSION,
        command: info.command,
        run: RunJson::new(info),
        totals: TotalsJson::new(tally, totals),
        safety,
    };
    serde_json::to_writer(&mut *out, &event)?;
    writeln!(out)
}

/// One kind of a prune, apply or rmi: what went and what was freed; with deletes by ID also
/// what was planned and what was left alone.
#[derive(Serialize)]
struct KindJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    untagged: Option<&'a [String]>,
    deleted: &'a [String],
    reclaimed_bytes: u64,
    /// The daemon's SpaceReclaimed when it is not a byte count (negative, beyond 2^64).
    #[serde(skip_serializing_if = "Option::is_none")]
    reclaimed_reported: Option<&'a str>,
    /// False when `reclaimed_bytes` is partly the plan's estimate (containerd image store).
    reclaimed_exact: bool,
    /// Deletes by ID only (keep policy, apply, rmi): objects planned, bytes predicted, and the
    /// objects left alone with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_exact: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a [Skipped]>,
    /// How `deleted` was learnt when the daemon's answer did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// A host of `prune` (with or without a keep policy), `apply` and `rmi`: one shape.
#[derive(Serialize)]
struct PruneHostJson<'a> {
    /// The host's effective plan: kinds, `-a` scope and filters after inventory and flags.
    plan: Option<PlanJson>,
    volume_scope: Option<VolumeScope>,
    kinds: BTreeMap<PruneKind, KindJson<'a>>,
    reclaimed_bytes: u64,
    /// Deletes by ID only: bytes the plan predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_bytes: Option<u64>,
    /// Kinds whose answer came (or whose every selected object was tried).
    completed: Vec<PruneKind>,
    /// Kinds whose request was sent and whose answer never came: they may have deleted.
    in_flight: Vec<PruneKind>,
    /// With deletes by ID, the object whose delete was in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_flight_object: Option<&'a str>,
    /// Kinds started by ID and stopped between objects (nothing in flight).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unfinished: Vec<PruneKind>,
    /// Kinds of the plan never sent.
    not_started: Vec<PruneKind>,
    /// `rmi`'s read-only first pass, when it is the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<&'a ObjectPlan>,
    /// How the host was pruned, when it matters (orchestrators' objects left).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    /// Kinds the engine has no endpoint for (Podman's build cache).
    #[serde(skip_serializing_if = "<[PruneKind]>::is_empty")]
    unsupported: &'a [PruneKind],
}

#[derive(Serialize, Default)]
struct KindTotalJson {
    deleted: usize,
    reclaimed_bytes: u64,
}

#[derive(Serialize, Default)]
pub struct PruneTotals {
    reclaimed_bytes: u64,
    kinds: BTreeMap<PruneKind, KindTotalJson>,
    /// Deletes by ID only: objects planned and done, bytes predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_objects: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    done_objects: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_bytes: Option<u64>,
}

fn kind_json(report: &KindReport) -> KindJson<'_> {
    let selection = report.selection.as_ref();
    KindJson {
        untagged: (report.kind == PruneKind::Images).then_some(report.untagged.as_slice()),
        deleted: &report.deleted,
        reclaimed_bytes: report.reclaimed_bytes,
        reclaimed_reported: report.odd_reclaimed.as_deref(),
        reclaimed_exact: report.reclaimed_exact,
        planned: selection.map(|s| s.planned),
        planned_bytes: selection.map(|s| s.planned_bytes),
        planned_exact: selection.map(|s| s.planned_exact),
        skipped: selection.map(|s| s.skipped.as_slice()),
        note: report.note.as_deref(),
    }
}

impl JsonShape for PruneReport {
    type Totals = PruneTotals;

    fn host<'a>(
        outcome: &'a HostOutcome<PruneReport>,
        info: &'a RunInfo,
        index: usize,
    ) -> impl Serialize + 'a {
        let report = &outcome.payload;
        host_json(
            outcome,
            PruneHostJson {
                plan: info.plan(index).map(plan_json),
                volume_scope: report.volume_scope,
                kinds: report
                    .kinds
                    .iter()
                    .map(|k| (k.kind, kind_json(k)))
                    .collect(),
                reclaimed_bytes: report.reclaimed_bytes(),
                planned_bytes: report.selected().then(|| report.planned_bytes()),
                completed: report.completed(),
                in_flight: report.in_flight.into_iter().collect(),
                in_flight_object: report.in_flight_object.as_deref(),
                unfinished: report.unfinished(),
                not_started: report.not_started(),
                preview: report.preview.as_ref(),
                notes: &report.notes,
                unsupported: &report.unsupported,
            },
        )
    }

    fn add_to_totals(totals: &mut PruneTotals, outcome: &HostOutcome<PruneReport>) {
        let report = &outcome.payload;
        for kind in &report.kinds {
            let total = totals.kinds.entry(kind.kind).or_default();
            total.deleted = total.deleted.saturating_add(kind.deleted.len());
            total.reclaimed_bytes = total.reclaimed_bytes.saturating_add(kind.reclaimed_bytes);
        }
        totals.reclaimed_bytes = totals
            .reclaimed_bytes
            .saturating_add(report.reclaimed_bytes());
        if report.selected() {
            let objects = totals.planned_objects.get_or_insert(0);
            *objects = objects.saturating_add(report.planned_objects());
            let done = totals.done_objects.get_or_insert(0);
            *done = done.saturating_add(report.done_objects());
            let bytes = totals.planned_bytes.get_or_insert(0);
            *bytes = bytes.saturating_add(report.planned_bytes());
        }
    }
}

#[derive(Serialize)]
struct PlanHostJson<'a> {
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    facts: Option<&'a HostFacts>,
    predicted_bytes: u64,
    exact: bool,
    kinds: BTreeMap<PruneKind, PlanKindJson<'a>>,
}

#[derive(Serialize)]
struct PlanKindJson<'a> {
    doomed: &'a [crate::plan::select::Doomed],
    #[serde(skip_serializing_if = "Option::is_none")]
    kept: Option<&'a [crate::plan::select::Kept]>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    freed_layers: &'a [String],
    predicted_bytes: u64,
    exact: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    info: &'a [String],
}

#[derive(Serialize)]
pub struct PlanTotals {
    objects: usize,
    predicted_bytes: u64,
    exact: bool,
}

impl Default for PlanTotals {
    fn default() -> PlanTotals {
        PlanTotals {
            objects: 0,
            predicted_bytes: 0,
            exact: true,
        }
    }
}

fn plan_kinds_json(plan: &ObjectPlan, kept: bool) -> BTreeMap<PruneKind, PlanKindJson<'_>> {
    plan.kinds
        .iter()
        .map(|k| {
            (
                k.kind,
                PlanKindJson {
                    doomed: &k.doomed,
                    kept: kept.then_some(k.kept.as_slice()),
                    freed_layers: &k.freed_layers,
                    predicted_bytes: k.bytes,
                    exact: k.exact,
                    notes: &k.notes,
                    info: &k.info,
                },
            )
        })
        .collect()
}

impl JsonShape for PlanReport {
    type Totals = PlanTotals;

    fn host<'a>(
        outcome: &'a HostOutcome<PlanReport>,
        info: &'a RunInfo,
        _: usize,
    ) -> impl Serialize + 'a {
        let plan = &outcome.payload.plan;
        host_json(
            outcome,
            PlanHostJson {
                description: &outcome.payload.description,
                facts: outcome.payload.facts.as_ref(),
                predicted_bytes: plan.bytes(),
                exact: plan.exact(),
                kinds: plan_kinds_json(plan, info.detail.kept),
            },
        )
    }

    fn add_to_totals(totals: &mut PlanTotals, outcome: &HostOutcome<PlanReport>) {
        if outcome.succeeded() {
            let plan = &outcome.payload.plan;
            totals.objects = totals.objects.saturating_add(plan.doomed_count());
            totals.predicted_bytes = totals.predicted_bytes.saturating_add(plan.bytes());
            totals.exact &= plan.exact();
        }
    }
}

#[derive(Serialize)]
struct DfHostJson<'a> {
    disk_usage: Option<&'a DiskUsage>,
}

#[derive(Serialize, Default)]
pub struct DfTotals {
    disk_usage: DiskUsage,
}

impl JsonShape for DiskUsage {
    type Totals = DfTotals;

    fn host<'a>(
        outcome: &'a HostOutcome<DiskUsage>,
        _: &'a RunInfo,
        _: usize,
    ) -> impl Serialize + 'a {
        let usage = outcome.succeeded().then_some(&outcome.payload);
        host_json(outcome, DfHostJson { disk_usage: usage })
    }

    fn add_to_totals(totals: &mut DfTotals, outcome: &HostOutcome<DiskUsage>) {
        if outcome.succeeded() {
            totals.disk_usage.add(&outcome.payload);
        }
    }
}

#[derive(Serialize, Default)]
pub struct Empty {}

impl JsonShape for () {
    type Totals = Empty;

    fn host<'a>(outcome: &'a HostOutcome<()>, _: &'a RunInfo, _: usize) -> impl Serialize + 'a {
        host_json(outcome, Empty {})
    }

    fn add_to_totals(_: &mut Empty, _: &HostOutcome<()>) {}
}

#[derive(Serialize)]
struct PlanJson {
    kinds: Vec<PruneKind>,
    all: AllScope,
    filters: Vec<String>,
    description: String,
}

#[derive(Serialize)]
struct InventoryHostJson<'a> {
    #[serde(flatten)]
    host: &'a Host,
    plan: Option<PlanJson>,
}

#[derive(Serialize)]
struct InventoryTotals {
    hosts: usize,
}

fn plan_json(plan: &PrunePlan) -> PlanJson {
    PlanJson {
        kinds: plan.kinds().collect(),
        all: plan.all(),
        filters: plan.filters().iter().map(ToString::to_string).collect(),
        description: plan.describe(),
    }
}

fn inventory_host(host: &Host) -> InventoryHostJson<'_> {
    InventoryHostJson {
        host,
        plan: host.plan.as_deref().map(plan_json),
    }
}

/// `fleetprune inventory --output json` (like `ansible-inventory --list`, resolved).
pub fn write_inventory(out: &mut dyn Write, hosts: &[Host], info: &RunInfo) -> io::Result<()> {
    let entries: Vec<InventoryHostJson> = hosts.iter().map(inventory_host).collect();
    let totals = InventoryTotals { hosts: hosts.len() };
    write_document(out, "inventory", info, entries, totals, None)
}

/// `fleetprune inventory --output ndjson`: one `host` line per host, then a `summary`.
pub fn write_inventory_ndjson(
    out: &mut dyn Write,
    hosts: &[Host],
    info: &RunInfo,
) -> io::Result<()> {
    for host in hosts {
        let event = HostEvent {
            event: "host",
            command: "inventory",
            host: inventory_host(host),
        };
        serde_json::to_writer(&mut *out, &event)?;
        writeln!(out)?;
    }
    #[derive(Serialize)]
    struct InventorySummary<'a> {
        event: &'static str,
        schema_version: u32,
        command: &'static str,
        #[serde(flatten)]
        run: RunJson<'a>,
        totals: InventoryTotals,
    }
    let summary = InventorySummary {
        event: "summary",
        schema_version: SCHEMA_VERSION,
        command: "inventory",
        run: RunJson::new(info),
        totals: InventoryTotals { hosts: hosts.len() },
    };
    serde_json::to_writer(&mut *out, &summary)?;
    writeln!(out)
}

/// A host of `fleetprune report`: its reports summed.
#[derive(Serialize)]
struct SummaryHostJson<'a> {
    name: &'a str,
    runs: usize,
    failed: usize,
    kinds: BTreeMap<PruneKind, KindTotalJson>,
    reclaimed_bytes: u64,
    last_error: Option<&'a SavedFailure>,
}

#[derive(Serialize)]
struct SummaryTotals {
    hosts: usize,
    runs: usize,
    failed: usize,
    kinds: BTreeMap<PruneKind, KindTotalJson>,
    reclaimed_bytes: u64,
}

#[derive(Serialize)]
struct SummaryDocument<'a, H: Serialize> {
    schema_version: u32,
    command: &'static str,
    fleetprune_version: &'static str,
    /// How many reports were read, of which commands, and when the first and last finished.
    reports: usize,
    commands: Vec<&'a str>,
    first_finished_at: Option<String>,
    last_finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts: Option<Vec<H>>,
    totals: SummaryTotals,
}

fn summary_hosts(summary: &Summary) -> Vec<SummaryHostJson<'_>> {
    summary
        .hosts
        .iter()
        .map(|(name, sum)| SummaryHostJson {
            name,
            runs: sum.runs,
            failed: sum.failed,
            kinds: kind_totals(&sum.kinds),
            reclaimed_bytes: sum.reclaimed_bytes(),
            last_error: sum.last_failure.as_ref(),
        })
        .collect()
}

fn kind_totals(kinds: &BTreeMap<PruneKind, (usize, u64)>) -> BTreeMap<PruneKind, KindTotalJson> {
    kinds
        .iter()
        .map(|(kind, (deleted, bytes))| {
            let total = KindTotalJson {
                deleted: *deleted,
                reclaimed_bytes: *bytes,
            };
            (*kind, total)
        })
        .collect()
}

fn summary_document<H: Serialize>(
    summary: &Summary,
    hosts: Option<Vec<H>>,
) -> SummaryDocument<'_, H> {
    let mut kinds: BTreeMap<PruneKind, (usize, u64)> = BTreeMap::new();
    for (kind, (deleted, bytes)) in summary.hosts.values().flat_map(|h| &h.kinds) {
        let total = kinds.entry(*kind).or_default();
        total.0 = total.0.saturating_add(*deleted);
        total.1 = total.1.saturating_add(*bytes);
    }
    SummaryDocument {
        schema_version: SCHEMA_VERSION,
        command: "report",
        fleetprune_version: VERSION,
        reports: summary.reports,
        commands: summary.commands.iter().map(String::as_str).collect(),
        first_finished_at: summary.first.map(|t| t.to_string()),
        last_finished_at: summary.last.map(|t| t.to_string()),
        hosts,
        totals: SummaryTotals {
            hosts: summary.hosts.len(),
            runs: summary.hosts.values().map(|h| h.runs).sum(),
            failed: summary.hosts.values().map(|h| h.failed).sum(),
            reclaimed_bytes: kinds
                .values()
                .fold(0u64, |sum, (_, bytes)| sum.saturating_add(*bytes)),
            kinds: kind_totals(&kinds),
        },
    }
}

/// `fleetprune report --output json`: the saved reports summed per host, one document.
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &summary_document(summary, Some(summary_hosts(summary))),
    )?;
    writeln!(out)
}

/// `fleetprune report --output ndjson`: a `host` line per host, then the `summary` line.
pub fn write_summary_ndjson(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    for host in summary_hosts(summary) {
        let event = HostEvent {
            event: "host",
            command: "report",
            host,
        };
        serde_json::to_writer(&mut *out, &event)?;
        writeln!(out)?;
    }
    #[derive(Serialize)]
    struct Event<'a> {
        event: &'static str,
        #[serde(flatten)]
        document: SummaryDocument<'a, ()>,
    }
    let event = Event {
        event: "summary",
        document: summary_document(summary, None),
    };
    serde_json::to_writer(&mut *out, &event)?;
    writeln!(out)
}
