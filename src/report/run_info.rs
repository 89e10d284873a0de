//! Facts about a run that the outputs carry besides the hosts: the command, when it ran, which
//! fleetprune, which inventory and `--limit`, the shard, each host's effective plan, and how much
//! detail the outputs show.

use std::sync::Arc;

use jiff::Timestamp;

use crate::plan::PrunePlan;

/// The run's facts, filled in by [`crate::app`] before the fleet starts (`finished_at` after).
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The command, as the `command` field and metrics label name it (`prune`, `plan`, ...).
    pub command: &'static str,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// The inventory sources as given (`-i`, ansible.cfg, or the default).
    pub inventory: Vec<String>,
    pub limit: Option<String>,
    /// `--shard` as resolved, `2/4`.
    pub shard: Option<String>,
    /// Each host's effective prune plan, in the order of the run's hosts (prune only); hosts
    /// share a few plans, so a host costs a pointer here.
    plans: Vec<Option<Arc<PrunePlan>>>,
    pub detail: Detail,
}

/// How much the outputs show besides the figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detail {
    /// `-v`: the objects each host lost (or would lose), and why.
    pub objects: bool,
    /// `--show-kept` (plan): what stays, and why.
    pub kept: bool,
}

impl RunInfo {
    /// A run starting now.
    pub fn starting(
        command: &'static str,
        inventory: Vec<String>,
        limit: Option<String>,
    ) -> RunInfo {
        let now = Timestamp::now();
        RunInfo {
            command,
            started_at: now,
            finished_at: now,
            inventory,
            limit,
            shard: None,
            plans: Vec::new(),
            detail: Detail::default(),
        }
    }

    /// Records each host's effective plan, in the order of the run's hosts (shared with them).
    pub fn set_plans(&mut self, plans: impl IntoIterator<Item = Option<Arc<PrunePlan>>>) {
        self.plans = plans.into_iter().collect();
    }

    /// The plan of the host at `index`, when the run has plans.
    pub fn plan(&self, index: usize) -> Option<&PrunePlan> {
        self.plans.get(index)?.as_deref()
    }

    /// Seconds from start to finish.
    pub fn duration_seconds(&self) -> f64 {
        self.finished_at
            .duration_since(self.started_at)
            .as_secs_f64()
            .max(0.0)
    }
}

/// `fleetprune 0.1.0`'s version, as machine formats report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
