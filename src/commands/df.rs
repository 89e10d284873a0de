//! Fleet-wide `docker system df`: per host the count, size and reclaimable space of images,
//! containers, local volumes and build cache, computed the way the docker CLI does.
//!
//! `/system/df` is read with fleetprune's own types because bollard models only the newest
//! response shape; the legacy arrays read here are returned by every daemon from API 1.41 on
//! (without `verbose`).

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineError};
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::failure::{HostFailure, Stage};
use crate::outcome::disk_usage::{DiskUsage, UsageLine};
use crate::transport::shell::HostShell;

/// The parts of the `/system/df` answer the CLI uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SystemDf {
    layers_size: i64,
    images: Option<Vec<DfImage>>,
    containers: Option<Vec<DfContainer>>,
    volumes: Option<Vec<DfVolume>>,
    build_cache: Option<Vec<DfBuildCache>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfImage {
    size: i64,
    shared_size: i64,
    containers: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfContainer {
    size_rw: i64,
    state: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfVolume {
    usage_data: Option<DfVolumeUsage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfVolumeUsage {
    size: i64,
    ref_count: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DfBuildCache {
    size: i64,
    in_use: bool,
    shared: bool,
}

/// A daemon size as a byte count: negative sizes (docker's "unknown", -1) count as 0.
fn positive(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Sums byte counts without wrapping.
fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0u64, u64::saturating_add)
}

impl SystemDf {
    /// The CLI's arithmetic (`cli/command/formatter/disk_usage.go`).
    pub fn usage(&self) -> DiskUsage {
        let images = self.images.as_deref().unwrap_or_default();
        let used_unique: i64 = images
            .iter()
            .filter(|i| i.containers > 0)
            .map(|i| i.size.saturating_sub(i.shared_size.max(0)))
            .fold(0i64, i64::saturating_add);
        let containers = self.containers.as_deref().unwrap_or_default();
        let is_active =
            |c: &DfContainer| matches!(c.state.as_str(), "running" | "paused" | "restarting");
        let volumes: Vec<&DfVolumeUsage> = self
            .volumes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.usage_data.as_ref())
            .collect();
        let cache = self.build_cache.as_deref().unwrap_or_default();
        DiskUsage {
            images: UsageLine {
                total: images.len() as u64,
                active: images.iter().filter(|i| i.containers > 0).count() as u64,
                size_bytes: positive(self.layers_size),
                reclaimable_bytes: positive(self.layers_size.saturating_sub(used_unique)),
            },
            containers: UsageLine {
                total: containers.len() as u64,
                active: containers.iter().filter(|c| is_active(c)).count() as u64,
                size_bytes: sum(containers.iter().map(|c| positive(c.size_rw))),
                reclaimable_bytes: sum(containers
                    .iter()
                    .filter(|c| !is_active(c))
                    .map(|c| positive(c.size_rw))),
            },
            volumes: UsageLine {
                total: volumes.len() as u64,
                active: volumes.iter().filter(|v| v.ref_count > 0).count() as u64,
                size_bytes: sum(volumes.iter().map(|v| positive(v.size))),
                reclaimable_bytes: sum(volumes
                    .iter()
                    .filter(|v| v.ref_count == 0)
                    .map(|v| positive(v.size))),
            },
            build_cache: UsageLine {
                total: cache.len() as u64,
                active: cache.iter().filter(|c| c.in_use).count() as u64,
                size_bytes: sum(cache.iter().filter(|c| !c.shared).map(|c| positive(c.size))),
                reclaimable_bytes: sum(cache
                    .iter()
                    .filter(|c| !c.shared && !c.in_use)
                    .map(|c| positive(c.size))),
            },
        }
    }
}

/// `fleetprune df`.
pub struct DiskUsageJob;

impl HostJob for DiskUsageJob {
    type Output = DiskUsage;
    const STAGE: Stage = Stage::DiskUsage;

    async fn run(
        &self,
        _: &Host,
        engine: &Engine,
        _: &HostShell<'_>,
        usage: &mut DiskUsage,
        _: &CancellationToken,
    ) -> Result<(), HostFailure> {
        *usage = disk_usage(engine)
            .await
            .map_err(|e| HostFailure::from_error(Stage::DiskUsage, &e))?;
        Ok(())
    }
}

/// Asks the engine for its disk usage.
pub async fn disk_usage(engine: &Engine) -> Result<DiskUsage, EngineError> {
    let df: SystemDf = engine.get_json("/system/df").await?;
    Ok(df.usage())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shape returned by dockerd 20.10 (API 1.41), trimmed.
    const DF_1_41: &str = r#"{
        "LayersSize": 30000000,
        "Images": [
            {"Id": "a", "Size": 10000000, "SharedSize": 4000000, "Containers": 1},
            {"Id": "b", "Size": 8000000, "SharedSize": 4000000, "Containers": 0},
            {"Id": "c", "Size": 16000000, "SharedSize": 0, "Containers": 0}
        ],
        "Containers": [
            {"Id": "x", "SizeRw": 100, "State": "running"},
            {"Id": "y", "SizeRw": 250, "State": "exited"},
            {"Id": "z", "SizeRw": 0, "State": "created"}
        ],
        "Volumes": [
            {"Name": "v1", "UsageData": {"Size": 1000, "RefCount": 0}},
            {"Name": "v2", "UsageData": {"Size": 500, "RefCount": 1}},
            {"Name": "v3", "UsageData": {"Size": -1, "RefCount": 0}}
        ],
        "BuildCache": [
            {"ID": "r1", "Size": 300, "InUse": false, "Shared": false, "Parent": ""},
            {"ID": "r2", "Size": 700, "InUse": true, "Shared": false, "Parent": "r1"},
            {"ID": "r3", "Size": 900, "InUse": false, "Shared": true, "Parent": ""}
        ],
        "BuilderSize": 1900
    }"#;

    #[test]
    fn usage_follows_docker_cli_arithmetic() {
        let df: SystemDf = serde_json::from_str(DF_1_41).unwrap();
        let usage = df.usage();
        assert_eq!(
            usage.images,
            UsageLine {
                total: 3,
                active: 1,
                size_bytes: 30_000_000,
                reclaimable_bytes: 24_000_000
            }
        );
        assert_eq!(
            usage.containers,
            UsageLine {
                total: 3,
                active: 1,
                size_bytes: 350,
                reclaimable_bytes: 250
            }
        );
        assert_eq!(
            usage.volumes,
            UsageLine {
                total: 3,
                active: 1,
                size_bytes: 1500,
                reclaimable_bytes: 1000
            }
        );
        assert_eq!(
            usage.build_cache,
            UsageLine {
                total: 3,
                active: 1,
                size_bytes: 1000,
                reclaimable_bytes: 300
            }
        );
    }

    #[test]
    fn null_arrays_are_empty() {
        let df: SystemDf = serde_json::from_str(
            r#"{"LayersSize":0,"Images":null,"Containers":null,"Volumes":null,"BuildCache":null}"#,
        )
        .unwrap();
        assert_eq!(df.usage(), DiskUsage::default());
    }
}
