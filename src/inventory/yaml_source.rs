//! Ansible's YAML inventory format: `all:`, `hosts:`, `children:`, `vars:` at every level, host
//! patterns with ranges and ports (`web[1:3]:2222`, `[2001:db8::20]:2222`), read into the
//! [`Graph`] with the position of every key.

use super::graph::Graph;
use super::host_range;
use super::vars::{self, HostVars, LevelVars};
use super::yaml::{Node, Value};
use super::{Place, WalkError};
use crate::filter::Suggestion;

const GROUP_KEYS: [&str; 3] = ["hosts", "children", "vars"];

/// Reads one YAML inventory document into `graph`; `file` names it in places.
pub(super) fn walk(graph: &mut Graph, root: &Node, file: &str) -> Result<(), WalkError> {
    let mut walker = Walker { graph, file };
    match &root.value {
        Value::Null => Ok(()),
        Value::Mapping(entries) => {
            for (key, body) in entries {
                let name = group_name(key, "(top level)")?;
                if name == "plugin" && matches!(body.value, Value::String(_)) {
                    return Err(WalkError::new(
                        key,
                        "plugin",
                        "inventory plugins are not run by fleetprune; export the inventory with `ansible-inventory -i FILE --list -y` and use that file",
                    ));
                }
                walker.walk_group(&name, body, &name)?;
            }
            Ok(())
        }
        other => Err(WalkError::new(
            root,
            "(top level)",
            format!(
                "expected a mapping of groups such as `all:`, found {}",
                other.kind()
            ),
        )),
    }
}

struct Walker<'a> {
    graph: &'a mut Graph,
    file: &'a str,
}

impl Walker<'_> {
    fn walk_group(&mut self, name: &str, body: &Node, path: &str) -> Result<(), WalkError> {
        self.graph.group(name);
        let entries = vars::expect_mapping(body, path, "hosts, children and vars")?;
        for (key, value) in entries {
            let key_name = key.key_text();
            let key_path = format!("{path}.{key_name}");
            match key_name.as_str() {
                "vars" => {
                    let level = vars::parse_vars(value, &key_path)?;
                    self.graph.add_group_vars(name, level);
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
            let pattern = host_name(key, path)?;
            let key_path = format!("{path}.{pattern}");
            let parsed = host_range::parse_host_pattern(&pattern)
                .map_err(|e| WalkError::new(key, &key_path, e))?;
            let mut level = match &value.value {
                Value::Null => LevelVars::default(),
                _ => vars::parse_vars(value, &key_path)?,
            };
            if let Some(port) = parsed.port {
                // Ansible stores the pattern's port as the host's ansible_port.
                level.vars.port.plain.get_or_insert(port);
            }
            let place = Place::new(self.file, key.position);
            let vars = (level.vars != HostVars::default()).then_some(level.vars);
            for name in parsed.names {
                self.graph.add_host(group, &name, &place, vars.clone());
            }
        }
        Ok(())
    }

    fn walk_children(&mut self, parent: &str, node: &Node, path: &str) -> Result<(), WalkError> {
        for (key, body) in vars::expect_mapping(node, path, "group names")? {
            let child = group_name(key, path)?;
            if child == "all" {
                return Err(WalkError::new(
                    key,
                    path,
                    "the group `all` cannot be a child",
                ));
            }
            let child_path = format!("{path}.{child}");
            self.graph
                .add_child(parent, &child)
                .map_err(|cycle| WalkError::new(key, &child_path, cycle))?;
            self.walk_group(&child, body, &child_path)?;
        }
        Ok(())
    }
}

/// A host key must be a non-empty string: `~:` or `1:` is almost always a mistake.
fn host_name(key: &Node, path: &str) -> Result<String, WalkError> {
    match &key.value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        Value::String(_) | Value::Null => Err(WalkError::new(
            key,
            path,
            "a host name is empty (null); remove the entry or write the name",
        )),
        other => Err(WalkError::new(
            key,
            &format!("{path}.{}", key.key_text()),
            format!(
                "a host name must be a string, found {}; quote it if it is meant as a name",
                other.kind()
            ),
        )),
    }
}

fn group_name(key: &Node, path: &str) -> Result<String, WalkError> {
    match &key.value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        other => Err(WalkError::new(
            key,
            path,
            format!(
                "a group name must be a non-empty string, found {}",
                other.kind()
            ),
        )),
    }
}
