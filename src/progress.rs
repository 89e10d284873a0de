//! The live progress line on stderr (hosts done / failed / running) while a fleet runs; drawn only
//! when stderr is a terminal, silent otherwise.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shared by the executor's tasks; cheap to clone.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    started: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
}

impl Progress {
    /// A progress line for `total` hosts, shown only on a terminal.
    pub fn new(total: usize) -> Progress {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} hosts {msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress {
            bar,
            counts: Arc::default(),
        }
    }

    pub fn host_started(&self) {
        self.counts.started.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    pub fn host_finished(&self, name: &str, succeeded: bool) {
        self.counts.done.fetch_add(1, Ordering::Relaxed);
        if !succeeded {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
            self.bar.println(format!("{name}: failed"));
        }
        self.bar.inc(1);
        self.redraw();
    }

    fn redraw(&self) {
        let started = self.counts.started.load(Ordering::Relaxed);
        let done = self.counts.done.load(Ordering::Relaxed);
        let failed = self.counts.failed.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "done {} · failed {failed} · running {}",
            done - failed,
            started.saturating_sub(done)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
