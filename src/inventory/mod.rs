//! Ansible inventories as Ansible reads them: YAML and INI files, several `-i` sources, inventory
//! directories, `group_vars/` and `host_vars/` beside them, host ranges and ports, the
//! `ansible_*` connection variables and fleetprune's own `fleetprune:` mapping.
//!
//! Loading validates everything it interprets and names `file:line:column` and the key of any
//! mistake. Variables of other tools are ignored. Turning merged variables plus command-line
//! overrides into a host to contact is [`crate::host`]'s job.

pub mod ansible_cfg;
mod engine_connections;
mod graph;
mod host_range;
mod ini;
mod limit;
mod sources;
mod var_files;
pub(crate) mod vars;
mod yaml;
mod yaml_source;

use std::fmt;
use std::path::{Path, PathBuf};

pub use limit::{Limit, LimitError, LimitSelection, UnmatchedTerm};
pub use vars::{HostVars, KindVar, PruneVars, SshVar};
pub use yaml::Position;

use graph::Graph;
use yaml::Node;

/// A loaded inventory: its hosts in declaration order with their merged variables.
#[derive(Debug, Clone)]
pub struct Inventory {
    sources: Vec<PathBuf>,
    hosts: Vec<InventoryHost>,
    /// Every group name, `all` and `ungrouped` included (for `--limit`).
    groups: Vec<String>,
}

/// A file and a position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub position: Position,
}

impl Place {
    pub fn new(file: &str, position: Position) -> Place {
        Place {
            file: file.to_string(),
            position,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.position)
    }
}

/// One host of the inventory with everything the inventory says about it.
#[derive(Debug, Clone)]
pub struct InventoryHost {
    pub name: String,
    /// Where the host is first declared.
    pub place: Place,
    /// Every group the host belongs to, `all` and ancestors included, in the order their
    /// variables apply (least specific first).
    pub groups: Vec<String>,
    /// Variables merged with Ansible's precedence (boxed: a host's entry in a list of 10,000
    /// stays small, and its variables come and go with it).
    pub vars: Box<HostVars>,
}

/// A mistake in the inventory, with its place.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{path}: cannot read inventory: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}{}: invalid YAML: {message}", at(position))]
    Syntax {
        path: String,
        position: Option<Position>,
        message: String,
    },
    #[error("{path}:{position}: {key_path}: {message}")]
    Invalid {
        path: String,
        position: Position,
        key_path: String,
        message: String,
    },
    #[error(
        "{path}: executable inventory scripts are not run by fleetprune; export the inventory with `ansible-inventory -i {path} --list -y` and use that file"
    )]
    Script { path: String },
    #[error("{paths}: the inventory defines no hosts")]
    NoHosts { paths: String },
    /// A docker context or Podman connections file that cannot be read.
    #[error(transparent)]
    Connections(#[from] engine_connections::ConnectionsError),
}

fn at(position: &Option<Position>) -> String {
    position.map(|p| format!(":{p}")).unwrap_or_default()
}

/// A mistake found while walking a source, before the file name is attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WalkError {
    pub position: Position,
    pub key_path: String,
    pub message: String,
}

impl WalkError {
    pub(crate) fn new(node: &Node, key_path: &str, message: impl fmt::Display) -> WalkError {
        WalkError::at(node.position, key_path, message)
    }

    pub(crate) fn at(position: Position, key_path: &str, message: impl fmt::Display) -> WalkError {
        WalkError {
            position,
            key_path: key_path.to_string(),
            message: message.to_string(),
        }
    }

    fn in_file(self, path: &str) -> InventoryError {
        InventoryError::Invalid {
            path: path.to_string(),
            position: self.position,
            key_path: self.key_path,
            message: self.message,
        }
    }
}

impl Inventory {
    /// Reads every source in order, as `ansible -i A -i B` does: files (YAML or INI),
    /// directories (every inventory file in them) or a comma-separated host list (`a,b,`); then
    /// `group_vars/` and `host_vars/` beside each source.
    pub fn load(sources: &[PathBuf]) -> Result<Inventory, InventoryError> {
        let mut graph = Graph::default();
        let expanded = sources::expand(sources)?;
        for source in &expanded.sources {
            source.read_into(&mut graph)?;
        }
        for basedir in &expanded.basedirs {
            var_files::read_into(&mut graph, basedir)?;
        }
        Inventory::finish(sources, graph)
    }

    /// Reads YAML inventory text; `path` is used in messages.
    pub fn from_text(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
        let mut graph = Graph::default();
        sources::read_yaml(&mut graph, &path.display().to_string(), text)?;
        Inventory::finish(&[path.to_path_buf()], graph)
    }

    fn finish(sources: &[PathBuf], graph: Graph) -> Result<Inventory, InventoryError> {
        let groups = graph.group_names().map(str::to_string).collect();
        let hosts = graph.merge();
        if hosts.is_empty() {
            return Err(InventoryError::NoHosts {
                paths: display_paths(sources),
            });
        }
        Ok(Inventory {
            sources: sources.to_vec(),
            hosts,
            groups,
        })
    }

    /// The sources as given, for messages.
    pub fn describe_sources(&self) -> String {
        display_paths(&self.sources)
    }

    pub fn hosts(&self) -> &[InventoryHost] {
        &self.hosts
    }

    /// Which of this inventory's hosts a selection of it picked (given in inventory order, as
    /// [`Inventory::select`] gives them), one flag per host.
    pub fn picked(&self, selected: &[&InventoryHost]) -> Vec<bool> {
        let mut selected = selected.iter().peekable();
        self.hosts
            .iter()
            .map(|host| selected.next_if(|s| std::ptr::eq(**s, host)).is_some())
            .collect()
    }

    /// Hands over the hosts flagged in `picked` one at a time; the others are dropped.
    pub fn into_picked(self, picked: Vec<bool>) -> Picked {
        let remaining = picked.iter().filter(|p| **p).count();
        Picked {
            hosts: self.hosts.into_iter().zip(picked),
            remaining,
        }
    }

    /// The hosts `limit` selects, in inventory order, and the terms that matched nothing.
    pub fn select(&self, limit: Option<&Limit>) -> LimitSelection<'_> {
        match limit {
            None => LimitSelection {
                hosts: self.hosts.iter().collect(),
                unmatched: Vec::new(),
            },
            Some(limit) => limit.select(&self.hosts, &self.groups),
        }
    }
}

/// The picked hosts of an inventory, taken one at a time ([`Inventory::into_picked`]).
pub struct Picked {
    hosts: std::iter::Zip<std::vec::IntoIter<InventoryHost>, std::vec::IntoIter<bool>>,
    remaining: usize,
}

impl Iterator for Picked {
    type Item = InventoryHost;

    fn next(&mut self) -> Option<InventoryHost> {
        let (host, _) = self.hosts.by_ref().find(|(_, keep)| *keep)?;
        self.remaining -= 1;
        Some(host)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Picked {}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
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
        assert_eq!(gpu.vars.port.effective(), Some(&2222));
        assert_eq!(
            gpu.vars.address.effective().map(String::as_str),
            Some("10.0.0.40")
        );
        assert_eq!(gpu.vars.user.effective().map(String::as_str), Some("ops"));
        let build = host(&inventory, "build-02");
        assert_eq!(build.vars.port.effective(), Some(&2200));
        assert_eq!(
            host(&inventory, "web-1")
                .vars
                .user
                .effective()
                .map(String::as_str),
            Some("deploy")
        );
        assert_eq!(host(&inventory, "web-1").vars.port.effective(), None);
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
            .hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(names, ["build-03", "build-04", "gpu-box"]);
    }

    #[test]
    fn the_picked_hosts_are_handed_over_in_inventory_order_and_counted() {
        let inventory = load(FARM).unwrap();
        let limit = Limit::parse("builders,!build-01,!build-02").unwrap();
        let selection = inventory.select(Some(&limit));
        let picked = inventory.picked(&selection.hosts);
        drop(selection);
        let picked = inventory.into_picked(picked);
        assert_eq!(picked.len(), 3);
        let names: Vec<String> = picked.map(|h| h.name).collect();
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
                .contains("ansible_port: port must be a whole number"),
            "{err}"
        );
    }

    #[test]
    fn quoted_port_is_accepted() {
        let inventory = load("all:\n  hosts:\n    a:\n      ansible_port: \"2222\"\n").unwrap();
        assert_eq!(inventory.hosts()[0].vars.port.effective(), Some(&2222));
    }

    #[test]
    fn fractional_port_is_reported_as_such() {
        let err = load("all:\n  hosts:\n    a:\n      ansible_port: 22.5\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "farm.yaml:4:21: all.hosts.a.ansible_port: port must be a whole number, found 22.5"
        );
    }

    #[test]
    fn host_name_with_port_becomes_host_and_port() {
        let inventory =
            load("all:\n  hosts:\n    \"web1:2222\":\n    \"[2001:db8::20]:2200\":\n").unwrap();
        let hosts = inventory.hosts();
        assert_eq!(hosts[0].name, "web1");
        assert_eq!(hosts[0].vars.port.effective(), Some(&2222));
        assert_eq!(hosts[1].name, "2001:db8::20");
        assert_eq!(hosts[1].vars.port.effective(), Some(&2200));
    }

    #[test]
    fn null_and_non_string_host_names_are_refused_with_place() {
        let err = load("all:\n  hosts:\n    ~:\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "farm.yaml:3:5: all.hosts: a host name is empty (null); remove the entry or write the name"
        );
        let err = load("all:\n  hosts:\n    12:\n").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "farm.yaml:3:5: all.hosts.12: a host name must be a string, found an integer"
            ),
            "{err}"
        );
    }

    #[test]
    fn group_loop_is_refused_with_place() {
        let err = load(
            "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("farm.yaml:7:13: all.children.a.children.b.children.a: group \"a\" cannot be a child of \"b\""),
            "{err}"
        );
    }

    #[test]
    fn group_priority_orders_groups_of_equal_depth() {
        let inventory = load(
            "all:\n  children:\n    a:\n      vars: { ansible_user: from-a, ansible_group_priority: 10 }\n      hosts: { h: }\n    b:\n      vars: { ansible_user: from-b }\n      hosts: { h: }\n",
        )
        .unwrap();
        // Without the priority b (later by name) would win.
        assert_eq!(
            inventory.hosts()[0]
                .vars
                .user
                .effective()
                .map(String::as_str),
            Some("from-a")
        );
    }

    #[test]
    fn group_vars_files_override_inventory_group_vars_and_host_vars_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let inventory_file = dir.path().join("hosts.yml");
        std::fs::write(
            &inventory_file,
            "all:\n  children:\n    web:\n      vars: { ansible_user: inv, ansible_port: 2200 }\n      hosts: { w1: , w2: { ansible_port: 2300 } }\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("group_vars/all")).unwrap();
        std::fs::create_dir_all(dir.path().join("host_vars")).unwrap();
        std::fs::write(
            dir.path().join("group_vars/all/conn.yml"),
            "ansible_user: file-all\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("host_vars/w2.yaml"), "ansible_port: 2400\n").unwrap();
        let inventory = Inventory::load(&[dir.path().to_path_buf()]).unwrap();
        let hosts = inventory.hosts();
        // group_vars/all is above the inventory file's own group vars, as in Ansible.
        assert_eq!(
            hosts[0].vars.user.effective().map(String::as_str),
            Some("file-all")
        );
        assert_eq!(hosts[0].vars.port.effective(), Some(&2200));
        assert_eq!(hosts[1].vars.port.effective(), Some(&2400));
        let from_file = Inventory::load(&[inventory_file]).unwrap();
        assert_eq!(from_file.hosts()[1].vars.port.effective(), Some(&2400));
    }

    #[test]
    fn several_sources_and_an_ini_file_in_a_directory_merge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "[web]\nw1 ansible_port=2201\n").unwrap();
        std::fs::write(dir.path().join("skipped.ini"), "[web]\nnot-read\n").unwrap();
        std::fs::write(
            dir.path().join("b"),
            "[web]\nw2\n[web:vars]\nansible_user=ops\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.md"), "# not an inventory\n").unwrap();
        let other = dir.path().join("other.yaml");
        std::fs::write(&other, "db:\n  hosts:\n    d1:\n").unwrap();
        let inventory = Inventory::load(&[dir.path().to_path_buf(), other]).unwrap();
        let names: Vec<&str> = inventory.hosts().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["w1", "w2", "d1"]);
        assert_eq!(
            inventory.hosts()[0]
                .vars
                .user
                .effective()
                .map(String::as_str),
            Some("ops")
        );
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
    fn thresholds_are_read_as_a_mapping_or_one_percentage() {
        use crate::plan::policy::{DiskThreshold, Percent};
        let inventory = load(
            "all:\n  vars:\n    fleetprune:\n      prune:\n        threshold: { high: 85%, low: 70% }\n  hosts:\n    a:\n    b:\n      fleetprune:\n        prune:\n          threshold: 90%\n",
        )
        .unwrap();
        let threshold = |name| host(&inventory, name).vars.prune.policy().threshold;
        assert_eq!(
            threshold("a"),
            Some(DiskThreshold {
                high: Percent::new(85),
                low: Percent::new(70)
            })
        );
        assert_eq!(
            threshold("b"),
            Some(DiskThreshold {
                high: Percent::new(90),
                low: Percent::new(90)
            })
        );
    }

    #[test]
    fn inode_thresholds_are_read_beside_thresholds_and_refined_per_host() {
        use crate::plan::policy::{DiskThreshold, Percent};
        let inventory = load(
            "all:\n  vars:\n    fleetprune:\n      prune:\n        threshold: 85%\n        inode_threshold: { high: 90%, low: 80% }\n  hosts:\n    a:\n    b:\n      fleetprune:\n        prune:\n          inode_threshold: 95%\n",
        )
        .unwrap();
        let policy = |name| host(&inventory, name).vars.prune.policy();
        let mark = |high, low| {
            Some(DiskThreshold {
                high: Percent::new(high),
                low: Percent::new(low),
            })
        };
        assert_eq!(policy("a").inode_threshold, mark(90, 80));
        assert_eq!(policy("b").inode_threshold, mark(95, 95));
        assert_eq!(policy("b").threshold, mark(85, 85));
        assert!(policy("a").to_string().ends_with("inode_threshold=90%:80%"));
        let error = load(
            "all:\n  hosts:\n    a:\n      fleetprune:\n        prune:\n          inode_threshold: 101%\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with(
                "farm.yaml:6:28: all.hosts.a.fleetprune.prune.inode_threshold: invalid percentage \"101%\""
            ),
            "{error}"
        );
    }

    #[test]
    fn bad_thresholds_are_reported_with_file_line_and_key() {
        let at = |threshold: &str| {
            load(&format!(
                "all:\n  hosts:\n    a:\n      fleetprune:\n        prune:\n          threshold: {threshold}\n"
            ))
            .unwrap_err()
            .to_string()
        };
        let key = "farm.yaml:6:22: all.hosts.a.fleetprune.prune.threshold";
        assert_eq!(
            at("{ high: 70%, low: 85% }"),
            format!(
                "{key}: invalid percentage \"70%:85%: the low mark is above the high one\": expected 0% to 100%, e.g. 85%, or HIGH:LOW such as 85%:70%"
            )
        );
        assert!(at("101%").starts_with(&format!("{key}: invalid percentage \"101%\"")));
        assert!(at("85").starts_with(&format!("{key}: invalid percentage \"85\"")));
        assert_eq!(
            at("{ low: 70% }"),
            format!("{key}: threshold needs a high mark")
        );
        assert!(
            at("{ high: 85%, lo: 70% }").starts_with(
                "farm.yaml:6:35: all.hosts.a.fleetprune.prune.threshold.lo: unknown key \"lo\" (did you mean \"low\"?)"
            ),
            "{}",
            at("{ high: 85%, lo: 70% }")
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
            err.to_string().starts_with("farm.yaml:2:10: invalid YAML"),
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
        assert_eq!(
            inventory.hosts()[0]
                .vars
                .user
                .effective()
                .map(String::as_str),
            Some("ops")
        );
    }

    #[test]
    fn deeper_group_wins_over_shallower() {
        let inventory = load(
            "all:\n  children:\n    a:\n      vars: { ansible_port: 1001 }\n      children:\n        b:\n          vars: { ansible_port: 1002 }\n          hosts:\n            h:\n    c:\n      vars: { ansible_port: 1003 }\n      hosts:\n        h:\n",
        )
        .unwrap();
        // b has depth 2, c has depth 1: b wins although c comes later.
        assert_eq!(inventory.hosts()[0].vars.port.effective(), Some(&1002));
    }
}
