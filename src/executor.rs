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
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use russh::Disconnect;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::engine::Engine;
use crate::host::{Host, Refusal};
use crate::model::connection::HostKeyCheck;
use crate::model::failure::{ErrorClass, HostFailure, Stage};
use crate::openssh::args::StrictHostKeyChecking;
use crate::openssh::route::Route;
use crate::outcome::{ConnectionInfo, HostOutcome, SafetyReport};
use crate::transport::known_hosts::{DEFAULT_GLOBAL_KNOWN_HOSTS, KnownHosts, KnownHostsFiles};
use crate::transport::shell::HostShell;
use crate::transport::ssh::{self, HostKeyChecking, SshSession, SshSettings, SshTarget, Via};
use crate::transport::tunnel::{self, Tunnel};

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

/// What the executor tells whoever watches the run (the live display, NDJSON streamed as hosts
/// finish): it knows no screen, only these events.
pub trait FleetEvents<T>: Clone + Send + Sync + 'static {
    fn host_started(&self, name: &str);
    fn host_stage(&self, name: &str, stage: Stage);
    /// `index` is the host's place in the run's host list.
    fn host_finished(&self, index: usize, outcome: &HostOutcome<T>);
    /// Every host has an outcome.
    fn finished(&self);
}

/// How the executor reaches a host: a session (with what happened to its host key), a stream to
/// the engine socket through it, and the host's shell. [`SshConnector`] logs in over SSH; the
/// executor's tests connect in-memory hosts. One call is one attempt: retries, handshake turns,
/// timeouts and cancellation stay the executor's.
pub trait Connector: Send + Sync + 'static {
    type Session: Send + Sync;

    /// One attempt to open a session with `host`.
    fn connect(
        &self,
        host: &Host,
        options: &FleetOptions,
    ) -> impl Future<Output = Result<Reached<Self::Session>, ConnectFailure>> + Send;

    /// A stream to the host's engine socket through `session`.
    fn tunnel(
        &self,
        session: &Self::Session,
        host: &Host,
    ) -> impl Future<Output = Result<Tunnel, HostFailure>> + Send;

    /// The host's shell through `session`.
    fn shell<'a>(&self, session: &'a Self::Session) -> HostShell<'a>;

    /// Ends `session`; best effort.
    fn disconnect(&self, session: Self::Session) -> impl Future<Output = ()> + Send;
}

/// A session opened by a [`Connector`], with its host key verdict.
pub struct Reached<S> {
    pub session: S,
    pub host_key: HostKeyCheck,
}

/// A failed connection attempt: the failure, and whether another attempt may succeed (refused,
/// connect timeout).
#[derive(Debug)]
pub struct ConnectFailure {
    pub failure: HostFailure,
    pub transient: bool,
}

/// Hosts reached over SSH (directly, through jump hosts or a proxy command), the engine through a
/// stream-local channel or `docker system dial-stdio`.
pub struct SshConnector;

impl Connector for SshConnector {
    type Session = SshSession;

    async fn connect(
        &self,
        host: &Host,
        options: &FleetOptions,
    ) -> Result<Reached<SshSession>, ConnectFailure> {
        match ssh::connect(&ssh_target(host), &options.ssh_for(host)).await {
            Ok(session) => Ok(Reached {
                host_key: session.host_key.clone(),
                session,
            }),
            Err(error) => Err(ConnectFailure {
                failure: HostFailure::from_error(error.stage(), &error),
                transient: error.is_transient(),
            }),
        }
    }

    /// With `docker_socket: auto`, the first engine socket found on the host.
    async fn tunnel(&self, session: &SshSession, host: &Host) -> Result<Tunnel, HostFailure> {
        let found_socket = if host.docker_socket == crate::inventory::vars::AUTO_SOCKET {
            let found = HostShell::new(&session.handle)
                .find_engine_socket()
                .await
                .map_err(|e| HostFailure::from_error(Stage::Tunnel, &e))?;
            tracing::info!("docker_socket auto: using {}", found.escape_debug());
            Some(found)
        } else {
            None
        };
        let socket = found_socket.as_deref().unwrap_or(&host.docker_socket);
        let mut tunnel = tunnel::open(&session.handle, socket)
            .await
            .map_err(|e| HostFailure::from_error(Stage::Tunnel, &e))?;
        tunnel.found_socket = found_socket;
        Ok(tunnel)
    }

    fn shell<'a>(&self, session: &'a SshSession) -> HostShell<'a> {
        HostShell::new(&session.handle)
    }

    async fn disconnect(&self, session: SshSession) {
        let _ = session
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
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
    /// A second stop request: every host is cut at once, whatever the grace period, and
    /// reported from what its job recorded.
    pub hard_stop: CancellationToken,
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

/// Runs `job` on every host reached through `connector`, hands each host's outcome to
/// `finished` with the host's index in `hosts` as soon as it is known (hosts never started
/// included), and returns the run's safety facts. Nothing of a finished host is kept here.
pub async fn run_fleet<J: HostJob, C: Connector>(
    connector: Arc<C>,
    hosts: Vec<Host>,
    job: Arc<J>,
    options: Arc<FleetOptions>,
    cancel: CancellationToken,
    progress: impl FleetEvents<J::Output>,
    mut finished_host: impl FnMut(usize, HostOutcome<J::Output>),
) -> SafetyReport {
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
    // Started in order, one batch at a time, taken from `hosts` as they start: a finished host's
    // memory goes back when it finishes.
    let mut pending = hosts.into_iter().enumerate().peekable();
    while pending.peek().is_some() {
        if let Some(reason) = stop_reason() {
            for (index, host) in pending.by_ref() {
                finished_host(index, cancelled(&host, &reason));
            }
            safety.stopped.get_or_insert(reason);
            break;
        }
        let batch = pending.by_ref().take(batch_size);
        safety.batches.push(batch.len());
        let first_batch = safety.batches.len() == 1;
        let mut finished = futures::stream::iter(batch)
            .map(|(index, host)| {
                let reason = stop_reason();
                let job = Arc::clone(&job);
                let connector = Arc::clone(&connector);
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
                        async move {
                            let job = job.as_ref();
                            run_host(connector.as_ref(), host, job, &options, cancel, stages).await
                        }
                        .instrument(span),
                    );
                    // A panic in the job is caught in `run_host`, which still knows what was
                    // sent; this is for its own code around the job.
                    let outcome = task.await.unwrap_or_else(|panic| HostOutcome {
                        name,
                        address,
                        host_key: None,
                        connection: None,
                        payload: J::Output::default(),
                        failure: Some(HostFailure::new(
                            J::STAGE,
                            ErrorClass::Internal,
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
            finished_host(index, outcome);
        }
        drop(finished);
        if first_batch && batch_failed > 0 && options.serial.is_some() && safety.stopped.is_none() {
            let reason = format!(
                "the first batch (the canary) had {batch_failed} failed host(s); later batches were not started"
            );
            for (index, host) in pending.by_ref() {
                finished_host(index, cancelled(&host, &reason));
            }
            safety.stopped = Some(reason);
        }
    }
    progress.finished();
    safety
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
    /// Cut at once by a second stop request.
    HardStopped,
    /// A bug in fleetprune: the job panicked.
    Panicked(String),
}

impl End {
    /// How the work ended when it ran to its end or panicked.
    fn of(result: std::thread::Result<Result<(), HostFailure>>) -> End {
        match result {
            Ok(result) => End::Done(result),
            Err(panic) => End::Panicked(
                panic
                    .downcast_ref::<&str>()
                    .map(|text| text.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string()),
            ),
        }
    }
}

/// The longest wait a deadline is set for: longer ones (a `--timeout` or `--grace` of years)
/// are cut to it, so that no deadline overflows the clock.
const LONGEST_WAIT: Duration = Duration::from_secs(i32::MAX as u64);

/// `now + wait`, never overflowing: a wait past [`LONGEST_WAIT`] is cut to it.
fn deadline_after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    // `now` is a monotonic clock's reading since boot: 68 years more cannot overflow it, and if
    // it ever did, the deadline would be now (the host fails with a timeout, never a panic).
    now.checked_add(wait.min(LONGEST_WAIT)).unwrap_or(now)
}

async fn run_host<J: HostJob, C: Connector>(
    connector: &C,
    host: Host,
    job: &J,
    options: &FleetOptions,
    cancel: CancellationToken,
    progress: impl FleetEvents<J::Output>,
) -> HostOutcome<J::Output> {
    let started = Instant::now();
    let deadline = deadline_after(options.timeout);
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
        // A panic in the job is caught here, where the payload still says what was sent.
        let work = AssertUnwindSafe(reach_and_run(
            connector,
            &host,
            job,
            options,
            (&mut outcome, &mut stage, &job_started),
            &cancel,
            &progress,
        ))
        .catch_unwind();
        tokio::pin!(work);
        tokio::select! {
            biased;
            result = &mut work => End::of(result),
            () = options.hard_stop.cancelled() => End::HardStopped,
            () = tokio::time::sleep_until(deadline) => End::TimedOut,
            () = cancel.cancelled() => {
                if job_started.load(Ordering::SeqCst) {
                    // The job stops by itself between steps; a call in flight gets the grace
                    // period, unless a second stop request cuts it.
                    let grace_end = deadline_after(options.grace).min(deadline);
                    tokio::select! {
                        biased;
                        result = &mut work => End::of(result),
                        () = options.hard_stop.cancelled() => End::HardStopped,
                        () = tokio::time::sleep_until(grace_end) => End::Cut,
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
        End::HardStopped => Some(HostFailure::new(
            stage,
            ErrorClass::Interrupted,
            "interrupted; cut at once by a second Ctrl-C or SIGTERM",
        )),
        End::Panicked(message) => Some(HostFailure::new(
            stage,
            ErrorClass::Internal,
            format!("internal error: {message}"),
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

/// A session, retrying transient failures with jittered, doubling pauses.
async fn connect_with_retries<C: Connector>(
    connector: &C,
    host: &Host,
    options: &FleetOptions,
    attempts: &mut u32,
    stop: &CancellationToken,
) -> Result<Reached<C::Session>, HostFailure> {
    let mut pause = FIRST_RETRY_PAUSE;
    loop {
        // Waiting for a turn is not part of the connect timeout (only of the host's --timeout).
        let turn = tokio::select! {
            turn = options.handshakes.acquire() => turn.ok(),
            () = stop.cancelled() => return Err(stopped_before(Stage::Connect)),
        };
        *attempts += 1;
        let connected = connector.connect(host, options).await;
        drop(turn);
        match connected {
            Ok(reached) => return Ok(reached),
            Err(ConnectFailure {
                failure,
                transient: true,
            }) if *attempts <= options.retries => {
                let wait = jitter(pause);
                tracing::info!(
                    "attempt {attempts} failed ({}); retrying in {}ms",
                    failure.class,
                    wait.as_millis()
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => return Err(failure),
                }
                pause = pause.saturating_mul(2);
            }
            Err(ConnectFailure { mut failure, .. }) => {
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

async fn reach_and_run<J: HostJob, C: Connector>(
    connector: &C,
    host: &Host,
    job: &J,
    options: &FleetOptions,
    (outcome, stage, job_started): (&mut HostOutcome<J::Output>, &mut Stage, &AtomicBool),
    stop: &CancellationToken,
    progress: &impl FleetEvents<J::Output>,
) -> Result<(), HostFailure> {
    let Reached { session, host_key } =
        connect_with_retries(connector, host, options, &mut outcome.attempts, stop).await?;
    let (HostKeyCheck::Verified { fingerprint }
    | HostKeyCheck::Added { fingerprint }
    | HostKeyCheck::Unchecked { fingerprint }
    | HostKeyCheck::Certified { fingerprint, .. }) = &host_key;
    let checked = job.check_host_key(host, fingerprint);
    outcome.host_key = Some(host_key);
    if let Err(failure) = checked {
        connector.disconnect(session).await;
        return Err(failure);
    }

    let result = async {
        *stage = Stage::Tunnel;
        progress.host_stage(&host.name, *stage);
        if stop.is_cancelled() {
            return Err(stopped_before(*stage));
        }
        let tunnel = connector.tunnel(&session, host).await?;
        let found_socket = tunnel.found_socket.clone();

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
            found_socket,
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
        let shell = connector.shell(&session);
        job.run(host, &engine, &shell, &mut outcome.payload, stop)
            .await
    }
    .await;
    let result = match result {
        Err(failure) if failure.stage == Stage::Tunnel => Err(tunnel::name_what_is_there(
            &connector.shell(&session),
            &host.docker_socket,
            failure,
        )
        .await),
        other => other,
    };
    connector.disconnect(session).await;
    result
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod in_memory_tests;

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

    #[tokio::test]
    async fn a_deadline_past_the_clock_is_cut_not_a_panic() {
        // `Instant::now() + Duration::MAX` panicked ("overflow when adding duration to instant").
        let now = tokio::time::Instant::now();
        let far = deadline_after(Duration::MAX);
        assert!(far >= now + LONGEST_WAIT);
        assert!(
            deadline_after(Duration::from_secs(5))
                <= tokio::time::Instant::now() + Duration::from_secs(5)
        );
    }

    #[test]
    fn a_panicking_job_is_an_internal_error_with_its_message() {
        let panic = std::panic::catch_unwind(|| -> Result<(), HostFailure> { panic!("boom") });
        assert!(matches!(End::of(panic), End::Panicked(message) if message == "boom"));
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
