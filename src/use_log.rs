//! Controller-side memory of images, per engine, kept across runs in
//! `$XDG_STATE_HOME/fleetprune/image-use.json` (`~/.local/state/...`; `FLEETPRUNE_STATE_DIR`
//! overrides the directory): when fleetprune last saw each image in use by a container, and
//! when it first saw each image now on the host. `unused_for` reads the uses, so "unused for
//! 14 days" holds even after the containers are gone; `min_age` and `unused_for` count a first
//! sighting as an arrival, so an old image pulled since the last run is young even when the
//! daemon recorded no arrival. No daemon is needed on the hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::engine_kind::EngineKind;
use crate::snapshot::HostSnapshot;

/// Engine ID → image ID → last time seen in use.
type Uses = BTreeMap<String, BTreeMap<String, Timestamp>>;

/// Engine ID → image ID → when fleetprune first saw it there; `None` for the images already
/// there at fleetprune's first look at the engine (when they arrived is unknown: they are no
/// arrival).
type FirstSeen = BTreeMap<String, BTreeMap<String, Option<Timestamp>>>;

/// What the state file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    #[serde(default)]
    uses: Uses,
    #[serde(default)]
    first_seen: FirstSeen,
}

/// The state file as written by this version, or by versions before first sightings (the
/// use map alone, `{engine: {image: time}}`), which still loads.
#[derive(Deserialize)]
#[serde(untagged)]
enum StateFile {
    Current(State),
    UsesOnly(Uses),
}

impl From<StateFile> for State {
    fn from(file: StateFile) -> State {
        match file {
            StateFile::Current(state) => state,
            StateFile::UsesOnly(uses) => State {
                uses,
                first_seen: FirstSeen::new(),
            },
        }
    }
}

/// The state file and what it holds, shared by the hosts of one run.
#[derive(Debug, Default)]
pub struct UseLog {
    path: Option<PathBuf>,
    state: Mutex<State>,
    /// A snapshot was remembered: the file has something new to say.
    changed: AtomicBool,
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
        let state = path
            .as_ref()
            .filter(|p| p.exists())
            .and_then(|p| {
                let text = crate::input_file::read_to_string(p, crate::input_file::INVENTORY_LIMIT)
                    .map_err(|e| {
                        tracing::warn!("{}: {e}; image-use history starts empty", p.display())
                    })
                    .ok()?;
                serde_json::from_str::<StateFile>(&text)
                    .map_err(|e| {
                        tracing::warn!("{}: {e}; image-use history starts empty", p.display())
                    })
                    .ok()
            })
            .map(State::from)
            .unwrap_or_default();
        UseLog {
            path,
            state: Mutex::new(state),
            changed: AtomicBool::new(false),
        }
    }

    /// Copies what earlier runs saw on this engine into the snapshot, then records what this
    /// snapshot shows: each image in use (every container's image, any state) at the daemon's
    /// time, and the first sighting of each image it lists, forgetting the images no longer
    /// there. The images of fleetprune's first look at an engine are recorded as no arrival.
    pub fn remember(&self, snapshot: &mut HostSnapshot) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        self.changed.store(true, Ordering::Relaxed);
        let uses = state.uses.entry(snapshot.engine_id.clone()).or_default();
        snapshot.last_seen = uses.clone();
        for container in &snapshot.containers {
            uses.insert(container.image_id.clone(), snapshot.daemon_now);
        }
        if snapshot.engine == EngineKind::Podman {
            // Podman's compat `/info` ID changes between connections: every run would be a
            // first look at a new engine, and the file would grow by a host's images each run.
            return;
        }
        let first_look = !state.first_seen.contains_key(&snapshot.engine_id);
        let seen = state
            .first_seen
            .entry(snapshot.engine_id.clone())
            .or_default();
        let present: BTreeSet<&str> = snapshot.images.iter().map(|i| i.id.as_str()).collect();
        seen.retain(|id, _| present.contains(id.as_str()));
        let at = (!first_look).then_some(snapshot.daemon_now);
        for id in present {
            seen.entry(id.to_string()).or_insert(at);
        }
        snapshot.first_seen = seen
            .iter()
            .filter_map(|(id, at)| Some((id.clone(), (*at)?)))
            .collect();
    }

    /// Writes the state file when a snapshot was remembered (best effort: a failure is a
    /// warning, the run's result stands).
    pub fn save(&self) {
        if !self.changed.load(Ordering::Relaxed) {
            return;
        }
        let (Some(path), Ok(state)) = (&self.path, self.state.lock()) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(&*state).unwrap_or_default())?;
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

    fn snapshot(now: &str, images: &[&str], containers_of: &[&str]) -> HostSnapshot {
        let image = |id: &&str| {
            serde_json::json!({"id": id, "parent": null, "repo_tags": [], "repo_digests": [],
                "created": "2020-01-01T00:00:00Z", "last_tag_time": null, "labels": null,
                "chain": [], "layer_sizes": [], "buildkit_layers": [], "size": 1})
        };
        let container = |image: &&str| {
            serde_json::json!({"id": "c", "name": "c", "image_id": image, "config_image": "x",
                "created": "2026-01-01T00:00:00Z", "running": false, "state": "exited",
                "labels": {}, "size_rw": null, "volumes": []})
        };
        serde_json::from_value(serde_json::json!({
            "api_version": "1.45", "engine_version": [26, 1], "engine_id": "E",
            "image_store": "graphdriver", "daemon_now": now,
            "daemon_offset_seconds": 0, "docker_root_dir": "/d",
            "containers": containers_of.iter().map(container).collect::<Vec<_>>(),
            "images": images.iter().map(image).collect::<Vec<_>>(),
            "volumes": [], "networks": [], "build_cache": []
        }))
        .unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn remember_gives_earlier_sightings_and_records_current_use() {
        let log = UseLog::default();
        let mut first = snapshot("2026-06-01T00:00:00Z", &[], &["sha256:i"]);
        log.remember(&mut first);
        assert!(first.last_seen.is_empty(), "nothing seen before");
        let mut second = snapshot("2026-06-01T00:00:00Z", &[], &[]);
        log.remember(&mut second);
        assert_eq!(second.last_seen["sha256:i"], ts("2026-06-01T00:00:00Z"));
    }

    #[test]
    fn images_there_at_the_first_look_are_no_arrival_later_ones_arrive_when_first_seen() {
        let log = UseLog::default();
        let mut first = snapshot("2026-06-01T00:00:00Z", &["sha256:old"], &[]);
        log.remember(&mut first);
        assert!(first.first_seen.is_empty(), "when they arrived is unknown");

        let mut second = snapshot("2026-06-02T00:00:00Z", &["sha256:old", "sha256:new"], &[]);
        log.remember(&mut second);
        assert_eq!(
            second.first_seen,
            BTreeMap::from([("sha256:new".to_string(), ts("2026-06-02T00:00:00Z"))]),
            "an image that arrived since the last run is first seen now"
        );

        let mut third = snapshot("2026-06-03T00:00:00Z", &["sha256:old", "sha256:new"], &[]);
        log.remember(&mut third);
        assert_eq!(
            third.first_seen["sha256:new"],
            ts("2026-06-02T00:00:00Z"),
            "the first sighting stays the first"
        );
    }

    #[test]
    fn images_no_longer_there_are_forgotten_and_arrive_anew_when_pulled_again() {
        let log = UseLog::default();
        log.remember(&mut snapshot("2026-06-01T00:00:00Z", &[], &[]));
        log.remember(&mut snapshot("2026-06-02T00:00:00Z", &["sha256:a"], &[]));
        log.remember(&mut snapshot("2026-06-03T00:00:00Z", &[], &[]));
        assert!(log.state.lock().unwrap().first_seen["E"].is_empty());
        let mut again = snapshot("2026-06-04T00:00:00Z", &["sha256:a"], &[]);
        log.remember(&mut again);
        assert_eq!(again.first_seen["sha256:a"], ts("2026-06-04T00:00:00Z"));
    }

    #[test]
    fn podman_records_no_first_sightings_its_engine_id_changes_between_connections() {
        let log = UseLog::default();
        for day in ["2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"] {
            let mut podman = snapshot(day, &["sha256:a"], &[]);
            podman.engine = EngineKind::Podman;
            log.remember(&mut podman);
            assert!(podman.first_seen.is_empty());
        }
        assert!(log.state.lock().unwrap().first_seen.is_empty());
    }

    #[test]
    fn a_state_file_of_earlier_versions_loads_and_is_written_in_the_new_shape() {
        let old = r#"{"ENGINE-1":{"sha256:i":"2026-06-01T00:00:00Z"}}"#;
        let state = State::from(serde_json::from_str::<StateFile>(old).unwrap());
        assert_eq!(
            state.uses["ENGINE-1"]["sha256:i"],
            ts("2026-06-01T00:00:00Z")
        );
        assert!(state.first_seen.is_empty());

        let log = UseLog {
            path: None,
            state: Mutex::new(state),
            changed: AtomicBool::new(false),
        };
        let mut next = snapshot("2026-06-02T00:00:00Z", &["sha256:i"], &[]);
        next.engine_id = "ENGINE-1".into();
        log.remember(&mut next);
        let written = serde_json::to_string(&*log.state.lock().unwrap()).unwrap();
        assert_eq!(
            written,
            r#"{"uses":{"ENGINE-1":{"sha256:i":"2026-06-01T00:00:00Z"}},"first_seen":{"ENGINE-1":{"sha256:i":null}}}"#
        );
        let reloaded = State::from(serde_json::from_str::<StateFile>(&written).unwrap());
        assert_eq!(reloaded.first_seen["ENGINE-1"]["sha256:i"], None);
        assert_eq!(reloaded.uses, log.state.lock().unwrap().uses);
    }

    #[test]
    fn an_empty_state_file_loads_empty() {
        let state = State::from(serde_json::from_str::<StateFile>("{}").unwrap());
        assert!(state.uses.is_empty() && state.first_seen.is_empty());
    }
}
