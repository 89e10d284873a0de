//! `fleetprune plan` (and `prune --dry-run`): on each host, a read-only snapshot and the
//! selection it implies for the host's prune plan. Nothing is deleted.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::engine_kind::EngineKind;
use crate::executor::HostJob;
use crate::host::Host;
use crate::outcome::{HostFailure, Stage};
use crate::plan::select::{ObjectPlan, select};
use crate::snapshot::{self, FilesystemUsage, ImageStore};
use crate::transport::shell::HostShell;
use crate::use_log::UseLog;

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
}

/// One host's predicted prune.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The prune plan in words (`containers, images (all) [until=24h]`).
    pub description: String,
    pub facts: Option<HostFacts>,
    pub plan: ObjectPlan,
}

/// Snapshots the host and predicts its plan.
pub struct PlanJob {
    /// Image use seen on earlier runs, updated with this one's.
    pub uses: Arc<UseLog>,
}

impl HostJob for PlanJob {
    type Output = PlanReport;
    const STAGE: Stage = Stage::Plan;

    async fn run(
        &self,
        host: &Host,
        engine: &Engine,
        shell: &HostShell<'_>,
        report: &mut PlanReport,
        _: &CancellationToken,
    ) -> Result<(), HostFailure> {
        // The same refusals as a prune (e.g. a timestamp until for build cache on API 1.41).
        let (plan, _) = crate::prune::checked_plan(host, engine.api_version, engine.kind)?;
        report.description = plan.describe();
        let mut snapshot = snapshot::take(engine)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        self.uses.remember(&mut snapshot);
        if plan.policy().threshold.is_some() {
            snapshot::add_filesystem(&mut snapshot, shell)
                .await
                .map_err(|e| HostFailure::from_error(Stage::Plan, &e))?;
        }
        report.facts = Some(HostFacts {
            engine_id: snapshot.engine_id.clone(),
            engine: snapshot.engine,
            image_store: snapshot.image_store,
            daemon_time: snapshot.daemon_now,
            docker_root_dir: snapshot.docker_root_dir.clone(),
            filesystem: snapshot.filesystem.clone(),
        });
        report.plan = select(&snapshot, plan);
        Ok(())
    }
}
