//! `fleetprune report`: reports of the commands that reclaim (`prune` with or without a keep
//! policy, `apply`, `rmi`) saved with `--report` (or `--output json`) read back and summed per
//! host, in any output format: the shards of one run merged, or a week of nightly runs
//! (`--since 7d DIR`). Reads the shapes [`super::json`] writes; only the fields it sums.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use tabled::builder::Builder;

use super::sanitize;
use super::table::{Layout, prune_cell, write_table};
use crate::human_size::human_size;
use crate::plan::PruneKind;

/// A saved report, as far as merging needs it.
#[derive(Debug, Deserialize)]
struct SavedDocument {
    schema_version: u32,
    command: String,
    #[serde(default)]
    finished_at: Option<String>,
    hosts: Vec<SavedHost>,
}

#[derive(Debug, Deserialize)]
struct SavedHost {
    name: String,
    status: String,
    error: Option<SavedFailure>,
    #[serde(default)]
    kinds: BTreeMap<String, SavedKind>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub(crate) struct SavedFailure {
    pub(crate) stage: String,
    pub(crate) class: String,
    pub(crate) message: String,
}

#[derive(Debug, Deserialize)]
struct SavedKind {
    deleted: Vec<serde::de::IgnoredAny>,
    reclaimed_bytes: u64,
}

/// Why saved reports cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    #[error("{path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path}: not a fleetprune JSON report: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path}: a {command} report; only the reports of prune, apply and rmi are summed (schema_version {version})"
    )]
    NotPrune {
        path: String,
        command: String,
        version: u32,
    },
    #[error("{path}: no *.json report finished within --since {since}")]
    NoneSince { path: String, since: String },
    #[error(
        "--since {0:?}: expected a number and a unit: 90m, 36h, 7d, 2w; at most 36500d (100 years)"
    )]
    Since(String),
    #[error("{path}: finished_at {value:?} is not an RFC 3339 time")]
    FinishedAt { path: String, value: String },
}

/// The commands whose reports say what was deleted, in one shape.
const RECLAIMING_COMMANDS: [&str; 3] = ["prune", "apply", "rmi"];

/// One host summed over the reports read.
#[derive(Debug, Default)]
pub(crate) struct HostSum {
    pub(crate) runs: usize,
    pub(crate) failed: usize,
    /// Objects deleted and bytes reclaimed, per kind.
    pub(crate) kinds: BTreeMap<PruneKind, (usize, u64)>,
    pub(crate) last_failure: Option<SavedFailure>,
}

impl HostSum {
    pub(crate) fn reclaimed_bytes(&self) -> u64 {
        self.kinds
            .values()
            .fold(0u64, |sum, (_, bytes)| sum.saturating_add(*bytes))
    }
}

/// Reports summed per host.
#[derive(Debug, Default)]
pub struct Summary {
    pub(crate) reports: usize,
    /// The commands of the reports read (`prune`, `apply`, `rmi`).
    pub(crate) commands: std::collections::BTreeSet<String>,
    pub(crate) first: Option<Timestamp>,
    pub(crate) last: Option<Timestamp>,
    pub(crate) hosts: BTreeMap<String, HostSum>,
}

/// Saved reports larger than this are refused (a report of 10,000 hosts with -v lists is far
/// below it).
const REPORT_LIMIT: u64 = 1 << 30;

fn kind_named(name: &str) -> Option<PruneKind> {
    Some(match name {
        "containers" => PruneKind::Containers,
        "networks" => PruneKind::Networks,
        "volumes" => PruneKind::Volumes,
        "images" => PruneKind::Images,
        "build_cache" => PruneKind::BuildCache,
        _ => return None,
    })
}

fn read(path: &Path) -> Result<(SavedDocument, Option<Timestamp>), ReportFileError> {
    let shown = || path.display().to_string();
    let text = crate::input_file::read_to_string(path, REPORT_LIMIT).map_err(|source| {
        ReportFileError::Read {
            path: shown(),
            source,
        }
    })?;
    let document: SavedDocument =
        serde_json::from_str(&text).map_err(|source| ReportFileError::Parse {
            path: shown(),
            source,
        })?;
    if !RECLAIMING_COMMANDS.contains(&document.command.as_str()) {
        return Err(ReportFileError::NotPrune {
            path: shown(),
            command: document.command,
            version: document.schema_version,
        });
    }
    let finished = match &document.finished_at {
        Some(value) => {
            Some(
                value
                    .parse::<Timestamp>()
                    .map_err(|_| ReportFileError::FinishedAt {
                        path: shown(),
                        value: value.clone(),
                    })?,
            )
        }
        None => None,
    };
    Ok((document, finished))
}

impl Summary {
    /// Sums the reports in `files`; a directory contributes its `*.json` files finished within
    /// `since` (all of them without it).
    pub fn load(files: &[PathBuf], since: Option<&str>) -> Result<Summary, ReportFileError> {
        let cutoff = since
            .map(|text| parse_since(text).map(|age| Timestamp::now() - age))
            .transpose()?;
        let mut summary = Summary::default();
        for path in files {
            if path.is_dir() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|source| ReportFileError::Read {
                        path: path.display().to_string(),
                        source,
                    })?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect();
                entries.sort();
                let before = summary.reports;
                for entry in entries {
                    let (document, finished) = read(&entry)?;
                    if cutoff.is_some_and(|cutoff| finished.is_none_or(|f| f < cutoff)) {
                        continue;
                    }
                    summary.add(document, finished);
                }
                if summary.reports == before {
                    return Err(ReportFileError::NoneSince {
                        path: path.display().to_string(),
                        since: since.unwrap_or("(any time)").to_string(),
                    });
                }
            } else {
                let (document, finished) = read(path)?;
                summary.add(document, finished);
            }
        }
        Ok(summary)
    }

    fn add(&mut self, document: SavedDocument, finished: Option<Timestamp>) {
        self.reports += 1;
        self.commands.insert(document.command);
        if let Some(at) = finished {
            self.first = Some(self.first.map_or(at, |f| f.min(at)));
            self.last = Some(self.last.map_or(at, |l| l.max(at)));
        }
        for host in document.hosts {
            let sum = self.hosts.entry(host.name).or_default();
            sum.runs += 1;
            if host.status != "ok" {
                sum.failed += 1;
                sum.last_failure = host.error.or(sum.last_failure.take());
            }
            for (name, kind) in host.kinds {
                if let Some(kind_id) = kind_named(&name) {
                    let (objects, bytes) = sum.kinds.entry(kind_id).or_default();
                    *objects = objects.saturating_add(kind.deleted.len());
                    *bytes = bytes.saturating_add(kind.reclaimed_bytes);
                }
            }
        }
    }

    /// The summed table: a row per host (hosts with failures last), a TOTAL row, the last
    /// failure of each host that had one.
    pub fn write_table(&self, out: &mut dyn Write, layout: Layout) -> io::Result<()> {
        const KINDS: [PruneKind; 5] = [
            PruneKind::Containers,
            PruneKind::Images,
            PruneKind::Volumes,
            PruneKind::Networks,
            PruneKind::BuildCache,
        ];
        let span = match (self.first, self.last) {
            (Some(first), Some(last)) if first != last => format!(", finished {first} to {last}"),
            (Some(at), _) => format!(", finished {at}"),
            _ => String::new(),
        };
        writeln!(out, "{} report(s){span}", self.reports)?;
        writeln!(out)?;
        let mut builder = Builder::default();
        builder.push_record([
            "HOST",
            "RUNS",
            "FAILED",
            "CONTAINERS",
            "IMAGES",
            "VOLUMES",
            "NETWORKS",
            "BUILD CACHE",
            "RECLAIMED",
        ]);
        let mut totals: BTreeMap<PruneKind, (usize, u64)> = BTreeMap::new();
        let (mut runs, mut failed, mut reclaimed) = (0, 0, 0u64);
        let ordered = self
            .hosts
            .iter()
            .filter(|(_, s)| s.failed == 0)
            .chain(self.hosts.iter().filter(|(_, s)| s.failed > 0));
        for (name, sum) in ordered {
            let mut row = vec![sanitize(name), sum.runs.to_string(), sum.failed.to_string()];
            let mut host_bytes = 0u64;
            for kind in KINDS {
                row.push(match sum.kinds.get(&kind) {
                    Some((objects, bytes)) => {
                        let total = totals.entry(kind).or_default();
                        total.0 = total.0.saturating_add(*objects);
                        total.1 = total.1.saturating_add(*bytes);
                        host_bytes = host_bytes.saturating_add(*bytes);
                        prune_cell(kind, *objects, *bytes)
                    }
                    None => "-".to_string(),
                });
            }
            row.push(human_size(host_bytes));
            runs += sum.runs;
            failed += sum.failed;
            reclaimed = reclaimed.saturating_add(host_bytes);
            builder.push_record(row);
        }
        let mut total_row = vec!["TOTAL".to_string(), runs.to_string(), failed.to_string()];
        total_row.extend(KINDS.iter().map(|kind| match totals.get(kind) {
            Some((objects, bytes)) => prune_cell(*kind, *objects, *bytes),
            None => "-".to_string(),
        }));
        total_row.push(human_size(reclaimed));
        builder.push_record(total_row);
        write_table(out, builder, layout)?;
        let failures: Vec<(&String, &SavedFailure)> = self
            .hosts
            .iter()
            .filter_map(|(name, sum)| sum.last_failure.as_ref().map(|f| (name, f)))
            .collect();
        if !failures.is_empty() {
            writeln!(out)?;
            writeln!(out, "Last failure of each host that failed:")?;
            for (name, failure) in failures {
                writeln!(
                    out,
                    "  {}: [{}] at {}: {}",
                    sanitize(name),
                    sanitize(&failure.class),
                    sanitize(&failure.stage),
                    sanitize(&failure.message)
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "Total reclaimed space: {}", human_size(reclaimed))
    }
}

/// `90m`, `36h`, `7d`, `2w`.
fn parse_since(text: &str) -> Result<SignedDuration, ReportFileError> {
    let error = || ReportFileError::Since(text.to_string());
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let count: i64 = digits.parse().map_err(|_| error())?;
    let unit = match &text[digits.len()..] {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(error()),
    };
    count
        .checked_mul(unit)
        .map(SignedDuration::from_secs)
        // Bounded so that now minus it is still a time (jiff panics past year -9999).
        .filter(|age| *age <= crate::plan::policy::MAX_AGE)
        .ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_minutes_hours_days_weeks() {
        assert_eq!(parse_since("7d").unwrap(), SignedDuration::from_hours(168));
        assert_eq!(parse_since("90m").unwrap(), SignedDuration::from_mins(90));
        assert_eq!(
            parse_since("5200w").unwrap(),
            SignedDuration::from_hours(873_600)
        );
        // A billion weeks used to panic in `now - age`.
        for bad in ["7", "d", "7y", "-1d x", "", "5215w", "1000000000w"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}
