//! Commands that contact no host and read no inventory: `report` (sum saved reports),
//! `completions` and `man` (generated from the clap definition).

use std::io::{self, Write};

use clap::CommandFactory;

use crate::app::Exit;
use crate::cli::{Cli, OfflineCommand, OutputFormat, terminal_width};
use crate::report::saved::{ReportFileError, Summary};
use crate::report::table::Layout;
use crate::report::{csv, json, quiet_closed_pipe};

/// Why an offline command failed.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error(transparent)]
    Report(#[from] ReportFileError),
    #[error("cannot write to stdout: {0}")]
    Output(#[from] io::Error),
}

impl OfflineError {
    pub fn exit(&self) -> Exit {
        match self {
            OfflineError::Output(_) => Exit::PartialFailure,
            _ => Exit::Usage,
        }
    }
}

/// Runs `command`, writing to stdout.
pub fn run(command: &OfflineCommand, output: OutputFormat) -> Result<(), OfflineError> {
    let mut text = Vec::new();
    match command {
        OfflineCommand::Report(args) => {
            let summary = Summary::load(&args.files, args.since.as_deref())?;
            match output {
                OutputFormat::Table => {
                    let layout = Layout {
                        markdown: false,
                        width: terminal_width(),
                    };
                    summary.write_table(&mut text, layout)?;
                }
                OutputFormat::Markdown => {
                    let layout = Layout {
                        markdown: true,
                        width: None,
                    };
                    summary.write_table(&mut text, layout)?;
                }
                OutputFormat::Json => json::write_summary(&mut text, &summary)?,
                OutputFormat::Ndjson => json::write_summary_ndjson(&mut text, &summary)?,
                OutputFormat::Csv => csv::write_summary(&mut text, &summary)?,
            }
        }
        OfflineCommand::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "fleetprune", &mut text);
        }
        OfflineCommand::Man => clap_mangen::Man::new(Cli::command()).render(&mut text)?,
    }
    let mut stdout = io::stdout().lock();
    quiet_closed_pipe(stdout.write_all(&text).and_then(|()| stdout.flush()))?;
    Ok(())
}
