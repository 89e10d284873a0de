//! Facts about a run that the outputs carry besides the hosts: the command, when it ran, which
//! fleetprune, which inventory and `--limit`, the shard, each host's effective plan, and how much
//! detail the outputs show.

use std::collections::HashMap;

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
    /// Each host's effective prune plan, in the order of the run's hosts (prune only).
    plans: HostPlans,
    pub detail: Detail,
}

/// Each host's plan, interned: a fleet's hosts share a few plans (a group's), so 10,000 hosts
/// cost a slot each, not a plan each.
#[derive(Debug, Clone, Default)]
struct HostPlans {
    /// The distinct plans, in the order first seen.
    distinct: Vec<PrunePlan>,
    /// Per host, its plan's place in `distinct`.
    hosts: Vec<Option<usize>>,
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
            plans: HostPlans::default(),
            detail: Detail::default(),
        }
    }

    /// Records each host's effective plan, in the order of the run's hosts.
    pub fn set_plans<'a>(&mut self, plans: impl IntoIterator<Item = Option<&'a PrunePlan>>) {
        let mut interned = HostPlans::default();
        // Plans by their description, which equal plans share: a lookup per host, not a scan.
        let mut by_description: HashMap<String, Vec<usize>> = HashMap::new();
        for plan in plans {
            let slot = plan.map(|plan| {
                let candidates = by_description.entry(plan.describe()).or_default();
                let known = candidates
                    .iter()
                    .copied()
                    .find(|slot| &interned.distinct[*slot] == plan);
                known.unwrap_or_else(|| {
                    interned.distinct.push(plan.clone());
                    candidates.push(interned.distinct.len() - 1);
                    interned.distinct.len() - 1
                })
            });
            interned.hosts.push(slot);
        }
        self.plans = interned;
    }

    /// The plan of the host at `index`, when the run has plans.
    pub fn plan(&self, index: usize) -> Option<&PrunePlan> {
        let slot = (*self.plans.hosts.get(index)?)?;
        self.plans.distinct.get(slot)
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
