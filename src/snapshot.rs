//! A read-only snapshot of one host's Docker objects: what [`crate::plan::select`] needs to
//! predict a prune exactly, read only from list and inspect endpoints, `/info` and `/system/df`.
//!
//! [`take`] is the only I/O here; it never calls a prune or delete endpoint. The snapshot itself
//! is plain data (serialisable, so scenario tests and saved plans can hold one).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api_version::ApiVersion;
use crate::engine::{Engine, EngineError};
use crate::model::engine_kind::EngineKind;
use crate::model::filesystem::FilesystemUsage;
use crate::transport::shell::{FilesystemError, HostShell, PathKind};

/// Which image store the daemon uses (`/info` `DriverStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStore {
    /// The classic graphdriver store (overlay2, vfs, ...).
    Graphdriver,
    /// The containerd image store (`io.containerd.snapshotter.v1`).
    Containerd,
}

/// Everything the prediction needs from one host, as of one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostSnapshot {
    pub api_version: ApiVersion,
    /// `major.minor` of the engine (`26.1`), for rules that changed within one API version.
    pub engine_version: (u16, u16),
    /// Which daemon this is: `/info` `ID` on Docker; on Podman, whose `ID` is new on every
    /// request, its host name and storage roots ([`podman_identity`]).
    pub engine_id: String,
    /// Docker or Podman: where their compatible endpoints differ, the prediction follows the
    /// engine at hand.
    #[serde(default)]
    pub engine: EngineKind,
    pub image_store: ImageStore,
    /// The daemon's clock when the snapshot was taken (`/info` `SystemTime`).
    pub daemon_now: Timestamp,
    /// The daemon's UTC offset then, in seconds east of UTC (zone-less `until` dates use it).
    pub daemon_offset_seconds: i32,
    pub docker_root_dir: String,
    pub containers: Vec<ContainerInfo>,
    pub images: Vec<ImageInfo>,
    pub volumes: Vec<VolumeInfo>,
    pub networks: Vec<NetworkInfo>,
    pub build_cache: Vec<CacheRecord>,
    /// When fleetprune last saw each image (by ID) in use on this engine on earlier runs
    /// (controller-side state, see [`crate::use_log`]); empty when unknown.
    #[serde(default)]
    pub last_seen: BTreeMap<String, Timestamp>,
    /// When fleetprune first saw each image (by ID) on this engine, for the images that
    /// arrived after its first look at the engine (controller-side state, see
    /// [`crate::use_log`]); an arrival like a pull or load. Empty when unknown.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub first_seen: BTreeMap<String, Timestamp>,
    /// The filesystem holding `docker_root_dir`, as the host's `df` saw it; read only when the
    /// host's policy has a `threshold` or `inode_threshold` (the Engine API does not report it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemUsage>,
    /// With the containerd image store, the filesystems holding containerd's root (where the
    /// images are) when they are not `filesystem`'s (that one then lists the root in its
    /// `also_holds`); read with `filesystem`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containerd_filesystems: Vec<FilesystemUsage>,
    /// `/info` `Containerd.Address` (API 1.46+): the socket of the containerd the daemon
    /// uses, which tells a containerd of its own from the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containerd_address: Option<String>,
    /// The latest arrival of each image (by ID) the daemon's event log still holds: a pull,
    /// load, import or tag, which `LastTagTime` does not always record (graphdriver loads
    /// and pulls leave it unset). The daemon keeps only its last 256 events.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arrivals: BTreeMap<String, Arrival>,
}

/// When and how an image last arrived, from the daemon's image events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    pub at: Timestamp,
    /// The event: `pull`, `load`, `import` or `tag`.
    pub action: String,
}

/// A container, from `/containers/json?all=1&size=1` and its inspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerInfo {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub image_id: String,
    /// What the user typed (`Config.Image`).
    pub config_image: String,
    pub created: Timestamp,
    /// `State.Running`: true for running, paused and restarting containers.
    pub running: bool,
    pub state: String,
    pub labels: BTreeMap<String, String>,
    /// The RW layer's size (`SizeRw`), when known.
    pub size_rw: Option<u64>,
    /// Names of the volumes it mounts.
    pub volumes: Vec<String>,
    /// The sources of its image mounts (`--mount type=image,source=NAME`, API 1.48+ / Docker
    /// 28) as the API shows them (`Mounts[].Name`): a reference or an image ID. The daemon
    /// resolved each to an image ID when the container was created, and does not show it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_mounts: Vec<String>,
    /// `State.StartedAt` and `State.FinishedAt`, when set.
    #[serde(default)]
    pub started: Option<Timestamp>,
    #[serde(default)]
    pub finished: Option<Timestamp>,
}

/// An image, from `/images/json?all=1`, its inspect and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// `sha256:...`
    pub id: String,
    /// `ParentId`, when set (classic builder, commit).
    pub parent: Option<String>,
    /// Familiar references as the daemon lists them: tags and digest references.
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Config `Created`; `None` when the config has none.
    pub created: Option<Timestamp>,
    /// Containerd store: the latest time a name of this image was (re)created.
    pub last_tag_time: Option<Timestamp>,
    /// Config labels; `None` when the image has no config.
    pub labels: Option<BTreeMap<String, String>>,
    /// Layer chain IDs, base first.
    pub chain: Vec<String>,
    /// Each layer's `DiffSize` (same order as `chain`), when known.
    pub layer_sizes: Vec<Option<u64>>,
    /// Layers written by BuildKit (history comment `buildkit.dockerfile.v0`).
    pub buildkit_layers: Vec<bool>,
    /// Total size of the chain.
    pub size: u64,
}

impl ImageInfo {
    /// Tags and digest references together.
    pub fn refs(&self) -> impl Iterator<Item = &String> {
        self.repo_tags.iter().chain(&self.repo_digests)
    }
}

/// A volume, from `/system/df`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeInfo {
    pub name: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// Driver options (`-o type=nfs`): such volumes are never pruned.
    pub has_options: bool,
    pub size: Option<u64>,
    /// Created without a name: Docker's [`ANONYMOUS_VOLUME_LABEL`], or Podman's own flag
    /// (libpod's `Anonymous`; its Docker-compatible answers carry no such label).
    #[serde(default)]
    pub anonymous: bool,
}

/// A network, from `/networks` and its inspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub id: String,
    pub name: String,
    pub created: Timestamp,
    pub labels: BTreeMap<String, String>,
    pub scope: String,
    pub config_only: bool,
    /// Local endpoints (running containers, load balancers).
    pub endpoints: usize,
}

/// A build-cache record, from `/system/df`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    pub id: String,
    pub parents: Vec<String>,
    pub kind: String,
    pub description: String,
    pub in_use: bool,
    pub shared: bool,
    pub size: u64,
    pub last_used: Option<Timestamp>,
}

/// The label key the daemon (23+) puts on volumes created without a name.
pub const ANONYMOUS_VOLUME_LABEL: &str = "com.docker.volume.anonymous";

/// The chain ID of each layer from the diff IDs, base first, as `layer.CreateChainID`.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut chain: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let next = match chain.last() {
            None => diff.clone(),
            Some(parent) => {
                let digest = Sha256::digest(format!("{parent} {diff}").as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("sha256:{hex}")
            }
        };
        chain.push(next);
    }
    chain
}

// ----------------------------------------------------------------------------- wire types

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct InfoAnswer {
    #[serde(rename = "ID")]
    id: String,
    system_time: String,
    docker_root_dir: String,
    driver_status: Option<Vec<Vec<String>>>,
    containerd: Option<ContainerdInfo>,
}

/// `/info` `Containerd` (API 1.46+).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerdInfo {
    address: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ContainerListItem {
    id: String,
    names: Vec<String>,
    #[serde(rename = "ImageID")]
    image_id: String,
    state: String,
    labels: Option<BTreeMap<String, String>>,
    size_rw: Option<i64>,
    mounts: Vec<MountItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct MountItem {
    #[serde(rename = "Type")]
    kind: String,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ContainerInspect {
    created: String,
    state: ContainerState,
    config: ContainerConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ContainerState {
    running: bool,
    started_at: Option<String>,
    finished_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ContainerConfig {
    image: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageListItem {
    id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageInspect {
    id: String,
    repo_tags: Option<Vec<String>>,
    repo_digests: Option<Vec<String>>,
    parent: String,
    created: Option<String>,
    size: i64,
    config: Option<ImageConfig>,
    #[serde(rename = "RootFS")]
    root_fs: Option<RootFs>,
    metadata: Option<ImageMetadata>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageConfig {
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RootFs {
    layers: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ImageMetadata {
    last_tag_time: Option<String>,
}

/// One `/events` entry (API 1.22+ field names).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventItem {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Actor")]
    actor: EventActor,
    #[serde(rename = "timeNano")]
    time_nano: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct EventActor {
    #[serde(rename = "ID")]
    id: String,
}

/// The image actions that mean "arrived on this host".
const ARRIVAL_ACTIONS: [&str; 4] = ["pull", "load", "import", "tag"];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct HistoryItem {
    size: i64,
    comment: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct NetworkItem {
    id: String,
    name: String,
    created: String,
    labels: Option<BTreeMap<String, String>>,
    scope: String,
    config_only: bool,
    containers: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct SystemDfAnswer {
    volumes: Option<Vec<DfVolume>>,
    build_cache: Option<Vec<DfCache>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfVolume {
    name: String,
    driver: String,
    labels: Option<BTreeMap<String, String>>,
    options: Option<BTreeMap<String, String>>,
    usage_data: Option<DfVolumeUsage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfVolumeUsage {
    size: i64,
}

/// An item of Podman's `/libpod/volumes/json`, as far as fleetprune reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct LibpodVolume {
    name: String,
    driver: String,
    labels: Option<BTreeMap<String, String>>,
    options: Option<BTreeMap<String, String>>,
    anonymous: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfCache {
    #[serde(rename = "ID")]
    id: String,
    parent: Option<String>,
    parents: Option<Vec<String>>,
    #[serde(rename = "Type")]
    kind: String,
    description: String,
    in_use: bool,
    shared: bool,
    size: i64,
    last_used_at: Option<String>,
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the daemon's {what} {value:?} is not an RFC 3339 time")]
    Time { what: &'static str, value: String },
    #[error(transparent)]
    Filesystem(#[from] FilesystemError),
}

impl crate::model::failure::Classify for SnapshotError {
    fn class(&self) -> crate::model::failure::ErrorClass {
        match self {
            SnapshotError::Engine(error) => error.class(),
            SnapshotError::Time { .. } => crate::model::failure::ErrorClass::EngineError,
            SnapshotError::Filesystem(error) => error.class(),
        }
    }
}

fn time(what: &'static str, value: &str) -> Result<Timestamp, SnapshotError> {
    value.parse::<Timestamp>().map_err(|_| SnapshotError::Time {
        what,
        value: value.to_string(),
    })
}

/// A zero or absent Go time (`0001-01-01T00:00:00Z`) is no time.
fn optional_time(
    what: &'static str,
    value: Option<&str>,
) -> Result<Option<Timestamp>, SnapshotError> {
    match value {
        None | Some("") => Ok(None),
        Some(text) if text.starts_with("0001-01-01") => Ok(None),
        Some(text) => time(what, text).map(Some),
    }
}

/// The UTC offset written at the end of an RFC 3339 time (`Z`, `+01:00`).
fn offset_of(value: &str) -> i32 {
    if value.ends_with('Z') || value.ends_with('z') || value.len() < 6 {
        return 0;
    }
    let tail = &value[value.len() - 6..];
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return 0,
    };
    let hours: i32 = tail[1..3].parse().unwrap_or(0);
    let minutes: i32 = tail[4..6].parse().unwrap_or(0);
    sign * (hours * 3600 + minutes * 60)
}

/// `26.1.5` → `(26, 1)`.
fn major_minor(version: &str) -> (u16, u16) {
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

fn positive(n: i64) -> Option<u64> {
    u64::try_from(n).ok()
}

/// Reads the host's objects through list and inspect endpoints only.
pub async fn take(engine: &Engine) -> Result<HostSnapshot, SnapshotError> {
    let info: InfoAnswer = engine.get_json("/info").await?;
    let daemon_now = time("SystemTime", &info.system_time)?;
    let containerd = info.driver_status.iter().flatten().any(|pair| {
        pair.first().map(String::as_str) == Some("driver-type")
            && pair.get(1).map(String::as_str) == Some("io.containerd.snapshotter.v1")
    });

    let containers = read_containers(engine, "/containers/json?all=1&size=1").await?;

    let mut images = Vec::new();
    let listed: Vec<ImageListItem> = engine.get_json("/images/json?all=1").await?;
    for item in listed {
        let inspect: ImageInspect = engine
            .get_json(&format!("/images/{}/json", item.id))
            .await?;
        let history: Vec<HistoryItem> = engine
            .get_json(&format!("/images/{}/history", item.id))
            .await?;
        images.push(image_info(inspect, &history)?);
    }
    fill_layer_sizes(&mut images);
    let arrivals = image_arrivals(engine, daemon_now, &images).await?;

    let df: SystemDfAnswer = engine.get_json("/system/df").await?;
    let volumes = volume_infos(
        df.volumes.unwrap_or_default(),
        podman_volumes(engine).await?,
    );
    let mut build_cache = Vec::new();
    for record in df.build_cache.unwrap_or_default() {
        let parents = match (record.parents, record.parent) {
            (Some(parents), _) => parents,
            (None, Some(parent)) if !parent.is_empty() => vec![parent],
            _ => Vec::new(),
        };
        build_cache.push(CacheRecord {
            last_used: optional_time("build cache LastUsedAt", record.last_used_at.as_deref())?,
            id: record.id,
            parents,
            kind: record.kind,
            description: record.description,
            in_use: record.in_use,
            shared: record.shared,
            size: positive(record.size).unwrap_or(0),
        });
    }

    let mut networks = Vec::new();
    let listed: Vec<NetworkItem> = engine.get_json("/networks").await?;
    for item in listed {
        let inspect: NetworkItem = engine.get_json(&format!("/networks/{}", item.id)).await?;
        networks.push(NetworkInfo {
            created: time("network Created", &inspect.created)?,
            endpoints: inspect.containers.map_or(0, |c| c.len()),
            id: inspect.id,
            name: inspect.name,
            labels: inspect.labels.unwrap_or_default(),
            scope: inspect.scope,
            config_only: inspect.config_only,
        });
    }

    Ok(HostSnapshot {
        api_version: engine.api_version,
        engine_version: major_minor(&engine.engine_version),
        engine_id: engine_identity(engine, info.id).await?,
        engine: engine.kind,
        image_store: if containerd {
            ImageStore::Containerd
        } else {
            ImageStore::Graphdriver
        },
        daemon_offset_seconds: offset_of(&info.system_time),
        daemon_now,
        docker_root_dir: info.docker_root_dir,
        containers,
        images,
        volumes,
        networks,
        build_cache,
        last_seen: BTreeMap::new(),
        first_seen: BTreeMap::new(),
        filesystem: None,
        containerd_filesystems: Vec::new(),
        containerd_address: info.containerd.and_then(|c| c.address),
        arrivals,
    })
}

/// libpod's `/info`, as far as the engine's identity needs it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LibpodInfo {
    host: LibpodHost,
    store: LibpodStore,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LibpodHost {
    hostname: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LibpodStore {
    graph_root: String,
    run_root: String,
}

/// The daemon's identity: Docker's `/info` `ID` (kept in its data root), or on Podman, whose
/// compatible `ID` is a new UUID on every request, [`podman_identity`].
async fn engine_identity(engine: &Engine, info_id: String) -> Result<String, SnapshotError> {
    if engine.kind != EngineKind::Podman {
        return Ok(info_id);
    }
    let info: LibpodInfo = engine.get_libpod_json("/info").await?;
    Ok(podman_identity(
        &info.host.hostname,
        &info.store.graph_root,
        &info.store.run_root,
    ))
}

/// A Podman engine's stable identity: its host name and the storage it serves (libpod `/info`
/// `host.hostname`, `store.graphRoot`, `store.runRoot`; a rootless user's are under their home
/// and runtime directories). It does not change between requests or restarts of the service.
pub fn podman_identity(hostname: &str, graph_root: &str, run_root: &str) -> String {
    format!("podman:{hostname}:{graph_root}:{run_root}")
}

/// Each image's latest pull, load, import or tag event the daemon still holds. A pull's
/// actor is the reference pulled, the others' the image ID.
async fn image_arrivals(
    engine: &Engine,
    daemon_now: Timestamp,
    images: &[ImageInfo],
) -> Result<BTreeMap<String, Arrival>, SnapshotError> {
    let filters = serde_json::json!({ "type": ["image"], "event": ARRIVAL_ACTIONS });
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("since", "0")
        .append_pair(
            "until",
            &format!(
                "{}.{:09}",
                daemon_now.as_second(),
                daemon_now.subsec_nanosecond()
            ),
        )
        .append_pair("filters", &filters.to_string())
        .finish();
    let events: Vec<EventItem> = engine.get_json_stream(&format!("/events?{query}")).await?;
    let mut arrivals: BTreeMap<String, Arrival> = BTreeMap::new();
    for event in events {
        let Ok(at) = Timestamp::from_nanosecond(i128::from(event.time_nano)) else {
            continue;
        };
        let actor = event.actor.id.as_str();
        let Some(image) = images
            .iter()
            .find(|i| i.id == actor || i.refs().any(|r| r == actor))
        else {
            continue;
        };
        if arrivals.get(&image.id).is_none_or(|a| a.at < at) {
            arrivals.insert(
                image.id.clone(),
                Arrival {
                    at,
                    action: event.action,
                },
            );
        }
    }
    Ok(arrivals)
}

/// Podman's own list of its volumes; `None` on Docker. Podman's `/system/df` gives volume
/// sizes but no driver, labels or options (`""`, `{}`, `null` for every volume), and its
/// compatible answers no anonymous mark: libpod's list has them all.
async fn podman_volumes(engine: &Engine) -> Result<Option<Vec<LibpodVolume>>, SnapshotError> {
    if engine.kind != EngineKind::Podman {
        return Ok(None);
    }
    Ok(Some(engine.get_libpod_json("/volumes/json").await?))
}

/// The volumes with their sizes from `/system/df`, and, on Podman, everything else from
/// libpod's list; anonymous by Docker's label or Podman's flag.
fn volume_infos(df: Vec<DfVolume>, podman: Option<Vec<LibpodVolume>>) -> Vec<VolumeInfo> {
    let Some(listed) = podman else {
        return df
            .into_iter()
            .map(|v| {
                let labels = v.labels.unwrap_or_default();
                VolumeInfo {
                    anonymous: labels.contains_key(ANONYMOUS_VOLUME_LABEL),
                    name: v.name,
                    driver: v.driver,
                    labels,
                    has_options: v.options.is_some_and(|o| !o.is_empty()),
                    size: v.usage_data.and_then(|u| positive(u.size)),
                }
            })
            .collect();
    };
    let sizes: BTreeMap<String, i64> = df
        .into_iter()
        .filter_map(|v| Some((v.name, v.usage_data?.size)))
        .collect();
    listed
        .into_iter()
        .map(|v| {
            let labels = v.labels.unwrap_or_default();
            VolumeInfo {
                anonymous: v.anonymous || labels.contains_key(ANONYMOUS_VOLUME_LABEL),
                size: sizes.get(&v.name).copied().and_then(positive),
                name: v.name,
                driver: v.driver,
                labels,
                has_options: v.options.is_some_and(|o| !o.is_empty()),
            }
        })
        .collect()
}

#[cfg(test)]
mod volume_tests {
    use super::*;

    #[test]
    fn podman_volumes_take_facts_from_libpod_and_sizes_from_system_df() {
        let df: Vec<DfVolume> = serde_json::from_str(
            r#"[{"Driver":"","Labels":{},"Name":"lab-keep","Options":null,"UsageData":{"RefCount":0,"Size":204800}},
                {"Driver":"","Labels":{},"Name":"dc1d","Options":null,"UsageData":{"RefCount":0,"Size":153600}}]"#,
        )
        .unwrap();
        let libpod: Vec<LibpodVolume> = serde_json::from_str(
            r#"[{"Name":"lab-keep","Driver":"local","Labels":{"keep":"true"},"Options":{}},
                {"Name":"dc1d","Driver":"local","Labels":{},"Options":{},"Anonymous":true}]"#,
        )
        .unwrap();
        let volumes = volume_infos(df, Some(libpod));
        assert_eq!(volumes[0].labels["keep"], "true");
        assert_eq!(volumes[0].driver, "local");
        assert!(!volumes[0].anonymous);
        assert_eq!(volumes[0].size, Some(204800));
        assert!(volumes[1].anonymous && !volumes[1].has_options);
        assert_eq!(volumes[1].size, Some(153600));
    }
}

/// What a volume prune needs: the daemon's facts, its containers (which volumes they hold)
/// and its volumes; no images, networks or build cache.
pub async fn take_volumes(engine: &Engine) -> Result<HostSnapshot, SnapshotError> {
    let info: InfoAnswer = engine.get_json("/info").await?;
    let containers = read_containers(engine, "/containers/json?all=1").await?;
    let df: SystemDfAnswer = engine.get_json("/system/df").await?;
    let volumes = volume_infos(
        df.volumes.unwrap_or_default(),
        podman_volumes(engine).await?,
    );
    Ok(HostSnapshot {
        api_version: engine.api_version,
        engine_version: major_minor(&engine.engine_version),
        engine_id: engine_identity(engine, info.id).await?,
        engine: engine.kind,
        image_store: ImageStore::Graphdriver,
        daemon_offset_seconds: offset_of(&info.system_time),
        daemon_now: time("SystemTime", &info.system_time)?,
        docker_root_dir: info.docker_root_dir,
        containers,
        images: Vec::new(),
        volumes,
        networks: Vec::new(),
        build_cache: Vec::new(),
        last_seen: BTreeMap::new(),
        first_seen: BTreeMap::new(),
        arrivals: BTreeMap::new(),
        filesystem: None,
        containerd_filesystems: Vec::new(),
        containerd_address: None,
    })
}

/// Every container (`list` is `/containers/json?all=1`, with `&size=1` when sizes are needed)
/// and its inspect.
async fn read_containers(engine: &Engine, list: &str) -> Result<Vec<ContainerInfo>, SnapshotError> {
    let mut containers = Vec::new();
    let listed: Vec<ContainerListItem> = engine.get_json(list).await?;

    for item in listed {
        let inspect: ContainerInspect = engine
            .get_json(&format!("/containers/{}/json", item.id))
            .await?;
        containers.push(ContainerInfo {
            name: item
                .names
                .first()
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            image_id: item.image_id,
            config_image: inspect.config.image,
            created: time("container Created", &inspect.created)?,
            started: optional_time("container StartedAt", inspect.state.started_at.as_deref())?,
            finished: optional_time("container FinishedAt", inspect.state.finished_at.as_deref())?,
            running: inspect.state.running,
            state: item.state,
            labels: item.labels.unwrap_or_default(),
            size_rw: item.size_rw.and_then(positive),
            volumes: item
                .mounts
                .iter()
                .filter(|m| m.kind == "volume")
                .filter_map(|m| m.name.clone())
                .collect(),
            image_mounts: item
                .mounts
                .into_iter()
                .filter(|m| m.kind == "image")
                .filter_map(|m| m.name)
                .collect(),
            id: item.id,
        });
    }
    Ok(containers)
}

/// The system containerd's root (its default `root`).
const SYSTEM_CONTAINERD_ROOT: &str = "/var/lib/containerd";

impl HostSnapshot {
    /// Where the images of a containerd-store daemon may live: the root of the containerd the
    /// daemon runs itself (`DockerRootDir/containerd/daemon`, its socket under dockerd's exec
    /// root) or the system's (`/var/lib/containerd`, socket `/run/containerd/containerd.sock`).
    /// Before API 1.46 `/info` does not say which: both (the system's when it exists).
    /// Empty with the graphdriver store, whose images are under DockerRootDir.
    pub fn containerd_roots(&self) -> Vec<String> {
        if self.image_store != ImageStore::Containerd {
            return Vec::new();
        }
        let own = format!(
            "{}/containerd/daemon",
            self.docker_root_dir.trim_end_matches('/')
        );
        match self.containerd_address.as_deref() {
            Some("/run/containerd/containerd.sock" | "/var/run/containerd/containerd.sock") => {
                vec![SYSTEM_CONTAINERD_ROOT.to_string()]
            }
            Some(_) => vec![own],
            None => vec![own, SYSTEM_CONTAINERD_ROOT.to_string()],
        }
    }

    /// Every filesystem measured: DockerRootDir's first, then containerd's.
    pub fn filesystems(&self) -> impl Iterator<Item = &FilesystemUsage> {
        self.filesystem.iter().chain(&self.containerd_filesystems)
    }
}

/// Adds the filesystems holding DockerRootDir and containerd's root (with the containerd
/// store), read with `df` over `shell`, each once; their inodes too when `inodes`.
pub async fn add_filesystem(
    snapshot: &mut HostSnapshot,
    shell: &HostShell<'_>,
    inodes: bool,
) -> Result<(), SnapshotError> {
    let measure = async |dir: &str| -> Result<FilesystemUsage, FilesystemError> {
        let mut usage = shell.filesystem_usage(dir).await?;
        if inodes {
            usage.inodes = Some(shell.inode_usage(dir).await?);
        }
        Ok(usage)
    };
    let mut root = measure(&snapshot.docker_root_dir).await?;
    let mut others: Vec<FilesystemUsage> = Vec::new();
    let candidates = snapshot.containerd_roots();
    let guessing = candidates.len() > 1;
    for dir in candidates {
        // Guessing the system's root: only when it is there (test needs no permission on it).
        if guessing
            && dir == SYSTEM_CONTAINERD_ROOT
            && shell.path_kind(&dir).await != Some(PathKind::Directory)
        {
            continue;
        }
        // The mount table, not df, says where the root is: df needs permission on the path,
        // and containerd's own root under DockerRootDir is root's alone.
        let mount = shell.mount_point_of(&dir).await?;
        if mount == root.mount_point {
            root.also_holds.push(dir);
        } else if let Some(known) = others.iter_mut().find(|o| o.mount_point == mount) {
            known.also_holds.push(dir);
        } else {
            let mut usage = measure(&mount).await?;
            usage.path = dir;
            others.push(usage);
        }
    }
    snapshot.filesystem = Some(root);
    snapshot.containerd_filesystems = others;
    Ok(())
}

/// An image ID with its `sha256:` prefix: Podman leaves it out of `Parent` (and of its prune
/// answers).
pub fn prefixed_id(id: &str) -> String {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("sha256:{id}")
    } else {
        id.to_string()
    }
}

/// `<none>:<none>` and `<none>@<none>` are API < 1.43's way of saying "no references".
fn real_refs(refs: Option<Vec<String>>) -> Vec<String> {
    refs.unwrap_or_default()
        .into_iter()
        .filter(|r| !r.starts_with("<none>"))
        .collect()
}

fn image_info(inspect: ImageInspect, history: &[HistoryItem]) -> Result<ImageInfo, SnapshotError> {
    let diff_ids = inspect.root_fs.and_then(|r| r.layers).unwrap_or_default();
    let chain = chain_ids(&diff_ids);
    // History is newest first; entries with a size belong to layers in order.
    let sized: Vec<&HistoryItem> = history.iter().rev().filter(|h| h.size > 0).collect();
    let mut layer_sizes = vec![None; chain.len()];
    let mut buildkit_layers = vec![false; chain.len()];
    if sized.len() == chain.len() {
        for (slot, entry) in layer_sizes.iter_mut().zip(&sized) {
            *slot = positive(entry.size);
        }
        for (slot, entry) in buildkit_layers.iter_mut().zip(&sized) {
            *slot = entry.comment == "buildkit.dockerfile.v0";
        }
    } else {
        let any_buildkit = history
            .iter()
            .any(|h| h.comment == "buildkit.dockerfile.v0");
        if any_buildkit {
            // Which layers BuildKit wrote cannot be told apart: all but the base, at worst.
            for slot in buildkit_layers.iter_mut().skip(1) {
                *slot = true;
            }
        }
    }
    Ok(ImageInfo {
        id: inspect.id,
        parent: Some(inspect.parent)
            .filter(|p| !p.is_empty())
            .map(|p| prefixed_id(&p)),
        repo_tags: real_refs(inspect.repo_tags),
        repo_digests: real_refs(inspect.repo_digests),
        created: optional_time("image Created", inspect.created.as_deref())?,
        last_tag_time: optional_time(
            "image LastTagTime",
            inspect.metadata.and_then(|m| m.last_tag_time).as_deref(),
        )?,
        labels: inspect.config.map(|c| c.labels.unwrap_or_default()),
        chain,
        layer_sizes,
        buildkit_layers,
        size: positive(inspect.size).unwrap_or(0),
    })
}

/// Layer sizes the history could not assign: from the total sizes of images whose chains are
/// prefixes of each other (the classic builder leaves one image per step).
pub fn fill_layer_sizes(images: &mut [ImageInfo]) {
    let mut known: BTreeMap<String, u64> = BTreeMap::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for image in images.iter() {
        if let Some(top) = image.chain.last() {
            totals.insert(top.clone(), image.size);
        }
        for (chain, size) in image.chain.iter().zip(&image.layer_sizes) {
            if let Some(size) = size {
                known.insert(chain.clone(), *size);
            }
        }
    }
    for image in images.iter_mut() {
        let chain = image.chain.clone();
        for (i, slot) in image.layer_sizes.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            if let Some(size) = known.get(&chain[i]) {
                *slot = Some(*size);
                continue;
            }
            let below = if i == 0 {
                Some(0)
            } else {
                totals.get(&chain[i - 1]).copied()
            };
            if let (Some(below), Some(total)) = (below, totals.get(&chain[i])) {
                *slot = Some(total.saturating_sub(below));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_of_the_base_is_its_diff_id_and_then_hashes_parent_space_diff() {
        let diffs = vec!["sha256:aa".to_string(), "sha256:bb".to_string()];
        let chain = chain_ids(&diffs);
        assert_eq!(chain[0], "sha256:aa");
        let expected = Sha256::digest(b"sha256:aa sha256:bb");
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(chain[1], format!("sha256:{hex}"));
    }

    #[test]
    fn offsets_and_versions_are_read_from_daemon_strings() {
        assert_eq!(offset_of("2026-12-01T02:40:00.1Z"), 0);
        assert_eq!(offset_of("2026-12-01T02:40:00.1+01:30"), 5400);
        assert_eq!(offset_of("2026-12-01T02:40:00-05:00"), -18000);
        assert_eq!(major_minor("26.1.5"), (26, 1));
        assert_eq!(major_minor("20.10.24+dfsg1"), (20, 10));
    }

    #[test]
    fn zero_go_times_are_no_time() {
        assert_eq!(
            optional_time("t", Some("0001-01-01T00:00:00Z")).unwrap(),
            None
        );
        assert!(
            optional_time("t", Some("2020-01-01T00:00:00Z"))
                .unwrap()
                .is_some()
        );
    }
}
