//! `fleetprune plan` (and `prune --dry-run`): on each host, a read-only snapshot and the
//! selection it implies for the host's prune plan. Nothing is deleted.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::failure::{HostFailure, Stage};
use crate::model::filesystem::DecidingFilesystem;
use crate::outcome::prediction::{HostFacts, PlanReport};
use crate::plan::select::{deciding_filesystems, select};
use crate::transport::shell::HostShell;
use crate::use_log::UseLog;

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
        stop: &CancellationToken,
    ) -> Result<(), HostFailure> {
        // The same refusals as a prune (e.g. a timestamp until for build cache on API 1.41).
        let (plan, _) =
            crate::commands::prune::checked_plan(host, engine.api_version, engine.kind)?;
        report.description = plan.describe();
        // A busy host is skipped by prune and apply: its plan says so too.
        crate::busy::wait_until_idle(&host.busy, engine, shell, stop, Stage::Plan).await?;
        let snapshot = crate::commands::prune::decision_snapshot(
            engine,
            shell,
            &self.uses,
            Some(plan.policy()),
        )
        .await?;
        report.facts = Some(HostFacts {
            engine_id: snapshot.engine_id.clone(),
            engine: snapshot.engine,
            image_store: snapshot.image_store,
            daemon_time: snapshot.daemon_now,
            docker_root_dir: snapshot.docker_root_dir.clone(),
            filesystem: snapshot.filesystem.clone(),
            containerd_filesystems: snapshot.containerd_filesystems.clone(),
            deciding_filesystems: deciding_filesystems(&snapshot, plan.policy())
                .into_iter()
                .map(|(policy, fs)| DecidingFilesystem {
                    policy: policy.to_string(),
                    path: fs.path.clone(),
                    mount_point: fs.mount_point.clone(),
                })
                .collect(),
        });
        report.plan = select(&snapshot, plan);
        Ok(())
    }
}
