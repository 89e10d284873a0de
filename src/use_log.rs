//! Controller-side memory of image use: when fleetprune last saw each image in use by a
//! container, per engine, kept across runs in `$XDG_STATE_HOME/fleetprune/image-use.json`
//! (`~/.local/state/...`; `FLEETPRUNE_STATE_DIR` overrides the directory). The `unused_for`
//! keep policy reads it, so "unused for 14 days" holds even after the containers are gone,
//! without a daemon on each host.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::snapshot::HostSnapshot;

/// Engine ID → image ID → last time seen in use.
type Uses = BTreeMap<String, BTreeMap<String, Timestamp>>;

/// The state file and what it holds, shared by the hosts of one run.
#[derive(Debug, Default)]
pub struct UseLog {
    path: Option<PathBuf>,
    uses: Mutex<Uses>,
}

/// The state file's place, if a home or state directory is known.
fn state_file() -> Option<PathBuf> {
    let dir = std::env::var_os("FLEETPRUNE_STATE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_STATE_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("fleetprune"))
        })
        .or_else(|| crate::openssh::home::home_dir().map(|h| h.join(".local/state/fleetprune")))?;
    Some(dir.join("image-use.json"))
}

impl UseLog {
    /// Loads the state file; a missing or unreadable one starts empty (with a warning when it
    /// exists but cannot be read).
    pub fn load() -> UseLog {
        let path = state_file();
        let uses = path
            .as_ref()
            .filter(|p| p.exists())
            .and_then(|p| {
                let text = crate::input_file::read_to_string(p, crate::input_file::INVENTORY_LIMIT)
                    .map_err(|e| {
                        tracing::warn!("{}: {e}; image-use history starts empty", p.display())
                    })
                    .ok()?;
                serde_json::from_str(&text)
                    .map_err(|e| {
                        tracing::warn!("{}: {e}; image-use history starts empty", p.display())
                    })
                    .ok()
            })
            .unwrap_or_default();
        UseLog {
            path,
            uses: Mutex::new(uses),
        }
    }

    /// Copies what earlier runs saw on this engine into the snapshot, then records what this
    /// snapshot shows in use (every container's image, any state) at the daemon's time.
    pub fn remember(&self, snapshot: &mut HostSnapshot) {
        let Ok(mut uses) = self.uses.lock() else {
            return;
        };
        let engine = uses.entry(snapshot.engine_id.clone()).or_default();
        snapshot.last_seen = engine.clone();
        for container in &snapshot.containers {
            engine.insert(container.image_id.clone(), snapshot.daemon_now);
        }
    }

    /// Writes the state file (best effort: a failure is a warning, the run's result stands).
    pub fn save(&self) {
        let (Some(path), Ok(uses)) = (&self.path, self.uses.lock()) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(&*uses).unwrap_or_default())?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            tracing::warn!("cannot save image-use history to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remember_gives_earlier_sightings_and_records_current_use() {
        let log = UseLog::default();
        let mut snapshot: HostSnapshot = serde_json::from_value(serde_json::json!({
            "api_version": "1.45", "engine_version": [26, 1], "engine_id": "E",
            "image_store": "graphdriver", "daemon_now": "2026-06-01T00:00:00Z",
            "daemon_offset_seconds": 0, "docker_root_dir": "/d",
            "containers": [{"id": "c", "name": "c", "image_id": "sha256:i", "config_image": "x",
                            "created": "2026-01-01T00:00:00Z", "running": false, "state": "exited",
                            "labels": {}, "size_rw": null, "volumes": []}],
            "images": [], "volumes": [], "networks": [], "build_cache": []
        }))
        .unwrap();
        log.remember(&mut snapshot);
        assert!(snapshot.last_seen.is_empty(), "nothing seen before");
        snapshot.containers.clear();
        log.remember(&mut snapshot);
        assert_eq!(
            snapshot.last_seen["sha256:i"],
            "2026-06-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
