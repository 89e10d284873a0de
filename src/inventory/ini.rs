//! Ansible's INI inventory format, Ansible's default: `[group]` host lines with inline
//! `key=value` variables, `[group:vars]` and `[group:children]` sections, hosts before any
//! section in `ungrouped`, `#`/`;` comments. Values are typed as Ansible's `literal_eval` does
//! (`2222` is a number, `"2222"` a string).
//!
//! No crate reads this format (it is not INI in the configparser sense: host lines are
//! shell-quoted words), so it is parsed here, line by line, with `shlex` for the words.

use super::graph::Graph;
use super::host_range;
use super::vars::{self, HostVars, LevelVars};
use super::yaml::{Node, Position, Value};
use super::{InventoryError, Place, WalkError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Hosts,
    Vars,
    Children,
}

/// Reads INI inventory text into `graph`; `file` names it in places.
pub(super) fn read(graph: &mut Graph, file: &str, text: &str) -> Result<(), InventoryError> {
    read_lines(graph, file, text).map_err(|e| e.in_file(file))
}

fn read_lines(graph: &mut Graph, file: &str, text: &str) -> Result<(), WalkError> {
    let mut group = "ungrouped".to_string();
    let mut section = Section::Hosts;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let indent = raw.len() - raw.trim_start().len();
        let position = Position {
            line: index as u64 + 1,
            column: indent as u64 + 1,
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            (group, section) = parse_header(header, position)?;
            graph.group(&group);
            continue;
        }
        match section {
            Section::Hosts => read_host_line(graph, file, &group, line, position)?,
            Section::Vars => read_var_line(graph, &group, line, position)?,
            Section::Children => {
                let child = line
                    .split(|c: char| c.is_whitespace() || c == '#' || c == ';')
                    .next()
                    .unwrap_or(line);
                let key_path = format!("[{group}:children].{child}");
                if child == "all" {
                    return Err(WalkError::at(
                        position,
                        &key_path,
                        "the group `all` cannot be a child",
                    ));
                }
                graph
                    .add_child(&group, child)
                    .map_err(|cycle| WalkError::at(position, &key_path, cycle))?;
            }
        }
    }
    Ok(())
}

/// `[name]`, `[name:vars]`, `[name:children]`, with an optional comment after.
fn parse_header(header: &str, position: Position) -> Result<(String, Section), WalkError> {
    let bad = |message: String| WalkError::at(position, &format!("[{header}"), message);
    let Some((inside, rest)) = header.split_once(']') else {
        return Err(bad("a section header needs a closing ']'".to_string()));
    };
    let rest = rest.trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return Err(bad(format!(
            "unexpected text {rest:?} after the section header"
        )));
    }
    let (name, kind) = inside.split_once(':').unwrap_or((inside, ""));
    let section = match kind {
        "" | "hosts" => Section::Hosts,
        "vars" => Section::Vars,
        "children" => Section::Children,
        other => {
            return Err(bad(format!(
                "unknown section type {other:?}; use [{name}], [{name}:vars] or [{name}:children]"
            )));
        }
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(bad(format!("invalid group name {name:?}")));
    }
    Ok((name.to_string(), section))
}

/// `web[1:3]:2222 ansible_user=ops "fleetprune_note=a b"`.
fn read_host_line(
    graph: &mut Graph,
    file: &str,
    group: &str,
    line: &str,
    position: Position,
) -> Result<(), WalkError> {
    let words = shlex::split(strip_comment(line))
        .ok_or_else(|| WalkError::at(position, line, "unbalanced quotes"))?;
    let Some((pattern, assignments)) = words.split_first() else {
        return Ok(());
    };
    let parsed =
        host_range::parse_host_pattern(pattern).map_err(|e| WalkError::at(position, pattern, e))?;
    let mut level = LevelVars::default();
    for assignment in assignments {
        let key_path = format!("{pattern}.{assignment}");
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(WalkError::at(
                position,
                &key_path,
                format!("expected key=value after the host name, found {assignment:?}"),
            ));
        };
        let key_path = format!("{pattern}.{key}");
        vars::parse_var(key, &typed_value(value, position), &key_path, &mut level)?;
    }
    if let Some(port) = parsed.port {
        level.vars.port.plain.get_or_insert(port);
    }
    let place = Place::new(file, position);
    let vars = (level.vars != HostVars::default()).then_some(level.vars);
    for name in parsed.names {
        graph.add_host(group, &name, &place, vars.clone());
    }
    Ok(())
}

/// `key = value` in a `[group:vars]` section.
fn read_var_line(
    graph: &mut Graph,
    group: &str,
    line: &str,
    position: Position,
) -> Result<(), WalkError> {
    let key_path = format!("[{group}:vars]");
    let Some((key, value)) = line.split_once('=') else {
        return Err(WalkError::at(
            position,
            &key_path,
            format!("expected key=value, found {line:?}"),
        ));
    };
    let key = key.trim();
    let key_path = format!("{key_path}.{key}");
    let mut level = LevelVars::default();
    vars::parse_var(
        key,
        &typed_value(value.trim(), position),
        &key_path,
        &mut level,
    )?;
    graph.add_group_vars(group, level);
    Ok(())
}

/// A `#` starts a comment where shell quoting would end a word.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if at == 0 || line[..at].ends_with(char::is_whitespace) => {
                return &line[..at];
            }
            _ => {}
        }
    }
    line
}

/// Ansible's `_parse_value`: a Python literal becomes its type, anything else stays text.
fn typed_value(text: &str, position: Position) -> Node {
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')));
    let value = if let Some(inner) = unquoted {
        Value::String(inner.to_string())
    } else if let Ok(int) = text.parse::<i128>() {
        Value::Int(int)
    } else if let Ok(float) = text.parse::<f64>()
        && text.contains('.')
    {
        Value::Float(float)
    } else {
        match text {
            "True" => Value::Bool(true),
            "False" => Value::Bool(false),
            "None" => Value::Null,
            _ => Value::String(text.to_string()),
        }
    };
    Node { value, position }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::InventoryHost;

    fn load(text: &str) -> Vec<InventoryHost> {
        let mut graph = Graph::default();
        read(&mut graph, "hosts", text).unwrap();
        graph.merge()
    }

    const FARM: &str = "\
# the farm
lone ansible_host=10.0.0.9

[builders]
build-[01:02] ansible_port=2200
gpu-box:2222 ansible_host=10.0.0.40 ansible_user=\"deploy\"  # the big one

[builders:vars]
ansible_user = ops

[linux:children]
builders
";

    #[test]
    fn ini_reads_hosts_vars_children_and_ungrouped() {
        let hosts = load(FARM);
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["lone", "build-01", "build-02", "gpu-box"]);
        assert_eq!(hosts[0].groups, ["all", "ungrouped"]);
        assert_eq!(hosts[1].groups, ["all", "linux", "builders"]);
        assert_eq!(hosts[1].vars.port.effective(), Some(&2200));
        assert_eq!(
            hosts[1].vars.user.effective().map(String::as_str),
            Some("ops")
        );
        let gpu = &hosts[3];
        assert_eq!(gpu.vars.port.effective(), Some(&2222));
        assert_eq!(
            gpu.vars.user.effective().map(String::as_str),
            Some("deploy")
        );
        assert_eq!(gpu.place.to_string(), "hosts:6:1");
    }

    #[test]
    fn ini_bad_port_names_line_and_key() {
        let mut graph = Graph::default();
        let error = read(&mut graph, "hosts", "[web]\nweb1 ansible_port=22.5\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "hosts:2:1: web1.ansible_port: port must be a whole number, found 22.5"
        );
    }

    #[test]
    fn ini_group_loop_is_refused() {
        let mut graph = Graph::default();
        let error = read(&mut graph, "hosts", "[a:children]\nb\n[b:children]\na\n").unwrap_err();
        assert!(error.to_string().contains("loop of groups"), "{error}");
    }
}
