//! The variables fleetprune reads from an inventory level (`vars:` of a group, a host's own
//! mapping, a `group_vars/`/`host_vars/` file, INI `key=value` pairs): Ansible's connection
//! variables and the `fleetprune:` mapping, validated with their positions. Every other variable
//! belongs to another tool and is ignored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::WalkError;
use super::yaml::{Node, Value};
use crate::filter::{Filter, FilterSet, Suggestion};
use crate::openssh::args::SshArgs;
use crate::plan::PruneKind;
use crate::plan::busy::BusyGuard;
use crate::plan::policy::{DiskThreshold, KeepPolicy, UsageLimit, parse_age};

/// `docker_socket: auto`: look for the engine's socket on the host (opt-in, see
/// [`crate::transport::shell::AUTO_SOCKETS`] for the order).
pub const AUTO_SOCKET: &str = "auto";

/// Variables of one inventory level, or of a host once all levels are merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostVars {
    /// `ansible_host` / `ansible_ssh_host`: the address to connect to.
    pub address: SshVar<String>,
    /// `ansible_port` / `ansible_ssh_port`.
    pub port: SshVar<u16>,
    /// `ansible_user` / `ansible_ssh_user`.
    pub user: SshVar<String>,
    /// `ansible_private_key_file` / `ansible_ssh_private_key_file`.
    pub identity: SshVar<PathBuf>,
    /// `ansible_connection`: `ssh` (or `smart`, `paramiko`) is the only one fleetprune speaks.
    pub connection: Option<String>,
    /// `ansible_host_key_checking` / `ansible_ssh_host_key_checking`.
    pub host_key_checking: Option<bool>,
    /// `ansible_ssh_args`, which replaces ansible.cfg's `ssh_args`.
    pub ssh_args: Option<SshArgs>,
    /// `ansible_ssh_common_args`.
    pub ssh_common_args: Option<SshArgs>,
    /// `ansible_ssh_extra_args`.
    pub ssh_extra_args: Option<SshArgs>,
    /// `fleetprune.docker_socket`.
    pub docker_socket: Option<String>,
    /// `fleetprune.prune`.
    pub prune: PruneVars,
}

/// The `fleetprune.prune` mapping, merged key by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PruneVars {
    pub kinds: BTreeMap<PruneKind, KindVar>,
    pub filters: Option<FilterSet>,
    /// Keep-policy keys, each replaced as a whole by a more specific level.
    pub keep_last: Option<usize>,
    pub protect: Option<Vec<String>>,
    pub protect_labels: Option<Vec<String>>,
    pub protect_containers: Option<Vec<String>>,
    pub min_age: Option<jiff::SignedDuration>,
    pub unused_for: Option<jiff::SignedDuration>,
    pub max_usage: Option<UsageLimit>,
    pub threshold: Option<DiskThreshold>,
    pub inode_threshold: Option<DiskThreshold>,
    pub exited_for: Option<jiff::SignedDuration>,
    pub keep_exited: Option<usize>,
    pub include_managed: Option<bool>,
    /// Busy-guard keys.
    pub busy_if_running: Option<Vec<String>>,
    pub busy_check: Option<String>,
    /// Build-cache size keys (`reserved_space`, or its older name `keep_storage`;
    /// `max_used_space`, `min_free_space`), in bytes, each replaced by a more specific level.
    pub reserved_space: Option<u64>,
    pub max_used_space: Option<u64>,
    pub min_free_space: Option<u64>,
}

impl PruneVars {
    /// The build-cache size controls these variables set (empty when none).
    pub fn build_cache_space(&self) -> crate::plan::BuildCacheSpace {
        crate::plan::BuildCacheSpace {
            reserved_space: self.reserved_space,
            max_used_space: self.max_used_space,
            min_free_space: self.min_free_space,
        }
    }

    /// The keep policy these variables set (empty when none).
    pub fn policy(&self) -> KeepPolicy {
        KeepPolicy {
            keep_last: self.keep_last,
            protect: self.protect.clone().unwrap_or_default(),
            protect_labels: self.protect_labels.clone().unwrap_or_default(),
            protect_containers: self.protect_containers.clone().unwrap_or_default(),
            min_age: self.min_age,
            unused_for: self.unused_for,
            max_usage: self.max_usage,
            threshold: self.threshold,
            inode_threshold: self.inode_threshold,
            exited_for: self.exited_for,
            keep_exited: self.keep_exited,
            include_managed: self.include_managed.unwrap_or(false),
        }
    }
}

/// One kind's setting: `images: true` or `images: { all: true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindVar {
    pub enabled: bool,
    /// `None` when this level did not say; the default is docker's (not all).
    pub all: Option<bool>,
}

/// A connection variable Ansible accepts under two names, merged separately: once every level is
/// applied, the ssh connection plugin takes the `ansible_ssh_*` spelling over the plain one
/// whichever level each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshVar<T> {
    /// `ansible_host`, `ansible_port`, ...
    pub plain: Option<T>,
    /// `ansible_ssh_host`, `ansible_ssh_port`, ...
    pub ssh: Option<T>,
}

impl<T> Default for SshVar<T> {
    fn default() -> Self {
        SshVar {
            plain: None,
            ssh: None,
        }
    }
}

impl<T: Clone> SshVar<T> {
    /// The value the ssh connection plugin uses.
    pub fn effective(&self) -> Option<&T> {
        self.ssh.as_ref().or(self.plain.as_ref())
    }

    fn apply(&mut self, layer: &SshVar<T>) {
        take(&mut self.plain, &layer.plain);
        take(&mut self.ssh, &layer.ssh);
    }
}

fn take<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        slot.clone_from(value);
    }
}

const FLEETPRUNE_KEYS: [&str; 2] = ["docker_socket", "prune"];
const PRUNE_KEYS: [&str; 24] = [
    "containers",
    "networks",
    "volumes",
    "images",
    "build_cache",
    "filter",
    "keep_last",
    "protect",
    "protect_labels",
    "protect_containers",
    "min_age",
    "unused_for",
    "max_usage",
    "threshold",
    "inode_threshold",
    "exited_for",
    "keep_exited",
    "include_managed",
    "busy_if_running",
    "busy_check",
    "reserved_space",
    "max_used_space",
    "min_free_space",
    "keep_storage",
];

impl HostVars {
    /// Overlays a more specific level on this one.
    pub fn apply(&mut self, layer: &HostVars) {
        self.address.apply(&layer.address);
        self.port.apply(&layer.port);
        self.user.apply(&layer.user);
        self.identity.apply(&layer.identity);
        take(&mut self.connection, &layer.connection);
        take(&mut self.host_key_checking, &layer.host_key_checking);
        take(&mut self.ssh_args, &layer.ssh_args);
        take(&mut self.ssh_common_args, &layer.ssh_common_args);
        take(&mut self.ssh_extra_args, &layer.ssh_extra_args);
        take(&mut self.docker_socket, &layer.docker_socket);
        for (kind, setting) in &layer.prune.kinds {
            let merged = match self.prune.kinds.get(kind) {
                Some(previous) => KindVar {
                    enabled: setting.enabled,
                    all: setting.all.or(previous.all),
                },
                None => *setting,
            };
            self.prune.kinds.insert(*kind, merged);
        }
        take(&mut self.prune.filters, &layer.prune.filters);
        take(&mut self.prune.keep_last, &layer.prune.keep_last);
        take(&mut self.prune.protect, &layer.prune.protect);
        take(&mut self.prune.protect_labels, &layer.prune.protect_labels);
        take(
            &mut self.prune.protect_containers,
            &layer.prune.protect_containers,
        );
        take(&mut self.prune.min_age, &layer.prune.min_age);
        take(&mut self.prune.unused_for, &layer.prune.unused_for);
        take(&mut self.prune.max_usage, &layer.prune.max_usage);
        take(&mut self.prune.threshold, &layer.prune.threshold);
        take(
            &mut self.prune.inode_threshold,
            &layer.prune.inode_threshold,
        );
        take(&mut self.prune.exited_for, &layer.prune.exited_for);
        take(&mut self.prune.keep_exited, &layer.prune.keep_exited);
        take(
            &mut self.prune.include_managed,
            &layer.prune.include_managed,
        );
        take(
            &mut self.prune.busy_if_running,
            &layer.prune.busy_if_running,
        );
        take(&mut self.prune.busy_check, &layer.prune.busy_check);
        take(&mut self.prune.reserved_space, &layer.prune.reserved_space);
        take(&mut self.prune.max_used_space, &layer.prune.max_used_space);
        take(&mut self.prune.min_free_space, &layer.prune.min_free_space);
    }
}

/// A level's variables, and its `ansible_group_priority` when it sets one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LevelVars {
    pub vars: HostVars,
    pub group_priority: Option<i64>,
}

/// Reads a level's variables from a mapping.
pub(super) fn parse_vars(node: &Node, path: &str) -> Result<LevelVars, WalkError> {
    let entries = expect_mapping(node, path, "variables")?;
    let mut level = LevelVars::default();
    for (key, value) in entries {
        let name = key.key_text();
        let key_path = format!("{path}.{name}");
        parse_var(&name, value, &key_path, &mut level)?;
    }
    Ok(level)
}

/// Reads one variable into `level`; variables of other tools are ignored.
pub(super) fn parse_var(
    name: &str,
    value: &Node,
    key_path: &str,
    level: &mut LevelVars,
) -> Result<(), WalkError> {
    let vars = &mut level.vars;
    let string = || expect_plain_string(value, key_path);
    let args = || {
        let text = string()?;
        SshArgs::parse(&text).map_err(|e| WalkError::new(value, key_path, e))
    };
    match name {
        "ansible_host" => vars.address.plain = Some(string()?),
        "ansible_ssh_host" => vars.address.ssh = Some(string()?),
        "ansible_port" => vars.port.plain = Some(expect_port(value, key_path)?),
        "ansible_ssh_port" => vars.port.ssh = Some(expect_port(value, key_path)?),
        "ansible_user" => vars.user.plain = Some(string()?),
        "ansible_ssh_user" => vars.user.ssh = Some(string()?),
        "ansible_private_key_file" => vars.identity.plain = Some(PathBuf::from(string()?)),
        "ansible_ssh_private_key_file" => vars.identity.ssh = Some(PathBuf::from(string()?)),
        "ansible_connection" => vars.connection = Some(string()?),
        "ansible_host_key_checking" | "ansible_ssh_host_key_checking" => {
            vars.host_key_checking = Some(expect_ansible_bool(value, key_path)?);
        }
        "ansible_ssh_args" => vars.ssh_args = Some(args()?),
        "ansible_ssh_common_args" => vars.ssh_common_args = Some(args()?),
        "ansible_ssh_extra_args" => vars.ssh_extra_args = Some(args()?),
        "ansible_group_priority" => level.group_priority = Some(expect_integer(value, key_path)?),
        "fleetprune" => parse_fleetprune(value, key_path, vars)?,
        _ => {}
    }
    Ok(())
}

fn parse_fleetprune(node: &Node, path: &str, vars: &mut HostVars) -> Result<(), WalkError> {
    for (key, value) in expect_mapping(node, path, "fleetprune settings")? {
        let name = key.key_text();
        let key_path = format!("{path}.{name}");
        match name.as_str() {
            "docker_socket" => {
                let socket = expect_plain_string(value, &key_path)?;
                if !socket.starts_with('/') && socket != AUTO_SOCKET {
                    return Err(WalkError::new(
                        value,
                        &key_path,
                        format!(
                            "the Docker socket must be an absolute path or auto, found {socket:?}"
                        ),
                    ));
                }
                vars.docker_socket = Some(socket);
            }
            "prune" => vars.prune = parse_prune(value, &key_path)?,
            _ => return Err(unknown_key(key, &key_path, &name, &FLEETPRUNE_KEYS)),
        }
    }
    Ok(())
}

fn parse_prune(node: &Node, path: &str) -> Result<PruneVars, WalkError> {
    let mut prune = PruneVars::default();
    for (key, value) in expect_mapping(node, path, "a prune plan")? {
        let name = key.key_text();
        let key_path = format!("{path}.{name}");
        let kind = match name.as_str() {
            "containers" => PruneKind::Containers,
            "networks" => PruneKind::Networks,
            "volumes" => PruneKind::Volumes,
            "images" => PruneKind::Images,
            "build_cache" => PruneKind::BuildCache,
            "filter" => {
                prune.filters = Some(parse_filters(value, &key_path)?);
                continue;
            }
            "keep_last" | "keep_exited" => {
                let n = expect_integer(value, &key_path)?;
                let n = usize::try_from(n).map_err(|_| {
                    WalkError::new(
                        value,
                        &key_path,
                        format!("{name} must be 0 or more, found {n}"),
                    )
                })?;
                if name == "keep_last" {
                    prune.keep_last = Some(n);
                } else {
                    prune.keep_exited = Some(n);
                }
                continue;
            }
            "include_managed" => {
                prune.include_managed = Some(expect_bool(value, &key_path)?);
                continue;
            }
            "busy_if_running" => {
                let list = parse_string_list(value, &key_path)?;
                BusyGuard::new(&list, None, None)
                    .map_err(|e| WalkError::new(value, &key_path, e))?;
                prune.busy_if_running = Some(list);
                continue;
            }
            "busy_check" => {
                let check = expect_plain_string(value, &key_path)?;
                BusyGuard::new(&[], Some(check.clone()), None)
                    .map_err(|e| WalkError::new(value, &key_path, e))?;
                prune.busy_check = Some(check);
                continue;
            }
            "protect" | "protect_labels" | "protect_containers" => {
                let list = parse_string_list(value, &key_path)?;
                if name != "protect_labels" {
                    for glob in &list {
                        KeepPolicy {
                            protect: vec![glob.clone()],
                            ..KeepPolicy::default()
                        }
                        .validate()
                        .map_err(|e| WalkError::new(value, &key_path, e))?;
                    }
                }
                let slot = match name.as_str() {
                    "protect" => &mut prune.protect,
                    "protect_labels" => &mut prune.protect_labels,
                    _ => &mut prune.protect_containers,
                };
                *slot = Some(list);
                continue;
            }
            "max_usage" => {
                let text = high_low_text(value, &key_path)?;
                let limit = text
                    .parse::<UsageLimit>()
                    .map_err(|e| WalkError::new(value, &key_path, e))?;
                prune.max_usage = Some(limit);
                continue;
            }
            "threshold" | "inode_threshold" => {
                let text = high_low_text(value, &key_path)?;
                let threshold = text
                    .parse::<DiskThreshold>()
                    .map_err(|e| WalkError::new(value, &key_path, e))?;
                if name == "threshold" {
                    prune.threshold = Some(threshold);
                } else {
                    prune.inode_threshold = Some(threshold);
                }
                continue;
            }
            "reserved_space" | "keep_storage" | "max_used_space" | "min_free_space" => {
                let text = match &value.value {
                    Value::Int(_) => expect_integer(value, &key_path)?.to_string(),
                    _ => expect_plain_string(value, &key_path)?,
                };
                let bytes = crate::plan::policy::parse_size(&text)
                    .map_err(|e| WalkError::new(value, &key_path, e))?;
                let slot = match name.as_str() {
                    "max_used_space" => &mut prune.max_used_space,
                    "min_free_space" => &mut prune.min_free_space,
                    _ => &mut prune.reserved_space,
                };
                *slot = Some(bytes);
                continue;
            }
            "min_age" | "unused_for" | "exited_for" => {
                let text = expect_plain_string(value, &key_path)?;
                let age = parse_age(&text).map_err(|e| WalkError::new(value, &key_path, e))?;
                match name.as_str() {
                    "min_age" => prune.min_age = Some(age),
                    "unused_for" => prune.unused_for = Some(age),
                    _ => prune.exited_for = Some(age),
                }
                continue;
            }
            _ => return Err(unknown_key(key, &key_path, &name, &PRUNE_KEYS)),
        };
        let widens = matches!(
            kind,
            PruneKind::Images | PruneKind::Volumes | PruneKind::BuildCache
        );
        let setting = match &value.value {
            Value::Bool(enabled) => KindVar {
                enabled: *enabled,
                all: None,
            },
            Value::Mapping(entries) if widens => {
                let mut all = None;
                for (option, option_value) in entries {
                    let option_name = option.key_text();
                    let option_path = format!("{key_path}.{option_name}");
                    if option_name != "all" {
                        return Err(unknown_key(option, &option_path, &option_name, &["all"]));
                    }
                    all = Some(expect_bool(option_value, &option_path)?);
                }
                KindVar { enabled: true, all }
            }
            other => {
                let expected = if widens {
                    "true, false or { all: true }"
                } else {
                    "true or false"
                };
                return Err(WalkError::new(
                    value,
                    &key_path,
                    format!("expected {expected}, found {}", other.kind()),
                ));
            }
        };
        prune.kinds.insert(kind, setting);
    }
    Ok(prune)
}

/// A watermark as `HIGH:LOW` text: a plain `HIGH` (low the same), or `{ high: H, low: L }`
/// (each checked where it is written).
fn high_low_text(value: &Node, key_path: &str) -> Result<String, WalkError> {
    let Value::Mapping(entries) = &value.value else {
        return expect_plain_string(value, key_path);
    };
    let (mut high, mut low) = (None, None);
    for (option, option_value) in entries {
        let option_name = option.key_text();
        let option_path = format!("{key_path}.{option_name}");
        let text = expect_plain_string(option_value, &option_path)?;
        if text.contains(':') {
            return Err(WalkError::new(
                option_value,
                &option_path,
                format!("expected one mark, found {text:?}"),
            ));
        }
        match option_name.as_str() {
            "high" => high = Some(text),
            "low" => low = Some(text),
            _ => {
                return Err(unknown_key(
                    option,
                    &option_path,
                    &option_name,
                    &["high", "low"],
                ));
            }
        }
    }
    let name = key_path.rsplit('.').next().unwrap_or(key_path);
    let high =
        high.ok_or_else(|| WalkError::new(value, key_path, format!("{name} needs a high mark")))?;
    Ok(format!("{high}:{}", low.unwrap_or_else(|| high.clone())))
}

/// A string or a list of strings.
fn parse_string_list(node: &Node, path: &str) -> Result<Vec<String>, WalkError> {
    match &node.value {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| expect_plain_string(item, &format!("{path}[{i}]")))
            .collect(),
        _ => Ok(vec![expect_plain_string(node, path)?]),
    }
}

fn parse_filters(node: &Node, path: &str) -> Result<FilterSet, WalkError> {
    let items: Vec<(&Node, String)> = match &node.value {
        Value::String(_) => vec![(node, path.to_string())],
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, format!("{path}[{i}]")))
            .collect(),
        other => {
            return Err(WalkError::new(
                node,
                path,
                format!(
                    "expected a filter string or a list of them, found {}",
                    other.kind()
                ),
            ));
        }
    };
    let mut filters = Vec::with_capacity(items.len());
    for (item, item_path) in items {
        let text = expect_plain_string(item, &item_path)?;
        let filter: Filter = text
            .parse()
            .map_err(|e| WalkError::new(item, &item_path, e))?;
        filters.push(filter);
    }
    FilterSet::new(filters).map_err(|e| WalkError::new(node, path, e))
}

fn unknown_key(key: &Node, path: &str, name: &str, known: &[&str]) -> WalkError {
    let suggestion = Suggestion::closest(name, known.iter().copied());
    WalkError::new(key, path, format!("unknown key {name:?}{suggestion}"))
}

/// The entries of a mapping; an empty value (`key:`) is an empty mapping.
pub(super) fn expect_mapping<'a>(
    node: &'a Node,
    path: &str,
    what: &str,
) -> Result<&'a [(Node, Node)], WalkError> {
    match &node.value {
        Value::Mapping(entries) => Ok(entries),
        Value::Null => Ok(&[]),
        other => Err(WalkError::new(
            node,
            path,
            format!("expected a mapping of {what}, found {}", other.kind()),
        )),
    }
}

fn expect_bool(node: &Node, path: &str) -> Result<bool, WalkError> {
    match &node.value {
        Value::Bool(b) => Ok(*b),
        other => Err(WalkError::new(
            node,
            path,
            format!("expected true or false, found {}", other.kind()),
        )),
    }
}

/// A string value fleetprune uses; Jinja templates cannot be evaluated here.
fn expect_plain_string(node: &Node, path: &str) -> Result<String, WalkError> {
    let text = match &node.value {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        other => {
            return Err(WalkError::new(
                node,
                path,
                format!("expected a string, found {}", other.kind()),
            ));
        }
    };
    if text.contains("{{") || text.contains("{%") {
        return Err(WalkError::new(
            node,
            path,
            "Jinja templating is not supported by fleetprune: write the value literally",
        ));
    }
    if text.trim().is_empty() {
        return Err(WalkError::new(node, path, "the value is empty"));
    }
    Ok(text)
}

/// A boolean as Ansible reads one: YAML `true`/`false`, or the text `True`, `no`, `0`, ...
fn expect_ansible_bool(node: &Node, path: &str) -> Result<bool, WalkError> {
    let text = match &node.value {
        Value::Bool(b) => return Ok(*b),
        Value::Int(i) => i.to_string(),
        Value::String(s) => s.to_ascii_lowercase(),
        other => other.kind().to_string(),
    };
    match text.as_str() {
        "true" | "yes" | "on" | "1" | "y" | "t" => Ok(true),
        "false" | "no" | "off" | "0" | "n" | "f" => Ok(false),
        _ => Err(WalkError::new(
            node,
            path,
            format!("expected true or false, found {text:?}"),
        )),
    }
}

/// A whole number, written as one or quoted.
fn expect_integer(node: &Node, path: &str) -> Result<i64, WalkError> {
    let number = match &node.value {
        Value::Int(i) => i64::try_from(*i).ok(),
        Value::String(s) if !s.contains("{{") => s.trim().parse::<i64>().ok(),
        Value::String(_) => return expect_plain_string(node, path).map(|_| 0),
        _ => None,
    };
    number.ok_or_else(|| {
        let found = match &node.value {
            Value::String(s) => format!("{s:?}"),
            Value::Float(x) => x.to_string(),
            other => other.kind().to_string(),
        };
        WalkError::new(
            node,
            path,
            format!("expected a whole number, found {found}"),
        )
    })
}

fn expect_port(node: &Node, path: &str) -> Result<u16, WalkError> {
    let number = match &node.value {
        Value::Int(i) => *i,
        Value::String(s) if !s.contains("{{") => s.trim().parse::<i128>().map_err(|_| {
            WalkError::new(
                node,
                path,
                format!("port must be a whole number, found {s:?}"),
            )
        })?,
        Value::String(_) => return expect_plain_string(node, path).map(|_| 0),
        Value::Float(x) => {
            return Err(WalkError::new(
                node,
                path,
                format!("port must be a whole number, found {x}"),
            ));
        }
        other => {
            return Err(WalkError::new(
                node,
                path,
                format!("port must be a whole number, found {}", other.kind()),
            ));
        }
    };
    u16::try_from(number)
        .ok()
        .filter(|port| *port != 0)
        .ok_or_else(|| {
            WalkError::new(
                node,
                path,
                format!("port must be between 1 and 65535, found {number}"),
            )
        })
}
