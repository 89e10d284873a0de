//! The engine endpoints an ops laptop already has, as an inventory: the user's docker contexts
//! (`$DOCKER_CONFIG/contexts/meta/*/meta.json`, `~/.docker` by default) for `-i docker-contexts:`,
//! and Podman's system connections (`podman-connections.json`, `$PODMAN_CONNECTIONS_CONF` or
//! `$XDG_CONFIG_HOME/containers`, `~/.config/containers` by default) for `-i podman-connections:`.
//!
//! Each `ssh://` endpoint becomes a host named after its context or connection, with the URL as
//! its `ansible_host` (see [`crate::openssh::url`]) and Podman's identity as its key; an endpoint that
//! is not `ssh://` (a local `unix://` socket, `tcp://`) is no SSH host and is left out, saying so.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::vars::{HostVars, SshVar};

/// The `-i` value that reads the docker contexts.
pub const DOCKER_CONTEXTS: &str = "docker-contexts:";
/// The `-i` value that reads Podman's system connections.
pub const PODMAN_CONNECTIONS: &str = "podman-connections:";
/// Context and connection files larger than this are refused (real ones are a few hundred bytes).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// One endpoint found, ready to be added as a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The context or connection name: the host's inventory name.
    pub name: String,
    /// The file it was read from, for messages.
    pub file: PathBuf,
    pub vars: HostVars,
}

/// A file that exists but cannot be read as what it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionsError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// `meta.json` of one docker context.
#[derive(Debug, Deserialize)]
struct ContextMeta {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Endpoints", default)]
    endpoints: ContextEndpoints,
}

#[derive(Debug, Deserialize, Default)]
struct ContextEndpoints {
    docker: Option<DockerEndpoint>,
}

#[derive(Debug, Deserialize)]
struct DockerEndpoint {
    #[serde(rename = "Host", default)]
    host: String,
}

/// `podman-connections.json`.
#[derive(Debug, Deserialize)]
struct PodmanConnections {
    #[serde(rename = "Connection", default)]
    connection: PodmanConnectionSection,
}

#[derive(Debug, Deserialize, Default)]
struct PodmanConnectionSection {
    #[serde(rename = "Connections", default)]
    connections: std::collections::BTreeMap<String, PodmanDestination>,
}

#[derive(Debug, Deserialize)]
struct PodmanDestination {
    #[serde(rename = "URI", default)]
    uri: String,
    #[serde(rename = "Identity", default)]
    identity: String,
}

/// Where docker keeps its configuration: `$DOCKER_CONFIG`, else `~/.docker`.
fn docker_config_dir(home: Option<&Path>) -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".docker")))
}

/// Podman's connections file: `$PODMAN_CONNECTIONS_CONF`, else under `$XDG_CONFIG_HOME` or
/// `~/.config`.
fn podman_connections_file(home: Option<&Path>) -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("PODMAN_CONNECTIONS_CONF").filter(|f| !f.is_empty()) {
        return Some(PathBuf::from(file));
    }
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".config")))
        .map(|config| config.join("containers/podman-connections.json"))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ConnectionsError> {
    let text = crate::input_file::read_to_string(path, MAX_FILE_BYTES).map_err(|source| {
        ConnectionsError::Read {
            path: path.to_path_buf(),
            source,
        }
    })?;
    serde_json::from_str(&text).map_err(|source| ConnectionsError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// An endpoint as a host, or `None` (with a note) when it is not reached over SSH.
fn endpoint(name: String, file: &Path, uri: &str, identity: Option<PathBuf>) -> Option<Endpoint> {
    if !uri.starts_with(crate::openssh::url::SCHEME) {
        tracing::info!(
            "{}: {name} ({uri}) is not an ssh:// endpoint; left out of the inventory",
            file.display()
        );
        return None;
    }
    Some(Endpoint {
        name,
        file: file.to_path_buf(),
        vars: HostVars {
            address: SshVar {
                plain: Some(uri.to_string()),
                ssh: None,
            },
            identity: SshVar {
                plain: identity,
                ssh: None,
            },
            ..HostVars::default()
        },
    })
}

/// The docker contexts with an `ssh://` endpoint, sorted by name as `docker context ls` lists
/// them. No contexts directory means no contexts.
pub fn docker_contexts(home: Option<&Path>) -> Result<Vec<Endpoint>, ConnectionsError> {
    let Some(meta) = docker_config_dir(home).map(|d| d.join("contexts/meta")) else {
        return Ok(Vec::new());
    };
    let entries = match super::sources::sorted_entries(&meta) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConnectionsError::Read { path: meta, source }),
    };
    let mut found = Vec::new();
    for dir in entries {
        let file = dir.join("meta.json");
        if !file.is_file() {
            continue;
        }
        let context: ContextMeta = read_json(&file)?;
        let uri = context.endpoints.docker.map(|d| d.host).unwrap_or_default();
        found.extend(endpoint(context.name, &file, &uri, None));
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Podman's system connections with an `ssh://` URI, sorted by name as
/// `podman system connection ls` lists them. No file means no connections.
pub fn podman_connections(home: Option<&Path>) -> Result<Vec<Endpoint>, ConnectionsError> {
    let Some(file) = podman_connections_file(home) else {
        return Ok(Vec::new());
    };
    if !file.exists() {
        return Ok(Vec::new());
    }
    podman_file(&file)
}

/// The `ssh://` connections of one `podman-connections.json`, sorted by name.
fn podman_file(file: &Path) -> Result<Vec<Endpoint>, ConnectionsError> {
    let connections: PodmanConnections = read_json(file)?;
    Ok(connections
        .connection
        .connections
        .into_iter()
        .filter_map(|(name, destination)| {
            let identity =
                Some(PathBuf::from(destination.identity)).filter(|i| !i.as_os_str().is_empty());
            endpoint(name, file, &destination.uri, identity)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podman_connections_become_hosts_with_their_identity_and_local_sockets_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("podman-connections.json");
        std::fs::write(
            &file,
            r#"{"Connection":{"Default":"farm-1","Connections":{
                "farm-1":{"URI":"ssh://core@10.0.0.5:2222/run/user/1000/podman/podman.sock","Identity":"/k/id","IsMachine":false},
                "local":{"URI":"unix:///run/podman/podman.sock"}}},"Farm":{}}"#,
        )
        .unwrap();
        let found = podman_file(&file).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "farm-1");
        assert_eq!(
            found[0].vars.address.effective().map(String::as_str),
            Some("ssh://core@10.0.0.5:2222/run/user/1000/podman/podman.sock")
        );
        assert_eq!(
            found[0].vars.identity.effective(),
            Some(&PathBuf::from("/k/id"))
        );
    }

    #[test]
    fn a_broken_meta_json_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("meta.json");
        std::fs::write(&file, "{\"Name\": 1}").unwrap();
        let error = read_json::<ContextMeta>(&file).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("{}: invalid type", file.display())),
            "{error}"
        );
    }
}
