//! What happened on each host, as plain data: produced by [`crate::executor`] and the commands,
//! rendered by [`crate::report`]: connection facts, the command's payload ([`reclaim`] for the
//! commands that delete, [`disk_usage`] for `df`, [`prediction`] for `plan`) and the failure, if
//! any, as a value ([`crate::model::failure`]).

pub mod disk_usage;
pub mod prediction;
pub mod reclaim;

use std::time::Duration;

use serde::Serialize;

use crate::api_version::ApiVersion;
use crate::model::connection::{HostKeyCheck, TransportKind};
use crate::model::failure::{ErrorClass, HostFailure};

/// How the engine was reached and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    pub transport: TransportKind,
    /// The socket `docker_socket: auto` found on the host; `None` when the socket was named.
    pub found_socket: Option<String>,
    /// As the engine reported it, cut to [`crate::model::remote_text::REMOTE_STRING_LIMIT`] characters.
    pub engine_version: String,
    /// Docker or Podman.
    pub engine: crate::model::engine_kind::EngineKind,
    pub api_version: ApiVersion,
}

/// One host's result for any command: connection facts, the command's payload (complete, or
/// as far as it got), and the failure if there was one.
#[derive(Debug, Clone)]
pub struct HostOutcome<T> {
    pub name: String,
    /// `address:port` as contacted.
    pub address: String,
    pub host_key: Option<HostKeyCheck>,
    pub connection: Option<ConnectionInfo>,
    pub payload: T,
    pub failure: Option<HostFailure>,
    pub duration: Duration,
    /// SSH connection attempts (more than 1 when `--retries` retried a transient failure).
    pub attempts: u32,
}

impl<T> HostOutcome<T> {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }

    /// True when the host's busy guard skipped it (status `skipped`, class `busy`).
    pub fn busy(&self) -> bool {
        self.failure
            .as_ref()
            .is_some_and(|f| f.class == ErrorClass::Busy)
    }
}

/// The fleet's safety valves as set for the run, and whether they stopped it early.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SafetyReport {
    /// `--serial` as given (`2`, `25%`), when batches were used.
    pub serial: Option<String>,
    /// Sizes of the batches started, in order; the first is the canary when there is more than one.
    pub batches: Vec<usize>,
    pub max_fail_percentage: Option<u8>,
    pub retries: u32,
    /// Why hosts were left unstarted, when they were.
    pub stopped: Option<String>,
}

/// A fleet run kept whole: every host's outcome in inventory order, and the run's safety facts
/// (a prompt's preview, a saved plan, tests). A run's outputs take each outcome as it finishes
/// instead and keep only a [`Tally`].
#[derive(Debug, Clone)]
pub struct FleetRun<T> {
    pub outcomes: Vec<HostOutcome<T>>,
    pub safety: SafetyReport,
}

/// How many hosts ended which way: what the exit code, the totals and the metrics count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub hosts: usize,
    pub succeeded: usize,
    /// Skipped by their busy guard (not succeeded, not failed for the exit code).
    pub busy: usize,
    /// Never started.
    pub cancelled: usize,
    /// A prune request may have deleted objects without the report knowing.
    pub outcome_unknown: usize,
}

impl Tally {
    pub fn add<T>(&mut self, outcome: &HostOutcome<T>) {
        self.hosts += 1;
        match &outcome.failure {
            None => self.succeeded += 1,
            Some(failure) => match failure.class {
                ErrorClass::Busy => self.busy += 1,
                ErrorClass::Cancelled => self.cancelled += 1,
                ErrorClass::OutcomeUnknown => self.outcome_unknown += 1,
                _ => {}
            },
        }
    }

    /// Every host that did not succeed (busy, cancelled and unknown ones included).
    pub fn failed(&self) -> usize {
        self.hosts - self.succeeded
    }

    /// The tally of a run kept whole.
    pub fn of<T>(outcomes: &[HostOutcome<T>]) -> Tally {
        let mut tally = Tally::default();
        for outcome in outcomes {
            tally.add(outcome);
        }
        tally
    }
}
