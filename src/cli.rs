//! The command line: clap's raw flags, then a validated [`Settings`] where every value is already
//! a domain type (filters parsed, `--limit` parsed, timeouts as durations).
//!
//! Flag names follow docker (`--filter`, `-a`, `-f/--force`), Ansible (`-i`, `--limit`, `--forks`,
//! `-u`) and OpenSSH (`--known-hosts`, `--host-key-checking`, `--identity`).

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::executor::Serial;
use crate::filter::{Filter, FilterError, FilterSet};
use crate::host::Overrides;
use crate::inventory::{Limit, LimitError};
use crate::plan::PruneKind;
use crate::plan::policy::KeepPolicy;
use crate::shard::{ShardArg, ShardError};
use crate::transport::ssh::HostKeyChecking;

mod habits;
mod help;
mod terminal;

pub use habits::habit_error;
pub use terminal::{colour, terminal_message, terminal_width};

/// Prune Docker hosts across a fleet over SSH, with one merged report of reclaimed space.
#[derive(Debug, Parser)]
#[command(
    name = "fleetprune",
    version = help::VERSION,
    about,
    max_term_width = 100,
    after_help = help::MAIN
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a prune plan on every selected host (like `docker system prune`, fleet-wide).
    #[command(after_help = help::PRUNE)]
    Prune(PruneArgs),
    /// Predict, read-only, exactly what `prune` with the same options would delete on each
    /// host, and the space it would free (same as `prune --dry-run`).
    Plan(PruneArgs),
    /// Delete exactly the objects a saved plan (`plan --save`) names, by ID, after checking
    /// each is still there, unchanged and unused.
    Apply(ApplyArgs),
    /// Remove image references on every selected host (like `docker rmi`, fleet-wide): shows
    /// where each exists and whether a container uses it, asks, then removes.
    Rmi(RmiArgs),
    /// Show each host's disk usage (like `docker system df`) and a total.
    #[command(after_help = help::DF)]
    Df,
    /// Check each host: SSH, host key, authentication, tunnel, Engine and API version.
    #[command(after_help = help::PING)]
    Ping(PingArgs),
    /// Print the resolved hosts, connection settings and effective plans; contacts nothing.
    #[command(after_help = help::INVENTORY)]
    Inventory,
    #[command(flatten)]
    Offline(OfflineCommand),
}

/// Commands that contact no host and read no inventory.
#[derive(Debug, Subcommand)]
pub enum OfflineCommand {
    /// Sum saved prune reports (from --report): merge the shards of a run, or a week of runs.
    #[command(after_help = help::REPORT)]
    Report(ReportArgs),
    /// Print a shell completion script.
    #[command(after_help = help::COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout.
    #[command(after_help = help::MAN)]
    Man,
}

/// `fleetprune report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON prune reports, or directories of them (`*.json`).
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// With a directory: only reports finished within this age (90m, 36h, 7d, 2w).
    #[arg(long, value_name = "AGE")]
    pub since: Option<String>,
}

/// What to prune; with no kind flag the inventory's plan is used.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove stopped containers.
    #[arg(long)]
    pub containers: bool,
    /// Remove dangling images (all unused images with -a).
    #[arg(long)]
    pub images: bool,
    /// Remove unused anonymous volumes (named ones too with -a).
    #[arg(long)]
    pub volumes: bool,
    /// Remove networks not used by any container.
    #[arg(long)]
    pub networks: bool,
    /// Remove unused build cache (all build cache with -a).
    #[arg(long)]
    pub build_cache: bool,
    /// Containers, networks and images, like `docker system prune` (add --volumes for volumes).
    #[arg(long)]
    pub system: bool,
    /// Remove all unused images, not only dangling ones; all build cache; named volumes too.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Build cache: keep at least SIZE of cache (API >= 1.48; sent as keep-storage before).
    #[arg(long, value_name = "SIZE", value_parser = parse_space)]
    pub reserved_space: Option<u64>,
    /// Build cache: keep the cache at most SIZE (API >= 1.48).
    #[arg(long, value_name = "SIZE", value_parser = parse_space)]
    pub max_used_space: Option<u64>,
    /// Build cache: keep at least SIZE of the disk free (API >= 1.48).
    #[arg(long, value_name = "SIZE", value_parser = parse_space)]
    pub min_free_space: Option<u64>,
    /// Build cache: the older name of --reserved-space (docker buildx prune --keep-storage).
    #[arg(long, value_name = "SIZE", value_parser = parse_space, conflicts_with = "reserved_space")]
    pub keep_storage: Option<u64>,
    /// Docker filter, repeatable: until=TIMESTAMP|DURATION, label=KEY[=VALUE],
    /// label!=KEY[=VALUE], dangling=true|false.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
    /// Delete nothing: predict what would go, as `fleetprune plan` does.
    #[arg(long, visible_alias = "check")]
    pub dry_run: bool,
    /// With a plan: also list what stays on each host, and why.
    #[arg(long)]
    pub show_kept: bool,
    /// With a plan: write it to FILE (objects by ID, host identities) for `fleetprune apply`.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Keep policy: keep the N most recently created tagged images of each repository.
    #[arg(long, value_name = "N")]
    pub keep_last: Option<usize>,
    /// Keep policy: never remove images with a reference matching GLOB (repeatable),
    /// e.g. 'registry.example.com/base/*' or '*:stable'.
    #[arg(long, value_name = "GLOB")]
    pub protect: Vec<String>,
    /// Keep policy: never remove objects carrying label KEY or KEY=VALUE (repeatable).
    #[arg(long = "protect-label", value_name = "KEY[=VALUE]")]
    pub protect_labels: Vec<String>,
    /// Keep policy: never remove containers whose name matches GLOB (repeatable).
    #[arg(long = "protect-container", value_name = "GLOB")]
    pub protect_containers: Vec<String>,
    /// Keep policy: never remove anything created less than this long ago (48h, 14d).
    #[arg(long, value_name = "DURATION", value_parser = parse_min_age)]
    pub min_age: Option<jiff::SignedDuration>,
    /// Keep policy: keep images used (by a container, or as fleetprune saw on earlier runs)
    /// less than this long ago (14d).
    #[arg(long, value_name = "DURATION", value_parser = parse_min_age)]
    pub unused_for: Option<jiff::SignedDuration>,
    /// Keep policy: leave hosts whose docker usage is under HIGH alone; above it, remove stopped
    /// containers, dangling images, build cache, then least recently used images until LOW
    /// (50GB, or 50GB:40GB).
    #[arg(long, value_name = "HIGH[:LOW]", value_parser = parse_max_usage)]
    pub max_usage: Option<crate::plan::policy::UsageLimit>,
    /// Keep policy: leave hosts whose filesystem holding DockerRootDir (and containerd's root,
    /// with the containerd store; the fuller) is used under HIGH alone; above it, remove as
    /// --max-usage does until LOW (85%, or 85%:70%; read with df on the host).
    #[arg(long, value_name = "HIGH%[:LOW%]", value_parser = parse_threshold)]
    pub threshold: Option<crate::plan::policy::DiskThreshold>,
    /// Keep policy: the same as --threshold on the filesystems' inodes (90%, or 90%:80%; read
    /// with df -i on the host).
    #[arg(long, value_name = "HIGH%[:LOW%]", value_parser = parse_threshold)]
    pub inode_threshold: Option<crate::plan::policy::DiskThreshold>,
    /// Keep policy: keep stopped containers that exited less than this long ago (from
    /// State.FinishedAt; 1h, 30m).
    #[arg(long, value_name = "DURATION", value_parser = parse_min_age)]
    pub exited_for: Option<jiff::SignedDuration>,
    /// Keep policy: keep the N most recently exited containers of each name stem or compose
    /// service.
    #[arg(long, value_name = "N")]
    pub keep_exited: Option<usize>,
    /// Also prune what Kubernetes, Nomad or Swarm manage (their labelled containers, images,
    /// volumes, networks); protected by default.
    #[arg(long)]
    pub include_managed: bool,
    #[command(flatten)]
    pub busy: BusyArgs,
}

/// The busy guard: a host that is busy is skipped (class `busy`), between kinds too.
#[derive(Debug, Args)]
pub struct BusyArgs {
    /// The host is busy while a running container matches this docker container filter
    /// (repeatable, any match): label=com.gitlab.gitlab-runner.type=build, name=jenkins-.
    #[arg(long = "busy-if-running", value_name = "FILTER")]
    pub busy_if_running: Vec<String>,
    /// The host is busy when this command, run on it over SSH, exits non-zero; its first line
    /// of output is the reason.
    #[arg(long, value_name = "CMD")]
    pub busy_check: Option<String>,
    /// A busy host counts as a failure for the exit code.
    #[arg(long)]
    pub fail_on_busy: bool,
    /// Wait up to DURATION for a busy host to become idle before skipping it (10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_max_age)]
    pub wait_idle: Option<Duration>,
}

impl BusyArgs {
    /// Checks the flags and copies them into `overrides`.
    fn apply(&self, overrides: &mut Overrides) -> Result<(), SettingsError> {
        crate::plan::busy::BusyGuard::new(
            &self.busy_if_running,
            self.busy_check.clone(),
            self.wait_idle,
        )
        .map_err(SettingsError::Busy)?;
        overrides.busy_if_running =
            (!self.busy_if_running.is_empty()).then(|| self.busy_if_running.clone());
        overrides.busy_check = self.busy_check.clone();
        overrides.wait_idle = self.wait_idle;
        Ok(())
    }
}

fn parse_threshold(text: &str) -> Result<crate::plan::policy::DiskThreshold, String> {
    text.parse()
        .map_err(|e: crate::plan::policy::PolicyError| e.to_string())
}

fn parse_max_usage(text: &str) -> Result<crate::plan::policy::UsageLimit, String> {
    text.parse()
        .map_err(|e: crate::plan::policy::PolicyError| e.to_string())
}

fn parse_space(text: &str) -> Result<u64, String> {
    crate::plan::policy::parse_size(text).map_err(|e| e.to_string())
}

fn parse_min_age(text: &str) -> Result<jiff::SignedDuration, String> {
    crate::plan::policy::parse_age(text).map_err(|e| e.to_string())
}

impl PruneArgs {
    /// The keep policy the flags set, if any flag was given.
    fn policy(&self) -> Result<Option<KeepPolicy>, SettingsError> {
        let policy = KeepPolicy {
            keep_last: self.keep_last,
            protect: self.protect.clone(),
            protect_labels: self.protect_labels.clone(),
            protect_containers: self.protect_containers.clone(),
            min_age: self.min_age,
            unused_for: self.unused_for,
            max_usage: self.max_usage,
            threshold: self.threshold,
            inode_threshold: self.inode_threshold,
            exited_for: self.exited_for,
            keep_exited: self.keep_exited,
            include_managed: false,
        };
        if policy.is_empty() {
            return Ok(None);
        }
        policy.validate().map_err(SettingsError::Policy)?;
        Ok(Some(policy))
    }
}

/// `fleetprune apply PLAN.json`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file written by `fleetprune plan --save`.
    #[arg(value_name = "PLAN.json")]
    pub plan: PathBuf,
    /// Refuse a plan older than this (24h, 90m, 2d).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_max_age)]
    pub max_age: Duration,
    #[command(flatten)]
    pub busy: BusyArgs,
}

/// `fleetprune rmi REF...`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Image references (`repo:tag`, `repo@sha256:...`) or IDs (at least 12 hex digits).
    #[arg(value_name = "REF", required = true)]
    pub refs: Vec<String>,
    /// Also remove images used by stopped containers (docker's `rmi -f`; `--force` here means
    /// `--yes`). A running container's image is never removed.
    #[arg(long)]
    pub remove_in_use: bool,
}

fn parse_max_age(text: &str) -> Result<Duration, String> {
    let duration = crate::plan::policy::parse_age(text).map_err(|e| e.to_string())?;
    Duration::try_from(duration).map_err(|_| "a maximum age cannot be negative".to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Columns for people (fits the terminal's width).
    Table,
    /// One JSON document.
    Json,
    /// One JSON line per host as it finishes, then a summary line.
    Ndjson,
    /// A row per host and kind, exact bytes.
    Csv,
    /// A Markdown table, to paste into a ticket.
    Markdown,
}

/// What `ping` does besides checking.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Print each host's SSH host key as a known_hosts line (like ssh-keyscan) to review and
    /// pin; nothing is trusted, authenticated or written.
    #[arg(long)]
    pub print_host_keys: bool,
}

/// The longest `--timeout`, `--connect-timeout` and `--grace` (seconds): OpenSSH's limit for
/// its own times (`ConnectTimeout`, `ServerAliveInterval`), 68 years; clap names it when refusing.
pub const MAX_SECONDS: u64 = i32::MAX as u64;

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct CommonArgs {
    /// Ansible inventory: a YAML or INI file, a directory of them, `host1,host2,`, an
    /// `ssh://user@host:port/socket`, `docker-contexts:` or `podman-connections:`;
    /// repeatable [default: ansible.cfg's inventory, else ./inventory.yaml].
    #[arg(
        short = 'i',
        long,
        global = true,
        value_name = "SOURCE",
        env = "FLEETPRUNE_INVENTORY"
    )]
    pub inventory: Vec<PathBuf>,
    /// Hosts to act on: host and group names, globs, comma-separated; `!` excludes, `&`
    /// intersects (Ansible's --limit).
    #[arg(short = 'l', long, global = true, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Hosts handled at the same time.
    #[arg(long, global = true, default_value = "32")]
    pub forks: NonZeroUsize,
    /// SSH handshakes (connect, key exchange, authentication) at the same time, whatever
    /// --forks: key exchanges are CPU-bound, and thousands at once starve each other.
    #[arg(long, global = true, value_name = "N", default_value = "128")]
    pub handshakes: NonZeroUsize,
    /// Seconds allowed per host, from connecting to the end of its work.
    #[arg(long, global = true, value_name = "SECS", default_value = "600",
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub timeout: u64,
    /// Seconds allowed to reach an authenticated SSH session (like OpenSSH's ConnectTimeout,
    /// but covering the handshake and authentication too).
    #[arg(long, global = true, value_name = "SECS", default_value = "15",
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECONDS))]
    pub connect_timeout: u64,
    /// Extra connection attempts for transient failures (refused, connect timeout), with
    /// doubling, jittered pauses from 1s.
    #[arg(long, global = true, value_name = "N", default_value = "0")]
    pub retries: u32,
    /// Run hosts in batches of N hosts or P% of them; the first batch is a canary: if any of
    /// its hosts fails, later batches are not started.
    #[arg(long, global = true, value_name = "N|P%")]
    pub serial: Option<Serial>,
    /// Stop starting hosts once more than P% of the selected hosts have failed; the rest are
    /// reported as cancelled.
    #[arg(long, global = true, value_name = "P",
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub max_fail_percentage: Option<u8>,
    /// Seconds that calls in flight may still take after Ctrl-C or SIGTERM before they are
    /// cut (and reported as outcome unknown).
    #[arg(long, global = true, value_name = "SECS", default_value = "10",
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECONDS))]
    pub grace: u64,
    /// known_hosts file, repeatable; new keys go to the first [default: ~/.ssh/known_hosts,
    /// ~/.ssh/known_hosts2]. The global files (/etc/ssh/ssh_known_hosts) are read too, as ssh does.
    #[arg(
        long,
        global = true,
        env = "FLEETPRUNE_KNOWN_HOSTS",
        value_name = "FILE"
    )]
    pub known_hosts: Vec<PathBuf>,
    /// OpenSSH client configuration to read instead of ~/.ssh/config and /etc/ssh/ssh_config
    /// (like `ssh -F`); `-F /dev/null` reads none.
    #[arg(short = 'F', long, global = true, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Host key policy, as OpenSSH's StrictHostKeyChecking [default: strict, or what the
    /// inventory's ssh arguments or ansible.cfg say].
    #[arg(long, global = true, value_enum)]
    pub host_key_checking: Option<HostKeyChecking>,
    /// Login user for every host (overrides ansible_user).
    #[arg(short = 'u', long, global = true)]
    pub user: Option<String>,
    /// Private key file for every host (overrides ansible_ssh_private_key_file).
    #[arg(long, global = true, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Report format on stdout.
    #[arg(short = 'o', long, global = true, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// Also write the JSON report to FILE (replaced atomically), whatever --output says.
    #[arg(long, global = true, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write Prometheus metrics to PATH (node_exporter's textfile collector; replaced
    /// atomically).
    #[arg(long, global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Run only slice I of N of the selected hosts (by a stable hash of the name); auto/N
    /// takes I from JOB_COMPLETION_INDEX (from 0).
    #[arg(long, global = true, value_name = "I/N")]
    pub shard: Option<ShardArg>,
    /// Print only the final report and errors: no progress, no per-host lines.
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// Do not prompt for confirmation (also -f/--force, as with docker).
    #[arg(
        short = 'y',
        long,
        global = true,
        visible_alias = "force",
        short_alias = 'f'
    )]
    pub yes: bool,
    /// More detail: deleted object lists; -vv and more also raise log levels (or use RUST_LOG).
    #[arg(short = 'v', long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

/// The command, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Prune,
    /// `plan`, `prune --dry-run`.
    Plan,
    /// `apply PLAN.json`.
    Apply,
    /// `rmi REF...`.
    Rmi,
    Df,
    Ping,
    Inventory,
}

impl Action {
    /// The command's name, as reports and metrics name it.
    pub fn command(self) -> &'static str {
        match self {
            Action::Prune => "prune",
            Action::Plan => "plan",
            Action::Apply => "apply",
            Action::Rmi => "rmi",
            Action::Df => "df",
            Action::Ping => "ping",
            Action::Inventory => "inventory",
        }
    }
}

/// Everything a run needs, validated before any host is contacted.
#[derive(Debug, Clone)]
pub struct Settings {
    pub action: Action,
    /// `-i` values; empty means "the default inventory".
    pub inventory: Vec<PathBuf>,
    pub limit: Option<Limit>,
    pub forks: NonZeroUsize,
    /// `--handshakes`.
    pub handshakes: NonZeroUsize,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The user known_hosts files; new keys go to the first.
    pub known_hosts: Vec<PathBuf>,
    /// `--known-hosts` was given: it wins over a host's `UserKnownHostsFile`.
    pub known_hosts_given: bool,
    /// `--host-key-checking`, when given.
    pub host_key_checking: Option<HostKeyChecking>,
    /// `-F/--ssh-config`, when given.
    pub ssh_config: Option<PathBuf>,
    pub overrides: Overrides,
    pub retries: u32,
    pub serial: Option<Serial>,
    pub max_fail_percentage: Option<u8>,
    pub grace: Duration,
    pub output: OutputFormat,
    /// `--report`.
    pub report: Option<PathBuf>,
    /// `--metrics-file`.
    pub metrics_file: Option<PathBuf>,
    /// `--shard`, resolved.
    pub shard: Option<crate::shard::Shard>,
    pub quiet: bool,
    pub yes: bool,
    pub verbose: u8,
    /// `ping --print-host-keys`.
    pub print_host_keys: bool,
    /// `--show-kept` (plans).
    pub show_kept: bool,
    /// `--save FILE` (plans).
    pub save_plan: Option<PathBuf>,
    /// `apply`: the plan file and the oldest plan accepted.
    pub apply: Option<(PathBuf, Duration)>,
    /// `rmi`: the references, and `--remove-in-use`.
    pub rmi: Option<(Vec<String>, bool)>,
    /// `--fail-on-busy`: a host skipped as busy fails the run.
    pub fail_on_busy: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("keep policy: {0}")]
    Policy(crate::plan::policy::PolicyError),
    #[error("busy guard: {0}")]
    Busy(crate::plan::busy::BusyError),
    #[error(
        "--wait-idle {wait}s must be shorter than the per-host --timeout {timeout}s, which covers the wait"
    )]
    WaitIdleTooLong { wait: u64, timeout: u64 },
    #[error("{flag} needs `fleetprune plan` or `prune --dry-run`")]
    PlanOnly { flag: &'static str },
    #[error("--filter {text}: {error}")]
    Filter { text: String, error: FilterError },
    #[error("--limit: {0}")]
    Limit(#[from] LimitError),
    #[error("cannot find the home directory for ~/.ssh/known_hosts: give --known-hosts")]
    NoHome,
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("this command contacts no host")]
    Offline,
}

impl Cli {
    /// Validates the flags into [`Settings`].
    pub fn settings(self) -> Result<Settings, SettingsError> {
        let common = self.common;
        let mut overrides = Overrides {
            user: common.user,
            identity: common.identity,
            ..Overrides::default()
        };
        let mut print_host_keys = false;
        let mut show_kept = false;
        let mut save_plan = None;
        let mut apply = None;
        let mut rmi = None;
        let mut fail_on_busy = false;
        let is_plan = matches!(self.command, Command::Plan(_));
        let action = match self.command {
            Command::Prune(prune) | Command::Plan(prune) => {
                let planning = prune.dry_run || is_plan;
                if !planning && prune.show_kept {
                    return Err(SettingsError::PlanOnly {
                        flag: "--show-kept",
                    });
                }
                if !planning && prune.save.is_some() {
                    return Err(SettingsError::PlanOnly { flag: "--save" });
                }
                show_kept = prune.show_kept;
                save_plan = prune.save.clone();
                overrides.kinds = prune.kinds();
                overrides.all = prune.all;
                overrides.policy = prune.policy()?;
                overrides.include_managed = prune.include_managed;
                prune.busy.apply(&mut overrides)?;
                fail_on_busy = prune.busy.fail_on_busy;
                let space = crate::plan::BuildCacheSpace {
                    reserved_space: prune.reserved_space.or(prune.keep_storage),
                    max_used_space: prune.max_used_space,
                    min_free_space: prune.min_free_space,
                };
                overrides.build_cache_space = (!space.is_empty()).then_some(space);
                if !prune.filters.is_empty() {
                    // Parsed one by one so the message names the offending flag.
                    let filters = prune
                        .filters
                        .iter()
                        .map(|text| {
                            text.parse::<Filter>()
                                .map_err(|error| SettingsError::Filter {
                                    text: text.clone(),
                                    error,
                                })
                        })
                        .collect::<Result<Vec<Filter>, _>>()?;
                    let set = FilterSet::new(filters).map_err(|error| SettingsError::Filter {
                        text: prune.filters.join(" "),
                        error,
                    })?;
                    overrides.filters = Some(set);
                }
                if planning {
                    Action::Plan
                } else {
                    Action::Prune
                }
            }
            Command::Apply(args) => {
                args.busy.apply(&mut overrides)?;
                fail_on_busy = args.busy.fail_on_busy;
                apply = Some((args.plan, args.max_age));
                Action::Apply
            }
            Command::Rmi(args) => {
                rmi = Some((args.refs, args.remove_in_use));
                Action::Rmi
            }
            Command::Df => Action::Df,
            Command::Ping(ping) => {
                print_host_keys = ping.print_host_keys;
                Action::Ping
            }
            Command::Inventory => Action::Inventory,
            Command::Offline(_) => return Err(SettingsError::Offline),
        };
        if let Some(wait) = overrides.wait_idle
            && wait.as_secs() >= common.timeout
        {
            return Err(SettingsError::WaitIdleTooLong {
                wait: wait.as_secs(),
                timeout: common.timeout,
            });
        }
        let known_hosts_given = !common.known_hosts.is_empty();
        let known_hosts = if known_hosts_given {
            common.known_hosts
        } else {
            let ssh_dir = home_dir()
                .map(|home| home.join(".ssh"))
                .ok_or(SettingsError::NoHome)?;
            vec![ssh_dir.join("known_hosts"), ssh_dir.join("known_hosts2")]
        };
        Ok(Settings {
            action,
            inventory: common.inventory,
            limit: common.limit.as_deref().map(Limit::parse).transpose()?,
            forks: common.forks,
            handshakes: common.handshakes,
            timeout: Duration::from_secs(common.timeout),
            connect_timeout: Duration::from_secs(common.connect_timeout.min(common.timeout)),
            known_hosts,
            known_hosts_given,
            host_key_checking: common.host_key_checking,
            ssh_config: common.ssh_config,
            overrides,
            retries: common.retries,
            serial: common.serial,
            max_fail_percentage: common.max_fail_percentage,
            grace: Duration::from_secs(common.grace),
            output: common.output,
            report: common.report,
            metrics_file: common.metrics_file,
            shard: common
                .shard
                .map(|shard| shard.resolve(std::env::var("JOB_COMPLETION_INDEX").ok()))
                .transpose()?,
            quiet: common.quiet,
            yes: common.yes,
            verbose: common.verbose,
            print_host_keys,
            show_kept,
            save_plan,
            apply,
            rmi,
            fail_on_busy,
        })
    }
}

impl PruneArgs {
    fn kinds(&self) -> BTreeSet<PruneKind> {
        let mut kinds = BTreeSet::new();
        let mut add = |on: bool, kind| {
            if on {
                kinds.insert(kind);
            }
        };
        add(self.containers || self.system, PruneKind::Containers);
        add(self.networks || self.system, PruneKind::Networks);
        add(self.images || self.system, PruneKind::Images);
        add(self.volumes, PruneKind::Volumes);
        add(self.build_cache, PruneKind::BuildCache);
        kinds
    }
}

/// `$HOME`, else the password database, as OpenSSH finds `~/.ssh`.
pub fn home_dir() -> Option<PathBuf> {
    crate::openssh::home::home_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Result<Settings, SettingsError> {
        let mut argv = vec!["fleetprune"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().settings()
    }

    #[test]
    fn build_cache_size_flags_as_docker_buildx_prune_spells_them() {
        let s = settings(&[
            "prune",
            "--build-cache",
            "--keep-storage",
            "10GB",
            "--min-free-space",
            "1.5GiB",
            "--known-hosts",
            "kh",
        ])
        .unwrap();
        assert_eq!(
            s.overrides.build_cache_space,
            Some(crate::plan::BuildCacheSpace {
                reserved_space: Some(10_000_000_000),
                max_used_space: None,
                min_free_space: Some(1_610_612_736),
            })
        );
        let both = [
            "prune",
            "--build-cache",
            "--keep-storage",
            "1GB",
            "--reserved-space",
            "2GB",
        ];
        assert!(Cli::try_parse_from([&["fleetprune"][..], &both[..]].concat()).is_err());
        assert!(Cli::try_parse_from(["fleetprune", "prune", "--max-used-space", "lots"]).is_err());
    }

    #[test]
    fn system_means_containers_networks_images() {
        let s = settings(&["prune", "--system", "--known-hosts", "kh"]).unwrap();
        assert_eq!(
            s.overrides.kinds,
            [
                PruneKind::Containers,
                PruneKind::Networks,
                PruneKind::Images
            ]
            .into()
        );
        let s = settings(&["prune", "--system", "--volumes", "--known-hosts", "kh"]).unwrap();
        assert!(s.overrides.kinds.contains(&PruneKind::Volumes));
    }

    #[test]
    fn busy_flags_are_checked_before_any_host_is_contacted() {
        let s = settings(&[
            "prune",
            "--containers",
            "--known-hosts",
            "kh",
            "--busy-if-running",
            "label=ci.job=build",
            "--busy-check",
            "true",
            "--wait-idle",
            "5m",
            "--fail-on-busy",
            "--include-managed",
            "--exited-for",
            "1h",
            "--keep-exited",
            "2",
        ])
        .unwrap();
        assert!(s.fail_on_busy);
        assert!(s.overrides.include_managed);
        assert_eq!(
            s.overrides.busy_if_running,
            Some(vec!["label=ci.job=build".to_string()])
        );
        assert_eq!(s.overrides.wait_idle, Some(Duration::from_secs(300)));
        let policy = s.overrides.policy.unwrap();
        assert_eq!(policy.keep_exited, Some(2));
        assert!(matches!(
            settings(&["prune", "--containers", "--busy-if-running", "colour=red"]),
            Err(SettingsError::Busy(_))
        ));
        assert!(matches!(
            settings(&["prune", "--containers", "--wait-idle", "10m"]),
            Err(SettingsError::WaitIdleTooLong {
                wait: 600,
                timeout: 600
            })
        ));
        let s = settings(&[
            "apply",
            "plan.json",
            "--known-hosts",
            "kh",
            "--busy-check",
            "true",
        ])
        .unwrap();
        assert_eq!(s.overrides.busy_check.as_deref(), Some("true"));
    }

    #[test]
    fn force_is_yes_like_docker() {
        let s = settings(&["prune", "-f", "--images", "--known-hosts", "kh"]).unwrap();
        assert!(s.yes);
        let s = settings(&["prune", "--force", "--images", "--known-hosts", "kh"]).unwrap();
        assert!(s.yes);
    }

    #[test]
    fn common_options_go_before_or_after_the_command() {
        let s = settings(&[
            "-i",
            "farm.yaml",
            "df",
            "--limit",
            "builders",
            "--known-hosts",
            "kh",
        ])
        .unwrap();
        assert_eq!(s.inventory, [PathBuf::from("farm.yaml")]);
        assert_eq!(s.limit.unwrap().as_str(), "builders");
    }

    #[test]
    fn bad_filter_names_the_flag() {
        let error = settings(&[
            "prune",
            "--images",
            "--filter",
            "until=banana",
            "--known-hosts",
            "kh",
        ])
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("--filter until=banana: invalid until value"),
            "{error}"
        );
    }

    #[test]
    fn safety_valves_are_parsed_into_settings() {
        let s = settings(&[
            "ping",
            "--serial",
            "25%",
            "--max-fail-percentage",
            "10",
            "--retries",
            "2",
            "--known-hosts",
            "kh",
        ])
        .unwrap();
        assert_eq!(s.serial, Some(Serial::Percent(25)));
        assert_eq!(s.max_fail_percentage, Some(10));
        assert_eq!(s.retries, 2);
        assert!(
            Cli::try_parse_from(["fleetprune", "ping", "--max-fail-percentage", "101"]).is_err()
        );
        assert!(Cli::try_parse_from(["fleetprune", "ping", "--serial", "0"]).is_err());
    }

    #[test]
    fn zero_forks_and_zero_timeout_are_refused_by_clap() {
        assert!(Cli::try_parse_from(["fleetprune", "ping", "--forks", "0"]).is_err());
        assert!(Cli::try_parse_from(["fleetprune", "ping", "--timeout", "0"]).is_err());
    }
}
