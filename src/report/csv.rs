//! `--output csv`: one row per host and kind with exact byte counts, for spreadsheets and
//! `csvkit`; written with the `csv` crate, so quoting follows RFC 4180. Remote text is written
//! as it came (quoted), like JSON.

use std::io::{self, Write};

use crate::df::{DiskUsage, UsageLine};
use crate::host::Host;
use crate::outcome::{FleetRun, HostFailure, HostOutcome};
use crate::plan::PruneKind;
use crate::prune::PruneReport;
use crate::transport::ssh::HostKeyCheck;

use super::run_info::RunInfo;

fn writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::Writer::from_writer(out)
}

fn into_io(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn status<T>(outcome: &HostOutcome<T>) -> &'static str {
    if outcome.succeeded() { "ok" } else { "failed" }
}

/// `error_stage`, `error_class`, `error_message`: empty when the host succeeded.
fn error_cells(failure: Option<&HostFailure>) -> [String; 3] {
    match failure {
        Some(f) => [
            serde_plain(&f.stage),
            f.class.as_str().to_string(),
            f.message.clone(),
        ],
        None => Default::default(),
    }
}

/// A unit enum's JSON name (`host_key`), the same word JSON uses.
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

/// `prune`: a row per host and planned kind (`kind_status` completed, in_flight or
/// not_started; a host that failed before its job started lists its effective plan's kinds as
/// not_started); a host without a plan has one row with no kind.
pub fn write_prune(
    out: &mut dyn Write,
    run: &FleetRun<PruneReport>,
    info: &RunInfo,
) -> io::Result<()> {
    let mut csv = writer(out);
    let header = [
        "host",
        "address",
        "status",
        "kind",
        "kind_status",
        "deleted",
        "reclaimed_bytes",
        "duration_ms",
        "error_stage",
        "error_class",
        "error_message",
    ];
    csv.write_record(header).map_err(into_io)?;
    for (index, outcome) in run.outcomes.iter().enumerate() {
        let report = &outcome.payload;
        let planned: Vec<PruneKind> = if report.planned.is_empty() {
            info.plan(index)
                .map(|p| p.kinds().collect())
                .unwrap_or_default()
        } else {
            report.planned.clone()
        };
        let mut rows: Vec<[String; 4]> = Vec::new();
        for kind in &planned {
            let row = match report.kind(*kind) {
                Some(k) => [
                    kind.to_string(),
                    "completed".into(),
                    k.deleted.len().to_string(),
                    k.reclaimed_bytes.to_string(),
                ],
                None if report.in_flight == Some(*kind) => {
                    [kind.to_string(), "in_flight".into(), "".into(), "".into()]
                }
                None if report.unsupported.contains(kind) => [
                    kind.to_string(),
                    "unsupported".into(),
                    "0".into(),
                    "0".into(),
                ],
                None => [
                    kind.to_string(),
                    "not_started".into(),
                    "0".into(),
                    "0".into(),
                ],
            };
            rows.push(row);
        }
        if rows.is_empty() {
            rows.push(Default::default());
        }
        let [stage, class, message] = error_cells(outcome.failure.as_ref());
        for [kind, kind_status, deleted, bytes] in rows {
            csv.write_record([
                outcome.name.as_str(),
                &outcome.address,
                status(outcome),
                &kind,
                &kind_status,
                &deleted,
                &bytes,
                &outcome.duration.as_millis().to_string(),
                &stage,
                &class,
                &message,
            ])
            .map_err(into_io)?;
        }
    }
    csv.flush()
}

/// `df`: a row per host and kind (`images`, `containers`, `volumes`, `build_cache`); a failed
/// host has one row with no kind.
pub fn write_df(out: &mut dyn Write, run: &FleetRun<DiskUsage>) -> io::Result<()> {
    let mut csv = writer(out);
    csv.write_record([
        "host",
        "address",
        "status",
        "kind",
        "total",
        "active",
        "size_bytes",
        "reclaimable_bytes",
        "error_stage",
        "error_class",
        "error_message",
    ])
    .map_err(into_io)?;
    for outcome in &run.outcomes {
        let usage = &outcome.payload;
        let lines: Vec<(&str, Option<&UsageLine>)> = if outcome.succeeded() {
            vec![
                ("images", Some(&usage.images)),
                ("containers", Some(&usage.containers)),
                ("volumes", Some(&usage.volumes)),
                ("build_cache", Some(&usage.build_cache)),
            ]
        } else {
            vec![("", None)]
        };
        let [stage, class, message] = error_cells(outcome.failure.as_ref());
        for (kind, line) in lines {
            let numbers = line.map_or_else(
                || [""; 4].map(String::from),
                |l| [l.total, l.active, l.size_bytes, l.reclaimable_bytes].map(|n| n.to_string()),
            );
            let [total, active, size, reclaimable] = numbers;
            csv.write_record([
                outcome.name.as_str(),
                &outcome.address,
                status(outcome),
                kind,
                &total,
                &active,
                &size,
                &reclaimable,
                &stage,
                &class,
                &message,
            ])
            .map_err(into_io)?;
        }
    }
    csv.flush()
}

/// `ping`: a row per host.
pub fn write_ping(out: &mut dyn Write, run: &FleetRun<()>) -> io::Result<()> {
    let mut csv = writer(out);
    csv.write_record([
        "host",
        "address",
        "status",
        "host_key",
        "fingerprint",
        "transport",
        "engine_version",
        "api_version",
        "duration_ms",
        "attempts",
        "error_stage",
        "error_class",
        "error_message",
    ])
    .map_err(into_io)?;
    for outcome in &run.outcomes {
        let (key, fingerprint) = match &outcome.host_key {
            Some(HostKeyCheck::Verified { fingerprint }) => ("verified", fingerprint.as_str()),
            Some(HostKeyCheck::Added { fingerprint }) => ("added", fingerprint.as_str()),
            Some(HostKeyCheck::Unchecked { fingerprint }) => ("unchecked", fingerprint.as_str()),
            Some(HostKeyCheck::Certified { fingerprint, .. }) => {
                ("certified", fingerprint.as_str())
            }
            None => ("", ""),
        };
        let (transport, engine, api) = match &outcome.connection {
            Some(c) => (
                c.transport.to_string(),
                c.engine_version.clone(),
                c.api_version.to_string(),
            ),
            None => Default::default(),
        };
        let [stage, class, message] = error_cells(outcome.failure.as_ref());
        csv.write_record([
            outcome.name.as_str(),
            &outcome.address,
            status(outcome),
            key,
            fingerprint,
            &transport,
            &engine,
            &api,
            &outcome.duration.as_millis().to_string(),
            &outcome.attempts.to_string(),
            &stage,
            &class,
            &message,
        ])
        .map_err(into_io)?;
    }
    csv.flush()
}

/// `inventory`: a row per resolved host.
pub fn write_inventory(out: &mut dyn Write, hosts: &[Host]) -> io::Result<()> {
    let mut csv = writer(out);
    csv.write_record([
        "host",
        "address",
        "port",
        "user",
        "identity",
        "docker_socket",
        "groups",
        "refused",
        "plan",
    ])
    .map_err(into_io)?;
    for host in hosts {
        csv.write_record([
            host.name.as_str(),
            &host.address,
            &host.port.to_string(),
            &host.user,
            &host
                .identity
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            &host.docker_socket,
            &host.groups.join(","),
            &host
                .refused
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            &host.plan.as_ref().map(|p| p.describe()).unwrap_or_default(),
        ])
        .map_err(into_io)?;
    }
    csv.flush()
}
