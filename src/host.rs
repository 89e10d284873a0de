//! A host ready to contact: connection settings and effective prune plan, resolved from the
//! inventory's merged variables and the command line (which wins over every inventory level).
//!
//! Resolution happens for every selected host before any is contacted, so a bad plan is an input
//! error with the host's place in the inventory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::filter::FilterSet;
use crate::inventory::{Inventory, InventoryHost};
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
    /// `None` when neither the inventory nor the command line asks for a prune.
    #[serde(skip)]
    pub plan: Option<PrunePlan>,
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
}

/// A plan problem on one host, with the host's place in the inventory.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{position}: host {host}: {error}")]
pub struct HostPlanError {
    pub path: String,
    pub position: String,
    pub host: String,
    pub error: PlanError,
}

impl Host {
    /// Resolves one inventory host; `local_user` is the default login, as for ssh.
    pub fn resolve(
        inventory_host: &InventoryHost,
        overrides: &Overrides,
        local_user: &str,
    ) -> Result<Host, PlanError> {
        let vars = &inventory_host.vars;
        Ok(Host {
            name: inventory_host.name.clone(),
            groups: inventory_host.groups.clone(),
            address: vars
                .address
                .clone()
                .unwrap_or_else(|| inventory_host.name.clone()),
            port: vars.port.unwrap_or(22),
            user: overrides
                .user
                .clone()
                .or_else(|| vars.user.clone())
                .unwrap_or_else(|| local_user.to_string()),
            identity: overrides
                .identity
                .clone()
                .or_else(|| vars.identity.clone().map(|p| expand_tilde(&p))),
            docker_socket: vars
                .docker_socket
                .clone()
                .unwrap_or_else(|| DEFAULT_DOCKER_SOCKET.to_string()),
            plan: resolve_plan(inventory_host, overrides)?,
        })
    }

    /// `host:port` for messages, IPv6 addresses in brackets.
    pub fn endpoint(&self) -> String {
        crate::transport::ssh::endpoint(&self.address, self.port)
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
    let filters = overrides
        .filters
        .clone()
        .or_else(|| vars.filters.clone())
        .unwrap_or_default();
    PrunePlan::new(kinds, all, filters).map(Some)
}

/// Resolves every selected host, or reports the first plan error with its place.
pub fn resolve_all(
    inventory: &Inventory,
    selected: &[&InventoryHost],
    overrides: &Overrides,
    local_user: &str,
) -> Result<Vec<Host>, HostPlanError> {
    selected
        .iter()
        .map(|inventory_host| {
            Host::resolve(inventory_host, overrides, local_user).map_err(|error| HostPlanError {
                path: inventory.path().display().to_string(),
                position: inventory_host.position.to_string(),
                host: inventory_host.name.clone(),
                error,
            })
        })
        .collect()
}

/// `~/x` -> `$HOME/x`, as Ansible expands key file paths.
fn expand_tilde(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn hosts(overrides: &Overrides) -> Vec<Host> {
        let inventory = Inventory::from_text(Path::new("farm.yaml"), FARM).unwrap();
        let selected = inventory.select(None);
        resolve_all(&inventory, &selected, overrides, "me").unwrap()
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
    fn plan_error_names_the_host_and_place() {
        let inventory = Inventory::from_text(Path::new("farm.yaml"), FARM).unwrap();
        let selected = inventory.select(None);
        let overrides = Overrides {
            kinds: [PruneKind::Volumes].into(),
            ..Overrides::default()
        };
        let error = resolve_all(&inventory, &selected, &overrides, "me").unwrap_err();
        assert_eq!(
            error.to_string(),
            "farm.yaml:10:5: host build-01: the until filter does not apply to volumes (docker has none for volumes); prune volumes in a separate run"
        );
    }
}
