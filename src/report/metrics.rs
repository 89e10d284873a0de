//! `--metrics-file`: the run in Prometheus text exposition format (version 0.0.4), for
//! node_exporter's textfile collector. Every sample is a gauge about the last run of a command:
//! per host and kind objects deleted and bytes reclaimed (prune, apply, rmi), objects and bytes a plan
//! would reclaim (plan), or size and reclaimable bytes
//! (df), per host success, hosts by status, failures by stage and class, run duration, and the
//! last run and last fully successful run timestamps (the latter carried over from the previous
//! file when this run had failures).

use std::collections::BTreeMap;
use std::io;

use crate::outcome::disk_usage::{DiskUsage, UsageLine};
use crate::outcome::prediction::PlanReport;
use crate::outcome::reclaim::PruneReport;
use crate::outcome::{HostOutcome, Tally};

use super::run_info::RunInfo;

/// One metric family: help text and its samples as text lines, each with the index of the host
/// it is about (0 for the run's own samples), so a family lists hosts in inventory order
/// whatever order they finished in.
struct Family {
    help: &'static str,
    samples: Vec<(usize, String)>,
}

/// The families of one exposition, by name, filled host by host.
#[derive(Default)]
pub struct Families {
    families: BTreeMap<&'static str, Family>,
    /// The index of the host whose samples are being added.
    host: usize,
}

impl Families {
    /// Adds a sample to `name` (created with `help` on first use).
    pub fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: Vec<(&'static str, String)>,
        value: impl ToString,
    ) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
            .collect();
        let line = format!("{name}{{{}}} {}", labels.join(","), value.to_string());
        self.families
            .entry(name)
            .or_insert_with(|| Family {
                help,
                samples: Vec::new(),
            })
            .samples
            .push((self.host, line));
    }

    fn write(mut self, out: &mut dyn io::Write) -> io::Result<()> {
        for (name, family) in &mut self.families {
            family.samples.sort_by_key(|(host, _)| *host);
            writeln!(out, "# HELP {name} {}", family.help)?;
            writeln!(out, "# TYPE {name} gauge")?;
            for (_, line) in &family.samples {
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }
}

/// A label value escaped as the text format requires: `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A command's per-host samples.
pub trait MetricsShape: Sized {
    fn host_samples(outcome: &HostOutcome<Self>, command: &str, families: &mut Families);
}

fn host_kind(outcome_name: &str, command: &str, kind: &str) -> Vec<(&'static str, String)> {
    vec![
        ("command", command.to_string()),
        ("host", outcome_name.to_string()),
        ("kind", kind.to_string()),
    ]
}

impl MetricsShape for PruneReport {
    fn host_samples(outcome: &HostOutcome<Self>, command: &str, families: &mut Families) {
        for report in &outcome.payload.kinds {
            let kind = report.kind.to_string().replace(' ', "_");
            families.add(
                "fleetprune_deleted_objects",
                "Objects the daemon reported deleted in the last run, per host and kind.",
                host_kind(&outcome.name, command, &kind),
                report.deleted.len(),
            );
            families.add(
                "fleetprune_reclaimed_bytes",
                "Bytes the daemon reported reclaimed in the last run, per host and kind.",
                host_kind(&outcome.name, command, &kind),
                report.reclaimed_bytes,
            );
        }
    }
}

impl MetricsShape for DiskUsage {
    fn host_samples(outcome: &HostOutcome<Self>, command: &str, families: &mut Families) {
        if !outcome.succeeded() {
            return;
        }
        let usage = &outcome.payload;
        let lines: [(&str, &UsageLine); 4] = [
            ("images", &usage.images),
            ("containers", &usage.containers),
            ("volumes", &usage.volumes),
            ("build_cache", &usage.build_cache),
        ];
        for (kind, line) in lines {
            families.add(
                "fleetprune_disk_usage_bytes",
                "Disk used per host and kind, as docker system df computes it.",
                host_kind(&outcome.name, command, kind),
                line.size_bytes,
            );
            families.add(
                "fleetprune_reclaimable_bytes",
                "Disk reclaimable per host and kind, as docker system df computes it.",
                host_kind(&outcome.name, command, kind),
                line.reclaimable_bytes,
            );
        }
    }
}

impl MetricsShape for PlanReport {
    fn host_samples(outcome: &HostOutcome<Self>, command: &str, families: &mut Families) {
        if !outcome.succeeded() {
            return;
        }
        for plan in &outcome.payload.plan.kinds {
            let kind = plan.kind.to_string().replace(' ', "_");
            families.add(
                "fleetprune_planned_objects",
                "Objects the last plan would delete, per host and kind.",
                host_kind(&outcome.name, command, &kind),
                plan.doomed.len(),
            );
            families.add(
                "fleetprune_predicted_bytes",
                "Bytes the last plan would reclaim, per host and kind (an estimate where the engine does not say).",
                host_kind(&outcome.name, command, &kind),
                plan.bytes,
            );
        }
    }
}

impl MetricsShape for () {
    fn host_samples(_: &HostOutcome<Self>, _: &str, _: &mut Families) {}
}

const LAST_SUCCESS: &str = "fleetprune_last_success_timestamp_seconds";

/// `--metrics-file`, built host by host: each host's samples are added as it finishes; the
/// run's own samples and the exposition are made at the end.
#[derive(Default)]
pub(crate) struct MetricsDraft {
    families: Families,
    /// Failed hosts by stage and class.
    failures: BTreeMap<(String, &'static str), usize>,
}

impl MetricsDraft {
    pub(crate) fn add<T: MetricsShape>(
        &mut self,
        outcome: &HostOutcome<T>,
        command: &str,
        index: usize,
    ) {
        self.families.host = index;
        let mut labels = vec![("command", command.to_string())];
        labels.push(("host", outcome.name.clone()));
        self.families.add(
            "fleetprune_host_success",
            "1 when the host succeeded in the last run, else 0.",
            labels,
            u8::from(outcome.succeeded()),
        );
        if let Some(failure) = &outcome.failure {
            let stage = serde_json::to_value(failure.stage)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            *self
                .failures
                .entry((stage, failure.class.as_str()))
                .or_default() += 1;
        }
        T::host_samples(outcome, command, &mut self.families);
    }

    /// Writes the run as a textfile exposition. `previous` is the file this one replaces: its
    /// last success timestamp for the same command is kept when this run had a failure.
    pub(crate) fn write(
        mut self,
        out: &mut dyn io::Write,
        info: &RunInfo,
        tally: &Tally,
        previous: Option<&mut dyn io::BufRead>,
    ) -> io::Result<()> {
        let command = || vec![("command", info.command.to_string())];
        let families = &mut self.families;
        families.host = 0;
        let finished = info.finished_at.as_millisecond() as f64 / 1000.0;
        families.add(
            "fleetprune_last_run_timestamp_seconds",
            "When the last run finished (Unix time).",
            command(),
            finished,
        );
        let last_success = if tally.succeeded == tally.hosts {
            Some(finished.to_string())
        } else {
            previous.and_then(|file| previous_sample(file, LAST_SUCCESS, info.command))
        };
        if let Some(value) = last_success {
            families.add(
                LAST_SUCCESS,
                "When the last run in which every host succeeded finished (Unix time).",
                command(),
                value,
            );
        }
        families.add(
            "fleetprune_run_duration_seconds",
            "How long the last run took.",
            command(),
            info.duration_seconds(),
        );
        // A host its busy guard skipped is neither done nor failed: `skipped`, as the table says.
        let failed = tally.hosts - tally.succeeded - tally.busy;
        for (status, count) in [
            ("ok", tally.succeeded),
            ("skipped", tally.busy),
            ("failed", failed),
        ] {
            let mut labels = command();
            labels.push(("status", status.to_string()));
            families.add(
                "fleetprune_hosts",
                "Hosts in the last run, by status.",
                labels,
                count,
            );
        }
        for ((stage, class), count) in std::mem::take(&mut self.failures) {
            let mut labels = command();
            labels.push(("stage", stage));
            labels.push(("class", class.to_string()));
            self.families.add(
                "fleetprune_failures",
                "Hosts that failed in the last run, by stage and class.",
                labels,
                count,
            );
        }
        self.families.write(out)
    }
}

/// The value of `name{command="..."}` in a previous exposition.
fn previous_sample(file: &mut dyn io::BufRead, name: &str, command: &str) -> Option<String> {
    let prefix = format!("{name}{{command=\"{}\"}} ", escape(command));
    io::BufRead::lines(file)
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix(&prefix)
                .map(|value| value.trim().to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn previous_last_success_is_found_per_command() {
        let text = "fleetprune_last_success_timestamp_seconds{command=\"df\"} 5\nfleetprune_last_success_timestamp_seconds{command=\"prune\"} 7.5\n";
        assert_eq!(
            previous_sample(&mut text.as_bytes(), LAST_SUCCESS, "prune").as_deref(),
            Some("7.5")
        );
        assert_eq!(
            previous_sample(&mut text.as_bytes(), LAST_SUCCESS, "ping"),
            None
        );
    }
}
