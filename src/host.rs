//! A host ready to contact: connection settings and effective prune plan, resolved from the
//! inventory's merged variables and the command line (which wins over every inventory level).
//!
//! Resolution happens for every selected host before any is contacted, so a bad plan, or an ssh
//! configuration named by a host's `-F FILE` that cannot be read, is an input error with the
//! host's place in the inventory.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::filter::FilterSet;
use crate::inventory::InventoryHost;
use crate::openssh::algorithms::{AlgorithmError, AlgorithmList, Algorithms};
use crate::openssh::args::{SshArgs, SshOption, StrictHostKeyChecking};
use crate::openssh::config::{HostConfig, SshConfig, SshConfigError};
use crate::openssh::home::expand_tilde;
use crate::openssh::route::{Destination, Proxy, Route, RouteError};
use crate::openssh::tokens;
use crate::openssh::url::{SshUrl, SshUrlError};
use crate::plan::busy::BusyGuard;
use crate::plan::policy::KeepPolicy;
use crate::plan::{AllScope, PlanError, PruneKind, PrunePlan};

/// The socket path Docker uses by default.
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// A selected host with everything needed to contact and prune it.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub name: String,
    pub groups: Vec<String>,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: Option<PathBuf>,
    pub docker_socket: String,
    /// `StrictHostKeyChecking` from the host's ssh arguments or ansible.cfg, when set.
    #[serde(serialize_with = "serialize_display")]
    pub host_key_checking: Option<StrictHostKeyChecking>,
    /// `UserKnownHostsFile` from the host's ssh options; empty when not set.
    pub known_hosts: Vec<PathBuf>,
    /// `GlobalKnownHostsFile` from the host's ssh options, when set.
    pub global_known_hosts: Option<Vec<PathBuf>>,
    /// `HashKnownHosts yes`: keys learnt with accept-new are recorded under hashed names.
    pub hash_known_hosts: bool,
    /// `ConnectTimeout` from the host's ssh arguments, when set.
    #[serde(skip)]
    pub connect_timeout: Option<Duration>,
    /// `IdentitiesOnly yes`: no agent key but the copies of the host's own key files.
    pub identities_only: bool,
    /// `IdentityAgent`: `Some(None)` for `none` (no agent), else the agent's socket.
    pub identity_agent: Option<Option<PathBuf>>,
    /// `HostKeyAlias`: host keys are looked up and recorded under this name instead.
    pub host_key_alias: Option<String>,
    /// `ServerAliveInterval` (seconds; 0 turns keep-alives off) and `ServerAliveCountMax`.
    pub server_alive: (Option<u64>, Option<u32>),
    /// `KexAlgorithms`, `Ciphers` and `MACs` from the host's ssh options.
    pub algorithms: Algorithms,
    /// Directly, through jump hosts or through a proxy command.
    pub route: Route,
    /// The file a `-F FILE` in the host's ssh arguments names, read for the host and its jump
    /// hosts instead of the default files (or `--ssh-config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_config: Option<PathBuf>,
    /// Why the host is not contacted at all, when it is not.
    pub refused: Option<Refusal>,
    /// `None` when neither the inventory nor the command line asks for a prune.
    #[serde(skip)]
    pub plan: Option<Arc<PrunePlan>>,
    /// When the host is too busy to prune (inventory `busy_*` keys and flags); empty when
    /// no guard is set. Kept apart from the plan: `apply` has no plan but checks it too.
    #[serde(skip)]
    pub busy: BusyGuard,
}

/// Why a host is left alone rather than reached some other way than its inventory says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// `ansible_connection: local`, `docker`, ...: not an SSH host.
    #[error(
        "skipped: ansible_connection is {connection:?}; fleetprune reaches hosts over ssh only, so this host is not contacted"
    )]
    Connection { connection: String },
    /// An ssh option fleetprune cannot honour, e.g. a bastion (`-J`, `ProxyJump`).
    #[error(
        "{setting} has ssh option {option}, which fleetprune cannot honour yet; the host is not contacted rather than reached without it"
    )]
    SshOption { setting: String, option: String },
    /// A `ProxyJump` or `ProxyCommand` that cannot be followed as configured.
    #[error("{setting}: {error}; the host is not contacted rather than reached some other way")]
    Route {
        setting: String,
        #[serde(serialize_with = "serialize_error")]
        error: RouteError,
    },
    /// A `KexAlgorithms`, `Ciphers` or `MACs` list with nothing fleetprune can negotiate.
    #[error("{setting}: {error}; the host is not contacted")]
    Algorithms {
        setting: String,
        #[serde(serialize_with = "serialize_error")]
        error: AlgorithmError,
    },
}

fn serialize_error<S: serde::Serializer>(
    error: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(error)
}

/// What the command line says about connections and prune plans.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub user: Option<String>,
    pub identity: Option<PathBuf>,
    /// Kind flags given on the command line; when non-empty they replace the inventory's kinds.
    pub kinds: BTreeSet<PruneKind>,
    /// `-a/--all`.
    pub all: bool,
    /// `--filter` values; when given they replace the inventory's filters.
    pub filters: Option<FilterSet>,
    /// Keep-policy flags; when any is given they replace the inventory's policy.
    pub policy: Option<KeepPolicy>,
    /// `--include-managed`: added to whichever policy applies.
    pub include_managed: bool,
    /// `--busy-if-running` values; when given they replace the inventory's.
    pub busy_if_running: Option<Vec<String>>,
    /// `--busy-check`; replaces the inventory's.
    pub busy_check: Option<String>,
    /// `--wait-idle`.
    pub wait_idle: Option<std::time::Duration>,
    /// Build-cache size flags; when any is given they replace the inventory's.
    pub build_cache_space: Option<crate::plan::BuildCacheSpace>,
}

/// Ansible configuration below every inventory variable (ansible.cfg and `ANSIBLE_*`), and the
/// local login name, used when nothing else names a user.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// `remote_user`.
    pub user: Option<String>,
    /// `private_key_file`.
    pub identity: Option<PathBuf>,
    /// `ssh_args`, replaced by a host's `ansible_ssh_args`.
    pub ssh_args: Option<SshArgs>,
    /// `host_key_checking = False`, which Ansible passes as `-o StrictHostKeyChecking=no`.
    pub host_key_checking_off: bool,
    pub local_user: String,
    /// `~/.ssh/config` and `/etc/ssh/ssh_config`, or `--ssh-config`.
    pub ssh_config: SshConfig,
}

/// A plan or ssh configuration problem on one host, with the host's place in the inventory.
#[derive(Debug, thiserror::Error)]
#[error("{place}: host {host}: {error}")]
pub struct HostPlanError {
    pub place: String,
    pub host: String,
    pub error: HostError,
}

/// Why a host cannot be resolved; the run stops before any host is contacted.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The file of a `-F FILE` cannot be read or parsed (boxed: rare, and large).
    #[error(transparent)]
    ConfigFile(Box<ConfigFileError>),
    /// A destination written as a malformed `ssh://` URL.
    #[error(transparent)]
    Url(#[from] SshUrlError),
}

/// A `-F FILE` whose file cannot be read or parsed, with the setting that names it.
#[derive(Debug, thiserror::Error)]
#[error("{setting} -F {}: {error}", path.display())]
pub struct ConfigFileError {
    setting: String,
    path: PathBuf,
    error: SshConfigError,
}

/// The ssh configuration files hosts name with `-F`, each read once per run.
#[derive(Debug, Default)]
pub struct ConfigFiles {
    read: HashMap<PathBuf, SshConfig>,
}

impl ConfigFiles {
    /// The configuration in `path`, read on first use; `setting` names where `-F` was given.
    fn get(&mut self, setting: &str, path: &Path) -> Result<&SshConfig, HostError> {
        if !self.read.contains_key(path) {
            let home = crate::openssh::home::home_dir();
            let config = SshConfig::load_given(path, home.as_deref()).map_err(|error| {
                HostError::ConfigFile(Box::new(ConfigFileError {
                    setting: setting.to_string(),
                    path: path.to_path_buf(),
                    error,
                }))
            })?;
            self.read.insert(path.to_path_buf(), config);
        }
        Ok(&self.read[path])
    }
}

/// Connection plugins fleetprune speaks: Ansible's ssh and its aliases.
const SSH_CONNECTIONS: [&str; 5] = [
    "ssh",
    "smart",
    "paramiko",
    "paramiko_ssh",
    "ansible.builtin.ssh",
];

/// The ssh options of one host, first value wins per option as with ssh itself.
#[derive(Debug, Default)]
struct EffectiveSsh {
    host_name: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    identity: Option<PathBuf>,
    host_key_checking: Option<StrictHostKeyChecking>,
    known_hosts: Option<Vec<PathBuf>>,
    global_known_hosts: Option<Vec<PathBuf>>,
    hash_known_hosts: Option<bool>,
    connect_timeout: Option<u64>,
    identities_only: Option<bool>,
    identity_agent: Option<Option<String>>,
    host_key_alias: Option<String>,
    server_alive_interval: Option<u64>,
    server_alive_count_max: Option<u32>,
    /// The first `KexAlgorithms`, `Ciphers` and `MACs`, each with where it came from.
    algorithm_lists: Vec<(String, AlgorithmList)>,
    /// The first proxy setting, with where it came from.
    proxy: Option<(String, Proxy)>,
    /// The last `-F FILE`, with where it came from.
    config_file: Option<(String, PathBuf)>,
    refused: Option<Refusal>,
}

impl EffectiveSsh {
    /// Reads one argument set, named `setting` in messages.
    fn read(&mut self, setting: &str, args: &SshArgs) {
        for option in &args.options {
            self.read_option(&setting, option);
        }
    }

    /// Reads what the ssh configuration says, each option named by its `file:line`.
    fn read_config(&mut self, config: &HostConfig) {
        for (place, option) in &config.options {
            self.read_option(&format_args!("ssh config {place}"), option);
        }
    }

    /// Reads one option; `setting` names where it came from, and is rendered only when kept.
    fn read_option(&mut self, setting: &dyn fmt::Display, option: &SshOption) {
        match option {
            SshOption::HostName(name) => {
                self.host_name.get_or_insert_with(|| name.clone());
            }
            SshOption::Port(port) => {
                self.port.get_or_insert(*port);
            }
            SshOption::User(user) => {
                self.user.get_or_insert_with(|| user.clone());
            }
            SshOption::IdentityFile(path) => {
                self.identity.get_or_insert_with(|| path.clone());
            }
            SshOption::StrictHostKeyChecking(mode) => {
                self.host_key_checking.get_or_insert(*mode);
            }
            SshOption::UserKnownHostsFile(files) => {
                self.known_hosts.get_or_insert_with(|| files.clone());
            }
            SshOption::GlobalKnownHostsFile(files) => {
                self.global_known_hosts.get_or_insert_with(|| files.clone());
            }
            SshOption::HashKnownHosts(hash) => {
                self.hash_known_hosts.get_or_insert(*hash);
            }
            SshOption::ConnectTimeout(seconds) => {
                self.connect_timeout.get_or_insert(*seconds);
            }
            SshOption::IdentitiesOnly(only) => {
                self.identities_only.get_or_insert(*only);
            }
            SshOption::IdentityAgent(agent) => {
                self.identity_agent.get_or_insert_with(|| agent.clone());
            }
            SshOption::HostKeyAlias(alias) => {
                self.host_key_alias.get_or_insert_with(|| alias.clone());
            }
            SshOption::ServerAliveInterval(seconds) => {
                self.server_alive_interval.get_or_insert(*seconds);
            }
            SshOption::ServerAliveCountMax(count) => {
                self.server_alive_count_max.get_or_insert(*count);
            }
            SshOption::Algorithms(list) => {
                if !self
                    .algorithm_lists
                    .iter()
                    .any(|(_, l)| l.kind == list.kind)
                {
                    self.algorithm_lists
                        .push((setting.to_string(), list.clone()));
                }
            }
            SshOption::ProxyJump(_) | SshOption::ProxyCommand(_) => {
                if self.proxy.is_none() {
                    self.proxy = Proxy::from_option(option).map(|p| (setting.to_string(), p));
                }
            }
            SshOption::ConfigFile(path) => {
                // ssh's getopt loop keeps the last -F of its command line.
                self.config_file = Some((setting.to_string(), path.clone()));
            }
            SshOption::Ignored(_) => {}
            SshOption::Unsupported(option) => {
                self.refused.get_or_insert_with(|| Refusal::SshOption {
                    setting: setting.to_string(),
                    option: option.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
impl Host {
    /// A host reached directly as `ops@NAME:22` on the default socket, with `plan`: for tests
    /// that need a resolved host and no inventory.
    pub(crate) fn planned_for_tests(name: &str, plan: PrunePlan) -> Host {
        Host {
            name: name.into(),
            groups: vec![],
            address: name.into(),
            port: 22,
            user: "ops".into(),
            identity: None,
            docker_socket: DEFAULT_DOCKER_SOCKET.into(),
            host_key_checking: None,
            known_hosts: vec![],
            global_known_hosts: None,
            hash_known_hosts: false,
            connect_timeout: None,
            identities_only: false,
            identity_agent: None,
            host_key_alias: None,
            server_alive: (None, None),
            algorithms: Default::default(),
            route: Route::Direct,
            ssh_config: None,
            refused: None,
            busy: Default::default(),
            plan: Some(Arc::new(plan)),
        }
    }
}

impl Host {
    /// Resolves one inventory host. Precedence, highest first: command-line flags, then what
    /// Ansible's ssh plugin would pass first (`ssh_args`, then the `ansible_*` variables, then
    /// ansible.cfg, then `ansible_ssh_common_args`, then `ansible_ssh_extra_args`), then ssh's
    /// defaults. A `-F FILE` among those arguments replaces the default files (or `--ssh-config`)
    /// for this host and its jump hosts, as `ssh -F` does.
    pub fn resolve(
        inventory_host: &InventoryHost,
        overrides: &Overrides,
        defaults: &Defaults,
        config_files: &mut ConfigFiles,
    ) -> Result<Host, HostError> {
        let vars = &inventory_host.vars;
        let mut ssh = EffectiveSsh::default();
        match (&vars.ssh_args, &defaults.ssh_args) {
            (Some(args), _) => ssh.read("ansible_ssh_args", args),
            (None, Some(args)) => ssh.read("ansible.cfg ssh_args", args),
            (None, None) => {}
        }
        // Ansible adds `-o StrictHostKeyChecking=no` right after ssh_args when checking is off;
        // the host's variable wins over ansible.cfg.
        if !vars
            .host_key_checking
            .unwrap_or(!defaults.host_key_checking_off)
        {
            ssh.host_key_checking
                .get_or_insert(StrictHostKeyChecking::No);
        }
        if let Some(port) = vars.port.effective() {
            ssh.port.get_or_insert(*port);
        }
        if let Some(identity) = vars.identity.effective().or(defaults.identity.as_ref()) {
            ssh.identity.get_or_insert_with(|| identity.clone());
        }
        if let Some(user) = vars.user.effective().or(defaults.user.as_ref()) {
            ssh.user.get_or_insert_with(|| user.clone());
        }
        if let Some(args) = &vars.ssh_common_args {
            ssh.read("ansible_ssh_common_args", args);
        }
        if let Some(args) = &vars.ssh_extra_args {
            ssh.read("ansible_ssh_extra_args", args);
        }
        // Then ssh's own configuration, looked up by the destination Ansible passes to ssh; an
        // `ssh://` destination's user and port come between the two, as with ssh itself.
        let written = vars
            .address
            .effective()
            .cloned()
            .unwrap_or_else(|| inventory_host.name.clone());
        let url = SshUrl::parse(&written).transpose()?;
        if let Some(url) = &url {
            if let Some(user) = &url.user {
                ssh.user.get_or_insert_with(|| user.clone());
            }
            if let Some(port) = url.port {
                ssh.port.get_or_insert(port);
            }
        }
        let (destination, url_socket) = match url {
            Some(url) => (url.host, url.socket),
            None => (written, None),
        };
        let login = overrides.user.as_deref().or(ssh.user.as_deref());
        let (ssh_config, config_path) = match ssh.config_file.clone() {
            Some((setting, path)) => (config_files.get(&setting, &path)?, Some(path)),
            None => (&defaults.ssh_config, None),
        };
        ssh.read_config(&ssh_config.host_config(&destination, login, &defaults.local_user));
        let connection = vars
            .connection
            .as_ref()
            .filter(|c| !SSH_CONNECTIONS.contains(&c.as_str()));
        let address = ssh.host_name.unwrap_or(destination);
        let port = ssh.port.unwrap_or(22);
        let user = overrides
            .user
            .clone()
            .or(ssh.user)
            .unwrap_or_else(|| defaults.local_user.clone());
        let destination_tokens = Destination {
            name: &inventory_host.name,
            address: &address,
            port,
            user: &user,
            local_user: &defaults.local_user,
        };
        // `%` tokens, then `~`, in file names, as ssh expands them.
        let mut token_error = None;
        let mut file = |option: &'static str, path: &PathBuf| -> PathBuf {
            match tokens::expand(option, &path.to_string_lossy(), &destination_tokens) {
                Ok(expanded) => expand_tilde(Path::new(&expanded)),
                Err(error) => {
                    token_error.get_or_insert(error);
                    path.clone()
                }
            }
        };
        let known_hosts: Vec<PathBuf> = ssh
            .known_hosts
            .iter()
            .flatten()
            .map(|f| file("UserKnownHostsFile", f))
            .collect();
        let global_known_hosts: Option<Vec<PathBuf>> =
            ssh.global_known_hosts.as_ref().map(|files| {
                files
                    .iter()
                    .map(|f| file("GlobalKnownHostsFile", f))
                    .collect()
            });
        let identity = match &overrides.identity {
            Some(path) => Some(path.clone()),
            None => ssh.identity.as_ref().map(|p| file("IdentityFile", p)),
        };
        let identity_agent = ssh.identity_agent.as_ref().map(|agent| match agent {
            None => None,
            Some(variable) if variable.starts_with('$') || variable == "SSH_AUTH_SOCK" => {
                std::env::var_os(variable.trim_start_matches('$')).map(PathBuf::from)
            }
            Some(socket) => Some(file("IdentityAgent", &PathBuf::from(socket))),
        });
        let route = match &ssh.proxy {
            None => Ok(Route::Direct),
            Some((setting, proxy)) => proxy
                .route(
                    &Destination {
                        name: &inventory_host.name,
                        address: &address,
                        port,
                        user: &user,
                        local_user: &defaults.local_user,
                    },
                    ssh_config,
                )
                .map_err(|error| Refusal::Route {
                    setting: setting.clone(),
                    error,
                }),
        };
        let mut algorithms = Algorithms::default();
        let mut algorithm_refusal = None;
        for (setting, list) in &ssh.algorithm_lists {
            match list.resolve() {
                Ok(names) => algorithms.set(list.kind, names),
                Err(error) => {
                    algorithm_refusal.get_or_insert_with(|| Refusal::Algorithms {
                        setting: setting.clone(),
                        error,
                    });
                }
            }
        }
        let refused = match (connection, route.as_ref().err(), token_error) {
            (Some(connection), _, _) => Some(Refusal::Connection {
                connection: connection.clone(),
            }),
            (None, Some(refusal), _) => Some(refusal.clone()),
            (None, None, Some(error)) => Some(Refusal::Route {
                setting: "ssh options".to_string(),
                error: RouteError::Token(error),
            }),
            (None, None, None) => ssh.refused.or(algorithm_refusal),
        };
        Ok(Host {
            name: inventory_host.name.clone(),
            groups: inventory_host.groups.clone(),
            address,
            port,
            user,
            identity,
            // A socket written with the address, as docker reads `ssh://host/socket`, wins.
            docker_socket: url_socket
                .or_else(|| vars.docker_socket.clone())
                .unwrap_or_else(|| DEFAULT_DOCKER_SOCKET.to_string()),
            host_key_checking: ssh.host_key_checking,
            known_hosts,
            global_known_hosts,
            hash_known_hosts: ssh.hash_known_hosts.unwrap_or(false),
            connect_timeout: ssh.connect_timeout.map(Duration::from_secs),
            identities_only: ssh.identities_only.unwrap_or(false),
            identity_agent,
            host_key_alias: ssh.host_key_alias,
            server_alive: (ssh.server_alive_interval, ssh.server_alive_count_max),
            algorithms,
            route: route.unwrap_or_default(),
            ssh_config: config_path,
            refused,
            plan: resolve_plan(inventory_host, overrides)?.map(Arc::new),
            busy: resolve_busy(inventory_host, overrides)?,
        })
    }

    /// `host:port` for messages, IPv6 addresses in brackets.
    pub fn endpoint(&self) -> String {
        crate::model::connection::endpoint(&self.address, self.port)
    }
}

fn serialize_display<S: serde::Serializer>(
    value: &Option<StrictHostKeyChecking>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(mode) => serializer.collect_str(mode),
        None => serializer.serialize_none(),
    }
}

/// Merges the inventory's prune plan with the command line's.
fn resolve_plan(
    inventory_host: &InventoryHost,
    overrides: &Overrides,
) -> Result<Option<PrunePlan>, PlanError> {
    let vars = &inventory_host.vars.prune;
    let (kinds, mut all) = if overrides.kinds.is_empty() {
        let kinds: BTreeSet<PruneKind> = vars
            .kinds
            .iter()
            .filter(|(_, setting)| setting.enabled)
            .map(|(kind, _)| *kind)
            .collect();
        let widened = |kind| vars.kinds.get(&kind).and_then(|s| s.all).unwrap_or(false);
        let all = AllScope {
            images: widened(PruneKind::Images),
            volumes: widened(PruneKind::Volumes),
            build_cache: widened(PruneKind::BuildCache),
        };
        (kinds, all)
    } else {
        (overrides.kinds.clone(), AllScope::default())
    };
    if kinds.is_empty() {
        return Ok(None);
    }
    if overrides.all {
        all = AllScope {
            images: true,
            volumes: true,
            build_cache: true,
        };
    }
    let filters = flag_replaces_key(&overrides.filters, || {
        vars.filters.clone().unwrap_or_default()
    });
    let mut policy = flag_replaces_key(&overrides.policy, || vars.policy());
    policy.include_managed |= overrides.include_managed;
    let space = flag_replaces_key(&overrides.build_cache_space, || vars.build_cache_space());
    PrunePlan::new(kinds, all, filters)?
        .with_build_cache_space(space)
        .map(|plan| Some(plan.with_policy(policy)))
}

/// Merges the inventory's busy guard with the command line's (flags replace keys).
fn resolve_busy(
    inventory_host: &InventoryHost,
    overrides: &Overrides,
) -> Result<BusyGuard, PlanError> {
    let vars = &inventory_host.vars.prune;
    let if_running = flag_replaces_key(&overrides.busy_if_running, || {
        vars.busy_if_running.clone().unwrap_or_default()
    });
    let check = flag_replaces_key(&overrides.busy_check, || vars.busy_check.clone());
    Ok(BusyGuard::new(&if_running, check, overrides.wait_idle)?)
}

/// A setting as the command line gives it, else as the inventory's keys do: a flag replaces the
/// keys of its setting as a whole (a keep policy, the build-cache sizes, the filters, each busy
/// guard key), never merged with them one by one. `K` is the flag's type, or an `Option` of it
/// where the inventory may leave the setting unset.
fn flag_replaces_key<T: Clone, K: From<T>>(flag: &Option<T>, key: impl FnOnce() -> K) -> K {
    flag.clone().map(K::from).unwrap_or_else(key)
}

/// Resolves every selected host, or reports the first plan or `-F` file error with its place.
/// Each inventory host is dropped as soon as it is resolved when `selected` hands them over.
pub fn resolve_all<H: Borrow<InventoryHost>>(
    selected: impl ExactSizeIterator<Item = H>,
    overrides: &Overrides,
    defaults: &Defaults,
) -> Result<Vec<Host>, HostPlanError> {
    let mut config_files = ConfigFiles::default();
    // Room for exactly the selected hosts: a doubling vector would hold up to twice that.
    let mut hosts = Vec::with_capacity(selected.len());
    // Hosts share a few plans (a group's): each distinct plan is kept once, by its description.
    let mut plans: HashMap<String, Vec<Arc<PrunePlan>>> = HashMap::new();
    for inventory_host in selected {
        let inventory_host = inventory_host.borrow();
        let mut host = Host::resolve(inventory_host, overrides, defaults, &mut config_files)
            .map_err(|error| HostPlanError {
                place: inventory_host.place.to_string(),
                host: inventory_host.name.clone(),
                error,
            })?;
        if let Some(plan) = host.plan.take() {
            let same = plans.entry(plan.describe()).or_default();
            let shared = match same.iter().find(|known| **known == plan) {
                Some(known) => Arc::clone(known),
                None => {
                    same.push(Arc::clone(&plan));
                    plan
                }
            };
            host.plan = Some(shared);
        }
        hosts.push(host);
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use std::path::Path;

    const FARM: &str = "\
all:
  vars:
    ansible_user: ops
    fleetprune:
      prune:
        containers: true
        images: { all: true }
        filter: [\"until=240h\"]
  hosts:
    build-01:
    gpu-box:
      ansible_host: 10.0.0.40
      fleetprune:
        docker_socket: /run/user/1000/docker.sock
        prune: { images: { all: false } }
    bare:
      fleetprune:
        prune: { containers: false, images: false }
";

    fn defaults() -> Defaults {
        Defaults {
            local_user: "me".into(),
            ..Defaults::default()
        }
    }

    fn resolve_text(text: &str, defaults: &Defaults) -> Vec<Host> {
        let inventory = Inventory::from_text(Path::new("farm.yaml"), text).unwrap();
        resolve_all(
            inventory.select(None).hosts.into_iter(),
            &Overrides::default(),
            defaults,
        )
        .unwrap()
    }

    fn hosts(overrides: &Overrides) -> Vec<Host> {
        let inventory = Inventory::from_text(Path::new("farm.yaml"), FARM).unwrap();
        resolve_all(
            inventory.select(None).hosts.into_iter(),
            overrides,
            &defaults(),
        )
        .unwrap()
    }

    #[test]
    fn ssh_spelling_on_a_group_wins_over_plain_spelling_on_the_host() {
        let hosts = resolve_text(
            "all:\n  vars: { ansible_ssh_host: 10.0.0.1, ansible_ssh_port: 2200, ansible_ssh_user: a }\n  hosts:\n    h: { ansible_host: 10.0.0.2, ansible_port: 22, ansible_user: b }\n",
            &defaults(),
        );
        assert_eq!(
            (
                hosts[0].address.as_str(),
                hosts[0].port,
                hosts[0].user.as_str()
            ),
            ("10.0.0.1", 2200, "a")
        );
    }

    #[test]
    fn ssh_arguments_apply_first_value_wins_after_inventory_variables() {
        let hosts = resolve_text(
            "all:\n  hosts:\n    h:\n      ansible_port: 2200\n      ansible_ssh_common_args: -o Port=9 -o User=u -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/k\n",
            &defaults(),
        );
        assert_eq!((hosts[0].port, hosts[0].user.as_str()), (2200, "u"));
        assert_eq!(
            hosts[0].host_key_checking,
            Some(StrictHostKeyChecking::AcceptNew)
        );
        assert_eq!(hosts[0].known_hosts, [PathBuf::from("/k")]);
        assert_eq!(hosts[0].refused, None);
    }

    #[test]
    fn bastions_in_ssh_arguments_become_routes_first_proxy_setting_winning() {
        let hosts = resolve_text(
            "all:\n  hosts:\n    h:\n      ansible_ssh_common_args: -o ProxyJump=ops@bastion:2200 -o ProxyCommand='nc %h %p'\n    k:\n      ansible_port: 2222\n      ansible_ssh_extra_args: -o ProxyCommand='nc %h %p' -J bastion\n    m:\n      ansible_ssh_extra_args: -o ProxyJump=none -J bastion\n",
            &defaults(),
        );
        assert_eq!(
            hosts[0].route,
            Route::Jump {
                hops: vec![crate::openssh::route::JumpHost {
                    name: "bastion".into(),
                    address: "bastion".into(),
                    port: 2200,
                    user: "ops".into(),
                    identity: None,
                }]
            }
        );
        assert_eq!(
            hosts[1].route,
            Route::Command {
                command: "nc k 2222".into()
            }
        );
        assert_eq!(hosts[2].route, Route::Direct);
        assert!(hosts.iter().all(|h| h.refused.is_none()));
    }

    #[test]
    fn a_hosts_dash_f_file_replaces_the_default_config_for_it_and_its_jump_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ssh_config");
        std::fs::write(
            &file,
            "Host web\n  HostName 10.0.0.9\n  ProxyJump jump\nHost jump\n  HostName 192.0.2.1\n  User j\n",
        )
        .unwrap();
        let defaults = Defaults {
            ssh_config: SshConfig::parse("default", "Host web\n  HostName 10.9.9.9\n").unwrap(),
            ..defaults()
        };
        let hosts = resolve_text(
            &format!(
                "all:\n  hosts:\n    web:\n      ansible_ssh_common_args: -F {}\n    other:\n      ansible_host: web\n",
                file.display()
            ),
            &defaults,
        );
        assert_eq!(hosts[0].address, "10.0.0.9");
        assert_eq!(hosts[0].ssh_config.as_deref(), Some(file.as_path()));
        let Route::Jump { hops } = &hosts[0].route else {
            panic!("{:?}", hosts[0].route)
        };
        assert_eq!(
            (hops[0].address.as_str(), hops[0].user.as_str()),
            ("192.0.2.1", "j")
        );
        assert_eq!(hosts[0].refused, None);
        // A host without -F keeps the default files.
        assert_eq!(
            (hosts[1].address.as_str(), &hosts[1].ssh_config),
            ("10.9.9.9", &None)
        );
    }

    #[test]
    fn the_last_dash_f_of_ansibles_command_line_wins_as_in_ssh() {
        let dir = tempfile::tempdir().unwrap();
        let (first, last) = (dir.path().join("first"), dir.path().join("last"));
        std::fs::write(&first, "Host *\n  Port 2201\n").unwrap();
        std::fs::write(&last, "Host *\n  Port 2202\n").unwrap();
        let defaults = Defaults {
            ssh_args: Some(SshArgs::parse("-F /nonexistent/never-read").unwrap()),
            ..defaults()
        };
        let hosts = resolve_text(
            &format!(
                "all:\n  hosts:\n    h:\n      ansible_ssh_common_args: -F {}\n      ansible_ssh_extra_args: -F {}\n",
                first.display(),
                last.display()
            ),
            &defaults,
        );
        assert_eq!(hosts[0].port, 2202);
        assert_eq!(hosts[0].ssh_config.as_deref(), Some(last.as_path()));
    }

    #[test]
    fn a_dash_f_file_that_cannot_be_read_stops_the_run_naming_host_setting_and_file() {
        let inventory = Inventory::from_text(
            Path::new("farm.yaml"),
            "all:\n  hosts:\n    h:\n      ansible_ssh_common_args: -F /nonexistent/ssh_config\n",
        )
        .unwrap();
        let error = resolve_all(
            inventory.select(None).hosts.into_iter(),
            &Overrides::default(),
            &defaults(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "farm.yaml:3:5: host h: ansible_ssh_common_args -F /nonexistent/ssh_config: cannot read ssh config /nonexistent/ssh_config: No such file or directory (os error 2)"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad");
        std::fs::write(&file, "Host h\n  User u\nMatch\n").unwrap();
        let inventory = Inventory::from_text(
            Path::new("farm.yaml"),
            &format!(
                "all:\n  hosts:\n    h:\n      ansible_ssh_extra_args: -F {}\n",
                file.display()
            ),
        )
        .unwrap();
        let error = resolve_all(
            inventory.select(None).hosts.into_iter(),
            &Overrides::default(),
            &defaults(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "farm.yaml:3:5: host h: ansible_ssh_extra_args -F {0}: {0}:3: Match needs criteria",
                file.display()
            )
        );
    }

    #[test]
    fn ssh_urls_name_user_port_and_socket_below_the_inventorys_own_settings() {
        let defaults = Defaults {
            ssh_config: SshConfig::parse(
                "cfg",
                "Host b1\n  HostName 10.0.0.1\n  User cfg\n  Port 4\n",
            )
            .unwrap(),
            ..defaults()
        };
        let hosts = resolve_text(
            "all:\n  hosts:\n    ssh://ops@b1:2222/run/user/1000/docker.sock:\n    plain:\n      ansible_host: ssh://b1\n      ansible_user: inv\n      fleetprune: { docker_socket: /run/podman/podman.sock }\n",
            &defaults,
        );
        assert_eq!(
            (
                hosts[0].address.as_str(),
                hosts[0].port,
                hosts[0].user.as_str()
            ),
            ("10.0.0.1", 2222, "ops")
        );
        assert_eq!(hosts[0].docker_socket, "/run/user/1000/docker.sock");
        assert_eq!(
            (
                hosts[1].address.as_str(),
                hosts[1].port,
                hosts[1].user.as_str()
            ),
            ("10.0.0.1", 4, "inv")
        );
        assert_eq!(hosts[1].docker_socket, "/run/podman/podman.sock");
        let inventory = Inventory::from_text(
            Path::new("farm.yaml"),
            "all:\n  hosts:\n    h: { ansible_host: \"ssh://h:x\" }\n",
        )
        .unwrap();
        let error = resolve_all(
            inventory.select(None).hosts.into_iter(),
            &Overrides::default(),
            &defaults,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "farm.yaml:3:5: host h: \"ssh://h:x\" is not ssh://[user@]host[:port][/socket]: expected [user@]host[:port]"
        );
    }

    #[test]
    fn an_unusable_route_refuses_the_host_naming_the_setting() {
        let hosts = resolve_text(
            "all:\n  hosts:\n    h:\n      ansible_ssh_common_args: -o ProxyCommand='nc %C'\n",
            &defaults(),
        );
        assert_eq!(
            hosts[0].refused.as_ref().unwrap().to_string(),
            "ansible_ssh_common_args: ProxyCommand token %C is not supported (use %h, %p, %r, %n, %u, %d, %i or %%); the host is not contacted rather than reached some other way"
        );
    }

    #[test]
    fn non_ssh_connection_is_refused_and_ssh_aliases_are_not() {
        let hosts = resolve_text(
            "all:\n  hosts:\n    l: { ansible_connection: local }\n    d: { ansible_connection: community.docker.docker }\n    s: { ansible_connection: smart }\n",
            &defaults(),
        );
        assert_eq!(
            hosts[0].refused,
            Some(Refusal::Connection {
                connection: "local".into()
            })
        );
        assert!(hosts[1].refused.is_some());
        assert_eq!(hosts[2].refused, None);
    }

    #[test]
    fn ansible_cfg_defaults_sit_below_inventory_variables() {
        let defaults = Defaults {
            user: Some("cfg-user".into()),
            identity: Some("/cfg/key".into()),
            host_key_checking_off: true,
            ..defaults()
        };
        let hosts = resolve_text(
            "all:\n  hosts:\n    a:\n    b: { ansible_user: inv, ansible_host_key_checking: true }\n",
            &defaults,
        );
        assert_eq!(hosts[1].host_key_checking, None);
        assert_eq!(hosts[0].user, "cfg-user");
        assert_eq!(hosts[0].identity, Some(PathBuf::from("/cfg/key")));
        assert_eq!(hosts[0].host_key_checking, Some(StrictHostKeyChecking::No));
        assert_eq!(hosts[1].user, "inv");
    }

    #[test]
    fn inventory_plan_applies_per_host() {
        let hosts = hosts(&Overrides::default());
        let build = hosts[0].plan.as_ref().unwrap();
        assert_eq!(build.describe(), "containers, images (all) [until=240h]");
        let gpu = hosts[1].plan.as_ref().unwrap();
        assert_eq!(gpu.describe(), "containers, images [until=240h]");
        assert!(hosts[2].plan.is_none());
    }

    #[test]
    fn inventory_keep_policy_merges_key_by_key_and_bad_globs_name_their_place() {
        let text = "all:
  vars:
    fleetprune:
      prune:
        images: { all: true }
        keep_last: 3
        protect: [\"*:stable\"]
  hosts:
    build-01:
      fleetprune:
        prune:
          min_age: 2d
          protect_labels: keep=true
";
        let hosts = resolve_text(text, &defaults());
        assert_eq!(
            hosts[0].plan.as_ref().unwrap().describe(),
            "images (all) keep(keep_last=3, protect=*:stable, protect_label=keep=true, min_age=48h)"
        );
        let bad = text.replace("*:stable", "a[");
        let error = Inventory::from_text(Path::new("farm.yaml"), &bad).unwrap_err();
        assert!(error.to_string().contains("protect"), "{error}");
    }

    #[test]
    fn busy_farm_keys_merge_by_level_and_flags_replace_them() {
        let text = "all:
  vars:
    fleetprune:
      prune:
        containers: true
        exited_for: 1h
        busy_if_running: [label=ci.job=build, name=jenkins-]
        busy_check: test ! -e /run/ci.lock
  hosts:
    build-01:
      fleetprune:
        prune:
          keep_exited: 2
          include_managed: true
    build-02:
      fleetprune:
        prune:
          busy_if_running: ancestor=runner
";
        let hosts = resolve_text(text, &defaults());
        assert_eq!(
            hosts[0].plan.as_ref().unwrap().describe(),
            "containers keep(exited_for=1h, keep_exited=2, include_managed)"
        );
        assert_eq!(
            hosts[0].busy.to_string(),
            "busy_if_running=label=ci.job=build, busy_if_running=name=jenkins-, busy_check=\"test ! -e /run/ci.lock\""
        );
        assert_eq!(
            hosts[1].busy.to_string(),
            "busy_if_running=ancestor=runner, busy_check=\"test ! -e /run/ci.lock\""
        );
        let overrides = Overrides {
            busy_if_running: Some(vec!["label=other".into()]),
            include_managed: true,
            ..Overrides::default()
        };
        let inventory = Inventory::from_text(Path::new("farm.yaml"), text).unwrap();
        let hosts = resolve_all(
            inventory.select(None).hosts.into_iter(),
            &overrides,
            &defaults(),
        )
        .unwrap();
        assert_eq!(
            hosts[1].busy.if_running,
            ["label=other"
                .parse::<crate::plan::busy::ContainerFilter>()
                .unwrap()]
        );
        assert!(hosts[1].plan.as_ref().unwrap().policy().include_managed);
        let bad = text.replace("name=jenkins-", "colour=red");
        let error = Inventory::from_text(Path::new("farm.yaml"), &bad).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("busy_if_running"), "{message}");
        assert!(message.contains("farm.yaml:"), "{message}");
    }

    #[test]
    fn connection_settings_default_like_ssh() {
        let hosts = hosts(&Overrides::default());
        assert_eq!(hosts[0].address, "build-01");
        assert_eq!(hosts[0].port, 22);
        assert_eq!(hosts[0].user, "ops");
        assert_eq!(hosts[0].docker_socket, DEFAULT_DOCKER_SOCKET);
        assert_eq!(hosts[1].address, "10.0.0.40");
        assert_eq!(hosts[1].docker_socket, "/run/user/1000/docker.sock");
    }

    #[test]
    fn command_line_kinds_and_filters_replace_inventory_plan() {
        let overrides = Overrides {
            kinds: [PruneKind::Volumes].into(),
            all: true,
            filters: Some(FilterSet::parse(&["label!=keep"]).unwrap()),
            user: Some("root".into()),
            ..Overrides::default()
        };
        for host in hosts(&overrides) {
            assert_eq!(host.user, "root");
            assert_eq!(host.plan.unwrap().describe(), "volumes (all) [label!=keep]");
        }
    }

    #[test]
    fn build_cache_size_keys_come_from_the_inventory_and_flags_replace_them() {
        let text = "all:\n  vars:\n    fleetprune:\n      prune:\n        build_cache: true\n        keep_storage: 10GB\n        max_used_space: 20000000000\n  hosts:\n    ci-01:\n      fleetprune: { prune: { min_free_space: 5GB } }\n";
        let inventory = Inventory::from_text(Path::new("ci.yaml"), text).unwrap();
        let resolve = |overrides: &Overrides| {
            resolve_all(
                inventory.select(None).hosts.into_iter(),
                overrides,
                &defaults(),
            )
            .unwrap()[0]
                .plan
                .clone()
                .unwrap()
                .describe()
        };
        assert_eq!(
            resolve(&Overrides::default()),
            "build cache space(reserved-space=10GB max-used-space=20GB min-free-space=5GB)"
        );
        let flags = Overrides {
            build_cache_space: Some(crate::plan::BuildCacheSpace {
                max_used_space: Some(1_000_000_000),
                ..Default::default()
            }),
            ..Overrides::default()
        };
        assert_eq!(resolve(&flags), "build cache space(max-used-space=1GB)");
    }

    #[test]
    fn plan_error_names_the_host_and_place() {
        let inventory = Inventory::from_text(Path::new("farm.yaml"), FARM).unwrap();
        let overrides = Overrides {
            kinds: [PruneKind::Volumes].into(),
            ..Overrides::default()
        };
        let error = resolve_all(
            inventory.select(None).hosts.into_iter(),
            &overrides,
            &defaults(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "farm.yaml:10:5: host build-01: the until filter does not apply to volumes (docker has none for volumes); prune volumes in a separate run"
        );
    }
}
