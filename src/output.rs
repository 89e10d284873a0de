//! Where a run's results go: the report on stdout in the chosen format (NDJSON streamed host by
//! host as they finish), the live display on stderr, `--report FILE` and `--metrics-file PATH`
//! (both replaced atomically). A reader that closes stdout early ends nothing: the run goes on,
//! its files are written, and the exit code is the one the hosts earned.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::cli::{OutputFormat, Settings};
use crate::host::Host;
use crate::key_scan::ScannedKey;
use crate::outcome::FleetRun;
use crate::progress::{Live, LiveFacts, Progress};
use crate::report::render::Render;
use crate::report::run_info::{Detail, RunInfo};
use crate::report::table::{self, Layout};
use crate::report::{csv, json, metrics, quiet_closed_pipe};

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
    /// Hosts whose NDJSON line was streamed, by index.
    streamed: Arc<Mutex<Vec<bool>>>,
    /// stdout was closed by its reader: stop writing to it.
    stdout_closed: Arc<AtomicBool>,
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
            streamed: Arc::default(),
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
            streamed: Arc::default(),
            stdout_closed: Arc::default(),
        }
    }

    /// The live display for `total` hosts, called as the fleet starts (`started_at`); with
    /// `--output ndjson` it also streams each host's line to stdout as the host finishes.
    pub fn progress<T: Render + LiveFacts>(&mut self, total: usize) -> Progress<T> {
        self.info.started_at = jiff::Timestamp::now();
        if self.format != OutputFormat::Ndjson {
            return Progress::new(total, self.live);
        }
        *self.streamed.lock().unwrap_or_else(PoisonError::into_inner) = vec![false; total];
        let streamed = Arc::clone(&self.streamed);
        let closed = Arc::clone(&self.stdout_closed);
        let info = Arc::new(self.info.clone());
        Progress::on_finished(total, self.live, move |index, outcome| {
            let mut line = Vec::new();
            if json::write_host_event(&mut line, outcome, &info, index).is_err() {
                return;
            }
            let mut streamed = streamed.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = streamed.get_mut(index) {
                *slot = true;
            }
            // A failed write stops streaming; the final write reports the error.
            let _ = write_stdout(&closed, &line);
        })
    }

    /// Writes the finished run: stdout in the chosen format, then `--report` and
    /// `--metrics-file`.
    pub fn finish<T: Render>(&mut self, run: &FleetRun<T>) -> Result<(), FileError> {
        self.info.finished_at = jiff::Timestamp::now();
        let mut text = Vec::new();
        let written = match self.format {
            OutputFormat::Table | OutputFormat::Markdown => {
                T::table(&mut text, run, &self.info, self.layout())
            }
            OutputFormat::Json => json::write(&mut text, run, &self.info),
            OutputFormat::Csv => T::csv(&mut text, run, &self.info),
            OutputFormat::Ndjson => self.ndjson_rest(&mut text, run),
        };
        written
            .and_then(|()| write_stdout(&self.stdout_closed, &text))
            .map_err(|source| FileError {
                what: "the report to stdout".into(),
                source,
            })?;
        if let Some(path) = &self.report {
            let mut document = Vec::new();
            json::write(&mut document, run, &self.info)
                .and_then(|()| write_atomically(path, &document))
                .map_err(|source| file_error("--report", path, source))?;
        }
        if let Some(path) = &self.metrics {
            let previous = std::fs::read_to_string(path).ok();
            let text = metrics::render(run, &self.info, previous.as_deref());
            write_atomically(path, text.as_bytes())
                .map_err(|source| file_error("--metrics-file", path, source))?;
        }
        Ok(())
    }

    /// NDJSON after the fleet: hosts never started (no line streamed), then the summary.
    fn ndjson_rest<T: Render>(&self, out: &mut dyn Write, run: &FleetRun<T>) -> io::Result<()> {
        let streamed = self.streamed.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, outcome) in run.outcomes.iter().enumerate() {
            if !streamed.get(index).copied().unwrap_or(false) {
                json::write_host_event(out, outcome, &self.info, index)?;
            }
        }
        json::write_summary_event(out, run, &self.info)
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
    if closed.load(Ordering::SeqCst) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    let result = stdout.write_all(bytes).and_then(|()| stdout.flush());
    if result.is_err() {
        closed.store(true, Ordering::SeqCst);
    }
    quiet_closed_pipe(result)
}

fn file_error(flag: &str, path: &Path, source: io::Error) -> FileError {
    FileError {
        what: format!("{flag} {}", path.display()),
        source,
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers
/// (node_exporter, a dashboard, the next `fleetprune report`) never see half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let temporary = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
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
