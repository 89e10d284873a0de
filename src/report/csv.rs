//! `--output csv`: one row per host and kind with exact byte counts, for spreadsheets and
//! `csvkit`; written with the `csv` crate, so quoting follows RFC 4180. Remote text is written
//! as it came (quoted), like JSON.

use std::io::{self, Write};

use crate::host::Host;
use crate::model::connection::HostKeyCheck;
use crate::model::failure::HostFailure;
use crate::outcome::HostOutcome;
use crate::outcome::disk_usage::{DiskUsage, UsageLine};
use crate::outcome::prediction::PlanReport;
use crate::outcome::reclaim::PruneReport;
use crate::plan::PruneKind;

use super::run_info::RunInfo;
use super::saved::Summary;
use super::spool::Spool;

fn writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::Writer::from_writer(out)
}

/// A command's CSV: its header, and the rows of one host.
pub trait CsvShape: Sized {
    const HEADER: &'static [&'static str];
    /// The rows of the host at `index` of the run.
    fn rows(
        csv: &mut csv::Writer<&mut dyn Write>,
        outcome: &HostOutcome<Self>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()>;
}

/// `--output csv`, built host by host: each host's rows are rendered as it finishes and
/// spooled; the header and every row, hosts in inventory order, are written at the end.
#[derive(Default)]
pub(crate) struct CsvDraft {
    rows: Spool,
}

impl CsvDraft {
    pub(crate) fn add<T: CsvShape>(
        &mut self,
        outcome: &HostOutcome<T>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let mut rows = Vec::new();
        {
            let mut csv = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(&mut rows as &mut dyn Write);
            T::rows(&mut csv, outcome, info, index)?;
            csv.flush()?;
        }
        self.rows.put(index, &rows)
    }

    pub(crate) fn write<T: CsvShape>(&mut self, out: &mut dyn Write) -> io::Result<()> {
        {
            let mut csv = writer(out);
            csv.write_record(T::HEADER).map_err(into_io)?;
            csv.flush()?;
        }
        self.rows.copy_to(out)
    }
}

fn into_io(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn status<T>(outcome: &HostOutcome<T>) -> &'static str {
    if outcome.succeeded() {
        "ok"
    } else if outcome.busy() {
        "skipped"
    } else {
        "failed"
    }
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

/// `prune`, `apply`, `rmi`: a row per host and planned kind (`kind_status` completed,
/// in_flight, unfinished or not_started; a host that failed before its job started lists its
/// effective plan's kinds as not_started); a host without a plan has one row with no kind. With
/// deletes by ID, `planned` and `skipped` count the kind's planned and left-alone objects.
impl CsvShape for PruneReport {
    const HEADER: &'static [&'static str] = &[
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
        "planned",
        "skipped",
    ];

    fn rows(
        csv: &mut csv::Writer<&mut dyn Write>,
        outcome: &HostOutcome<Self>,
        info: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let report = &outcome.payload;
        let planned: Vec<PruneKind> = if report.planned.is_empty() {
            info.plan(index)
                .map(|p| p.kinds().collect())
                .unwrap_or_default()
        } else {
            report.planned.clone()
        };
        let mut rows: Vec<[String; 6]> = Vec::new();
        for kind in &planned {
            let started = report.kind(*kind);
            let kind_status = if report.in_flight == Some(*kind) {
                "in_flight"
            } else if report.unsupported.contains(kind) {
                "unsupported"
            } else {
                match started {
                    Some(k) if k.completed() => "completed",
                    Some(_) => "unfinished",
                    None => "not_started",
                }
            };
            let (planned, skipped) = match started.and_then(|k| k.selection.as_ref()) {
                Some(s) => (s.planned.to_string(), s.skipped.len().to_string()),
                None => Default::default(),
            };
            let (deleted, bytes) = match started {
                // A daemon prune in flight: what it deleted is unknown.
                None if kind_status == "in_flight" => Default::default(),
                None => ("0".into(), "0".into()),
                Some(k) => (k.deleted.len().to_string(), k.reclaimed_bytes.to_string()),
            };
            rows.push([
                kind.to_string(),
                kind_status.into(),
                deleted,
                bytes,
                planned,
                skipped,
            ]);
        }
        if rows.is_empty() {
            rows.push(Default::default());
        }
        let [stage, class, message] = error_cells(outcome.failure.as_ref());
        for [kind, kind_status, deleted, bytes, planned, skipped] in rows {
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
                &planned,
                &skipped,
            ])
            .map_err(into_io)?;
        }
        Ok(())
    }
}

/// `plan`: a row per host and planned kind with the objects it would lose and the predicted
/// bytes (`exact` false for an estimate); a host that failed has one row with no kind.
impl CsvShape for PlanReport {
    const HEADER: &'static [&'static str] = &[
        "host",
        "address",
        "status",
        "kind",
        "objects",
        "predicted_bytes",
        "exact",
        "duration_ms",
        "error_stage",
        "error_class",
        "error_message",
    ];

    fn rows(
        csv: &mut csv::Writer<&mut dyn Write>,
        outcome: &HostOutcome<Self>,
        _: &RunInfo,
        _: usize,
    ) -> io::Result<()> {
        let mut rows: Vec<[String; 4]> = outcome
            .payload
            .plan
            .kinds
            .iter()
            .map(|k| {
                [
                    k.kind.to_string(),
                    k.doomed.len().to_string(),
                    k.bytes.to_string(),
                    k.exact.to_string(),
                ]
            })
            .collect();
        if rows.is_empty() {
            rows.push(Default::default());
        }
        let [stage, class, message] = error_cells(outcome.failure.as_ref());
        for [kind, objects, bytes, exact] in rows {
            csv.write_record([
                outcome.name.as_str(),
                &outcome.address,
                status(outcome),
                &kind,
                &objects,
                &bytes,
                &exact,
                &outcome.duration.as_millis().to_string(),
                &stage,
                &class,
                &message,
            ])
            .map_err(into_io)?;
        }
        Ok(())
    }
}

/// `df`: a row per host and kind (`images`, `containers`, `volumes`, `build_cache`); a failed
/// host has one row with no kind.
impl CsvShape for DiskUsage {
    const HEADER: &'static [&'static str] = &[
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
    ];

    fn rows(
        csv: &mut csv::Writer<&mut dyn Write>,
        outcome: &HostOutcome<Self>,
        _: &RunInfo,
        _: usize,
    ) -> io::Result<()> {
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
        Ok(())
    }
}

/// `ping`: a row per host.
impl CsvShape for () {
    const HEADER: &'static [&'static str] = &[
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
    ];

    fn rows(
        csv: &mut csv::Writer<&mut dyn Write>,
        outcome: &HostOutcome<Self>,
        _: &RunInfo,
        _: usize,
    ) -> io::Result<()> {
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
        .map_err(into_io)
    }
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

/// `fleetprune report --output csv`: a row per host and kind summed over the reports (a host
/// that deleted nothing has one row with no kind).
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let mut csv = writer(out);
    csv.write_record([
        "host",
        "runs",
        "failed",
        "kind",
        "deleted",
        "reclaimed_bytes",
        "last_error_class",
        "last_error_message",
    ])
    .map_err(into_io)?;
    for (name, sum) in &summary.hosts {
        let mut rows: Vec<[String; 3]> = sum
            .kinds
            .iter()
            .map(|(kind, (deleted, bytes))| {
                [kind.to_string(), deleted.to_string(), bytes.to_string()]
            })
            .collect();
        if rows.is_empty() {
            rows.push(Default::default());
        }
        let (class, message) = sum
            .last_failure
            .as_ref()
            .map(|f| (f.class.as_str(), f.message.as_str()))
            .unwrap_or_default();
        for [kind, deleted, bytes] in rows {
            csv.write_record([
                name.as_str(),
                &sum.runs.to_string(),
                &sum.failed.to_string(),
                &kind,
                &deleted,
                &bytes,
                class,
                message,
            ])
            .map_err(into_io)?;
        }
    }
    csv.flush()
}
