//! Where a run's results go: the report on stdout in the chosen format (NDJSON streamed host by
//! host as they finish), the live display on stderr, `--report FILE` and `--metrics-file PATH`
//! (both replaced atomically). Each host's outcome reaches every output as the host finishes
//! ([`Collector`]); what a run keeps of it is what its outputs still need at the end. A reader that closes stdout early ends nothing: the run goes on,
//! its files are written, and the exit code is the one the hosts earned.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::{OutputFormat, Settings};
use crate::host::Host;
use crate::key_scan::ScannedKey;
use crate::outcome::{HostOutcome, SafetyReport, Tally};
use crate::progress::{Live, LiveFacts, Progress};
use crate::report::csv::CsvDraft;
use crate::report::json::{DocumentDraft, JsonShape};
use crate::report::metrics::MetricsDraft;
use crate::report::render::Render;
use crate::report::run_info::{Detail, RunInfo};
use crate::report::table::{self, Layout, RunEnd, TableDraft, TableShape};
use crate::report::{csv, json, quiet_closed_pipe};

/// A file fleetprune was asked to write and could not.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {what}: {source}")]
pub struct FileError {
    what: String,
    source: io::Error,
}

/// The run's outputs, set up before the fleet starts.
pub struct Output {
    format: OutputFormat,
    live: Live,
    report: Option<PathBuf>,
    metrics: Option<PathBuf>,
    pub info: RunInfo,
    /// stdout was closed by its reader: stop writing to it.
    stdout_closed: Arc<AtomicBool>,
}

/// What the run's outputs keep while the fleet runs, fed each host's outcome as it finishes:
/// the chosen format's draft of stdout, `--report`'s document, `--metrics-file`'s samples,
/// the totals and the tally. NDJSON lines go to stdout at once.
pub struct Collector<T: Render> {
    stdout: StdoutDraft<T>,
    report: Option<DocumentDraft>,
    metrics: Option<MetricsDraft>,
    totals: <T as JsonShape>::Totals,
    tally: Tally,
    /// The first output that failed (the run goes on; the error is reported at the end).
    error: Option<io::Error>,
    stdout_closed: Arc<AtomicBool>,
}

/// stdout's format, as it is being built.
enum StdoutDraft<T: TableShape> {
    Table(TableDraft, T::Sums),
    Json(DocumentDraft),
    /// Lines went out as hosts finished; the summary comes at the end.
    Ndjson,
    Csv(CsvDraft),
}

impl<T: Render> Collector<T> {
    /// Adds the host at `index` to every output.
    pub fn add(&mut self, info: &RunInfo, index: usize, outcome: &HostOutcome<T>) {
        self.tally.add(outcome);
        T::add_to_totals(&mut self.totals, outcome);
        if let Some(metrics) = &mut self.metrics {
            metrics.add(outcome, info.command, index);
        }
        let written = self.write_host(info, index, outcome);
        if let Err(error) = written {
            self.error.get_or_insert(error);
        }
    }

    fn write_host(
        &mut self,
        info: &RunInfo,
        index: usize,
        outcome: &HostOutcome<T>,
    ) -> io::Result<()> {
        if let Some(report) = &mut self.report {
            report.add(outcome, info, index)?;
        }
        match &mut self.stdout {
            StdoutDraft::Table(draft, sums) => T::add(draft, sums, outcome, info, index),
            StdoutDraft::Json(draft) => draft.add(outcome, info, index),
            StdoutDraft::Csv(draft) => draft.add(outcome, info, index),
            StdoutDraft::Ndjson => {
                let mut line = Vec::new();
                json::write_host_event(&mut line, outcome, info, index)?;
                write_stdout(&self.stdout_closed, &line)
            }
        }
    }
}

impl Output {
    pub fn new(settings: &Settings, mut info: RunInfo) -> Output {
        let live = if settings.quiet {
            Live::Quiet
        } else if io::IsTerminal::is_terminal(&io::stderr()) {
            Live::Bar
        } else {
            Live::Lines
        };
        info.detail = Detail {
            objects: settings.verbose > 0,
            kept: settings.show_kept,
        };
        Output {
            format: settings.output,
            live,
            report: settings.report.clone(),
            metrics: settings.metrics_file.clone(),
            info,
            stdout_closed: Arc::default(),
        }
    }

    /// Nothing live, no files: for a preview run before a prompt.
    pub fn silent() -> Output {
        Output {
            format: OutputFormat::Table,
            live: Live::Quiet,
            report: None,
            metrics: None,
            info: RunInfo::starting("plan", Vec::new(), None),
            stdout_closed: Arc::default(),
        }
    }

    /// The live display for `total` hosts and the outputs' collector, called as the fleet
    /// starts (`started_at`).
    pub fn start<T: Render + LiveFacts>(&mut self, total: usize) -> (Progress<T>, Collector<T>) {
        self.info.started_at = jiff::Timestamp::now();
        let stdout = match self.format {
            OutputFormat::Table | OutputFormat::Markdown => {
                StdoutDraft::Table(TableDraft::default(), Default::default())
            }
            OutputFormat::Json => StdoutDraft::Json(DocumentDraft::default()),
            OutputFormat::Ndjson => StdoutDraft::Ndjson,
            OutputFormat::Csv => StdoutDraft::Csv(CsvDraft::default()),
        };
        let collector = Collector {
            stdout,
            report: self.report.as_ref().map(|_| DocumentDraft::default()),
            metrics: self.metrics.as_ref().map(|_| MetricsDraft::default()),
            totals: Default::default(),
            tally: Tally::default(),
            error: None,
            stdout_closed: Arc::clone(&self.stdout_closed),
        };
        (Progress::new(total, self.live), collector)
    }

    /// Writes the finished run: stdout in the chosen format, then `--report` and
    /// `--metrics-file`.
    pub fn finish<T: Render>(
        &mut self,
        collector: Collector<T>,
        safety: &SafetyReport,
    ) -> Result<Tally, FileError> {
        self.info.finished_at = jiff::Timestamp::now();
        let Collector {
            stdout,
            report,
            metrics,
            totals,
            tally,
            error,
            stdout_closed: _,
        } = collector;
        let to_stdout = |source| FileError {
            what: "the report to stdout".into(),
            source,
        };
        if let Some(error) = error {
            return Err(to_stdout(error));
        }
        let end = RunEnd {
            tally: &tally,
            safety,
        };
        let mut out = io::BufWriter::with_capacity(STDOUT_BUFFER, Stdout(&self.stdout_closed));
        let layout = self.layout();
        let written = match stdout {
            StdoutDraft::Table(draft, sums) => {
                T::write(&mut out, draft, sums, &end, &self.info, layout)
            }
            StdoutDraft::Json(mut draft) => {
                draft.write(&mut out, &self.info, &tally, &totals, safety)
            }
            StdoutDraft::Csv(mut draft) => draft.write::<T>(&mut out),
            StdoutDraft::Ndjson => {
                json::write_summary_event(&mut out, &self.info, &tally, &totals, safety)
            }
        };
        written.and_then(|()| out.flush()).map_err(to_stdout)?;
        drop(out);
        if let (Some(path), Some(mut draft)) = (&self.report, report) {
            write_atomically_with(path, |file| {
                draft.write(file, &self.info, &tally, &totals, safety)
            })
            .map_err(|source| file_error("--report", path, source))?;
        }
        if let (Some(path), Some(draft)) = (&self.metrics, metrics) {
            let mut previous = std::fs::File::open(path).ok().map(io::BufReader::new);
            let previous = previous.as_mut().map(|file| file as &mut dyn io::BufRead);
            write_atomically_with(path, |file| draft.write(file, &self.info, &tally, previous))
                .map_err(|source| file_error("--metrics-file", path, source))?;
        }
        Ok(tally)
    }

    /// `fleetprune inventory` in the chosen format, and as JSON to `--report` (there are no
    /// metrics: nothing is contacted).
    pub fn inventory(&self, hosts: &[Host]) -> Result<(), FileError> {
        if let Some(path) = &self.report {
            let mut document = Vec::new();
            json::write_inventory(&mut document, hosts, &self.info)
                .and_then(|()| write_atomically(path, &document))
                .map_err(|source| file_error("--report", path, source))?;
        }
        if self.metrics.is_some() {
            tracing::warn!("--metrics-file: inventory contacts no host, so no metrics are written");
        }
        self.inventory_to_stdout(hosts).map_err(|source| FileError {
            what: "the report to stdout".into(),
            source,
        })
    }

    fn inventory_to_stdout(&self, hosts: &[Host]) -> io::Result<()> {
        let mut text = Vec::new();
        match self.format {
            OutputFormat::Table | OutputFormat::Markdown => {
                table::write_inventory(&mut text, hosts, self.layout())?
            }
            OutputFormat::Json => json::write_inventory(&mut text, hosts, &self.info)?,
            OutputFormat::Ndjson => json::write_inventory_ndjson(&mut text, hosts, &self.info)?,
            OutputFormat::Csv => csv::write_inventory(&mut text, hosts)?,
        }
        write_stdout(&self.stdout_closed, &text)
    }

    /// `ping --print-host-keys`: the known_hosts lines on stdout, like ssh-keyscan; hosts whose
    /// key could not be had on stderr, as `# host: reason` lines.
    pub fn host_keys(&self, scanned: &[ScannedKey]) -> Result<(), FileError> {
        let mut text = Vec::new();
        for scan in scanned {
            match &scan.result {
                Ok(line) => text.extend_from_slice(format!("{line}\n").as_bytes()),
                Err(failure) => tracing::error!(
                    "# {}: [{}] {}",
                    crate::report::sanitize(&scan.host),
                    failure.class,
                    crate::report::sanitize(&failure.message)
                ),
            }
        }
        write_stdout(&self.stdout_closed, &text).map_err(|source| FileError {
            what: "the host keys to stdout".into(),
            source,
        })
    }

    fn layout(&self) -> Layout {
        Layout {
            markdown: self.format == OutputFormat::Markdown,
            width: match self.format {
                OutputFormat::Table => crate::cli::terminal_width(),
                _ => None,
            },
        }
    }
}

/// Writes `bytes` to stdout at once. Once the reader has gone (a closed pipe: quietly `Ok`) or a
/// write failed, nothing more is written; the run itself goes on.
fn write_stdout(closed: &AtomicBool, bytes: &[u8]) -> io::Result<()> {
    let mut stdout = Stdout(closed);
    stdout.write_all(bytes).and_then(|()| stdout.flush())
}

fn file_error(flag: &str, path: &Path, source: io::Error) -> FileError {
    FileError {
        what: format!("{flag} {}", path.display()),
        source,
    }
}

/// Writes `bytes` to `path` atomically (see [`write_atomically_with`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// Writes a temporary file beside `path` with `write`, then renames it over `path`: readers
/// (node_exporter, a dashboard, the next `fleetprune report`) never see half a file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let temporary = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&temporary).and_then(|file| {
        let mut buffered = io::BufWriter::new(file);
        write(&mut buffered)?;
        buffered
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// How much of the report is written to stdout at a time.
const STDOUT_BUFFER: usize = 64 * 1024;

/// stdout as a writer: once its reader has gone (a closed pipe) the rest is dropped quietly,
/// and after any failed write nothing more is written; the run itself goes on.
struct Stdout<'a>(&'a AtomicBool);

impl Write for Stdout<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.0.load(Ordering::SeqCst) {
            return Ok(bytes.len());
        }
        match io::stdout().lock().write(bytes) {
            Ok(written) => Ok(written),
            Err(error) => {
                self.0.store(true, Ordering::SeqCst);
                quiet_closed_pipe(Err(error)).map(|()| bytes.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.0.load(Ordering::SeqCst) {
            return Ok(());
        }
        let result = io::stdout().lock().flush();
        if result.is_err() {
            self.0.store(true, Ordering::SeqCst);
        }
        quiet_closed_pipe(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleetprune.prom");
        write_atomically(&path, b"one\n").unwrap();
        write_atomically(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
