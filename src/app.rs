//! One run of fleetprune: load and validate everything (inventory, limit, plans, keys, known
//! hosts), confirm, run the fleet, write the report, and decide the exit code.
//!
//! Every input error is found here before the first host is contacted.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cli::{Action, OutputFormat, Settings};
use crate::df::DiskUsageJob;
use crate::executor::{FleetOptions, HostJob, ReachOnly, run_fleet};
use crate::host::{self, Host, HostPlanError};
use crate::inventory::{Inventory, InventoryError};
use crate::outcome::FleetRun;
use crate::outcome::HostOutcome;
use crate::progress::Progress;
use crate::prompt;
use crate::prune::PruneJob;
use crate::report::{json, table};
use crate::transport::identity::IdentityStore;
use crate::transport::known_hosts::{KnownHosts, KnownHostsError};
use crate::transport::ssh::{HostKeyChecking, SshSettings};

/// How a run ended, as documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every selected host succeeded.
    Success = 0,
    /// At least one host failed; the others were still done.
    PartialFailure = 1,
    /// Invalid input; nothing was contacted.
    Usage = 2,
    /// Interrupted by Ctrl-C (SIGINT).
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15, as shells report it).
    Terminated = 143,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Errors that end a run before any host is contacted (exit code 2), or while writing output.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("{path}: no host matches --limit {limit:?}")]
    NoHostMatches { path: String, limit: String },
    #[error(transparent)]
    Plan(#[from] HostPlanError),
    #[error(
        "nothing to prune on {hosts}: give a kind (--containers, --images, --volumes, --networks, --build-cache, --system) or a fleetprune.prune plan in the inventory"
    )]
    NoPlan { hosts: String },
    #[error(
        "refusing to prune without confirmation: stdin is not a terminal; pass --yes (or -f/--force) to run unattended"
    )]
    NeedsConfirmation,
    #[error("aborted: nothing was pruned")]
    NotConfirmed,
    #[error("interrupted: nothing was pruned")]
    Interrupted,
    #[error(transparent)]
    KnownHosts(#[from] KnownHostsError),
    #[error("cannot write the report: {0}")]
    Output(#[from] io::Error),
}

impl AppError {
    pub fn exit(&self) -> Exit {
        match self {
            AppError::Output(_) => Exit::PartialFailure,
            AppError::Interrupted => Exit::Interrupted,
            _ => Exit::Usage,
        }
    }
}

/// Runs one command. `cancel` is triggered by the first Ctrl-C.
pub async fn run(settings: Settings, cancel: CancellationToken) -> Result<Exit, AppError> {
    let inventory = Inventory::load(&settings.inventory)?;
    let selected = inventory.select(settings.limit.as_ref());
    if selected.is_empty() {
        return Err(AppError::NoHostMatches {
            path: inventory.path().display().to_string(),
            limit: settings
                .limit
                .as_ref()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
        });
    }
    let local_user = std::env::var("USER").unwrap_or_else(|_| "root".to_string());
    let hosts = host::resolve_all(&inventory, &selected, &settings.overrides, &local_user)?;
    let mut stdout = io::stdout().lock();

    match settings.action {
        Action::Inventory => {
            write(
                &settings,
                &mut stdout,
                hosts.as_slice(),
                table::write_inventory,
                json::write_inventory,
            )?;
            Ok(Exit::Success)
        }
        Action::Prune => {
            let unplanned: Vec<&str> = hosts
                .iter()
                .filter(|h| h.plan.is_none())
                .map(|h| h.name.as_str())
                .collect();
            if !unplanned.is_empty() {
                return Err(AppError::NoPlan {
                    hosts: unplanned.join(", "),
                });
            }
            let options = fleet_options(&settings, &hosts)?;
            confirm(&settings, &hosts, &cancel).await?;
            let verbose = settings.verbose > 0;
            let run = fleet(hosts, PruneJob, options, &cancel).await;
            write(
                &settings,
                &mut stdout,
                &run,
                |out, o| table::write_prune(out, o, verbose),
                json::write_prune,
            )?;
            Ok(exit_for(&run, &cancel))
        }
        Action::Df => {
            let options = fleet_options(&settings, &hosts)?;
            let run = fleet(hosts, DiskUsageJob, options, &cancel).await;
            write(
                &settings,
                &mut stdout,
                &run,
                table::write_df,
                json::write_df,
            )?;
            Ok(exit_for(&run, &cancel))
        }
        Action::Ping => {
            let options = fleet_options(&settings, &hosts)?;
            let run = fleet(hosts, ReachOnly, options, &cancel).await;
            write(
                &settings,
                &mut stdout,
                &run,
                table::write_ping,
                json::write_ping,
            )?;
            Ok(exit_for(&run, &cancel))
        }
    }
}

/// Writes a report in the chosen format.
fn write<T: ?Sized>(
    settings: &Settings,
    out: &mut dyn Write,
    report: &T,
    as_table: impl FnOnce(&mut dyn Write, &T) -> io::Result<()>,
    as_json: impl FnOnce(&mut dyn Write, &T) -> io::Result<()>,
) -> io::Result<()> {
    match settings.output {
        OutputFormat::Table => as_table(out, report),
        OutputFormat::Json => as_json(out, report),
    }
}

/// Loads keys and known_hosts once for the whole fleet; a key file that cannot be used fails
/// only the hosts it is named for.
fn fleet_options(settings: &Settings, hosts: &[Host]) -> Result<FleetOptions, AppError> {
    let mut explicit: Vec<_> = hosts.iter().filter_map(|h| h.identity.clone()).collect();
    explicit.sort();
    explicit.dedup();
    let identities = IdentityStore::load(&explicit, crate::cli::home_dir().as_deref());
    let known_hosts = KnownHosts::load(&settings.known_hosts)?;
    if settings.host_key_checking == HostKeyChecking::Off {
        tracing::warn!(
            "host key checking is off: connections can be intercepted; use it only on trusted networks"
        );
    }
    Ok(FleetOptions {
        forks: settings.forks,
        timeout: settings.timeout,
        ssh: SshSettings {
            known_hosts: Arc::new(known_hosts),
            checking: settings.host_key_checking,
            identities: Arc::new(identities),
            agent_socket: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(Into::into),
            connect_timeout: settings.connect_timeout,
        },
        retries: settings.retries,
        serial: settings.serial,
        max_fail_percentage: settings.max_fail_percentage,
        grace: settings.grace,
    })
}

/// Asks on the terminal unless `--yes`; Ctrl-C at the prompt ends the run with nothing done.
async fn confirm(
    settings: &Settings,
    hosts: &[Host],
    cancel: &CancellationToken,
) -> Result<(), AppError> {
    if settings.yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() {
        return Err(AppError::NeedsConfirmation);
    }
    let warning = prompt::warning(hosts);
    // Reading stdin blocks; it runs on a blocking thread so Ctrl-C can still be noticed.
    let answer = tokio::task::spawn_blocking(move || {
        prompt::confirm(&warning, &mut io::stdin().lock(), &mut io::stderr())
    });
    tokio::select! {
        () = cancel.cancelled() => Err(AppError::Interrupted),
        answer = answer => match answer {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(AppError::NotConfirmed),
            Ok(Err(error)) => Err(AppError::Output(error)),
            Err(_) => Err(AppError::NotConfirmed),
        },
    }
}

/// Runs `job` on every host, with a progress line on stderr when it is a terminal.
async fn fleet<J: HostJob>(
    hosts: Vec<Host>,
    job: J,
    options: FleetOptions,
    cancel: &CancellationToken,
) -> FleetRun<J::Output> {
    let progress = Progress::new(hosts.len());
    run_fleet(
        hosts,
        Arc::new(job),
        Arc::new(options),
        cancel.clone(),
        progress,
    )
    .await
}

fn exit_for<T>(run: &FleetRun<T>, cancel: &CancellationToken) -> Exit {
    if cancel.is_cancelled() {
        Exit::Interrupted
    } else if run.outcomes.iter().all(HostOutcome::succeeded) {
        Exit::Success
    } else {
        Exit::PartialFailure
    }
}
