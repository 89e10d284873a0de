//! fleetprune-sim: a **simulator** of many Docker hosts reached over SSH, for measuring the
//! fleetprune controller at scale (`bench/scale.sh`). One async process serves every simulated
//! host: a real SSH endpoint per host (russh: host key, key auth, direct-streamlocal and exec
//! channels) whose Docker socket is a small Engine API stand-in with per-host state, a latency
//! per call and a share of faulty hosts. It is never used in place of the real-daemon tests.
//!
//! Startup writes `inventory.yaml` and `known_hosts` into `--out`, then prints one `ready` line
//! on stdout; SIGTERM or SIGINT prints the simulator's own CPU, peak RSS and counters and exits.

mod engine;
mod fleet;
mod ssh;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use russh::{MethodKind, MethodSet};
use tokio::signal::unix::{SignalKind, signal};

use crate::engine::{EngineCounters, EngineState, Latency, Seed};
use crate::fleet::{Fault, FaultShares, Fleet, MAX_HOSTS};
use crate::ssh::{Shared, SshCounters};

/// Simulates many SSH + Docker Engine hosts on loopback addresses, for benchmarks only.
#[derive(Debug, Parser)]
#[command(name = "fleetprune-sim", version)]
struct Args {
    /// Number of simulated hosts.
    #[arg(long, default_value = "100")]
    hosts: usize,
    /// Directory for inventory.yaml and known_hosts.
    #[arg(long)]
    out: PathBuf,
    /// The host key every simulated host presents (OpenSSH private key file).
    #[arg(long)]
    host_key: PathBuf,
    /// The client's private key: its public half is the only one accepted, and its path is
    /// written into the inventory.
    #[arg(long)]
    client_key: PathBuf,
    /// The user name written into the inventory (any user is accepted).
    #[arg(long, default_value = "sim")]
    user: String,
    /// Hosts listen on 127.NET.B.C (C = 1..250).
    #[arg(long, default_value = "77")]
    net: u8,
    /// The SSH port every host listens on.
    #[arg(long, default_value = "2222")]
    port: u16,
    /// Latency of `/_ping` and `/version`.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    call_latency: Duration,
    /// Latency of each prune call.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    prune_latency: Duration,
    /// Latency of each prune call on `slow` hosts.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    slow_latency: Duration,
    /// Percent of faulty hosts: refused, blackhole, auth, conflict, slow, exec (exec: stream-local
    /// refused, so the client falls back to dial-stdio). Example: refused=1,blackhole=1,auth=1.
    #[arg(long, default_value = "")]
    faults: FaultShares,
    /// Removable images per host, and their bytes in all.
    #[arg(long, default_value = "14")]
    images: u32,
    #[arg(long, default_value = "11534336")]
    image_bytes: u64,
    /// Spread the hosts over this many inventory groups.
    #[arg(long, default_value = "1")]
    groups: usize,
    /// How hosts listen: `per-host` binds each host's own address; `shared` binds one wildcard
    /// listener and routes by local address (N descriptors instead of 2N), and is refused
    /// unless the network namespace has no interface but `lo` (bench/scale.sh makes one).
    #[arg(long, value_enum, default_value = "per-host")]
    listen: ListenMode,
    /// Write the inventory and known_hosts, then exit without serving (inventory benchmarks).
    #[arg(long)]
    inventory_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ListenMode {
    PerHost,
    Shared,
}

#[derive(Debug, thiserror::Error)]
enum SimError {
    #[error(
        "--listen shared binds the wildcard address, so it needs a network namespace whose only interface is lo (unshare --net)"
    )]
    NotIsolated,
    #[error("--hosts {0}: at most {MAX_HOSTS} per --net")]
    TooManyHosts(usize),
    #[error("key file {path}: {source}")]
    Key {
        path: String,
        source: russh::keys::Error,
    },
    #[error("cannot encode the host key: {0}")]
    Encode(russh::keys::ssh_key::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot install a signal handler: {0}")]
    Signal(std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleetprune-sim: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), SimError> {
    if args.hosts > MAX_HOSTS {
        return Err(SimError::TooManyHosts(args.hosts));
    }
    let load = |path: &PathBuf| {
        russh::keys::load_secret_key(path, None).map_err(|source| SimError::Key {
            path: path.display().to_string(),
            source,
        })
    };
    let host_key = load(&args.host_key)?;
    let client_key = load(&args.client_key)?.public_key().clone();
    let host_key_line = host_key
        .public_key()
        .to_openssh()
        .map_err(SimError::Encode)?;

    let fleet = Fleet::new(args.hosts, args.net, args.port, &args.faults);
    let client_key_path = std::path::absolute(&args.client_key).unwrap_or(args.client_key.clone());
    write(
        &args.out.join("inventory.yaml"),
        &fleet.inventory_yaml(&args.user, &client_key_path, args.groups),
    )?;
    write(
        &args.out.join("known_hosts"),
        &fleet.known_hosts(&host_key_line),
    )?;
    if args.inventory_only {
        println!("inventory hosts={} groups={}", args.hosts, args.groups);
        return Ok(());
    }

    let config = russh::server::Config {
        keys: vec![host_key],
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        // Benchmarks want the controller's own cost of a rejected key, not a penalty delay.
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(900)),
        nodelay: true,
        ..russh::server::Config::default()
    };
    let shared = Arc::new(Shared {
        config: Arc::new(config),
        client_key,
        latency: Latency {
            call: args.call_latency,
            prune: args.prune_latency,
            slow_prune: args.slow_latency,
        },
        engine_counters: Arc::new(EngineCounters::default()),
        counters: SshCounters::default(),
    });
    let seed = Seed {
        images: args.images,
        image_bytes: args.image_bytes,
        containers: 2,
        volumes: 1,
        volume_bytes: 1 << 20,
        networks: 1,
        build_caches: 3,
        build_cache_bytes: 2 << 20,
    };
    let mut terminate = signal(SignalKind::terminate()).map_err(SimError::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(SimError::Signal)?;
    let listen_error = |address: String| move |source| SimError::Listen { address, source };
    match args.listen {
        ListenMode::PerHost => {
            for host in &fleet.hosts {
                let state = Arc::new(EngineState::new(host.index, host.fault, seed));
                ssh::listen(host, args.port, state, Arc::clone(&shared))
                    .await
                    .map_err(listen_error(format!("{}:{}", host.address, args.port)))?;
            }
        }
        ListenMode::Shared => {
            if !ssh::only_loopback_interfaces().unwrap_or(false) {
                return Err(SimError::NotIsolated);
            }
            let hosts = fleet
                .hosts
                .iter()
                .filter(|host| host.fault != Fault::Refused)
                .map(|host| {
                    let state = Arc::new(EngineState::new(host.index, host.fault, seed));
                    (host.address, (host.fault, state))
                })
                .collect();
            ssh::listen_shared(args.port, hosts, Arc::clone(&shared))
                .await
                .map_err(listen_error(format!("0.0.0.0:{}", args.port)))?;
        }
    }
    let faults: Vec<String> = fleet
        .fault_counts()
        .iter()
        .map(|(fault, count)| format!("{}={count}", fault.name()))
        .collect();
    println!(
        "ready hosts={} port={} prune_latency={:?} faults={}",
        args.hosts,
        args.port,
        args.prune_latency,
        faults.join(",")
    );

    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    print_usage(&shared);
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> Result<(), SimError> {
    std::fs::write(path, text).map_err(|source| SimError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// One `usage` line: the simulator's own CPU and memory, and what it served.
fn print_usage(shared: &Shared) {
    let counters = &shared.counters;
    let engine = &shared.engine_counters;
    let (user, system, rss) = usage::own_usage().map_or((f64::NAN, f64::NAN, -1), |u| {
        (u.user_seconds, u.system_seconds, u.max_rss_kb)
    });
    println!(
        "usage user_s={user:.3} sys_s={system:.3} max_rss_kb={rss} connections={} authenticated={} tunnels={} requests={} prunes={} reclaimed_bytes={}",
        counters.connections.load(Ordering::Relaxed),
        counters.authenticated.load(Ordering::Relaxed),
        counters.tunnels.load(Ordering::Relaxed),
        engine.requests.load(Ordering::Relaxed),
        engine.prunes.load(Ordering::Relaxed),
        engine.reclaimed_bytes.load(Ordering::Relaxed),
    );
}
