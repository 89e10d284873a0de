//! Machine output: one JSON document per run with a `schema_version`, per-host results in
//! inventory order and totals. The schema is documented in README.md; additive changes keep the
//! version, anything else bumps it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::api_version::ApiVersion;
use crate::df::DiskUsage;
use crate::host::Host;
use crate::outcome::{ErrorClass, FleetRun, HostFailure, HostOutcome, SafetyReport};
use crate::plan::{AllScope, PruneKind, VolumeScope};
use crate::prune::PruneReport;
use crate::transport::ssh::HostKeyCheck;
use crate::transport::tunnel::TransportKind;

/// Bumped on any change that is not purely additive.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a, H: Serialize, T: Serialize> {
    schema_version: u32,
    command: &'a str,
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
    hosts: Vec<H>,
    totals: T,
    safety: Option<&SafetyReport>,
) -> io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        command,
        hosts,
        totals,
        safety,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
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
}

#[derive(Serialize)]
struct PruneHostJson<'a> {
    volume_scope: Option<VolumeScope>,
    kinds: BTreeMap<PruneKind, KindJson<'a>>,
    reclaimed_bytes: u64,
    /// Kinds whose answer came.
    completed: Vec<PruneKind>,
    /// Kinds whose request was sent and whose answer never came: they may have deleted.
    in_flight: Vec<PruneKind>,
    /// Kinds of the plan never sent.
    not_started: Vec<PruneKind>,
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

/// `fleetprune prune --output json`.
pub fn write_prune(out: &mut dyn Write, run: &FleetRun<PruneReport>) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    let mut kind_totals: BTreeMap<PruneKind, KindTotalJson> = BTreeMap::new();
    let hosts = outcomes
        .iter()
        .map(|outcome| {
            let kinds = outcome
                .payload
                .kinds
                .iter()
                .map(|report| {
                    let total = kind_totals.entry(report.kind).or_default();
                    total.deleted = total.deleted.saturating_add(report.deleted.len());
                    total.reclaimed_bytes =
                        total.reclaimed_bytes.saturating_add(report.reclaimed_bytes);
                    let untagged =
                        (report.kind == PruneKind::Images).then_some(report.untagged.as_slice());
                    let json = KindJson {
                        untagged,
                        deleted: &report.deleted,
                        reclaimed_bytes: report.reclaimed_bytes,
                        reclaimed_reported: report.odd_reclaimed.as_deref(),
                    };
                    (report.kind, json)
                })
                .collect();
            host_json(
                outcome,
                PruneHostJson {
                    volume_scope: outcome.payload.volume_scope,
                    kinds,
                    reclaimed_bytes: outcome.payload.reclaimed_bytes(),
                    completed: outcome.payload.kinds.iter().map(|k| k.kind).collect(),
                    in_flight: outcome.payload.in_flight.into_iter().collect(),
                    not_started: outcome.payload.not_started(),
                },
            )
        })
        .collect();
    let totals = PruneTotals {
        counts: counts(outcomes),
        reclaimed_bytes: outcomes.iter().fold(0u64, |sum, o| {
            sum.saturating_add(o.payload.reclaimed_bytes())
        }),
        kinds: kind_totals,
    };
    write_document(out, "prune", hosts, totals, Some(&run.safety))
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

/// `fleetprune df --output json`.
pub fn write_df(out: &mut dyn Write, run: &FleetRun<DiskUsage>) -> io::Result<()> {
    let outcomes = run.outcomes.as_slice();
    let mut total = DiskUsage::default();
    let hosts = outcomes
        .iter()
        .map(|outcome| {
            let usage = outcome.succeeded().then_some(&outcome.payload);
            if let Some(usage) = usage {
                total.add(usage);
            }
            host_json(outcome, DfHostJson { disk_usage: usage })
        })
        .collect();
    let totals = DfTotals {
        counts: counts(outcomes),
        disk_usage: total,
    };
    write_document(out, "df", hosts, totals, Some(&run.safety))
}

#[derive(Serialize)]
struct Empty {}

/// `fleetprune ping --output json`.
pub fn write_ping(out: &mut dyn Write, run: &FleetRun<()>) -> io::Result<()> {
    let hosts = run
        .outcomes
        .iter()
        .map(|o| host_json(o, Empty {}))
        .collect();
    write_document(out, "ping", hosts, counts(&run.outcomes), Some(&run.safety))
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

/// `fleetprune inventory --output json` (like `ansible-inventory --list`, resolved).
pub fn write_inventory(out: &mut dyn Write, hosts: &[Host]) -> io::Result<()> {
    let entries: Vec<InventoryHostJson> = hosts
        .iter()
        .map(|host| InventoryHostJson {
            host,
            plan: host.plan.as_ref().map(|plan| PlanJson {
                kinds: plan.kinds().collect(),
                all: plan.all(),
                filters: plan.filters().iter().map(ToString::to_string).collect(),
                description: plan.describe(),
            }),
        })
        .collect();
    let totals = InventoryTotals { hosts: hosts.len() };
    write_document(out, "inventory", entries, totals, None)
}
