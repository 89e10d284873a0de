//! The inventory as Ansible holds it once every source is read: groups with their parents,
//! variables and priority, hosts with their groups and variables, and the final merge into one
//! set of variables per host (Ansible's order: group depth, then `ansible_group_priority`, then
//! name; `group_vars/` and `host_vars/` files above the inventory's own variables).
//!
//! Sources (YAML, INI, variable files) feed it; it knows nothing of file formats.

use std::collections::HashMap;

use super::vars::{HostVars, LevelVars};
use super::{InventoryHost, Place};

/// Ansible's default `ansible_group_priority`.
const DEFAULT_PRIORITY: i64 = 1;

#[derive(Debug)]
struct GroupDecl {
    name: String,
    /// Indexes of parent groups.
    parents: Vec<usize>,
    /// Variables from inventory sources, in the order read.
    vars: Vec<HostVars>,
    /// Variables from `group_vars/` files, in the order read.
    file_vars: Vec<HostVars>,
    priority: i64,
}

#[derive(Debug)]
struct HostDecl {
    name: String,
    place: Place,
    /// Indexes of the groups the host is listed in.
    groups: Vec<usize>,
    vars: Vec<HostVars>,
    file_vars: Vec<HostVars>,
}

/// Groups and hosts as declared, in declaration order.
#[derive(Debug)]
pub(super) struct Graph {
    groups: Vec<GroupDecl>,
    group_index: HashMap<String, usize>,
    hosts: Vec<HostDecl>,
    host_index: HashMap<String, usize>,
}

/// `child` is already an ancestor of `parent` (or is `parent`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "group {child:?} cannot be a child of {parent:?}: it is already its ancestor (a loop of groups)"
)]
pub(super) struct Cycle {
    pub parent: String,
    pub child: String,
}

const ALL: usize = 0;
const UNGROUPED: usize = 1;

impl Default for Graph {
    fn default() -> Graph {
        let mut graph = Graph {
            groups: Vec::new(),
            group_index: HashMap::new(),
            hosts: Vec::new(),
            host_index: HashMap::new(),
        };
        graph.group("all");
        let ungrouped = graph.group("ungrouped");
        graph.groups[ungrouped].parents.push(ALL);
        graph
    }
}

impl Graph {
    /// The index of group `name`, declaring it if needed.
    pub fn group(&mut self, name: &str) -> usize {
        if let Some(&index) = self.group_index.get(name) {
            return index;
        }
        self.groups.push(GroupDecl {
            name: name.to_string(),
            parents: Vec::new(),
            vars: Vec::new(),
            file_vars: Vec::new(),
            priority: DEFAULT_PRIORITY,
        });
        self.group_index
            .insert(name.to_string(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Makes `child` a child group of `parent`, refusing loops as Ansible does.
    pub fn add_child(&mut self, parent: &str, child: &str) -> Result<(), Cycle> {
        let parent_index = self.group(parent);
        let child_index = self.group(child);
        if self.groups[child_index].parents.contains(&parent_index) {
            return Ok(());
        }
        if child_index == parent_index || self.is_ancestor(child_index, parent_index) {
            return Err(Cycle {
                parent: parent.to_string(),
                child: child.to_string(),
            });
        }
        self.groups[child_index].parents.push(parent_index);
        Ok(())
    }

    /// Whether `ancestor` is reachable from `group` through parents.
    fn is_ancestor(&self, ancestor: usize, group: usize) -> bool {
        let mut seen = vec![false; self.groups.len()];
        let mut stack = vec![group];
        while let Some(current) = stack.pop() {
            if current == ancestor {
                return true;
            }
            for &parent in &self.groups[current].parents {
                if !seen[parent] {
                    seen[parent] = true;
                    stack.push(parent);
                }
            }
        }
        false
    }

    /// Adds a `vars:` level of an inventory source to a group.
    pub fn add_group_vars(&mut self, group: &str, level: LevelVars) {
        let index = self.group(group);
        if let Some(priority) = level.group_priority {
            self.groups[index].priority = priority;
        }
        self.groups[index].vars.push(level.vars);
    }

    /// Adds a `group_vars/` file's variables to a group, if the group exists.
    pub fn add_group_file_vars(&mut self, group: &str, vars: HostVars) {
        if let Some(&index) = self.group_index.get(group) {
            self.groups[index].file_vars.push(vars);
        }
    }

    /// Adds a `host_vars/` file's variables to a host, if the host exists.
    pub fn add_host_file_vars(&mut self, host: &str, vars: HostVars) {
        if let Some(&index) = self.host_index.get(host) {
            let layers = &mut self.hosts[index].file_vars;
            layers.reserve_exact(1);
            layers.push(vars);
        }
    }

    /// Lists `host` in `group`, with its own variables for that listing.
    pub fn add_host(&mut self, group: &str, host: &str, place: &Place, vars: Option<HostVars>) {
        let group_index = self.group(group);
        let index = match self.host_index.get(host) {
            Some(&index) => index,
            None => {
                self.hosts.push(HostDecl {
                    name: host.to_string(),
                    place: place.clone(),
                    groups: Vec::new(),
                    vars: Vec::new(),
                    file_vars: Vec::new(),
                });
                self.host_index
                    .insert(host.to_string(), self.hosts.len() - 1);
                self.hosts.len() - 1
            }
        };
        let decl = &mut self.hosts[index];
        if !decl.groups.contains(&group_index) {
            decl.groups.push(group_index);
        }
        if let Some(vars) = vars {
            // Most hosts have one layer: room for exactly it, not the four a first push
            // reserves (4 x 640 bytes on each of 10,000 hosts is 25 MB).
            decl.vars.reserve_exact(1);
            decl.vars.push(vars);
        }
    }

    /// Every group name, `all` and `ungrouped` first, then in declaration order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }

    /// Every host name in declaration order.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(|h| h.name.as_str())
    }

    /// Merges variables per host. Linear in groups and hosts: depths and ancestor sets are
    /// computed once per group.
    pub fn merge(mut self) -> Vec<InventoryHost> {
        // A group nobody lists as a child is a child of `all`, as Ansible reconciles it.
        for index in 1..self.groups.len() {
            if self.groups[index].parents.is_empty() {
                self.groups[index].parents.push(ALL);
            }
        }
        let depths = self.depths();
        let ancestors = self.ancestor_sets();
        let order = |a: &usize, b: &usize| {
            let (ga, gb) = (&self.groups[*a], &self.groups[*b]);
            (depths[*a], ga.priority, &ga.name).cmp(&(depths[*b], gb.priority, &gb.name))
        };
        let mut merged = Vec::with_capacity(self.hosts.len());
        let mut member = vec![false; self.groups.len()];
        // Each declaration goes as its host is merged: the two never all live at once.
        for host in std::mem::take(&mut self.hosts) {
            member.fill(false);
            for &group in &host.groups {
                for &ancestor in &ancestors[group] {
                    member[ancestor] = true;
                }
            }
            // Ansible's reconcile: a host in no group but `all` is in `ungrouped`, and a host
            // listed in `ungrouped` but also elsewhere is not.
            let elsewhere = member
                .iter()
                .enumerate()
                .any(|(g, &m)| m && g != ALL && g != UNGROUPED);
            member[UNGROUPED] = !elsewhere;
            member[ALL] = true;
            let mut groups: Vec<usize> = (0..self.groups.len()).filter(|&g| member[g]).collect();
            groups.sort_by(order);

            let mut vars = HostVars::default();
            for &group in &groups {
                for layer in &self.groups[group].vars {
                    vars.apply(layer);
                }
            }
            for &group in &groups {
                for layer in &self.groups[group].file_vars {
                    vars.apply(layer);
                }
            }
            for layer in host.vars.iter().chain(&host.file_vars) {
                vars.apply(layer);
            }
            merged.push(InventoryHost {
                name: host.name,
                place: host.place,
                groups: groups
                    .iter()
                    .map(|&g| self.groups[g].name.clone())
                    .collect(),
                vars: Box::new(vars),
            });
        }
        merged
    }

    /// Depth as Ansible counts it: `all` is 0, a child one more than its deepest parent.
    fn depths(&self) -> Vec<usize> {
        let mut depths: Vec<Option<usize>> = vec![None; self.groups.len()];
        depths[ALL] = Some(0);
        for start in 0..self.groups.len() {
            // Iterative post-order walk; the graph has no cycles (add_child refuses them).
            let mut stack = vec![(start, false)];
            while let Some((group, expanded)) = stack.pop() {
                if depths[group].is_some() {
                    continue;
                }
                let parents = &self.groups[group].parents;
                if expanded {
                    let depth = parents
                        .iter()
                        .filter_map(|&p| depths[p])
                        .max()
                        .map_or(0, |d| d + 1);
                    depths[group] = Some(depth);
                } else {
                    stack.push((group, true));
                    stack.extend(parents.iter().map(|&p| (p, false)));
                }
            }
        }
        depths.into_iter().map(Option::unwrap_or_default).collect()
    }

    /// For each group, itself and every ancestor.
    fn ancestor_sets(&self) -> Vec<Vec<usize>> {
        let mut sets: Vec<Option<Vec<usize>>> = vec![None; self.groups.len()];
        for start in 0..self.groups.len() {
            let mut stack = vec![(start, false)];
            while let Some((group, expanded)) = stack.pop() {
                if sets[group].is_some() {
                    continue;
                }
                let parents = &self.groups[group].parents;
                if expanded {
                    let mut set = vec![group];
                    for &parent in parents {
                        set.extend(sets[parent].iter().flatten().copied());
                    }
                    set.sort_unstable();
                    set.dedup();
                    sets[group] = Some(set);
                } else {
                    stack.push((group, true));
                    stack.extend(parents.iter().map(|&p| (p, false)));
                }
            }
        }
        sets.into_iter().map(Option::unwrap_or_default).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn place() -> Place {
        Place::new("t.yaml", super::super::Position { line: 1, column: 1 })
    }

    #[test]
    fn group_loop_is_refused() {
        let mut graph = Graph::default();
        graph.add_child("a", "b").unwrap();
        graph.add_child("b", "c").unwrap();
        assert_eq!(
            graph.add_child("c", "a"),
            Err(Cycle {
                parent: "c".into(),
                child: "a".into()
            })
        );
        assert!(graph.add_child("a", "a").is_err());
    }

    #[test]
    fn host_in_no_group_is_ungrouped() {
        let mut graph = Graph::default();
        graph.add_host("all", "lone", &place(), None);
        graph.add_host("ungrouped", "both", &place(), None);
        graph.add_host("web", "both", &place(), None);
        let hosts = graph.merge();
        assert_eq!(hosts[0].groups, ["all", "ungrouped"]);
        assert_eq!(hosts[1].groups, ["all", "web"]);
    }

    /// 26 levels, two groups per level, each a child of both groups above: 2^26 paths to `all`.
    #[test]
    fn deep_diamond_of_groups_resolves_without_walking_every_path() {
        let started = Instant::now();
        let mut graph = Graph::default();
        for level in 1..26 {
            for side in ["l", "r"] {
                for parent_side in ["l", "r"] {
                    graph
                        .add_child(
                            &format!("{parent_side}{}", level - 1),
                            &format!("{side}{level}"),
                        )
                        .unwrap();
                }
            }
        }
        graph.add_host("l25", "deep", &place(), None);
        let hosts = graph.merge();
        // all, both groups of levels 0 to 24, and l25 itself.
        assert_eq!(hosts[0].groups.len(), 1 + 2 * 25 + 1);
        assert_eq!(hosts[0].groups.last().map(String::as_str), Some("l25"));
        // Generous for a debug build on a loaded machine; the exponential walk took 70 s.
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
