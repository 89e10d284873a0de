//! Ansible's YAML inventory, read as-is: `all:`, `hosts:`, `children:`, `vars:` at every level, host
//! ranges, the `ansible_*` connection variables, and fleetprune's own `fleetprune:` mapping.
//!
//! Loading validates everything it interprets and names `file:line:column` and the key path of any
//! mistake. Variables of other tools are ignored. Turning merged variables plus command-line
//! overrides into a host to contact is [`crate::host`]'s job.

mod host_range;
mod limit;
mod vars;
mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

pub use limit::{Limit, LimitError};
pub use vars::{HostVars, KindVar, PruneVars};
pub use yaml::Position;

use crate::filter::Suggestion;
use yaml::{Node, Value};

/// A loaded inventory: its hosts in inventory order with their merged variables.
#[derive(Debug, Clone)]
pub struct Inventory {
    path: PathBuf,
    hosts: Vec<InventoryHost>,
}

/// One host of the inventory with everything the inventory says about it.
#[derive(Debug, Clone)]
pub struct InventoryHost {
    pub name: String,
    /// Where the host is first declared.
    pub position: Position,
    /// Every group the host belongs to, `all` and ancestors included, least specific first.
    pub groups: Vec<String>,
    /// Variables merged with Ansible's precedence: host over child group over parent over `all`.
    pub vars: HostVars,
}

/// A mistake in the inventory, with its place.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{path}: cannot read inventory: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: invalid YAML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}:{position}: {key_path}: {message}")]
    Invalid {
        path: String,
        position: Position,
        key_path: String,
        message: String,
    },
    #[error("{path}: the inventory defines no hosts")]
    NoHosts { path: String },
}

/// A mistake found while walking the tree, before the file name is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WalkError {
    pub position: Position,
    pub key_path: String,
    pub message: String,
}

impl WalkError {
    pub(crate) fn new(node: &Node, key_path: &str, message: impl fmt::Display) -> WalkError {
        WalkError {
            position: node.position,
            key_path: key_path.to_string(),
            message: message.to_string(),
        }
    }
}

const GROUP_KEYS: [&str; 3] = ["hosts", "children", "vars"];

impl Inventory {
    /// Reads and validates an inventory file.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let shown = path.display().to_string();
        let text = crate::input_file::read_to_string(path, crate::input_file::INVENTORY_LIMIT)
            .map_err(|source| InventoryError::Read {
                path: shown.clone(),
                source,
            })?;
        Inventory::from_text(path, &text)
    }

    /// Validates inventory text; `path` is used in messages.
    pub fn from_text(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let shown = path.display().to_string();
        let root = yaml::parse(text).map_err(|error| InventoryError::Syntax {
            path: shown.clone(),
            message: error.to_string(),
        })?;
        let hosts = Walker::default()
            .walk(&root)
            .map_err(|e| InventoryError::Invalid {
                path: shown.clone(),
                position: e.position,
                key_path: e.key_path,
                message: e.message,
            })?;
        if hosts.is_empty() {
            return Err(InventoryError::NoHosts { path: shown });
        }
        Ok(Inventory {
            path: path.to_path_buf(),
            hosts,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn hosts(&self) -> &[InventoryHost] {
        &self.hosts
    }

    /// The hosts `limit` selects, in inventory order.
    pub fn select(&self, limit: Option<&Limit>) -> Vec<&InventoryHost> {
        self.hosts
            .iter()
            .filter(|host| {
                limit.is_none_or(|limit| {
                    let groups: Vec<&str> = host.groups.iter().map(String::as_str).collect();
                    limit.matches(&host.name, &groups)
                })
            })
            .collect()
    }
}

/// A group as declared, possibly in several places of the file.
#[derive(Debug, Default)]
struct GroupDecl {
    parents: Vec<String>,
    vars: Vec<HostVars>,
}

/// A host as declared under some group's `hosts:`.
#[derive(Debug)]
struct HostDecl {
    position: Position,
    direct_groups: Vec<String>,
    vars: Vec<HostVars>,
}

/// Collects groups and hosts from the tree, then merges variables per host.
#[derive(Debug, Default)]
struct Walker {
    groups: HashMap<String, GroupDecl>,
    host_order: Vec<String>,
    hosts: HashMap<String, HostDecl>,
}

impl Walker {
    fn walk(mut self, root: &Node) -> Result<Vec<InventoryHost>, WalkError> {
        match &root.value {
            Value::Null => {}
            Value::Mapping(entries) => {
                for (key, body) in entries {
                    let name = key.key_text();
                    // Top-level groups other than `all` are implicitly children of `all`.
                    let parent = (name != "all").then_some("all");
                    self.walk_group(&name, body, &name, parent)?;
                }
            }
            other => {
                return Err(WalkError::new(
                    root,
                    "(top level)",
                    format!(
                        "expected a mapping of groups such as `all:`, found {}",
                        other.kind()
                    ),
                ));
            }
        }
        self.groups.entry("all".to_string()).or_default();
        Ok(self.merge())
    }

    fn walk_group(
        &mut self,
        name: &str,
        body: &Node,
        path: &str,
        parent: Option<&str>,
    ) -> Result<(), WalkError> {
        let group = self.groups.entry(name.to_string()).or_default();
        if let Some(parent) = parent
            && !group.parents.iter().any(|p| p == parent)
        {
            group.parents.push(parent.to_string());
        }
        let entries = vars::expect_mapping(body, path, "hosts, children and vars")?;
        for (key, value) in entries {
            let key_name = key.key_text();
            let key_path = format!("{path}.{key_name}");
            match key_name.as_str() {
                "vars" => {
                    let vars = vars::parse_vars(value, &key_path)?;
                    self.groups
                        .entry(name.to_string())
                        .or_default()
                        .vars
                        .push(vars);
                }
                "hosts" => self.walk_hosts(name, value, &key_path)?,
                "children" => self.walk_children(name, value, &key_path)?,
                _ => {
                    let suggestion = Suggestion::closest(&key_name, GROUP_KEYS);
                    return Err(WalkError::new(
                        key,
                        &key_path,
                        format!(
                            "unexpected key {key_name:?}{suggestion}; a group may only have hosts, children and vars"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn walk_hosts(&mut self, group: &str, node: &Node, path: &str) -> Result<(), WalkError> {
        for (key, value) in vars::expect_mapping(node, path, "host names")? {
            let pattern = key.key_text();
            let key_path = format!("{path}.{pattern}");
            let names = host_range::expand_host_pattern(&pattern)
                .map_err(|e| WalkError::new(key, &key_path, e))?;
            let vars = match &value.value {
                Value::Null => None,
                _ => Some(vars::parse_vars(value, &key_path)?),
            };
            for name in names {
                if !self.hosts.contains_key(&name) {
                    self.host_order.push(name.clone());
                }
                let host = self.hosts.entry(name).or_insert_with(|| HostDecl {
                    position: key.position,
                    direct_groups: Vec::new(),
                    vars: Vec::new(),
                });
                if !host.direct_groups.iter().any(|g| g == group) {
                    host.direct_groups.push(group.to_string());
                }
                if let Some(vars) = &vars {
                    host.vars.push(vars.clone());
                }
            }
        }
        Ok(())
    }

    fn walk_children(&mut self, parent: &str, node: &Node, path: &str) -> Result<(), WalkError> {
        for (key, body) in vars::expect_mapping(node, path, "group names")? {
            let child = key.key_text();
            if child == "all" {
                return Err(WalkError::new(
                    key,
                    path,
                    "the group `all` cannot be a child",
                ));
            }
            self.walk_group(&child, body, &format!("{path}.{child}"), Some(parent))?;
        }
        Ok(())
    }

    /// Group depth as Ansible orders variable precedence: `all` is 0, its children 1, and so on.
    fn depths(&self) -> BTreeMap<String, usize> {
        let mut depths = BTreeMap::new();
        for name in self.groups.keys() {
            let mut visiting = Vec::new();
            let depth = self.depth_of(name, &mut visiting);
            depths.insert(name.clone(), depth);
        }
        depths
    }

    fn depth_of(&self, name: &str, visiting: &mut Vec<String>) -> usize {
        if name == "all" || visiting.iter().any(|v| v == name) {
            return 0;
        }
        visiting.push(name.to_string());
        let parents = self
            .groups
            .get(name)
            .map(|g| g.parents.as_slice())
            .unwrap_or_default();
        let depth = parents
            .iter()
            .map(|p| self.depth_of(p, visiting) + 1)
            .max()
            .unwrap_or(1);
        visiting.pop();
        depth
    }

    fn ancestors(&self, group: &str, into: &mut Vec<String>) {
        if into.iter().any(|g| g == group) {
            return;
        }
        into.push(group.to_string());
        if let Some(decl) = self.groups.get(group) {
            for parent in &decl.parents {
                self.ancestors(parent, into);
            }
        }
    }

    fn merge(self) -> Vec<InventoryHost> {
        let depths = self.depths();
        let mut merged = Vec::with_capacity(self.host_order.len());
        for name in &self.host_order {
            let Some(decl) = self.hosts.get(name) else {
                continue;
            };
            let mut groups = vec!["all".to_string()];
            for group in &decl.direct_groups {
                self.ancestors(group, &mut groups);
            }
            // Ansible applies group vars by depth, then by name; later wins.
            groups.sort_by(|a, b| {
                let depth = |g: &String| depths.get(g).copied().unwrap_or(0);
                depth(a).cmp(&depth(b)).then_with(|| a.cmp(b))
            });
            let mut vars = HostVars::default();
            for group in &groups {
                if let Some(decl) = self.groups.get(group) {
                    for layer in &decl.vars {
                        vars.apply(layer);
                    }
                }
            }
            for layer in &decl.vars {
                vars.apply(layer);
            }
            merged.push(InventoryHost {
                name: name.clone(),
                position: decl.position,
                groups,
                vars,
            });
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PruneKind;

    fn load(text: &str) -> Result<Inventory, InventoryError> {
        Inventory::from_text(Path::new("farm.yaml"), text)
    }

    fn host<'a>(inventory: &'a Inventory, name: &str) -> &'a InventoryHost {
        inventory.hosts().iter().find(|h| h.name == name).unwrap()
    }

    const FARM: &str = "\
all:
  vars:
    ansible_user: ops
    fleetprune:
      prune:
        containers: true
        images: { all: true }
        filter: [\"until=240h\", \"label!=keep=true\"]
  children:
    builders:
      vars:
        ansible_port: 2200
      hosts:
        build-[01:04]:
        gpu-box:
          ansible_host: 10.0.0.40
          ansible_port: 2222
          fleetprune:
            prune: { images: { all: false } }
    web:
      hosts:
        web-1:
          ansible_user: deploy
";

    #[test]
    fn hosts_come_in_inventory_order_with_ranges_expanded() {
        let inventory = load(FARM).unwrap();
        let names: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "build-01", "build-02", "build-03", "build-04", "gpu-box", "web-1"
            ]
        );
    }

    #[test]
    fn host_vars_override_group_vars_which_override_all() {
        let inventory = load(FARM).unwrap();
        let gpu = host(&inventory, "gpu-box");
        assert_eq!(gpu.vars.port, Some(2222));
        assert_eq!(gpu.vars.address.as_deref(), Some("10.0.0.40"));
        assert_eq!(gpu.vars.user.as_deref(), Some("ops"));
        let build = host(&inventory, "build-02");
        assert_eq!(build.vars.port, Some(2200));
        assert_eq!(
            host(&inventory, "web-1").vars.user.as_deref(),
            Some("deploy")
        );
        assert_eq!(host(&inventory, "web-1").vars.port, None);
    }

    #[test]
    fn fleetprune_mapping_merges_deeply() {
        let inventory = load(FARM).unwrap();
        let gpu = &host(&inventory, "gpu-box").vars.prune;
        assert_eq!(
            gpu.kinds[&PruneKind::Images],
            KindVar {
                enabled: true,
                all: Some(false)
            }
        );
        assert_eq!(
            gpu.kinds[&PruneKind::Containers],
            KindVar {
                enabled: true,
                all: None
            }
        );
        assert_eq!(
            gpu.filters.as_ref().unwrap().to_string(),
            "until=240h, label!=keep=true"
        );
        let build = &host(&inventory, "build-01").vars.prune;
        assert_eq!(build.kinds[&PruneKind::Images].all, Some(true));
    }

    #[test]
    fn groups_include_all_and_ancestors() {
        let inventory = load(FARM).unwrap();
        assert_eq!(host(&inventory, "gpu-box").groups, ["all", "builders"]);
    }

    #[test]
    fn limit_selects_by_group_and_excludes_hosts() {
        let inventory = load(FARM).unwrap();
        let limit = Limit::parse("builders,!build-01,!build-02").unwrap();
        let names: Vec<&str> = inventory
            .select(Some(&limit))
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(names, ["build-03", "build-04", "gpu-box"]);
    }

    #[test]
    fn unexpected_group_key_is_reported_with_suggestion_and_place() {
        let err = load("all:\n  host:\n    a:\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "farm.yaml:2:3: all.host: unexpected key \"host\" (did you mean \"hosts\"?); a group may only have hosts, children and vars"
        );
    }

    #[test]
    fn misspelled_fleetprune_key_is_reported() {
        let err = load("all:\n  hosts:\n    a:\n      fleetprune:\n        prune:\n          contaners: true\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "farm.yaml:6:11: all.hosts.a.fleetprune.prune.contaners: unknown key \"contaners\" (did you mean \"containers\"?)"
        );
    }

    #[test]
    fn bad_port_is_reported() {
        let err = load("all:\n  hosts:\n    a:\n      ansible_port: 70000\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "farm.yaml:4:21: all.hosts.a.ansible_port: port must be between 1 and 65535, found 70000"
        );
        let err = load("all:\n  hosts:\n    a:\n      ansible_port: ssh\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("ansible_port: port must be a number"),
            "{err}"
        );
    }

    #[test]
    fn quoted_port_is_accepted() {
        let inventory = load("all:\n  hosts:\n    a:\n      ansible_port: \"2222\"\n").unwrap();
        assert_eq!(inventory.hosts()[0].vars.port, Some(2222));
    }

    #[test]
    fn bad_filter_is_reported_at_its_value() {
        let err = load(
            "all:\n  vars:\n    fleetprune:\n      prune:\n        images: true\n        filter: [\"until=banana\"]\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("farm.yaml:6:18: all.vars.fleetprune.prune.filter[0]: invalid until value \"banana\""),
            "{text}"
        );
    }

    #[test]
    fn jinja_templates_are_refused_clearly() {
        let err =
            load("all:\n  hosts:\n    a:\n      ansible_host: \"{{ lookup('env', 'X') }}\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("Jinja templating"), "{err}");
    }

    #[test]
    fn other_tools_variables_are_ignored() {
        let inventory = load(
            "all:\n  vars:\n    ntp_servers: [a, b]\n    app: {{ port: 1 }}\n  hosts:\n    a:\n      ansible_become: true\n",
        );
        // `{{ port: 1 }}` is a YAML flow mapping inside a mapping, not a template: still ignored.
        assert!(inventory.is_ok(), "{inventory:?}");
    }

    #[test]
    fn broken_yaml_names_the_file() {
        let err = load("all:\n  hosts: [a\n").unwrap_err();
        assert!(matches!(err, InventoryError::Syntax { .. }));
        assert!(
            err.to_string().starts_with("farm.yaml: invalid YAML"),
            "{err}"
        );
    }

    #[test]
    fn empty_inventory_is_an_error() {
        assert!(matches!(
            load("all:\n"),
            Err(InventoryError::NoHosts { .. })
        ));
    }

    #[test]
    fn top_level_groups_are_children_of_all() {
        let inventory =
            load("all:\n  vars:\n    ansible_user: ops\nweb:\n  hosts:\n    w1:\n").unwrap();
        assert_eq!(inventory.hosts()[0].groups, ["all", "web"]);
        assert_eq!(inventory.hosts()[0].vars.user.as_deref(), Some("ops"));
    }

    #[test]
    fn deeper_group_wins_over_shallower() {
        let inventory = load(
            "all:\n  children:\n    a:\n      vars: { ansible_port: 1001 }\n      children:\n        b:\n          vars: { ansible_port: 1002 }\n          hosts:\n            h:\n    c:\n      vars: { ansible_port: 1003 }\n      hosts:\n        h:\n",
        )
        .unwrap();
        // b has depth 2, c has depth 1: b wins although c comes later.
        assert_eq!(inventory.hosts()[0].vars.port, Some(1002));
    }
}
