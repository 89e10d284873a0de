//! `fleetprune rmi REF...`: docker's `rmi`, fleet-wide (e.g. a vulnerable tag everywhere).
//!
//! Per host, [`rmi_plan`] finds where each reference exists and whether a container uses its
//! image (pure, from a snapshot); the job deletes that plan by ID with the same re-checks as
//! `apply`. An image in use stays unless `--remove-in-use`, which removes images used only by
//! stopped containers and never touches a running container's image.

use std::collections::BTreeSet;

use tokio_util::sync::CancellationToken;

use crate::commands::apply::{ImageDelete, delete_planned};
use crate::engine::Engine;
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::failure::{HostFailure, Stage};
use crate::outcome::reclaim::{PruneReport, SkipReason, Skipped};
use crate::plan::PruneKind;
use crate::plan::select::{
    Action, Doomed, Kept, KeptReason, KindPlan, ObjectPlan, Reason, normalised,
};
use crate::snapshot::{self, HostSnapshot, ImageStore};
use crate::transport::shell::HostShell;

/// What removing `refs` means on the host of `snapshot`: per image found, the references that
/// go, and whether the image goes with them (its last reference) or stays in use.
pub fn rmi_plan(snapshot: &HostSnapshot, refs: &[String], remove_in_use: bool) -> ObjectPlan {
    let wanted: BTreeSet<String> = refs.iter().map(|r| normalised(r)).collect();
    let by_id = |image_id: &str| {
        refs.iter().any(|r| {
            let hex = r.strip_prefix("sha256:").unwrap_or(r);
            hex.len() >= 12
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
                && image_id.trim_start_matches("sha256:").starts_with(hex)
        })
    };
    let mut plan = KindPlan {
        kind: PruneKind::Images,
        doomed: Vec::new(),
        kept: Vec::new(),
        freed_layers: Vec::new(),
        bytes: 0,
        exact: false,
        notes: vec!["bytes are the image's own layers; shared ones stay".into()],
        info: Vec::new(),
    };
    for image in &snapshot.images {
        // The containerd store lists digests derived from tags too: its names are the tags.
        let names: Vec<&String> =
            if snapshot.image_store == ImageStore::Containerd && !image.repo_tags.is_empty() {
                image.repo_tags.iter().collect()
            } else {
                image.refs().collect()
            };
        let whole = by_id(&image.id);
        let going: Vec<String> = names
            .iter()
            .filter(|r| whole || wanted.contains(&normalised(r)))
            .map(|r| r.to_string())
            .collect();
        if going.is_empty() && !whole {
            continue;
        }
        let name = going.first().cloned().unwrap_or_else(|| image.id.clone());
        let last = names.len() == going.len();
        let user = snapshot
            .containers
            .iter()
            .find(|c| c.image_id == image.id && (c.running || !remove_in_use));
        if let (true, Some(user)) = (last, user) {
            plan.kept.push(Kept {
                id: image.id.clone(),
                name,
                reason: KeptReason::InUse(user.name.clone()),
            });
            continue;
        }
        // A stopped container's layers keep its image's layers even when the image goes.
        let held = snapshot.containers.iter().any(|c| c.image_id == image.id);
        let bytes = if last && !held {
            // Untagged parents whose only child this is go too, as with `docker rmi`.
            let mut going = BTreeSet::from([image.id.as_str()]);
            let mut at = image;
            while let Some(parent) = at
                .parent
                .as_deref()
                .and_then(|p| snapshot.images.iter().find(|i| i.id == p))
            {
                let children = snapshot
                    .images
                    .iter()
                    .filter(|i| i.parent.as_deref() == Some(parent.id.as_str()))
                    .count();
                if parent.refs().next().is_some() || children > 1 {
                    break;
                }
                going.insert(parent.id.as_str());
                at = parent;
            }
            // Layers no remaining image has.
            let others: BTreeSet<&String> = snapshot
                .images
                .iter()
                .filter(|o| !going.contains(o.id.as_str()))
                .flat_map(|o| &o.chain)
                .collect();
            image
                .chain
                .iter()
                .zip(&image.layer_sizes)
                .filter(|(c, _)| !others.contains(c))
                .map(|(_, s)| s.unwrap_or(0))
                .sum()
        } else {
            0
        };
        plan.bytes = plan.bytes.saturating_add(bytes);
        plan.doomed.push(Doomed {
            id: image.id.clone(),
            name,
            action: if last { Action::Delete } else { Action::Untag },
            reason: Reason::Requested,
            bytes,
            untagged: going,
            refs: image.refs().cloned().collect(),
            reported: None,
        });
    }
    ObjectPlan { kinds: vec![plan] }
}

/// Plans (and unless `preview`, deletes) the references on each host.
pub struct RmiJob {
    pub refs: Vec<String>,
    pub remove_in_use: bool,
    pub preview: bool,
}

impl HostJob for RmiJob {
    type Output = PruneReport;
    const STAGE: Stage = Stage::Prune;

    async fn run(
        &self,
        _: &Host,
        engine: &Engine,
        _: &HostShell<'_>,
        report: &mut PruneReport,
        stop: &CancellationToken,
    ) -> Result<(), HostFailure> {
        let mut live = snapshot::take(engine)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        let plan = rmi_plan(&live, &self.refs, self.remove_in_use);
        if self.preview {
            report.preview = Some(plan);
            return Ok(());
        }
        report.planned = plan.kinds.iter().map(|k| k.kind).collect();
        let mode = ImageDelete {
            force: self.remove_in_use,
            parents: true,
        };
        delete_planned(engine, &mut live, &plan, report, stop, mode, None).await?;
        // What stayed because a container uses it is part of the answer too.
        let selection = report.kinds.first_mut().and_then(|k| k.selection.as_mut());
        if let (Some(selection), Some(planned)) = (selection, plan.kinds.first()) {
            selection.planned += planned.kept.len();
            for kept in &planned.kept {
                selection.skipped.push(Skipped {
                    id: kept.id.clone(),
                    name: kept.name.clone(),
                    reason: SkipReason::InUseNow(kept.reason.to_string()),
                });
            }
        }
        Ok(())
    }

    fn in_flight(report: &PruneReport) -> Option<String> {
        crate::commands::prune::in_flight(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_version::ApiVersion;
    use crate::snapshot::{ContainerInfo, ImageInfo, chain_ids};

    fn image(id: &str, refs: &[&str], layers: &[(&str, u64)]) -> ImageInfo {
        let diffs: Vec<String> = layers.iter().map(|(d, _)| format!("sha256:{d}")).collect();
        ImageInfo {
            id: format!("sha256:{id}"),
            parent: None,
            repo_tags: refs.iter().map(|r| r.to_string()).collect(),
            repo_digests: Vec::new(),
            created: None,
            last_tag_time: None,
            labels: None,
            chain: chain_ids(&diffs),
            layer_sizes: layers.iter().map(|(_, s)| Some(*s)).collect(),
            buildkit_layers: vec![false; layers.len()],
            size: layers.iter().map(|(_, s)| s).sum(),
        }
    }

    fn host(images: Vec<ImageInfo>, containers: Vec<ContainerInfo>) -> HostSnapshot {
        HostSnapshot {
            api_version: ApiVersion::new(1, 41),
            engine_version: (20, 10),
            engine_id: "E".into(),
            engine: crate::model::engine_kind::EngineKind::Docker,
            image_store: ImageStore::Graphdriver,
            daemon_now: "2026-06-01T00:00:00Z".parse().unwrap(),
            daemon_offset_seconds: 0,
            docker_root_dir: "/var/lib/docker".into(),
            containers,
            images,
            volumes: Vec::new(),
            networks: Vec::new(),
            build_cache: Vec::new(),
            last_seen: Default::default(),
            first_seen: Default::default(),
            filesystem: None,
            containerd_filesystems: Vec::new(),
            containerd_address: None,
            arrivals: Default::default(),
        }
    }

    fn container(name: &str, image: &str, running: bool) -> ContainerInfo {
        ContainerInfo {
            id: name.into(),
            name: name.into(),
            image_id: format!("sha256:{image}"),
            config_image: String::new(),
            created: "2026-01-01T00:00:00Z".parse().unwrap(),
            running,
            state: String::new(),
            labels: Default::default(),
            size_rw: None,
            volumes: Vec::new(),
            image_mounts: Vec::new(),
            started: None,
            finished: None,
        }
    }

    fn refs(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn a_reference_is_found_in_any_spelling_and_its_last_removal_deletes_the_image() {
        let h = host(
            vec![
                image("a", &["alpine:3.20"], &[("base", 10), ("a", 5)]),
                image("b", &["app:1", "app:2"], &[("base", 10), ("b", 7)]),
            ],
            Vec::new(),
        );
        let plan = rmi_plan(
            &h,
            &refs(&["docker.io/library/alpine:3.20", "app:1"]),
            false,
        );
        let images = &plan.kinds[0];
        assert_eq!(images.doomed.len(), 2);
        let alpine = images.doomed.iter().find(|d| d.id == "sha256:a").unwrap();
        assert_eq!(alpine.action, Action::Delete);
        assert_eq!(alpine.bytes, 5, "the shared base stays");
        let app = images.doomed.iter().find(|d| d.id == "sha256:b").unwrap();
        assert_eq!(app.action, Action::Untag);
        assert_eq!(app.untagged, ["app:1"]);
    }

    #[test]
    fn an_image_in_use_stays_unless_forced_and_a_running_containers_never_goes() {
        let h = host(
            vec![
                image("s", &["stopped:1"], &[("s", 1)]),
                image("r", &["running:1"], &[("r", 1)]),
            ],
            vec![container("old", "s", false), container("web", "r", true)],
        );
        let all = refs(&["stopped:1", "running:1"]);
        let plan = rmi_plan(&h, &all, false);
        assert!(plan.kinds[0].doomed.is_empty());
        assert_eq!(plan.kinds[0].kept.len(), 2);
        let forced = rmi_plan(&h, &all, true);
        assert_eq!(forced.kinds[0].doomed.len(), 1);
        assert_eq!(forced.kinds[0].doomed[0].id, "sha256:s");
        assert_eq!(
            forced.kinds[0].kept[0].reason,
            KeptReason::InUse("web".into())
        );
    }
}
