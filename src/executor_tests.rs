//! The executor with in-memory hosts and no network: batches and the canary, the failure budget,
//! retries, timeouts and Ctrl-C, and a prune and a plan end to end below SSH against an engine
//! served by hyper on an in-memory stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::*;
use crate::commands::plan::PlanJob;
use crate::commands::prune::PruneJob;
use crate::filter::FilterSet;
use crate::model::connection::TransportKind;
use crate::outcome::FleetRun;
use crate::outcome::reclaim::PruneReport;
use crate::plan::{AllScope, PruneKind, PrunePlan};
use crate::transport::identity::IdentityStore;
use crate::use_log::UseLog;

/// How an in-memory host behaves when the executor reaches for it.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Answers as a Docker 26 engine.
    Up,
    /// Refuses the connection (a transient failure).
    Refused,
    /// Refuses this many attempts, then answers.
    RefusedTimes(u32),
    /// Never answers the connection.
    Hangs,
    /// Answers, but the engine never answers its prune requests.
    SlowPrune,
}

/// A fleet of in-memory hosts, and every request their engines were sent.
struct MemoryFleet {
    behaviour: HashMap<String, Behaviour>,
    attempts: Mutex<HashMap<String, u32>>,
    requests: Arc<Mutex<Vec<String>>>,
    prunes_started: Arc<AtomicU32>,
}

impl MemoryFleet {
    fn new(hosts: &[(&str, Behaviour)]) -> Arc<MemoryFleet> {
        Arc::new(MemoryFleet {
            behaviour: hosts.iter().map(|(n, b)| (n.to_string(), *b)).collect(),
            attempts: Mutex::default(),
            requests: Arc::default(),
            prunes_started: Arc::default(),
        })
    }
}

impl Connector for MemoryFleet {
    type Session = (String, Behaviour);

    async fn connect(
        &self,
        host: &Host,
        _: &FleetOptions,
    ) -> Result<Reached<Self::Session>, ConnectFailure> {
        let behaviour = self.behaviour[&host.name];
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let count = attempts.entry(host.name.clone()).or_default();
            *count += 1;
            *count
        };
        let refused = || ConnectFailure {
            failure: HostFailure::new(Stage::Connect, ErrorClass::ConnectRefused, "refused"),
            transient: true,
        };
        match behaviour {
            Behaviour::Refused => return Err(refused()),
            Behaviour::RefusedTimes(n) if attempt <= n => return Err(refused()),
            Behaviour::Hangs => std::future::pending::<()>().await,
            _ => {}
        }
        Ok(Reached {
            session: (host.name.clone(), behaviour),
            host_key: HostKeyCheck::Verified {
                fingerprint: "SHA256:in-memory".into(),
            },
        })
    }

    async fn tunnel(&self, session: &Self::Session, _: &Host) -> Result<Tunnel, HostFailure> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let requests = Arc::clone(&self.requests);
        let prunes = Arc::clone(&self.prunes_started);
        let slow = matches!(session.1, Behaviour::SlowPrune);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let requests = Arc::clone(&requests);
                let prunes = Arc::clone(&prunes);
                async move {
                    Ok::<_, Infallible>(engine_answer(&request, &requests, &prunes, slow).await)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(server), service)
                .await;
        });
        Ok(Tunnel {
            stream: Box::new(client),
            kind: TransportKind::StreamLocal,
            remote_command: None,
            found_socket: None,
        })
    }

    fn shell<'a>(&self, _: &'a Self::Session) -> HostShell<'a> {
        HostShell::none()
    }

    async fn disconnect(&self, _: Self::Session) {}
}

/// What a Docker 26 engine with one stopped container and one dangling image answers.
async fn engine_answer(
    request: &Request<hyper::body::Incoming>,
    requests: &Mutex<Vec<String>>,
    prunes: &AtomicU32,
    slow: bool,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    requests
        .lock()
        .unwrap()
        .push(format!("{} {}", request.method(), request.uri()));
    let json = |body: serde_json::Value| {
        Response::builder()
            .header("Content-Type", "application/json")
            .header("Api-Version", "1.45")
            .header("Server", "Docker/26.1.5 (linux)")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    if path.ends_with("/prune") {
        prunes.fetch_add(1, Ordering::SeqCst);
        if slow {
            std::future::pending::<()>().await;
        }
    }
    match path.as_str() {
        "/_ping" | "/v1.45/_ping" => json(serde_json::json!("OK")),
        p if p.ends_with("/containers/prune") => json(serde_json::json!({
            "ContainersDeleted": ["c0ffee"], "SpaceReclaimed": 1000
        })),
        p if p.ends_with("/images/prune") => json(serde_json::json!({
            "ImagesDeleted": [{"Deleted": "sha256:dangling"}], "SpaceReclaimed": 5000
        })),
        p if p.ends_with("/info") => json(serde_json::json!({
            "ID": "ENGINE", "SystemTime": "2026-06-01T12:00:00Z", "DockerRootDir": "/var/lib/docker",
            "Driver": "overlay2", "DriverStatus": [], "ServerVersion": "26.1.5"
        })),
        p if p.ends_with("/containers/json") => json(serde_json::json!([{
            "Id": "c0ffee", "Names": ["/old"], "Image": "busybox", "ImageID": "sha256:busybox",
            "Created": 1700000000, "State": "exited", "SizeRw": 1000, "Labels": {}, "Mounts": []
        }])),
        p if p.contains("/containers/c0ffee/json") => json(serde_json::json!({
            "Id": "c0ffee", "Name": "/old", "Image": "sha256:busybox", "Created": "2023-11-14T22:13:20Z",
            "State": {"Status": "exited", "Running": false, "StartedAt": "2023-11-14T22:13:21Z",
                      "FinishedAt": "2023-11-14T22:13:22Z"},
            "Config": {"Image": "busybox", "Labels": {}}, "Mounts": []
        })),
        p if p.ends_with("/images/json") => json(serde_json::json!([])),
        // No image arrived recently: an empty event stream.
        p if p.ends_with("/events") => json(serde_json::json!([])).map(|_| Full::new(Bytes::new())),
        p if p.ends_with("/volumes") => json(serde_json::json!({"Volumes": []})),
        p if p.ends_with("/networks") => json(serde_json::json!([])),
        p if p.ends_with("/system/df") => json(serde_json::json!({
            "LayersSize": 0, "Images": [], "Containers": [], "Volumes": [], "BuildCache": []
        })),
        _ => Response::builder()
            .status(404)
            .body(Full::new(Bytes::from(r#"{"message":"not in this fake"}"#)))
            .unwrap(),
    }
}

fn host(name: &str, kinds: &[PruneKind]) -> Host {
    let plan = PrunePlan::new(
        kinds.iter().copied().collect(),
        AllScope::default(),
        FilterSet::parse::<&str>(&[]).unwrap(),
    )
    .unwrap();
    Host::planned_for_tests(name, plan)
}

fn options() -> FleetOptions {
    FleetOptions {
        forks: NonZeroUsize::new(4).unwrap(),
        timeout: Duration::from_secs(30),
        ssh: SshSettings {
            known_hosts: KnownHostsFiles::default(),
            checking: HostKeyChecking::Strict,
            identities: Arc::new(IdentityStore::load(&[], None)),
            agent_socket: None,
            connect_timeout: Duration::from_secs(5),
            jumps: Arc::default(),
        },
        host_key_checking_fixed: false,
        known_hosts_fixed: false,
        user_known_hosts: Vec::new(),
        known_hosts_files: HashMap::new(),
        retries: 0,
        handshakes: Arc::new(tokio::sync::Semaphore::new(8)),
        serial: None,
        max_fail_percentage: None,
        grace: Duration::from_secs(1),
        hard_stop: CancellationToken::new(),
    }
}

/// Events nobody watches.
#[derive(Clone)]
struct Unwatched;

impl<T> FleetEvents<T> for Unwatched {
    fn host_started(&self, _: &str) {}
    fn host_stage(&self, _: &str, _: Stage) {}
    fn host_finished(&self, _: usize, _: &HostOutcome<T>) {}
    fn finished(&self) {}
}

fn prune_job() -> Arc<PruneJob> {
    Arc::new(PruneJob {
        uses: Arc::new(UseLog::default()),
    })
}

async fn prune(
    fleet: &Arc<MemoryFleet>,
    hosts: Vec<Host>,
    options: FleetOptions,
    cancel: CancellationToken,
) -> FleetRun<PruneReport> {
    whole(
        Arc::clone(fleet),
        hosts,
        prune_job(),
        Arc::new(options),
        cancel,
    )
    .await
}

/// The run with every outcome kept, in the order of `hosts`.
async fn whole<J: HostJob, C: Connector>(
    connector: Arc<C>,
    hosts: Vec<Host>,
    job: Arc<J>,
    options: Arc<FleetOptions>,
    cancel: CancellationToken,
) -> FleetRun<J::Output> {
    let mut outcomes = Vec::new();
    let safety = run_fleet(
        connector,
        hosts,
        job,
        options,
        cancel,
        Unwatched,
        |index, outcome| outcomes.push((index, outcome)),
    )
    .await;
    outcomes.sort_by_key(|(index, _)| *index);
    FleetRun {
        outcomes: outcomes.into_iter().map(|(_, outcome)| outcome).collect(),
        safety,
    }
}

fn classes<T>(run: &FleetRun<T>) -> Vec<Option<ErrorClass>> {
    run.outcomes
        .iter()
        .map(|o| o.failure.as_ref().map(|f| f.class))
        .collect()
}

#[tokio::test]
async fn a_prune_runs_end_to_end_below_ssh_with_the_daemons_answers() {
    let fleet = MemoryFleet::new(&[("a", Behaviour::Up)]);
    let hosts = vec![host("a", &[PruneKind::Containers, PruneKind::Images])];
    let run = prune(&fleet, hosts, options(), CancellationToken::new()).await;
    let outcome = &run.outcomes[0];
    assert!(outcome.succeeded(), "{:?}", outcome.failure);
    assert_eq!(outcome.attempts, 1);
    let connection = outcome.connection.as_ref().unwrap();
    assert_eq!(connection.api_version.to_string(), "1.45");
    assert_eq!(outcome.payload.reclaimed_bytes(), 6000);
    assert_eq!(
        outcome.payload.completed(),
        [PruneKind::Containers, PruneKind::Images]
    );
    let containers = outcome.payload.kind(PruneKind::Containers).unwrap();
    assert_eq!(containers.deleted, ["c0ffee"]);
    assert!(containers.selection.is_none(), "the daemon chose");
}

#[tokio::test]
async fn a_plan_runs_end_to_end_below_ssh_on_a_snapshot() {
    let fleet = MemoryFleet::new(&[("a", Behaviour::Up)]);
    let job = Arc::new(PlanJob {
        uses: Arc::new(UseLog::default()),
    });
    let run = whole(
        Arc::clone(&fleet),
        vec![host("a", &[PruneKind::Containers])],
        job,
        Arc::new(options()),
        CancellationToken::new(),
    )
    .await;
    let outcome = &run.outcomes[0];
    assert!(outcome.succeeded(), "{:?}", outcome.failure);
    let containers = outcome.payload.plan.kind(PruneKind::Containers).unwrap();
    let doomed: Vec<&str> = containers.doomed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(doomed, ["c0ffee"]);
    // Planning sends no prune.
    assert_eq!(fleet.prunes_started.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_failed_canary_batch_leaves_later_batches_unstarted() {
    let fleet = MemoryFleet::new(&[
        ("a", Behaviour::Refused),
        ("b", Behaviour::Up),
        ("c", Behaviour::Up),
        ("d", Behaviour::Up),
    ]);
    let hosts = ["a", "b", "c", "d"]
        .iter()
        .map(|n| host(n, &[PruneKind::Containers]))
        .collect();
    let mut options = options();
    options.serial = Some(Serial::Hosts(NonZeroUsize::new(2).unwrap()));
    let run = prune(&fleet, hosts, options, CancellationToken::new()).await;
    assert_eq!(
        classes(&run),
        [
            Some(ErrorClass::ConnectRefused),
            None,
            Some(ErrorClass::Cancelled),
            Some(ErrorClass::Cancelled)
        ]
    );
    assert_eq!(run.safety.batches, [2]);
    assert!(run.safety.stopped.as_deref().unwrap().contains("canary"));
}

#[tokio::test]
async fn a_spent_failure_budget_starts_no_further_host() {
    let fleet = MemoryFleet::new(&[
        ("a", Behaviour::Refused),
        ("b", Behaviour::Refused),
        ("c", Behaviour::Up),
    ]);
    let hosts = ["a", "b", "c"]
        .iter()
        .map(|n| host(n, &[PruneKind::Containers]))
        .collect();
    let mut options = options();
    options.forks = NonZeroUsize::new(1).unwrap();
    options.max_fail_percentage = Some(50);
    let run = prune(&fleet, hosts, options, CancellationToken::new()).await;
    // One of three (33%) is within 50%; after the second (67%) nothing more starts.
    assert_eq!(
        classes(&run),
        [
            Some(ErrorClass::ConnectRefused),
            Some(ErrorClass::ConnectRefused),
            Some(ErrorClass::Cancelled)
        ]
    );
    assert!(
        run.safety
            .stopped
            .as_deref()
            .unwrap()
            .contains("--max-fail-percentage 50")
    );
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_and_counted() {
    let fleet = MemoryFleet::new(&[("a", Behaviour::RefusedTimes(2)), ("b", Behaviour::Refused)]);
    let hosts = vec![
        host("a", &[PruneKind::Containers]),
        host("b", &[PruneKind::Containers]),
    ];
    let mut options = options();
    options.retries = 2;
    let run = prune(&fleet, hosts, options, CancellationToken::new()).await;
    assert!(run.outcomes[0].succeeded());
    assert_eq!(run.outcomes[0].attempts, 3);
    let failure = run.outcomes[1].failure.as_ref().unwrap();
    assert_eq!(failure.class, ErrorClass::ConnectRefused);
    assert!(
        failure.message.ends_with("(after 3 attempts)"),
        "{failure:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_host_that_never_answers_times_out_and_the_others_finish() {
    let fleet = MemoryFleet::new(&[("a", Behaviour::Hangs), ("b", Behaviour::Up)]);
    let hosts = vec![
        host("a", &[PruneKind::Containers]),
        host("b", &[PruneKind::Containers]),
    ];
    let mut options = options();
    options.timeout = Duration::from_secs(3);
    let run = prune(&fleet, hosts, options, CancellationToken::new()).await;
    assert_eq!(classes(&run), [Some(ErrorClass::Timeout), None]);
    assert_eq!(
        run.outcomes[0].failure.as_ref().unwrap().stage,
        Stage::Connect
    );
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_a_prune_leaves_it_unknown_and_starts_nothing_more() {
    let fleet = MemoryFleet::new(&[("a", Behaviour::SlowPrune), ("b", Behaviour::Up)]);
    let hosts = vec![
        host("a", &[PruneKind::Containers]),
        host("b", &[PruneKind::Containers]),
    ];
    let mut options = options();
    options.forks = NonZeroUsize::new(1).unwrap();
    let cancel = CancellationToken::new();
    let stopper = {
        let cancel = cancel.clone();
        let prunes = Arc::clone(&fleet.prunes_started);
        tokio::spawn(async move {
            while prunes.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            cancel.cancel();
        })
    };
    let run = prune(&fleet, hosts, options, cancel).await;
    stopper.await.unwrap();
    // The prune request was sent and never answered within --grace: it may have deleted.
    assert_eq!(
        classes(&run),
        [
            Some(ErrorClass::OutcomeUnknown),
            Some(ErrorClass::Cancelled)
        ]
    );
    assert_eq!(
        run.outcomes[0].payload.in_flight,
        Some(PruneKind::Containers)
    );
    assert_eq!(fleet.prunes_started.load(Ordering::SeqCst), 1);
}
