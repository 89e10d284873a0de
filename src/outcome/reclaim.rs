//! What a reclaiming command (`prune` with or without a keep policy, `apply`, `rmi`) did on one
//! host, as plain data: per kind what went and what was freed, and, where fleetprune chose the
//! objects itself and deleted them by ID, what it had planned and what it left alone and why.
//! One shape for all of them, so every output format and `fleetprune report` treat them alike.

use std::fmt;

use serde::Serialize;

use crate::plan::select::ObjectPlan;
use crate::plan::{PruneKind, VolumeScope};

/// Why a planned object was not deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "why", content = "detail")]
pub enum SkipReason {
    /// It no longer exists.
    AlreadyGone,
    /// A container uses it now (running, or created since the plan).
    InUseNow(String),
    /// It is not what was planned any more (a new reference, a tag moved).
    Changed(String),
    /// The daemon refused or failed the delete.
    Failed(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::AlreadyGone => f.write_str("already gone"),
            SkipReason::InUseNow(by) => write!(f, "kept: in use now ({by})"),
            SkipReason::Changed(what) => write!(f, "kept: changed ({what})"),
            SkipReason::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}

/// A planned object left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub id: String,
    pub name: String,
    pub reason: SkipReason,
}

/// The objects fleetprune chose for one kind (a keep policy, a saved plan, `rmi`) and how the
/// deletes by ID went. Absent when the daemon's prune endpoint chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Objects planned for deletion (or untagging).
    pub planned: usize,
    /// Bytes the plan predicted.
    pub planned_bytes: u64,
    /// False when `planned_bytes` is an estimate (containerd image store).
    pub planned_exact: bool,
    pub skipped: Vec<Skipped>,
    /// Every planned object of the kind was tried.
    pub finished: bool,
}

/// What one kind's prune removed: the daemon's answer, or the deletes by ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindReport {
    pub kind: PruneKind,
    /// Image references removed (`repo:tag`, `repo@sha256:...`); images only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<String>,
    /// IDs or names deleted: container IDs, network and volume names, image and layer IDs,
    /// build-cache record IDs.
    pub deleted: Vec<String>,
    /// The daemon's `SpaceReclaimed` when it is a byte count, else 0; for deletes by ID, the
    /// daemon's answers and the snapshot's sizes.
    pub reclaimed_bytes: u64,
    /// The daemon's `SpaceReclaimed` as it said it, when it is not a byte count (negative, or
    /// beyond 2^64): reported as such, never wrapped or dropped.
    pub odd_reclaimed: Option<String>,
    /// False when `reclaimed_bytes` is partly the plan's estimate (containerd image store).
    pub reclaimed_exact: bool,
    pub selection: Option<Selection>,
    /// How `deleted` was learnt when the daemon's answer did not say (Podman's 500 after
    /// deletions: a fresh list).
    pub note: Option<String>,
}

impl KindReport {
    /// A kind whose deletes by ID are about to start, for `planned` objects.
    pub fn selected(kind: PruneKind, planned: usize, planned_bytes: u64, exact: bool) -> Self {
        KindReport {
            kind,
            untagged: Vec::new(),
            deleted: Vec::new(),
            reclaimed_bytes: 0,
            odd_reclaimed: None,
            reclaimed_exact: true,
            note: None,
            selection: Some(Selection {
                planned,
                planned_bytes,
                planned_exact: exact,
                skipped: Vec::new(),
                finished: false,
            }),
        }
    }

    /// The kind's answer is complete: the daemon answered, or every selected object was tried.
    pub fn completed(&self) -> bool {
        self.selection.as_ref().is_none_or(|s| s.finished)
    }

    /// Objects left alone (deletes by ID only).
    pub fn skipped(&self) -> &[Skipped] {
        self.selection
            .as_ref()
            .map_or(&[], |s| s.skipped.as_slice())
    }
}

/// A host's prune (or apply, or rmi) results, as far as they got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// `rmi`'s read-only first pass: what would go.
    pub preview: Option<ObjectPlan>,
    /// Which volumes the daemon prunes, when volumes are in the plan.
    pub volume_scope: Option<VolumeScope>,
    /// The kinds of the plan, in the order they run.
    pub planned: Vec<PruneKind>,
    /// The kinds started, in order: answered (daemon) or being deleted by ID.
    pub kinds: Vec<KindReport>,
    /// The kind whose request was sent and whose answer has not come: it may have deleted.
    pub in_flight: Option<PruneKind>,
    /// With deletes by ID, the object whose delete is in flight.
    pub in_flight_object: Option<String>,
    /// Facts about how the host was pruned (orchestrators seen, what was left to them).
    pub notes: Vec<String>,
    /// Kinds the engine has no endpoint for (Podman's build cache): not failures.
    pub unsupported: Vec<PruneKind>,
}

impl PruneReport {
    pub fn kind(&self, kind: PruneKind) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Bytes reclaimed on this host; saturates rather than wraps.
    pub fn reclaimed_bytes(&self) -> u64 {
        self.kinds
            .iter()
            .fold(0u64, |sum, k| sum.saturating_add(k.reclaimed_bytes))
    }

    /// True when every byte count is exact.
    pub fn reclaimed_exact(&self) -> bool {
        self.kinds.iter().all(|k| k.reclaimed_exact)
    }

    /// Kinds whose answer is complete, in order.
    pub fn completed(&self) -> Vec<PruneKind> {
        self.kinds
            .iter()
            .filter(|k| k.completed() && self.in_flight != Some(k.kind))
            .map(|k| k.kind)
            .collect()
    }

    /// Kinds of the plan that were neither started nor in flight.
    pub fn not_started(&self) -> Vec<PruneKind> {
        self.planned
            .iter()
            .copied()
            .filter(|kind| {
                self.kind(*kind).is_none()
                    && self.in_flight != Some(*kind)
                    && !self.unsupported.contains(kind)
            })
            .collect()
    }

    /// Kinds started by ID whose deletes were cut off before every object was tried (and no
    /// delete was in flight).
    pub fn unfinished(&self) -> Vec<PruneKind> {
        self.kinds
            .iter()
            .filter(|k| !k.completed() && self.in_flight != Some(k.kind))
            .map(|k| k.kind)
            .collect()
    }

    /// The selections, when fleetprune chose the objects (keep policy, apply, rmi).
    pub fn selections(&self) -> impl Iterator<Item = &Selection> {
        self.kinds.iter().filter_map(|k| k.selection.as_ref())
    }

    /// True when fleetprune chose the objects of at least one kind.
    pub fn selected(&self) -> bool {
        self.selections().next().is_some()
    }

    pub fn planned_bytes(&self) -> u64 {
        self.selections()
            .fold(0u64, |s, k| s.saturating_add(k.planned_bytes))
    }

    pub fn planned_objects(&self) -> usize {
        self.selections().map(|k| k.planned).sum()
    }

    /// Planned objects that were not left alone.
    pub fn done_objects(&self) -> usize {
        self.selections()
            .map(|k| k.planned.saturating_sub(k.skipped.len()))
            .sum()
    }

    /// Skipped objects whose reason matches `pick`.
    pub fn skipped(&self, pick: impl Fn(&SkipReason) -> bool) -> usize {
        self.kinds
            .iter()
            .flat_map(|k| k.skipped())
            .filter(|s| pick(&s.reason))
            .count()
    }
}
