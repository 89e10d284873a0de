//! The busy guard on a live host: is a matching container running, does `busy_check` fail?
//! Asked before the first deletion and again before each kind by `prune`, `apply` and a keep
//! policy's prune, and once by `plan`. A busy host becomes a failure of class `busy` carrying
//! the reason; `--wait-idle` polls it within the run first. The guard itself is
//! [`crate::plan::busy`]; the exit code's treatment of `busy` is the app's.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::model::failure::{ErrorClass, HostFailure, Stage};
use crate::model::remote_text::bounded_remote_string;
use crate::plan::busy::BusyGuard;
use crate::transport::shell::HostShell;

/// How often a busy host is asked again while `--wait-idle` lasts.
const IDLE_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RunningContainer {
    names: Vec<String>,
}

/// Why the host is busy now, or `None` when it is idle. The filters are asked of the daemon
/// (`GET /containers/json`, running containers only, one filter per call: any match is
/// enough), so they mean exactly what `docker ps --filter` means. A `busy_check` that cannot
/// be run at all counts as busy: nothing is deleted on a host whose state is unknown.
pub async fn busy_reason(
    guard: &BusyGuard,
    engine: &Engine,
    shell: &HostShell<'_>,
    stage: Stage,
) -> Result<Option<String>, HostFailure> {
    for filter in &guard.if_running {
        let filters = serde_json::json!({ filter.key.as_str(): [filter.value.as_str()] });
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("filters", &filters.to_string())
            .finish();
        let running: Vec<RunningContainer> = engine
            .get_json(&format!("/containers/json?{query}"))
            .await
            .map_err(|e| HostFailure::from_error(stage, &e))?;
        if let Some(container) = running.first() {
            let name = container
                .names
                .first()
                .map(|n| bounded_remote_string(n.trim_start_matches('/')))
                .unwrap_or_default();
            return Ok(Some(format!(
                "running container {name} matches busy_if_running {filter}"
            )));
        }
    }
    if let Some(command) = &guard.check {
        return Ok(match shell.check(command).await {
            Ok(None) => None,
            Ok(Some(line)) => Some(format!("busy_check: {line}")),
            Err(reason) => Some(format!("busy_check: {reason}")),
        });
    }
    Ok(None)
}

/// Returns once the host is idle; a host still busy when `--wait-idle` runs out (at once
/// without it), or when `stop` is triggered while waiting, fails with class `busy`.
pub async fn wait_until_idle(
    guard: &BusyGuard,
    engine: &Engine,
    shell: &HostShell<'_>,
    stop: &CancellationToken,
    stage: Stage,
) -> Result<(), HostFailure> {
    if guard.is_empty() {
        return Ok(());
    }
    let ask = move || busy_reason(guard, engine, shell, stage);
    match poll_until_idle(guard.wait_idle, stop, ask).await? {
        None => Ok(()),
        Some(reason) => Err(HostFailure::new(stage, ErrorClass::Busy, reason)),
    }
}

/// The `--wait-idle` loop, whatever asks the host: `busy` is asked until it answers idle
/// (`Ok(None)`), every [`IDLE_POLL`] while `wait_idle` lasts (once without it). Returns the
/// last reason when the host is still busy at the deadline or once `stop` is triggered; an
/// error from `busy` ends the wait at once.
async fn poll_until_idle<F, Fut, E>(
    wait_idle: Option<Duration>,
    stop: &CancellationToken,
    mut busy: F,
) -> Result<Option<String>, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, E>>,
{
    let deadline = wait_idle.map(|wait| tokio::time::Instant::now() + wait);
    loop {
        let Some(reason) = busy().await? else {
            return Ok(None);
        };
        let now = tokio::time::Instant::now();
        match deadline {
            Some(deadline) if now < deadline && !stop.is_cancelled() => {
                tracing::info!("busy ({reason}); asking again in {}s", IDLE_POLL.as_secs());
                tokio::select! {
                    () = tokio::time::sleep(IDLE_POLL.min(deadline - now)) => {}
                    () = stop.cancelled() => {}
                }
            }
            _ => return Ok(Some(reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::convert::Infallible;

    use tokio::time::Instant;

    use super::*;

    /// A busy check that gives `answers` in turn (the last one for ever) and records when
    /// (since the start of the test) it was asked.
    fn scripted<'a>(
        answers: &[Option<&str>],
        asked: &'a RefCell<Vec<Duration>>,
    ) -> impl FnMut() -> std::future::Ready<Result<Option<String>, Infallible>> + 'a {
        let start = Instant::now();
        let mut answers: Vec<Option<String>> = answers
            .iter()
            .rev()
            .map(|a| a.map(str::to_string))
            .collect();
        move || {
            asked.borrow_mut().push(start.elapsed());
            let answer = if answers.len() > 1 {
                answers.pop().flatten()
            } else {
                answers.last().cloned().flatten()
            };
            std::future::ready(Ok(answer))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_idle_proceeds_once_a_busy_host_becomes_idle() {
        let asked = RefCell::new(Vec::new());
        let busy = scripted(&[Some("build 1"), Some("build 1"), None], &asked);
        let stop = CancellationToken::new();
        let outcome = poll_until_idle(Some(Duration::from_secs(60)), &stop, busy).await;
        assert_eq!(outcome, Ok(None));
        assert_eq!(
            *asked.borrow(),
            [0, 5, 10].map(Duration::from_secs),
            "asked at once, then every 5 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_busy_past_wait_idle_is_skipped_busy_at_the_deadline() {
        let asked = RefCell::new(Vec::new());
        let busy = scripted(&[Some("pipeline 42 running")], &asked);
        let stop = CancellationToken::new();
        let outcome = poll_until_idle(Some(Duration::from_secs(12)), &stop, busy).await;
        assert_eq!(outcome, Ok(Some("pipeline 42 running".to_string())));
        assert_eq!(
            *asked.borrow(),
            [0, 5, 10, 12].map(Duration::from_secs),
            "the last ask is at the deadline, not after it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_wait_idle_a_busy_host_is_asked_once() {
        let asked = RefCell::new(Vec::new());
        let busy = scripted(&[Some("busy"), None], &asked);
        let stop = CancellationToken::new();
        let outcome = poll_until_idle(None, &stop, busy).await;
        assert_eq!(outcome, Ok(Some("busy".to_string())));
        assert_eq!(asked.borrow().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_ends_the_wait_with_the_host_still_busy() {
        let asked = RefCell::new(Vec::new());
        let busy = scripted(&[Some("busy")], &asked);
        let stop = CancellationToken::new();
        let trigger = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(7)).await;
            trigger.cancel();
        });
        let outcome = poll_until_idle(Some(Duration::from_secs(600)), &stop, busy).await;
        assert_eq!(outcome, Ok(Some("busy".to_string())));
        assert_eq!(*asked.borrow(), [0, 5, 7].map(Duration::from_secs));
    }
}
