//! The fleet: every selected host runs through connect, host key, auth, tunnel and engine
//! negotiation, then the command's job, with bounded concurrency (`--forks`), a per-host timeout
//! and cancellation. Each host's task returns its outcome; one host's failure never stops another.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use russh::Disconnect;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::engine::{Engine, EngineError};
use crate::host::{Host, Refusal};
use crate::inventory::ssh_args::StrictHostKeyChecking;
use crate::outcome::{ConnectionInfo, HostFailure, HostOutcome, Stage};
use crate::progress::Progress;
use crate::transport::known_hosts::KnownHosts;
use crate::transport::ssh::{self, HostKeyChecking, SshError, SshSettings, SshTarget};
use crate::transport::tunnel;

/// What a command does on a host once its engine is reachable.
pub trait HostJob: Send + Sync + 'static {
    /// What the job records; kept as far as it got when the job fails or is cut short.
    type Output: Default + Send + 'static;
    /// The stage a timeout or interruption during the job is reported in.
    const STAGE: Stage;

    fn run(
        &self,
        host: &Host,
        engine: &Engine,
        output: &mut Self::Output,
    ) -> impl Future<Output = Result<(), HostFailure>> + Send;
}

/// `fleetprune ping`: reaching the engine is the whole job.
pub struct ReachOnly;

impl HostJob for ReachOnly {
    type Output = ();
    const STAGE: Stage = Stage::Engine;

    async fn run(&self, _: &Host, _: &Engine, _: &mut ()) -> Result<(), HostFailure> {
        Ok(())
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
    /// The known_hosts files hosts name with `UserKnownHostsFile`, loaded once each.
    pub host_known_hosts: HashMap<PathBuf, Arc<KnownHosts>>,
}

impl FleetOptions {
    /// The ssh settings for one host: its `StrictHostKeyChecking`, `UserKnownHostsFile` and
    /// `ConnectTimeout` where the command line did not set them.
    fn ssh_for(&self, host: &Host) -> SshSettings {
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
        if let Some(file) = host
            .known_hosts
            .as_ref()
            .and_then(|path| self.host_known_hosts.get(path))
        {
            ssh.known_hosts = Arc::clone(file);
        }
        if let Some(timeout) = host.connect_timeout {
            ssh.connect_timeout = timeout.min(self.timeout);
        }
        ssh
    }
}

/// Runs `job` on every host and returns the outcomes in the order of `hosts`.
pub async fn run_fleet<J: HostJob>(
    hosts: Vec<Host>,
    job: Arc<J>,
    options: Arc<FleetOptions>,
    cancel: CancellationToken,
    progress: Progress,
) -> Vec<HostOutcome<J::Output>> {
    let identities: Vec<(String, String)> = hosts
        .iter()
        .map(|h| (h.name.clone(), h.endpoint()))
        .collect();
    let mut outcomes: Vec<Option<HostOutcome<J::Output>>> = hosts.iter().map(|_| None).collect();
    let mut finished = futures::stream::iter(hosts.into_iter().enumerate())
        .map(|(index, host)| {
            let job = Arc::clone(&job);
            let options = Arc::clone(&options);
            let cancel = cancel.clone();
            progress.host_started();
            let span = tracing::info_span!("host", name = %host.name);
            let task = tokio::spawn(
                async move { run_host(host, job.as_ref(), &options, cancel).await }
                    .instrument(span),
            );
            async move { (index, task.await) }
        })
        .buffer_unordered(options.forks.get());
    while let Some((index, joined)) = finished.next().await {
        let outcome = joined.unwrap_or_else(|panic| {
            let (name, address) = identities[index].clone();
            HostOutcome {
                name,
                address,
                host_key: None,
                connection: None,
                payload: J::Output::default(),
                failure: Some(HostFailure::new(
                    J::STAGE,
                    format!("internal error: {panic}"),
                )),
                duration: Duration::ZERO,
            }
        });
        progress.host_finished(&outcome.name, outcome.succeeded());
        outcomes[index] = Some(outcome);
    }
    progress.finish();
    outcomes.into_iter().flatten().collect()
}

enum End {
    Done(Result<(), HostFailure>),
    TimedOut,
    Interrupted,
}

async fn run_host<J: HostJob>(
    host: Host,
    job: &J,
    options: &FleetOptions,
    cancel: CancellationToken,
) -> HostOutcome<J::Output> {
    let started = Instant::now();
    let mut outcome = HostOutcome {
        name: host.name.clone(),
        address: host.endpoint(),
        host_key: None,
        connection: None,
        payload: J::Output::default(),
        failure: None,
        duration: Duration::ZERO,
    };
    if let Some(refusal) = &host.refused {
        let stage = match refusal {
            Refusal::Connection { .. } => Stage::Plan,
            Refusal::SshOption { .. } => Stage::Connect,
        };
        outcome.failure = Some(HostFailure::new(stage, refusal));
        tracing::info!(stage = %stage, "{refusal}");
        return outcome;
    }
    let mut stage = Stage::Connect;
    let end = {
        let work = reach_and_run(&host, job, options, &mut outcome, &mut stage);
        tokio::select! {
            biased;
            () = cancel.cancelled() => End::Interrupted,
            result = tokio::time::timeout(options.timeout, work) => match result {
                Ok(result) => End::Done(result),
                Err(_) => End::TimedOut,
            },
        }
    };
    outcome.failure = match end {
        End::Done(result) => result.err(),
        End::TimedOut => Some(HostFailure::new(
            stage,
            format!("timed out after {}s", options.timeout.as_secs()),
        )),
        End::Interrupted => Some(HostFailure::new(stage, "interrupted")),
    };
    outcome.duration = started.elapsed();
    if let Some(failure) = &outcome.failure {
        // The report shows every failure; the log line is for -vv.
        tracing::info!(stage = %failure.stage, "{}", failure.message);
    }
    outcome
}

async fn reach_and_run<J: HostJob>(
    host: &Host,
    job: &J,
    options: &FleetOptions,
    outcome: &mut HostOutcome<J::Output>,
    stage: &mut Stage,
) -> Result<(), HostFailure> {
    let target = SshTarget {
        address: host.address.clone(),
        port: host.port,
        user: host.user.clone(),
        identity: host.identity.clone(),
    };
    let session = ssh::connect(&target, &options.ssh_for(host))
        .await
        .map_err(|error| match error {
            SshError::Connect { .. } | SshError::Protocol(_) => {
                HostFailure::new(Stage::Connect, error)
            }
            SshError::HostKey(_) => HostFailure::new(Stage::HostKey, error),
            SshError::Auth(_) => HostFailure::new(Stage::Auth, error),
        })?;
    outcome.host_key = Some(session.host_key.clone());

    *stage = Stage::Tunnel;
    let tunnel = tunnel::open(&session.handle, &host.docker_socket)
        .await
        .map_err(|e| HostFailure::new(Stage::Tunnel, e))?;

    *stage = Stage::Engine;
    let engine = Engine::connect(tunnel).await.map_err(|error| match error {
        // The exec fallback ran but could not reach the socket: a tunnel problem.
        EngineError::RemoteCommand(_) => HostFailure::new(Stage::Tunnel, error),
        _ => HostFailure::new(Stage::Engine, error),
    })?;
    outcome.connection = Some(ConnectionInfo {
        transport: engine.transport,
        engine_version: engine.engine_version.clone(),
        api_version: engine.api_version,
    });
    tracing::debug!(
        transport = %engine.transport,
        engine = %engine.engine_version,
        api = %engine.api_version,
        "engine reached"
    );

    *stage = J::STAGE;
    let result = job.run(host, &engine, &mut outcome.payload).await;
    drop(engine);
    let _ = session
        .handle
        .disconnect(Disconnect::ByApplication, "", "en")
        .await;
    result
}
