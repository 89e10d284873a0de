//! `group_vars/` and `host_vars/` beside an inventory source, as Ansible's `host_group_vars`
//! plugin reads them: `group_vars/NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`, or a directory
//! `NAME/` whose files are read in name order. Only groups and hosts the inventory declares are
//! looked up; each file is a YAML mapping of variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::graph::Graph;
use super::vars::{self, HostVars};
use super::yaml::{self, Value};
use super::{InventoryError, WalkError};

const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// Reads `basedir/group_vars` and `basedir/host_vars` into `graph`.
pub(super) fn read_into(graph: &mut Graph, basedir: &Path) -> Result<(), InventoryError> {
    let groups: Vec<String> = graph.group_names().map(str::to_string).collect();
    for (group, files) in files_by_name(&basedir.join("group_vars"), &groups)? {
        for file in files {
            graph.add_group_file_vars(&group, read_file(&file, &group)?);
        }
    }
    let hosts: Vec<String> = graph.host_names().map(str::to_string).collect();
    for (host, files) in files_by_name(&basedir.join("host_vars"), &hosts)? {
        for file in files {
            graph.add_host_file_vars(&host, read_file(&file, &host)?);
        }
    }
    Ok(())
}

/// For each of `names` with variable files in `dir`, those files in the order they apply. The
/// directory is listed once, so a large inventory costs one `read_dir`, not a lookup per host.
fn files_by_name(
    dir: &Path,
    names: &[String],
) -> Result<BTreeMap<String, Vec<PathBuf>>, InventoryError> {
    let mut found = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => return Err(read_error(dir, source)),
    };
    let mut by_entry: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|source| read_error(dir, source))?;
        by_entry.insert(
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        );
    }
    for name in names {
        let mut files = Vec::new();
        for extension in EXTENSIONS {
            let Some(path) = by_entry.get(&format!("{name}{extension}")) else {
                continue;
            };
            if path.is_dir() {
                directory_files(path, &mut files)?;
            } else {
                files.push(path.clone());
            }
        }
        if !files.is_empty() {
            found.insert(name.clone(), files);
        }
    }
    Ok(found)
}

/// Variable files under a `NAME/` directory, recursively, in name order; hidden files skipped.
fn directory_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    let entries = super::sources::sorted_entries(dir).map_err(|source| read_error(dir, source))?;
    for entry in entries {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            directory_files(&entry, into)?;
        } else if EXTENSIONS[1..].iter().any(|e| name.ends_with(e)) || !name.contains('.') {
            into.push(entry);
        }
    }
    Ok(())
}

/// One variable file; `name` (its group or host) starts the key paths in messages.
fn read_file(path: &Path, name: &str) -> Result<HostVars, InventoryError> {
    let shown = path.display().to_string();
    let text = crate::input_file::read_to_string(path, crate::input_file::INVENTORY_LIMIT)
        .map_err(|source| read_error(path, source))?;
    let root = yaml::parse(&text).map_err(|error| InventoryError::Syntax {
        path: shown.clone(),
        position: error.position,
        message: error.message,
    })?;
    if root.value == Value::Null {
        return Ok(HostVars::default());
    }
    let level = vars::parse_vars(&root, name).map_err(|e: WalkError| e.in_file(&shown))?;
    Ok(level.vars)
}

fn read_error(path: &Path, source: std::io::Error) -> InventoryError {
    InventoryError::Read {
        path: path.display().to_string(),
        source,
    }
}
