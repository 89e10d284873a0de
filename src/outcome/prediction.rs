//! What `plan` predicts for a host: the facts its snapshot gave about the host, and the objects
//! each kind would lose.

use serde::{Deserialize, Serialize};

use crate::model::engine_kind::EngineKind;
use crate::model::filesystem::{DecidingFilesystem, FilesystemUsage};
use crate::plan::select::ObjectPlan;
use crate::snapshot::ImageStore;

/// What a host's snapshot says about the host itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// `/info` `ID`: the daemon the plan was made for.
    pub engine_id: String,
    /// Docker or Podman.
    #[serde(default)]
    pub engine: EngineKind,
    pub image_store: ImageStore,
    /// The daemon's clock when the snapshot was taken.
    pub daemon_time: jiff::Timestamp,
    pub docker_root_dir: String,
    /// The filesystem holding it (read with `df` when a `threshold` policy needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<FilesystemUsage>,
    /// With the containerd store, the filesystems holding containerd's root when they are not
    /// DockerRootDir's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containerd_filesystems: Vec<FilesystemUsage>,
    /// The filesystem that decided each of `threshold` and `inode_threshold`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deciding_filesystems: Vec<DecidingFilesystem>,
}

/// One host's predicted prune.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The prune plan in words (`containers, images (all) [until=24h]`).
    pub description: String,
    pub facts: Option<HostFacts>,
    pub plan: ObjectPlan,
}
