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
    let deadline = guard
        .wait_idle
        .map(|wait| tokio::time::Instant::now() + wait);
    loop {
        let Some(reason) = busy_reason(guard, engine, shell, stage).await? else {
            return Ok(());
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
            _ => return Err(HostFailure::new(stage, ErrorClass::Busy, reason)),
        }
    }
}
