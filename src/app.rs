//! One run of fleetprune: load and validate everything (inventory, limit, plans, keys, known
//! hosts), confirm, run the fleet, write the report, and decide the exit code.
//!
//! Every input error is found here before the first host is contacted.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cli::{Action, Settings};
use crate::commands::apply::ApplyJob;
use crate::commands::df::DiskUsageJob;
use crate::commands::ping::ReachOnly;
use crate::commands::plan::PlanJob;
use crate::commands::prune::PruneJob;
use crate::commands::rmi::RmiJob;
use crate::executor::{FleetOptions, HostJob, SshConnector, run_fleet};
use crate::host::{self, Defaults, Host, HostPlanError};
use crate::inventory::ansible_cfg::{AnsibleConfig, AnsibleConfigError};
use crate::inventory::{Inventory, InventoryError, UnmatchedTerm};
use crate::model::connection::HostKeyCheck;
use crate::openssh::args::StrictHostKeyChecking;
use crate::openssh::config::{SshConfig, SshConfigError};
use crate::outcome::prediction::PlanReport;
use crate::outcome::{FleetRun, HostOutcome, Tally};
use crate::output::{FileError, Output};
use crate::plan::file::{PLAN_FILE_VERSION, PlanFile, SavedHost};
use crate::progress::LiveFacts;
use crate::prompt;
use crate::report;
use crate::report::render::Render;
use crate::report::run_info::RunInfo;
use crate::transport::identity::IdentityStore;
use crate::transport::known_hosts::{
    DEFAULT_GLOBAL_KNOWN_HOSTS, KnownHosts, KnownHostsError, KnownHostsFiles,
};
use crate::transport::ssh::{HostKeyChecking, SshSettings};
use crate::use_log::UseLog;

/// How a run ended, as documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every selected host succeeded.
    Success = 0,
    /// At least one host failed; the others were still done.
    PartialFailure = 1,
    /// Invalid input; nothing was contacted.
    Usage = 2,
    /// Every selected host failed (none succeeded).
    AllFailed = 3,
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
    #[error(transparent)]
    AnsibleConfig(#[from] AnsibleConfigError),
    #[error(transparent)]
    SshConfig(#[from] SshConfigError),
    #[error("{path}: no host matches --limit {limit:?}")]
    NoHostMatches { path: String, limit: String },
    #[error(
        "{path}: --limit {limit:?}: {} no host; check the spelling (a term that selects nothing is refused so a typo cannot change what is pruned)",
        describe_unmatched(terms)
    )]
    UnmatchedLimit {
        path: String,
        limit: String,
        terms: Vec<String>,
    },
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
    #[error(transparent)]
    File(#[from] FileError),
    #[error("cannot write the plan file {path}: {source}")]
    SavePlan { path: String, source: io::Error },
    #[error("cannot read the plan file {path}: {source}")]
    ReadPlan { path: String, source: io::Error },
    #[error(transparent)]
    PlanFile(#[from] crate::plan::file::PlanFileError),
    #[error(
        "{path}: the plan was made at {created}, {age} ago, more than --max-age {max_age}; make a new plan"
    )]
    PlanTooOld {
        path: String,
        created: jiff::Timestamp,
        age: String,
        max_age: String,
    },
    #[error("{path}: the plan names host {host}, which the inventory does not have")]
    PlannedHostMissing { path: String, host: String },
    #[error("{path}: no selected host has a plan in this file")]
    NothingPlanned { path: String },
}

impl AppError {
    pub fn exit(&self) -> Exit {
        match self {
            AppError::Output(_) | AppError::File(_) | AppError::SavePlan { .. } => {
                Exit::PartialFailure
            }
            AppError::Interrupted => Exit::Interrupted,
            _ => Exit::Usage,
        }
    }
}

fn describe_unmatched(terms: &[String]) -> String {
    match terms {
        [one] => format!("term {one:?} selects"),
        several => format!("terms {} select", several.join(", ")),
    }
}

/// The inventory file used when neither `-i` nor Ansible's configuration names one.
const DEFAULT_INVENTORY: &str = "inventory.yaml";

/// Runs one command. `cancel` is triggered by the first Ctrl-C, `hard_stop` by the second: it
/// cuts every host at once, and the report of what is known is still written.
pub async fn run(
    settings: Settings,
    cancel: CancellationToken,
    hard_stop: CancellationToken,
) -> Result<Exit, AppError> {
    let config = AnsibleConfig::discover()?;
    let sources = if !settings.inventory.is_empty() {
        settings.inventory.clone()
    } else if !config.inventory.is_empty() {
        config.inventory.clone()
    } else {
        vec![DEFAULT_INVENTORY.into()]
    };
    let inventory = Inventory::load(&sources)?;
    let limit_text = || {
        settings
            .limit
            .as_ref()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default()
    };
    let selection = inventory.select(settings.limit.as_ref());
    let (excluded, refused): (Vec<UnmatchedTerm>, Vec<UnmatchedTerm>) = selection
        .unmatched
        .into_iter()
        .partition(|term| term.is_exclusion);
    if !refused.is_empty() {
        return Err(AppError::UnmatchedLimit {
            path: inventory.describe_sources(),
            limit: limit_text(),
            terms: refused.into_iter().map(|t| t.term).collect(),
        });
    }
    for term in excluded {
        tracing::warn!(
            "--limit term {:?} selects no host, so it excludes nothing",
            term.term
        );
    }
    if selection.hosts.is_empty() {
        return Err(AppError::NoHostMatches {
            path: inventory.describe_sources(),
            limit: limit_text(),
        });
    }
    let defaults = Defaults {
        user: config.remote_user.clone(),
        identity: config.private_key_file.clone(),
        ssh_args: config.ssh_args.clone(),
        host_key_checking_off: config.host_key_checking == Some(false),
        local_user: local_user(),
        ssh_config: load_ssh_config(&settings)?,
    };
    // The resolved hosts are all the run needs of the inventory: each inventory host is dropped
    // once resolved, so the two never all live at once.
    let picked = inventory.picked(&selection.hosts);
    drop(selection.hosts);
    let picked = inventory.into_picked(picked);
    let mut hosts = host::resolve_all(picked, &settings.overrides, &defaults)?;
    let mut info = RunInfo::starting(
        settings.action.command(),
        sources.iter().map(|s| s.display().to_string()).collect(),
        settings.limit.as_ref().map(|l| l.as_str().to_string()),
    );
    if let Some(shard) = settings.shard {
        let selected = hosts.len();
        hosts.retain(|host| shard.includes(&host.name));
        if hosts.is_empty() {
            tracing::warn!(
                "--shard {shard}: none of the {selected} selected hosts is in this shard"
            );
        }
        info.shard = Some(shard.to_string());
    }
    info.set_plans(hosts.iter().map(|h| h.plan.clone()));
    let mut output = Output::new(&settings, info);

    match settings.action {
        Action::Inventory => {
            output.inventory(&hosts)?;
            Ok(Exit::Success)
        }
        Action::Prune => {
            require_plans(&hosts)?;
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            confirm_with_plan(&settings, &hosts, &options, &cancel).await?;
            // Every host pruned object by object (a keep policy, an orchestrator seen) takes a
            // snapshot, which reads and updates the image history; the others leave it as it is.
            let uses = Arc::new(UseLog::load());
            let job = PruneJob {
                uses: Arc::clone(&uses),
            };
            let run = fleet(hosts, job, options, &cancel, &mut output, |_| false).await?;
            uses.save();
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
        Action::Plan => {
            require_plans(&hosts)?;
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            let uses = Arc::new(UseLog::load());
            let job = PlanJob {
                uses: Arc::clone(&uses),
            };
            // `--save` keeps what the plan file needs: the hosts that were planned.
            let saving = settings.save_plan.is_some();
            let keep = |outcome: &HostOutcome<PlanReport>| saving && outcome.succeeded();
            let run = fleet(hosts, job, options, &cancel, &mut output, keep).await?;
            uses.save();
            if let Some(path) = &settings.save_plan {
                save_plan(path, &run.kept.outcomes)?;
            }
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
        Action::Apply => {
            let (path, max_age) = settings.apply.clone().ok_or(AppError::NotConfirmed)?;
            let file = load_plan(&path, max_age)?;
            let hosts = planned_hosts(hosts, &file, &path, settings.limit.is_some())?;
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            let warning = prompt::apply_warning(&file, &hosts);
            confirm_with(&settings, warning, &cancel).await?;
            let saved = file
                .hosts
                .into_iter()
                .map(|h| (h.name.clone(), h))
                .collect();
            let uses = Arc::new(UseLog::load());
            let job = ApplyJob {
                hosts: saved,
                uses: Arc::clone(&uses),
            };
            let run = fleet(hosts, job, options, &cancel, &mut output, |_| false).await?;
            uses.save();
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
        Action::Rmi => {
            let (refs, remove_in_use) = settings.rmi.clone().ok_or(AppError::NotConfirmed)?;
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            if must_ask(&settings)? {
                let preview = RmiJob {
                    refs: refs.clone(),
                    remove_in_use,
                    preview: true,
                };
                let preview = fleet(
                    hosts.clone(),
                    preview,
                    options.clone(),
                    &cancel,
                    &mut Output::silent(),
                    |_| true,
                )
                .await?;
                let warning = prompt::rmi_warning(&refs, &preview.kept.outcomes);
                confirm_with(&settings, warning, &cancel).await?;
            }
            let job = RmiJob {
                refs,
                remove_in_use,
                preview: false,
            };
            let run = fleet(hosts, job, options, &cancel, &mut output, |_| false).await?;
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
        Action::Df => {
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            let run = fleet(hosts, DiskUsageJob, options, &cancel, &mut output, |_| {
                false
            })
            .await?;
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
        Action::Ping if settings.print_host_keys => {
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            let scanned = crate::key_scan::scan_fleet(&hosts, &options).await;
            output.host_keys(&scanned)?;
            Ok(if scanned.iter().all(|s| s.result.is_ok()) {
                Exit::Success
            } else if scanned.iter().all(|s| s.result.is_err()) {
                Exit::AllFailed
            } else {
                Exit::PartialFailure
            })
        }
        Action::Ping => {
            let options = fleet_options(&settings, &hosts, &hard_stop)?;
            let run = fleet(hosts, ReachOnly, options, &cancel, &mut output, |_| false).await?;
            Ok(exit_for(&run.tally, &cancel, settings.fail_on_busy))
        }
    }
}

/// Reads a plan file and refuses it when older than `max_age`.
fn load_plan(path: &std::path::Path, max_age: std::time::Duration) -> Result<PlanFile, AppError> {
    let shown = path.display().to_string();
    let text = crate::input_file::read_to_string(path, crate::input_file::INVENTORY_LIMIT)
        .map_err(|source| AppError::ReadPlan {
            path: shown.clone(),
            source,
        })?;
    let file = PlanFile::from_json(&shown, &text)?;
    let age = jiff::Timestamp::now().duration_since(file.created_at);
    let limit = jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX);
    if age > limit {
        return Err(AppError::PlanTooOld {
            path: shown,
            created: file.created_at,
            age: format!("{:#}", jiff::SignedDuration::from_secs(age.as_secs())),
            max_age: format!("{:#}", limit),
        });
    }
    Ok(file)
}

/// The selected hosts the plan names; without `--limit` every planned host must be selected.
fn planned_hosts(
    hosts: Vec<Host>,
    file: &PlanFile,
    path: &std::path::Path,
    limited: bool,
) -> Result<Vec<Host>, AppError> {
    let path = || path.display().to_string();
    if !limited
        && let Some(missing) = file
            .hosts
            .iter()
            .find(|saved| !hosts.iter().any(|h| h.name == saved.name))
    {
        return Err(AppError::PlannedHostMissing {
            path: path(),
            host: missing.name.clone(),
        });
    }
    let hosts: Vec<Host> = hosts
        .into_iter()
        .filter(|h| file.hosts.iter().any(|saved| saved.name == h.name))
        .collect();
    if hosts.is_empty() {
        return Err(AppError::NothingPlanned { path: path() });
    }
    Ok(hosts)
}

/// Every host needs a plan before a prune or a prediction starts.
fn require_plans(hosts: &[Host]) -> Result<(), AppError> {
    let unplanned: Vec<&str> = hosts
        .iter()
        .filter(|h| h.plan.is_none())
        .map(|h| h.name.as_str())
        .collect();
    if unplanned.is_empty() {
        Ok(())
    } else {
        Err(AppError::NoPlan {
            hosts: unplanned.join(", "),
        })
    }
}

/// `--save FILE`: the hosts that were planned, with the identities they were planned for.
fn save_plan(path: &std::path::Path, planned: &[HostOutcome<PlanReport>]) -> Result<(), AppError> {
    let hosts = planned
        .iter()
        .filter(|o| o.succeeded())
        .filter_map(|o| {
            let facts = o.payload.facts.as_ref()?;
            Some(SavedHost {
                name: o.name.clone(),
                address: o.address.clone(),
                host_key_fingerprint: o.host_key.as_ref().map(|key| match key {
                    HostKeyCheck::Verified { fingerprint }
                    | HostKeyCheck::Added { fingerprint }
                    | HostKeyCheck::Unchecked { fingerprint }
                    | HostKeyCheck::Certified { fingerprint, .. } => fingerprint.clone(),
                }),
                engine_id: facts.engine_id.clone(),
                image_store: facts.image_store,
                daemon_time: facts.daemon_time,
                description: o.payload.description.clone(),
                plan: o.payload.plan.clone(),
            })
        })
        .collect();
    let file = PlanFile {
        plan_file_version: PLAN_FILE_VERSION,
        created_at: jiff::Timestamp::now(),
        hosts,
    };
    std::fs::write(path, file.to_json() + "\n").map_err(|source| AppError::SavePlan {
        path: path.display().to_string(),
        source,
    })
}

/// The login name used when nothing names one, as ssh finds it: the password database's name for
/// this uid (else `$USER`, else root).
fn local_user() -> String {
    crate::openssh::home::user_name().unwrap_or_else(|| "root".to_string())
}

/// Loads keys and known_hosts files once for the whole fleet (the user files, the global ones,
/// and those hosts name with `UserKnownHostsFile` unless `--known-hosts` was given, and
/// `GlobalKnownHostsFile`); a key file that cannot be used fails only
/// the hosts it is named for.
fn fleet_options(
    settings: &Settings,
    hosts: &[Host],
    hard_stop: &CancellationToken,
) -> Result<FleetOptions, AppError> {
    let contacted = || hosts.iter().filter(|h| h.refused.is_none());
    let jump_identities = contacted().flat_map(|h| match &h.route {
        crate::openssh::route::Route::Jump { hops } => {
            hops.iter().filter_map(|hop| hop.identity.clone()).collect()
        }
        _ => Vec::new(),
    });
    let mut explicit: Vec<_> = contacted()
        .filter_map(|h| h.identity.clone())
        .chain(jump_identities)
        .collect();
    explicit.sort();
    explicit.dedup();
    let identities = IdentityStore::load(&explicit, crate::cli::home_dir().as_deref());
    // Every known_hosts file any host is checked against, loaded once each.
    let mut files: Vec<PathBuf> = settings.known_hosts.clone();
    files.extend(DEFAULT_GLOBAL_KNOWN_HOSTS.iter().map(PathBuf::from));
    for host in contacted() {
        if !settings.known_hosts_given {
            files.extend(host.known_hosts.iter().cloned());
        }
        files.extend(host.global_known_hosts.iter().flatten().cloned());
    }
    let mut known_hosts_files = HashMap::new();
    for path in files {
        if let Entry::Vacant(slot) = known_hosts_files.entry(path) {
            let file = KnownHosts::load(slot.key())?;
            slot.insert(Arc::new(file));
        }
    }
    let checking = settings
        .host_key_checking
        .unwrap_or(HostKeyChecking::Strict);
    if checking == HostKeyChecking::Off {
        tracing::warn!(
            "host key checking is off: connections can be intercepted; use it only on trusted networks"
        );
    }
    if settings.host_key_checking.is_none()
        && contacted().any(|h| h.host_key_checking == Some(StrictHostKeyChecking::No))
    {
        tracing::warn!(
            "StrictHostKeyChecking=no (or Ansible's host_key_checking=False) is applied as accept-new: new host keys are pinned, changed ones still fail; pass --host-key-checking off to disable checking"
        );
    }
    Ok(FleetOptions {
        forks: settings.forks,
        timeout: settings.timeout,
        host_key_checking_fixed: settings.host_key_checking.is_some(),
        known_hosts_fixed: settings.known_hosts_given,
        user_known_hosts: settings.known_hosts.clone(),
        known_hosts_files,
        ssh: SshSettings {
            known_hosts: KnownHostsFiles::default(),
            checking,
            identities: Arc::new(identities),
            agent_socket: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(Into::into),
            connect_timeout: settings.connect_timeout,
            jumps: Arc::default(),
        },
        retries: settings.retries,
        handshakes: Arc::new(tokio::sync::Semaphore::new(settings.handshakes.get())),
        serial: settings.serial,
        max_fail_percentage: settings.max_fail_percentage,
        grace: settings.grace,
        hard_stop: hard_stop.clone(),
    })
}

/// Asks on the terminal unless `--yes`, after planning every host read-only: the prompt shows
/// the host count, each host's objects (a summary per kind for long lists) and the predicted
/// total. Ctrl-C at the prompt ends the run with nothing done.
async fn confirm_with_plan(
    settings: &Settings,
    hosts: &[Host],
    options: &FleetOptions,
    cancel: &CancellationToken,
) -> Result<(), AppError> {
    if !must_ask(settings)? {
        return Ok(());
    }
    let uses = Arc::new(UseLog::load());
    let job = PlanJob {
        uses: Arc::clone(&uses),
    };
    let preview = fleet(
        hosts.to_vec(),
        job,
        options.clone(),
        cancel,
        &mut Output::silent(),
        |_| true,
    )
    .await?
    .kept;
    uses.save();
    if cancel.is_cancelled() {
        return Err(AppError::Interrupted);
    }
    let plans: Vec<(&str, &crate::plan::select::ObjectPlan)> = preview
        .outcomes
        .iter()
        .filter(|o| o.succeeded())
        .map(|o| (o.name.as_str(), &o.payload.plan))
        .collect();
    let mut warning = prompt::warning(hosts);
    warning.push_str(&prompt::plan_warning(&plans));
    for outcome in preview.outcomes.iter().filter(|o| !o.succeeded()) {
        if let Some(failure) = &outcome.failure {
            warning.push_str(&format!(
                "  {}: not planned ({}); it will be tried anyway\n",
                report::sanitize(&outcome.name),
                failure.class
            ));
        }
    }
    confirm_with(settings, warning, cancel).await
}

/// Whether to ask: not with `--yes`; an error when there is no terminal to ask on.
fn must_ask(settings: &Settings) -> Result<bool, AppError> {
    if settings.yes {
        Ok(false)
    } else if io::stdin().is_terminal() {
        Ok(true)
    } else {
        Err(AppError::NeedsConfirmation)
    }
}

/// Asks on the terminal unless `--yes`, showing `warning`; Ctrl-C at the prompt ends the run.
async fn confirm_with(
    settings: &Settings,
    warning: String,
    cancel: &CancellationToken,
) -> Result<(), AppError> {
    if !must_ask(settings)? {
        return Ok(());
    }
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

/// A finished fleet run: how its hosts ended, its safety facts, and the outcomes the caller
/// asked to keep, in the order of the run's hosts.
struct Finished<T> {
    tally: Tally,
    kept: FleetRun<T>,
}

/// Runs `job` on every host with the live display on stderr, hands each host's outcome to the
/// outputs as it finishes (NDJSON lines at once), writes the outputs in the chosen format,
/// `--report` and `--metrics-file`, and keeps the outcomes `keep` picks.
async fn fleet<J: HostJob>(
    hosts: Vec<Host>,
    job: J,
    options: FleetOptions,
    cancel: &CancellationToken,
    output: &mut Output,
    keep: impl Fn(&HostOutcome<J::Output>) -> bool,
) -> Result<Finished<J::Output>, AppError>
where
    J::Output: Render + LiveFacts,
{
    let (progress, mut collector) = output.start::<J::Output>(hosts.len());
    let info = &output.info;
    let mut kept = Vec::new();
    let safety = run_fleet(
        Arc::new(SshConnector),
        hosts,
        Arc::new(job),
        Arc::new(options),
        cancel.clone(),
        progress,
        |index, outcome| {
            collector.add(info, index, &outcome);
            if keep(&outcome) {
                kept.push((index, outcome));
            }
        },
    )
    .await;
    kept.sort_by_key(|(index, _)| *index);
    let tally = output.finish(collector, &safety)?;
    Ok(Finished {
        tally,
        kept: FleetRun {
            outcomes: kept.into_iter().map(|(_, outcome)| outcome).collect(),
            safety,
        },
    })
}

/// The run's exit code; a host skipped as busy counts as done unless `--fail-on-busy`.
fn exit_for(tally: &Tally, cancel: &CancellationToken, fail_on_busy: bool) -> Exit {
    let done = tally.succeeded + if fail_on_busy { 0 } else { tally.busy };
    if cancel.is_cancelled() {
        Exit::Interrupted
    } else if done == tally.hosts {
        Exit::Success
    } else if done == 0 {
        Exit::AllFailed
    } else {
        Exit::PartialFailure
    }
}

/// `--ssh-config`, or `~/.ssh/config` then `/etc/ssh/ssh_config`, as ssh reads them.
fn load_ssh_config(settings: &Settings) -> Result<SshConfig, SshConfigError> {
    let home = crate::openssh::home::home_dir();
    let files = match &settings.ssh_config {
        // Given explicitly, it must exist (ssh: "Can't open user config file").
        Some(file) if file.as_os_str() != "none" && !file.exists() => {
            return Err(SshConfigError::Read {
                path: file.display().to_string(),
                source: io::ErrorKind::NotFound.into(),
            });
        }
        Some(file) => vec![file.clone()],
        None => home
            .iter()
            .map(|home| home.join(".ssh").join("config"))
            .chain([PathBuf::from("/etc/ssh/ssh_config")])
            .collect(),
    };
    SshConfig::load(&files, home.as_deref())
}
