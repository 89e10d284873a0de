//! What a person sees while a fleet runs, on stderr, and the hook that streams each host's outcome
//! as it finishes (NDJSON).
//!
//! - On a terminal ([`Live::Bar`]): an indicatif line naming the running hosts and their stage,
//!   done / failed / total and bytes so far; each failure is printed above it with its reason.
//! - Without one ([`Live::Lines`], cron, CI): one line per host as it finishes,
//!   `host07 ok 24.13MB 2.4s` or `host09 FAILED at auth: [auth_failed] ...`.
//! - [`Live::Quiet`] (`-q`): nothing; the final report still says everything.
//!
//! Writes to stderr never fail the run: a closed stderr drops the line.

use std::collections::BTreeMap;
use std::io::Write;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::executor::FleetEvents;
use crate::human_size::human_size;
use crate::model::failure::Stage;
use crate::outcome::HostOutcome;
use crate::outcome::disk_usage::DiskUsage;
use crate::outcome::prediction::PlanReport;
use crate::outcome::reclaim::PruneReport;
use crate::report::{sanitize, seconds};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// A progress bar (stderr is a terminal).
    Bar,
    /// One line per finished host.
    Lines,
    /// Nothing (`-q`).
    Quiet,
}

/// What the live display says about a host's payload.
pub trait LiveFacts {
    /// Bytes worth showing (reclaimed, reclaimable), when the command has any.
    fn live_bytes(&self) -> Option<u64>;
    /// The word after the bytes (`reclaimable`), when the bytes need one.
    const BYTES_LABEL: &'static str = "";
}

impl LiveFacts for () {
    fn live_bytes(&self) -> Option<u64> {
        None
    }
}

/// Shared by the executor's tasks; cheap to clone.
pub struct Progress<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Progress<T> {
    fn clone(&self) -> Self {
        Progress {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<T> {
    live: Live,
    bar: Option<ProgressBar>,
    state: Mutex<State>,
    payload: PhantomData<fn(&T)>,
}

#[derive(Default)]
struct State {
    /// Running hosts and the stage each is in.
    running: BTreeMap<String, Stage>,
    done: u64,
    failed: u64,
    bytes: u64,
    has_bytes: bool,
}

/// Running hosts named in the bar; the rest are counted.
const NAMED_RUNNING: usize = 3;

impl<T: LiveFacts> Progress<T> {
    /// Progress for `total` hosts, shown as `live` says.
    pub fn new(total: usize, live: Live) -> Progress<T> {
        let bar = (live == Live::Bar).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {elapsed:>4} {bar:12} {pos}/{len} hosts {wide_msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            inner: Arc::new(Inner {
                live,
                bar,
                state: Mutex::default(),
                payload: PhantomData,
            }),
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        change(&mut state);
        if let Some(bar) = &self.inner.bar {
            bar.set_message(bar_message(&state, T::BYTES_LABEL));
        }
    }
}

impl<T: LiveFacts + Send + Sync + 'static> FleetEvents<T> for Progress<T> {
    fn host_started(&self, name: &str) {
        self.update(|state| {
            state.running.insert(name.to_string(), Stage::Connect);
        });
    }

    /// The host moved on to `stage`.
    fn host_stage(&self, name: &str, stage: Stage) {
        self.update(|state| {
            if let Some(current) = state.running.get_mut(name) {
                *current = stage;
            }
        });
    }

    /// The host finished; `index` is its place in the run's host list.
    fn host_finished(&self, _: usize, outcome: &HostOutcome<T>) {
        let bytes = outcome.payload.live_bytes();
        self.update(|state| {
            state.running.remove(&outcome.name);
            state.done += 1;
            if !outcome.succeeded() {
                state.failed += 1;
            }
            if let Some(bytes) = bytes {
                state.has_bytes = true;
                state.bytes = state.bytes.saturating_add(bytes);
            }
        });
        match self.inner.live {
            Live::Quiet => {}
            Live::Lines => {
                let _ = writeln!(std::io::stderr().lock(), "{}", finished_line(outcome));
            }
            Live::Bar => {
                if !outcome.succeeded()
                    && let Some(bar) = &self.inner.bar
                {
                    bar.println(finished_line(outcome));
                }
                if let Some(bar) = &self.inner.bar {
                    bar.inc(1);
                }
            }
        }
    }

    fn finished(&self) {
        if let Some(bar) = &self.inner.bar {
            bar.finish_and_clear();
        }
    }
}

/// `host07 ok 24.13MB 2.4s` / `host09 FAILED at auth: [auth_failed] reason`.
pub fn finished_line<T: LiveFacts>(outcome: &HostOutcome<T>) -> String {
    let name = sanitize(&outcome.name);
    match &outcome.failure {
        None => {
            let bytes =
                outcome
                    .payload
                    .live_bytes()
                    .map_or_else(String::new, |b| match T::BYTES_LABEL {
                        "" => format!(" {}", human_size(b)),
                        label => format!(" {} {label}", human_size(b)),
                    });
            format!("{name} ok{bytes} {}", seconds(outcome.duration))
        }
        Some(failure) if failure.stage == Stage::Queued => format!(
            "{name} FAILED: [{}] {}",
            failure.class,
            sanitize(&failure.message)
        ),
        Some(failure) => format!(
            "{name} FAILED at {}: [{}] {} ({})",
            failure.stage,
            failure.class,
            sanitize(&failure.message),
            seconds(outcome.duration)
        ),
    }
}

/// `ok 12 · failed 1 · 24.13MB · running host03 (auth), host04 (prune), +5`.
fn bar_message(state: &State, bytes_label: &str) -> String {
    let mut message = format!("ok {} · failed {}", state.done - state.failed, state.failed);
    if state.has_bytes {
        message.push_str(&format!(" · {}", human_size(state.bytes)));
        if !bytes_label.is_empty() {
            message.push_str(&format!(" {bytes_label}"));
        }
    }
    if !state.running.is_empty() {
        let named: Vec<String> = state
            .running
            .iter()
            .take(NAMED_RUNNING)
            .map(|(name, stage)| format!("{} ({stage})", sanitize(name)))
            .collect();
        message.push_str(&format!(" · running {}", named.join(", ")));
        if state.running.len() > NAMED_RUNNING {
            message.push_str(&format!(", +{}", state.running.len() - NAMED_RUNNING));
        }
    }
    message
}

impl LiveFacts for PruneReport {
    fn live_bytes(&self) -> Option<u64> {
        Some(self.reclaimed_bytes())
    }
}

impl LiveFacts for PlanReport {
    const BYTES_LABEL: &'static str = "predicted";

    fn live_bytes(&self) -> Option<u64> {
        Some(self.plan.bytes())
    }
}

impl LiveFacts for DiskUsage {
    const BYTES_LABEL: &'static str = "reclaimable";

    fn live_bytes(&self) -> Option<u64> {
        Some(self.reclaimable_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::failure::{ErrorClass, HostFailure};

    struct Bytes(u64);

    impl LiveFacts for Bytes {
        fn live_bytes(&self) -> Option<u64> {
            Some(self.0)
        }
    }

    fn outcome(failure: Option<HostFailure>) -> HostOutcome<Bytes> {
        HostOutcome {
            name: "host07".into(),
            address: "10.0.0.7:22".into(),
            host_key: None,
            connection: None,
            payload: Bytes(24_130_000),
            failure,
            duration: Duration::from_millis(2400),
            attempts: 1,
        }
    }

    #[test]
    fn finished_lines_name_bytes_or_stage_and_reason() {
        assert_eq!(finished_line(&outcome(None)), "host07 ok 24.13MB 2.4s");
        let failure = HostFailure::new(Stage::Auth, ErrorClass::AuthFailed, "no key\naccepted");
        assert_eq!(
            finished_line(&outcome(Some(failure))),
            "host07 FAILED at auth: [auth_failed] no key accepted (2.4s)"
        );
    }

    #[test]
    fn bar_names_running_hosts_and_their_stage() {
        let mut state = State {
            done: 5,
            failed: 1,
            bytes: 1_500_000,
            has_bytes: true,
            ..State::default()
        };
        for (name, stage) in [
            ("a", Stage::Auth),
            ("b", Stage::Prune),
            ("c", Stage::Connect),
            ("d", Stage::Tunnel),
        ] {
            state.running.insert(name.into(), stage);
        }
        assert_eq!(
            bar_message(&state, ""),
            "ok 4 · failed 1 · 1.5MB · running a (auth), b (prune), c (connect), +1"
        );
    }
}
