//! The fleet: every selected host runs through connect, host key, auth, tunnel and engine
//! negotiation, then the command's job, with bounded concurrency (`--forks`), optional batches
//! (`--serial`, the first a canary), a failure budget (`--max-fail-percentage`), retries of
//! transient connect failures (`--retries`), a per-host timeout and graceful cancellation.
//!
//! Each host's task returns its outcome; one host's failure never stops another, and a stop
//! (Ctrl-C, SIGTERM, a spent failure budget) starts no new host: those are reported `cancelled`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use russh::Disconnect;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::engine::Engine;
use crate::host::{Host, Refusal};
use crate::inventory::ssh_args::StrictHostKeyChecking;
use crate::outcome::{
    Classify, ConnectionInfo, ErrorClass, FleetRun, HostFailure, HostOutcome, SafetyReport, Stage,
};
use crate::progress::{LiveFacts, Progress};
use crate::route::Route;
use crate::transport::known_hosts::{DEFAULT_GLOBAL_KNOWN_HOSTS, KnownHosts, KnownHostsFiles};
use crate::transport::shell::HostShell;
use crate::transport::ssh::{
    self, HostKeyCheck, HostKeyChecking, SshSession, SshSettings, SshTarget, Via,
};
use crate::transport::tunnel;

/// What a command does on a host once its engine is reachable.
pub trait HostJob: Send + Sync + 'static {
    /// What the job records; kept as far as it got when the job fails or is cut short.
    type Output: Default + Send + 'static;
    /// The stage a timeout or interruption during the job is reported in.
    const STAGE: Stage;

    /// Runs the job; `stop` is checked between steps, never by dropping a call in flight.
    /// `shell` runs commands on the host (jobs that need what the Engine API does not say).
    fn run(
        &self,
        host: &Host,
        engine: &Engine,
        shell: &HostShell<'_>,
        output: &mut Self::Output,
        stop: &CancellationToken,
    ) -> impl Future<Output = Result<(), HostFailure>> + Send;

    /// The request sent whose answer has not come, if any: cutting the host now leaves its
    /// outcome unknown.
    fn in_flight(_output: &Self::Output) -> Option<String> {
        None
    }

    /// Refuses a host whose SSH host key (`SHA256:...` fingerprint, as checked) is not the one
    /// the job expects, before its engine is reached (`apply` of a saved plan).
    fn check_host_key(&self, _host: &Host, _fingerprint: &str) -> Result<(), HostFailure> {
        Ok(())
    }
}

/// `fleetprune ping`: reaching the engine is the whole job.
pub struct ReachOnly;

impl HostJob for ReachOnly {
    type Output = ();
    const STAGE: Stage = Stage::Engine;

    async fn run(
        &self,
        _: &Host,
        _: &Engine,
        _: &HostShell<'_>,
        _: &mut (),
        _: &CancellationToken,
    ) -> Result<(), HostFailure> {
        Ok(())
    }
}

/// `--serial`: how many hosts run per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    Hosts(NonZeroUsize),
    /// 1..=100 percent of the selected hosts, at least one.
    Percent(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --serial {0:?}: expected a host count (5) or a percentage (25%)")]
pub struct SerialError(String);

impl FromStr for Serial {
    type Err = SerialError;

    fn from_str(text: &str) -> Result<Serial, SerialError> {
        let error = || SerialError(text.to_string());
        match text.trim().strip_suffix('%') {
            Some(percent) => match percent.parse::<u8>() {
                Ok(p @ 1..=100) => Ok(Serial::Percent(p)),
                _ => Err(error()),
            },
            None => text.trim().parse().map(Serial::Hosts).map_err(|_| error()),
        }
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serial::Hosts(n) => write!(f, "{n}"),
            Serial::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Serial {
    /// Hosts per batch out of `total` (a percentage rounds down, as Ansible does, but to at
    /// least one host).
    pub fn batch_size(self, total: usize) -> usize {
        match self {
            Serial::Hosts(n) => n.get(),
            Serial::Percent(p) => (total.saturating_mul(usize::from(p)) / 100).max(1),
        }
    }
}

/// Settings for a fleet run.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub forks: NonZeroUsize,
    /// For each host, from the first connection attempt to the end of its job.
    pub timeout: Duration,
    /// The fleet's ssh settings; adjusted per host by its own ssh options.
    pub ssh: SshSettings,
    /// `--host-key-checking` was given: it wins over a host's `StrictHostKeyChecking`.
    pub host_key_checking_fixed: bool,
    /// `--known-hosts` was given: it wins over a host's `UserKnownHostsFile`.
    pub known_hosts_fixed: bool,
    /// The user known_hosts files of hosts that name none.
    pub user_known_hosts: Vec<PathBuf>,
    /// Every known_hosts file a host is checked against, loaded once each.
    pub known_hosts_files: HashMap<PathBuf, Arc<KnownHosts>>,
    /// Extra attempts for transient connect failures (refused, connect timeout).
    pub retries: u32,
    /// Handshakes (connect, key exchange, authentication) allowed at once (`--handshakes`),
    /// whatever `--forks`: thousands of simultaneous key exchanges starve each other past their
    /// connect timeouts.
    pub handshakes: Arc<tokio::sync::Semaphore>,
    pub serial: Option<Serial>,
    /// Stop starting hosts once more than this percentage of the selected hosts failed.
    pub max_fail_percentage: Option<u8>,
    /// After a stop request, how long calls in flight may still finish.
    pub grace: Duration,
}

impl FleetOptions {
    /// The ssh settings for one host: its `StrictHostKeyChecking`, `UserKnownHostsFile` and
    /// `ConnectTimeout` where the command line did not set them, its `GlobalKnownHostsFile` and
    /// `HashKnownHosts`.
    pub(crate) fn ssh_for(&self, host: &Host) -> SshSettings {
        let mut ssh = self.ssh.clone();
        if !self.host_key_checking_fixed
            && let Some(mode) = host.host_key_checking
        {
            ssh.checking = match mode {
                StrictHostKeyChecking::Yes => HostKeyChecking::Strict,
                // `no` is applied as accept-new: fleetprune never silently accepts a changed key.
                StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => {
                    HostKeyChecking::AcceptNew
                }
            };
        }
        let user = if self.known_hosts_fixed || host.known_hosts.is_empty() {
            &self.user_known_hosts
        } else {
            &host.known_hosts
        };
        let default_global = DEFAULT_GLOBAL_KNOWN_HOSTS.map(PathBuf::from);
        let global = host
            .global_known_hosts
            .as_deref()
            .unwrap_or(&default_global);
        let loaded = |paths: &[PathBuf]| {
            paths
                .iter()
                .filter_map(|path| self.known_hosts_files.get(path).cloned())
                .collect()
        };
        ssh.known_hosts = KnownHostsFiles::new(loaded(user), loaded(global), host.hash_known_hosts);
        if let Some(agent) = &host.identity_agent {
            ssh.agent_socket = agent.clone();
        }
        if let Some(timeout) = host.connect_timeout {
            ssh.connect_timeout = timeout.min(self.timeout);
        }
        ssh
    }
}

/// The first pause between connect attempts; doubled each time, with jitter.
const FIRST_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Runs `job` on every host and returns the outcomes in the order of `hosts`.
pub async fn run_fleet<J: HostJob>(
    hosts: Vec<Host>,
    job: Arc<J>,
    options: Arc<FleetOptions>,
    cancel: CancellationToken,
    progress: Progress<J::Output>,
) -> FleetRun<J::Output>
where
    J::Output: LiveFacts,
{
    let total = hosts.len();
    let batch_size = options
        .serial
        .map_or(total, |serial| serial.batch_size(total))
        .max(1);
    let mut safety = SafetyReport {
        serial: options.serial.map(|s| s.to_string()),
        batches: Vec::new(),
        max_fail_percentage: options.max_fail_percentage,
        retries: options.retries,
        stopped: None,
    };
    let failed = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<HostOutcome<J::Output>>> = (0..total).map(|_| None).collect();
    let stop_reason = || {
        if cancel.is_cancelled() {
            return Some("interrupted (Ctrl-C or SIGTERM)".to_string());
        }
        let failed = failed.load(Ordering::SeqCst);
        options
            .max_fail_percentage
            .filter(|p| failed.saturating_mul(100) > usize::from(*p).saturating_mul(total))
            .map(|p| {
                format!("--max-fail-percentage {p} exceeded: {failed} of {total} hosts failed")
            })
    };
    let mut pending = hosts.into_iter().enumerate().peekable();
    while pending.peek().is_some() {
        if let Some(reason) = stop_reason() {
            for (index, host) in pending.by_ref() {
                outcomes[index] = Some(cancelled(&host, &reason));
            }
            safety.stopped.get_or_insert(reason);
            break;
        }
        let batch: Vec<(usize, Host)> = pending.by_ref().take(batch_size).collect();
        safety.batches.push(batch.len());
        let first_batch = safety.batches.len() == 1;
        let mut finished = futures::stream::iter(batch)
            .map(|(index, host)| {
                let reason = stop_reason();
                let job = Arc::clone(&job);
                let options = Arc::clone(&options);
                let cancel = cancel.clone();
                let progress = &progress;
                async move {
                    if let Some(reason) = reason {
                        return (index, cancelled(&host, &reason), Some(reason));
                    }
                    progress.host_started(&host.name);
                    let span = tracing::info_span!("host", name = %host.name.escape_debug());
                    let (name, address) = (host.name.clone(), host.endpoint());
                    let stages = progress.clone();
                    let task = tokio::spawn(
                        async move { run_host(host, job.as_ref(), &options, cancel, stages).await }
                            .instrument(span),
                    );
                    let outcome = task.await.unwrap_or_else(|panic| HostOutcome {
                        name,
                        address,
                        host_key: None,
                        connection: None,
                        payload: J::Output::default(),
                        failure: Some(HostFailure::new(
                            J::STAGE,
                            ErrorClass::OutcomeUnknown,
                            format!("internal error: {panic}"),
                        )),
                        duration: Duration::ZERO,
                        attempts: 0,
                    });
                    progress.host_finished(index, &outcome);
                    (index, outcome, None)
                }
            })
            .buffer_unordered(options.forks.get());
        let mut batch_failed = 0;
        while let Some((index, outcome, stopped)) = finished.next().await {
            if stopped.is_some() && safety.stopped.is_none() {
                safety.stopped = stopped;
            }
            if !outcome.succeeded() {
                batch_failed += 1;
                failed.fetch_add(1, Ordering::SeqCst);
            }
            outcomes[index] = Some(outcome);
        }
        drop(finished);
        if first_batch && batch_failed > 0 && options.serial.is_some() && safety.stopped.is_none() {
            let reason = format!(
                "the first batch (the canary) had {batch_failed} failed host(s); later batches were not started"
            );
            for (index, host) in pending.by_ref() {
                outcomes[index] = Some(cancelled(&host, &reason));
            }
            safety.stopped = Some(reason);
        }
    }
    progress.finish();
    FleetRun {
        outcomes: outcomes.into_iter().flatten().collect(),
        safety,
    }
}

/// The outcome of a host that was never started.
fn cancelled<T: Default>(host: &Host, reason: &str) -> HostOutcome<T> {
    HostOutcome {
        name: host.name.clone(),
        address: host.endpoint(),
        host_key: None,
        connection: None,
        payload: T::default(),
        failure: Some(HostFailure::new(
            Stage::Queued,
            ErrorClass::Cancelled,
            format!("not started: {reason}"),
        )),
        duration: Duration::ZERO,
        attempts: 0,
    }
}

/// How a host's work ended.
enum End {
    Done(Result<(), HostFailure>),
    TimedOut,
    /// Stopped before the job started.
    Interrupted,
    /// Stopped, and still busy when the grace period ran out.
    Cut,
}

async fn run_host<J: HostJob>(
    host: Host,
    job: &J,
    options: &FleetOptions,
    cancel: CancellationToken,
    progress: Progress<J::Output>,
) -> HostOutcome<J::Output>
where
    J::Output: LiveFacts,
{
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut outcome = HostOutcome {
        name: host.name.clone(),
        address: host.endpoint(),
        host_key: None,
        connection: None,
        payload: J::Output::default(),
        failure: None,
        duration: Duration::ZERO,
        attempts: 0,
    };
    if let Some(refusal) = &host.refused {
        let (stage, class) = match refusal {
            Refusal::Connection { .. } => (Stage::Plan, ErrorClass::Skipped),
            Refusal::SshOption { .. } | Refusal::Route { .. } | Refusal::Algorithms { .. } => {
                (Stage::Connect, ErrorClass::UnsupportedOption)
            }
        };
        outcome.failure = Some(HostFailure::new(stage, class, refusal.to_string()));
        tracing::info!(stage = %stage, "{refusal}");
        return outcome;
    }
    let mut stage = Stage::Connect;
    let job_started = AtomicBool::new(false);
    let end = {
        let work = reach_and_run(
            &host,
            job,
            options,
            (&mut outcome, &mut stage, &job_started),
            &cancel,
            &progress,
        );
        tokio::pin!(work);
        tokio::select! {
            biased;
            result = &mut work => End::Done(result),
            () = tokio::time::sleep_until(deadline) => End::TimedOut,
            () = cancel.cancelled() => {
                if job_started.load(Ordering::SeqCst) {
                    // The job stops by itself between steps; a call in flight gets the grace
                    // period.
                    let grace_end = (tokio::time::Instant::now() + options.grace).min(deadline);
                    match tokio::time::timeout_at(grace_end, &mut work).await {
                        Ok(result) => End::Done(result),
                        Err(_) => End::Cut,
                    }
                } else {
                    // Still connecting: nothing that deletes has been sent, so stop now.
                    End::Interrupted
                }
            }
        }
    };
    let failure = match end {
        End::Done(result) => result.err(),
        End::TimedOut => Some(HostFailure::new(
            stage,
            ErrorClass::Timeout,
            format!("timed out after {}s", options.timeout.as_secs()),
        )),
        End::Interrupted => Some(HostFailure::new(
            stage,
            ErrorClass::Interrupted,
            "interrupted",
        )),
        End::Cut => Some(HostFailure::new(
            stage,
            ErrorClass::Interrupted,
            format!(
                "interrupted; still busy after the {}s grace period",
                options.grace.as_secs()
            ),
        )),
    };
    outcome.failure = failure.map(|failure| match J::in_flight(&outcome.payload) {
        Some(request) => unknown_outcome(failure, &request),
        None => failure,
    });
    outcome.duration = started.elapsed();
    if let Some(failure) = &outcome.failure {
        // The report shows every failure; the log line is for -vv, escaped so that remote text
        // cannot forge log lines.
        tracing::info!(
            stage = %failure.stage,
            class = %failure.class,
            "{}",
            failure.message.escape_debug()
        );
    }
    outcome
}

/// A failure while a request that may delete was in flight: its outcome is unknown.
fn unknown_outcome(failure: HostFailure, request: &str) -> HostFailure {
    let class = match failure.class {
        // The answer came but was refused for its size: the request did run.
        ErrorClass::ResponseTooLarge => ErrorClass::ResponseTooLarge,
        _ => ErrorClass::OutcomeUnknown,
    };
    HostFailure::new(
        failure.stage,
        class,
        format!(
            "outcome unknown: {request} was sent and no usable answer came, so the daemon may have deleted objects ({})",
            failure.message
        ),
    )
}

/// Where and how to log in to `host`, for the transport.
pub(crate) fn ssh_target(host: &Host) -> SshTarget {
    let via = match &host.route {
        Route::Direct => Via::Direct,
        Route::Command { command } => Via::Command(command.clone()),
        Route::Jump { hops } => Via::Jump(
            hops.iter()
                .map(|hop| {
                    SshTarget::new(
                        hop.address.clone(),
                        hop.port,
                        hop.user.clone(),
                        hop.identity.clone(),
                    )
                })
                .collect(),
        ),
    };
    let mut target = SshTarget::new(
        host.address.clone(),
        host.port,
        host.user.clone(),
        host.identity.clone(),
    );
    target.identities_only = host.identities_only;
    target.host_key_alias = host.host_key_alias.clone();
    target.algorithms = host.algorithms.clone();
    let (interval, count) = host.server_alive;
    if let Some(seconds) = interval {
        // `ServerAliveInterval 0`, OpenSSH's default, sends none.
        target.keepalive.0 = (seconds > 0).then(|| Duration::from_secs(seconds));
    }
    if let Some(count) = count {
        target.keepalive.1 = count as usize;
    }
    target.via = via;
    target
}

/// An SSH session, retrying transient failures with jittered, doubling pauses.
async fn connect_with_retries(
    host: &Host,
    target: &SshTarget,
    options: &FleetOptions,
    attempts: &mut u32,
    stop: &CancellationToken,
) -> Result<SshSession, HostFailure> {
    let mut pause = FIRST_RETRY_PAUSE;
    loop {
        // Waiting for a turn is not part of the connect timeout (only of the host's --timeout).
        let turn = tokio::select! {
            turn = options.handshakes.acquire() => turn.ok(),
            () = stop.cancelled() => return Err(stopped_before(Stage::Connect)),
        };
        *attempts += 1;
        let connected = ssh::connect(target, &options.ssh_for(host)).await;
        drop(turn);
        match connected {
            Ok(session) => return Ok(session),
            Err(error) if error.is_transient() && *attempts <= options.retries => {
                let wait = jitter(pause);
                tracing::info!(
                    "attempt {attempts} failed ({}); retrying in {}ms",
                    error.class(),
                    wait.as_millis()
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => {
                        return Err(HostFailure::from_error(error.stage(), &error));
                    }
                }
                pause = pause.saturating_mul(2);
            }
            Err(error) => {
                let mut failure = HostFailure::from_error(error.stage(), &error);
                if *attempts > 1 {
                    failure.message = format!("{} (after {attempts} attempts)", failure.message);
                }
                return Err(failure);
            }
        }
    }
}

/// `pause` scaled by a random factor in [0.5, 1.5), so hosts that failed together do not retry
/// in lockstep.
fn jitter(pause: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // std's hasher keys are random per process and per instance: enough for jitter.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    let fraction = (hasher.finish() % 1000) as f64 / 1000.0;
    pause.mul_f64(0.5 + fraction)
}

/// The failure when a stop request is seen between steps.
fn stopped_before(stage: Stage) -> HostFailure {
    HostFailure::new(
        stage,
        ErrorClass::Interrupted,
        format!("interrupted before the {stage} step"),
    )
}

async fn reach_and_run<J: HostJob>(
    host: &Host,
    job: &J,
    options: &FleetOptions,
    (outcome, stage, job_started): (&mut HostOutcome<J::Output>, &mut Stage, &AtomicBool),
    stop: &CancellationToken,
    progress: &Progress<J::Output>,
) -> Result<(), HostFailure>
where
    J::Output: LiveFacts,
{
    let target = ssh_target(host);
    let session = connect_with_retries(host, &target, options, &mut outcome.attempts, stop).await?;
    outcome.host_key = Some(session.host_key.clone());
    let (HostKeyCheck::Verified { fingerprint }
    | HostKeyCheck::Added { fingerprint }
    | HostKeyCheck::Unchecked { fingerprint }
    | HostKeyCheck::Certified { fingerprint, .. }) = &session.host_key;
    job.check_host_key(host, fingerprint)?;

    let result = async {
        *stage = Stage::Tunnel;
        progress.host_stage(&host.name, *stage);
        if stop.is_cancelled() {
            return Err(stopped_before(*stage));
        }
        let tunnel = tunnel::open(&session.handle, &host.docker_socket)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Tunnel, &e))?;

        *stage = Stage::Engine;
        progress.host_stage(&host.name, *stage);
        let engine = Engine::connect(tunnel).await.map_err(|error| {
            // The exec fallback ran but could not reach the socket: a tunnel problem.
            let stage = match error {
                crate::engine::EngineError::RemoteCommand(_) => Stage::Tunnel,
                _ => Stage::Engine,
            };
            HostFailure::from_error(stage, &error)
        })?;
        outcome.connection = Some(ConnectionInfo {
            transport: engine.transport,
            engine_version: engine.engine_version.clone(),
            engine: engine.kind,
            api_version: engine.api_version,
        });
        tracing::debug!(
            transport = %engine.transport,
            engine = %engine.engine_version.escape_debug(),
            api = %engine.api_version,
            "engine reached"
        );

        *stage = J::STAGE;
        progress.host_stage(&host.name, *stage);
        if stop.is_cancelled() {
            return Err(stopped_before(*stage));
        }
        job_started.store(true, Ordering::SeqCst);
        let shell = HostShell::new(&session.handle);
        job.run(host, &engine, &shell, &mut outcome.payload, stop)
            .await
    }
    .await;
    let _ = session
        .handle
        .disconnect(Disconnect::ByApplication, "", "en")
        .await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_takes_a_count_or_a_percentage() {
        assert_eq!("3".parse::<Serial>().unwrap().batch_size(10), 3);
        assert_eq!("25%".parse::<Serial>().unwrap().batch_size(10), 2);
        // A percentage smaller than one host still runs one host per batch.
        assert_eq!("1%".parse::<Serial>().unwrap().batch_size(10), 1);
        for bad in ["0", "0%", "101%", "-1", "x", "%"] {
            assert!(bad.parse::<Serial>().is_err(), "{bad}");
        }
    }

    #[test]
    fn jitter_stays_within_half_and_one_and_a_half() {
        for _ in 0..100 {
            let wait = jitter(Duration::from_secs(2));
            assert!(wait >= Duration::from_secs(1) && wait < Duration::from_secs(3));
        }
    }

    #[test]
    fn failure_with_a_request_in_flight_becomes_outcome_unknown() {
        let failure = HostFailure::new(Stage::Prune, ErrorClass::Timeout, "timed out after 5s");
        let unknown = unknown_outcome(failure, "the images prune request");
        assert_eq!(unknown.class, ErrorClass::OutcomeUnknown);
        assert!(
            unknown.message.contains("may have deleted"),
            "{}",
            unknown.message
        );
    }
}
