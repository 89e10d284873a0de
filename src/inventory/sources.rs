//! What `-i` names, turned into inventory files to read: a file (YAML, or INI when it is not a
//! YAML mapping, as Ansible's plugins fall through), a directory (every inventory file in it,
//! recursively, skipping what Ansible's `INVENTORY_IGNORE_EXTS` skips), or a comma-separated host
//! list (a single `ssh://` destination needs no comma), or the user's docker contexts /
//! Podman connections (`docker-contexts:`, `podman-connections:`). Also which directories hold the `group_vars/` and `host_vars/` that go with them.

use std::path::{Path, PathBuf};

use super::engine_connections::{self, DOCKER_CONTEXTS, Endpoint, PODMAN_CONNECTIONS};
use super::graph::Graph;
use super::yaml::{self, Position, Value};
use super::{InventoryError, Place, ini, yaml_source};

/// One inventory file, or a host list given inline.
#[derive(Debug)]
pub(super) enum Source {
    File(PathBuf),
    HostList(String),
    /// `docker-contexts:`: every docker context with an `ssh://` endpoint.
    DockerContexts,
    /// `podman-connections:`: every Podman system connection with an `ssh://` URI.
    PodmanConnections,
}

/// The expanded `-i` values.
#[derive(Debug, Default)]
pub(super) struct Sources {
    pub sources: Vec<Source>,
    /// Directories whose `group_vars/` and `host_vars/` apply, in source order.
    pub basedirs: Vec<PathBuf>,
}

/// Ansible's `INVENTORY_IGNORE_EXTS` (`REJECT_EXTS` plus `.orig`, `.ini`, `.cfg`, `.retry`): in a
/// directory, `.ini` files are skipped (they are read when named with `-i`).
const IGNORED_SUFFIXES: [&str; 13] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg",
    ".retry",
];

pub(super) fn expand(paths: &[PathBuf]) -> Result<Sources, InventoryError> {
    let mut expanded = Sources::default();
    for path in paths {
        let text = path.display().to_string();
        if !path.exists() && (text == DOCKER_CONTEXTS || text == PODMAN_CONNECTIONS) {
            expanded.sources.push(if text == DOCKER_CONTEXTS {
                Source::DockerContexts
            } else {
                Source::PodmanConnections
            });
            continue;
        }
        // `host1,host2,` as Ansible takes it, or one docker-style `ssh://` destination.
        if !path.exists() && (text.contains(',') || text.starts_with(crate::openssh::url::SCHEME)) {
            expanded.sources.push(Source::HostList(text));
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|source| InventoryError::Read {
            path: text.clone(),
            source,
        })?;
        let basedir = if metadata.is_dir() {
            // Only the directory's own group_vars/ apply, not those of its subdirectories: Ansible
            // reads vars files beside the sources it was given.
            directory_files(path, &mut expanded.sources)?;
            path.clone()
        } else {
            expanded.sources.push(Source::File(path.clone()));
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let basedir = if basedir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            basedir
        };
        if !expanded.basedirs.contains(&basedir) {
            expanded.basedirs.push(basedir);
        }
    }
    Ok(expanded)
}

/// Every inventory file under `dir`, sorted by name, as Ansible's directory source reads them.
fn directory_files(dir: &Path, into: &mut Vec<Source>) -> Result<(), InventoryError> {
    let read_error = |source| InventoryError::Read {
        path: dir.display().to_string(),
        source,
    };
    for entry in sorted_entries(dir).map_err(read_error)? {
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.')
            || name == "group_vars"
            || name == "host_vars"
            || IGNORED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            continue;
        }
        if entry.is_dir() {
            directory_files(&entry, into)?;
        } else {
            into.push(Source::File(entry));
        }
    }
    Ok(())
}

impl Source {
    pub(super) fn read_into(&self, graph: &mut Graph) -> Result<(), InventoryError> {
        match self {
            Source::HostList(list) => {
                let place = Place::new("-i", Position { line: 1, column: 1 });
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    graph.add_host("all", name, &place, None);
                }
                Ok(())
            }
            Source::DockerContexts => {
                let home = crate::openssh::home::home_dir();
                let found = engine_connections::docker_contexts(home.as_deref())?;
                add_endpoints(graph, "docker_contexts", found);
                Ok(())
            }
            Source::PodmanConnections => {
                let home = crate::openssh::home::home_dir();
                let found = engine_connections::podman_connections(home.as_deref())?;
                add_endpoints(graph, "podman_connections", found);
                Ok(())
            }
            Source::File(path) => {
                let shown = path.display().to_string();
                let text =
                    crate::input_file::read_to_string(path, crate::input_file::INVENTORY_LIMIT)
                        .map_err(|source| InventoryError::Read {
                            path: shown.clone(),
                            source,
                        })?;
                if text.starts_with("#!") {
                    return Err(InventoryError::Script { path: shown });
                }
                let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                match extension {
                    "yaml" | "yml" | "json" => read_yaml(graph, &shown, &text),
                    "ini" => ini::read(graph, &shown, &text),
                    // Ansible tries YAML first and falls back to INI for anything else.
                    _ => match yaml::parse(&text) {
                        Ok(root) if matches!(root.value, Value::Mapping(_) | Value::Null) => {
                            yaml_source::walk(graph, &root, &shown).map_err(|e| e.in_file(&shown))
                        }
                        _ => ini::read(graph, &shown, &text),
                    },
                }
            }
        }
    }
}

/// Adds each endpoint as a host of `group`, declared where its file is.
fn add_endpoints(graph: &mut Graph, group: &str, endpoints: Vec<Endpoint>) {
    for endpoint in endpoints {
        let place = Place::new(
            &endpoint.file.display().to_string(),
            Position { line: 1, column: 1 },
        );
        graph.add_host(group, &endpoint.name, &place, Some(endpoint.vars));
    }
}

/// Reads YAML inventory text into `graph`.
pub(super) fn read_yaml(graph: &mut Graph, shown: &str, text: &str) -> Result<(), InventoryError> {
    let root = yaml::parse(text).map_err(|error| InventoryError::Syntax {
        path: shown.to_string(),
        position: error.position,
        message: error.message,
    })?;
    yaml_source::walk(graph, &root, shown).map_err(|e| e.in_file(shown))
}

/// The paths in `dir`, sorted by name (Ansible reads directories in that order).
pub(super) fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    Ok(entries)
}
