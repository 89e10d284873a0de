//! Machine output: one JSON document per run with a `schema_version`, per-host results in
//! inventory order and totals; and the same shapes as NDJSON events (one `host` event per host as
//! it finishes, then one `summary`). This module is the one home of every JSON shape fleetprune
//! writes (saved reports are read back by [`super::saved`]). The schema is documented in
//! docs/json.md; additive changes keep the version, anything else bumps it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::api_version::ApiVersion;
use crate::df::DiskUsage;
use crate::engine_kind::EngineKind;
use crate::host::Host;
use crate::outcome::{ErrorClass, FleetRun, HostFailure, HostOutcome, SafetyReport};
use crate::plan::{AllScope, PruneKind, PrunePlan, VolumeScope};
use crate::prune::PruneReport;
use crate::transport::ssh::HostKeyCheck;
use crate::transport::tunnel::TransportKind;

use super::run_info::{RunInfo, VERSION};

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
    hosts: Vec<H>,
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
        status: if outcome.succeeded() { "ok" } else { "failed" },
        transport: outcome.connection.as_ref().map(|c| c.transport),
        engine: outcome.connection.as_ref().map(|c| c.engine),
        engine_version: outcome
            .connection
            .as_ref()
            .map(|c| c.engine_version.as_str()),
        api_version: outcome.connection.as_ref().map(|c| c.api_version),
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

pub(crate) fn counts<T>(outcomes: &[HostOutcome<T>]) -> Counts {
    let succeeded = outcomes.iter().filter(|o| o.succeeded()).count();
    let with_class = |class: ErrorClass| {
        outcomes
            .iter()
            .filter(|o| o.failure.as_ref().is_some_and(|f| f.class == class))
            .count()
    };
    Counts {
        hosts: outcomes.len(),
        succeeded,
        failed: outcomes.len() - succeeded,
        cancelled: with_class(ErrorClass::Cancelled),
        outcome_unknown: with_class(ErrorClass::OutcomeUnknown),
    }
}

pub(crate) fn write_document<H: Serialize, T: Serialize>(
    out: &mut dyn Write,
    command: &str,
    info: &RunInfo,
    hosts: Vec<H>,
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

/// A command's JSON shapes: one host entry and the totals.
pub trait JsonShape: Sized {
    /// The `command` field.
    const COMMAND: &'static str;
    /// The host's entry; `plan` is its effective prune plan, when the command has one.
    fn host<'a>(outcome: &'a HostOutcome<Self>, plan: Option<&'a PrunePlan>)
    -> impl Serialize + 'a;
    fn totals(outcomes: &[HostOutcome<Self>]) -> impl Serialize;
}

/// `--output json` (and `--report`): the whole run as one document.
pub fn write<T: JsonShape>(
    out: &mut dyn Write,
    run: &FleetRun<T>,
    info: &RunInfo,
) -> io::Result<()> {
    let hosts: Vec<_> = run
        .outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| T::host(outcome, info.plan(index)))
        .collect();
    write_document(
        out,
        T::COMMAND,
        info,
        hosts,
        T::totals(&run.outcomes),
        Some(&run.safety),
    )
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
    plan: Option<&PrunePlan>,
) -> io::Result<()> {
    let event = HostEvent {
        event: "host",
        command: T::COMMAND,
        host: T::host(outcome, plan),
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
pub fn write_summary_event<T: JsonShape>(
    out: &mut dyn Write,
    run: &FleetRun<T>,
    info: &RunInfo,
) -> io::Result<()> {
    let event = SummaryEvent {
        event: "summary",
        schema_version: SCHEMA_VERSION,
        command: T::COMMAND,
        run: RunJson::new(info),
        totals: T::totals(&run.outcomes),
        safety: &run.safety,
    };
    serde_json::to_writer(&mut *out, &event)?;
    writeln!(out)
}

#[derive(Serialize)]
struct KindJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    untagged: Option<&'a [String]>,
    deleted: &'a [String],
    reclaimed_bytes: u64,
    /// The daemon's SpaceReclaimed when it is not a byte count (negative, beyond 2^64).
    #[serde(skip_serializing_if = "Option::is_none")]
    reclaimed_reported: Option<&'a str>,
    /// How `deleted` was learnt when the daemon's answer did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct PruneHostJson<'a> {
    /// The host's effective plan: kinds, `-a` scope and filters after inventory and flags.
    plan: Option<PlanJson>,
    volume_scope: Option<VolumeScope>,
    kinds: BTreeMap<PruneKind, KindJson<'a>>,
    reclaimed_bytes: u64,
    /// Kinds whose answer came.
    completed: Vec<PruneKind>,
    /// Kinds whose request was sent and whose answer never came: they may have deleted.
    in_flight: Vec<PruneKind>,
    /// Kinds of the plan never sent.
    not_started: Vec<PruneKind>,
    /// Kinds the engine has no endpoint for (Podman's build cache).
    #[serde(skip_serializing_if = "<[PruneKind]>::is_empty")]
    unsupported: &'a [PruneKind],
}

#[derive(Serialize, Default)]
struct KindTotalJson {
    deleted: usize,
    reclaimed_bytes: u64,
}

#[derive(Serialize)]
struct PruneTotals {
    #[serde(flatten)]
    counts: Counts,
    reclaimed_bytes: u64,
    kinds: BTreeMap<PruneKind, KindTotalJson>,
}

impl JsonShape for PruneReport {
    const COMMAND: &'static str = "prune";

    fn host<'a>(
        outcome: &'a HostOutcome<PruneReport>,
        plan: Option<&'a PrunePlan>,
    ) -> impl Serialize + 'a {
        let kinds = outcome
            .payload
            .kinds
            .iter()
            .map(|report| {
                let untagged =
                    (report.kind == PruneKind::Images).then_some(report.untagged.as_slice());
                let json = KindJson {
                    untagged,
                    deleted: &report.deleted,
                    reclaimed_bytes: report.reclaimed_bytes,
                    reclaimed_reported: report.odd_reclaimed.as_deref(),
                    note: report.note.as_deref(),
                };
                (report.kind, json)
            })
            .collect();
        host_json(
            outcome,
            PruneHostJson {
                plan: plan.map(plan_json),
                volume_scope: outcome.payload.volume_scope,
                kinds,
                reclaimed_bytes: outcome.payload.reclaimed_bytes(),
                completed: outcome.payload.kinds.iter().map(|k| k.kind).collect(),
                in_flight: outcome.payload.in_flight.into_iter().collect(),
                not_started: outcome.payload.not_started(),
                unsupported: &outcome.payload.unsupported,
            },
        )
    }

    fn totals(outcomes: &[HostOutcome<PruneReport>]) -> impl Serialize {
        let mut kinds: BTreeMap<PruneKind, KindTotalJson> = BTreeMap::new();
        for report in outcomes.iter().flat_map(|o| &o.payload.kinds) {
            let total = kinds.entry(report.kind).or_default();
            total.deleted = total.deleted.saturating_add(report.deleted.len());
            total.reclaimed_bytes = total.reclaimed_bytes.saturating_add(report.reclaimed_bytes);
        }
        PruneTotals {
            counts: counts(outcomes),
            reclaimed_bytes: outcomes.iter().fold(0u64, |sum, o| {
                sum.saturating_add(o.payload.reclaimed_bytes())
            }),
            kinds,
        }
    }
}

#[derive(Serialize)]
struct DfHostJson<'a> {
    disk_usage: Option<&'a DiskUsage>,
}

#[derive(Serialize)]
struct DfTotals {
    #[serde(flatten)]
    counts: Counts,
    disk_usage: DiskUsage,
}

impl JsonShape for DiskUsage {
    const COMMAND: &'static str = "df";

    fn host<'a>(
        outcome: &'a HostOutcome<DiskUsage>,
        _: Option<&'a PrunePlan>,
    ) -> impl Serialize + 'a {
        let usage = outcome.succeeded().then_some(&outcome.payload);
        host_json(outcome, DfHostJson { disk_usage: usage })
    }

    fn totals(outcomes: &[HostOutcome<DiskUsage>]) -> impl Serialize {
        let mut total = DiskUsage::default();
        for outcome in outcomes.iter().filter(|o| o.succeeded()) {
            total.add(&outcome.payload);
        }
        DfTotals {
            counts: counts(outcomes),
            disk_usage: total,
        }
    }
}

#[derive(Serialize)]
struct Empty {}

impl JsonShape for () {
    const COMMAND: &'static str = "ping";

    fn host<'a>(outcome: &'a HostOutcome<()>, _: Option<&'a PrunePlan>) -> impl Serialize + 'a {
        host_json(outcome, Empty {})
    }

    fn totals(outcomes: &[HostOutcome<()>]) -> impl Serialize {
        counts(outcomes)
    }
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
        plan: host.plan.as_ref().map(plan_json),
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
