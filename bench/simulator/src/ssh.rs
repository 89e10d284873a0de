//! Each simulated host's SSH endpoint: a russh server on its own loopback address with the
//! fleet's host key, public-key authentication against the one client key, and the Docker socket
//! reached through `direct-streamlocal@openssh.com` or `docker system dial-stdio` in an exec
//! channel. The faults that live at this layer (refused, black hole, auth failure, exec only)
//! are played here; the socket's HTTP is [`crate::engine`]'s.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use russh::keys::PublicKey;
use russh::server::{self, Auth, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure};
use tokio::net::{TcpListener, TcpStream};

use crate::engine::{self, EngineCounters, EngineState, Latency};
use crate::fleet::{Fault, HostSpec};

/// What every host shares.
pub struct Shared {
    pub config: Arc<server::Config>,
    pub client_key: PublicKey,
    pub latency: Latency,
    pub engine_counters: Arc<EngineCounters>,
    pub counters: SshCounters,
}

/// Session counters over the whole simulator, printed at exit.
#[derive(Debug, Default)]
pub struct SshCounters {
    pub connections: AtomicU64,
    pub authenticated: AtomicU64,
    pub tunnels: AtomicU64,
}

/// Binds `host`'s own listener (none for a refused host: its inventory port has no listener)
/// and serves it until the process ends.
pub async fn listen(
    host: &HostSpec,
    port: u16,
    state: Arc<EngineState>,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    if host.fault == Fault::Refused {
        return Ok(());
    }
    let listener = TcpListener::bind(SocketAddr::from((host.address, port))).await?;
    let fault = host.fault;
    tokio::spawn(async move {
        loop {
            if let Some(stream) = accept(&listener).await {
                serve_connection(stream, fault, Arc::clone(&state), Arc::clone(&shared));
            }
        }
    });
    Ok(())
}

/// One listener on the wildcard address for every host, each connection routed to its host by
/// the local address it arrived on. Only for a network namespace whose one interface is `lo`
/// (see [`only_loopback_interfaces`]): N hosts then cost N descriptors instead of 2N.
pub async fn listen_shared(
    port: u16,
    hosts: HashMap<Ipv4Addr, (Fault, Arc<EngineState>)>,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await?;
    tokio::spawn(async move {
        loop {
            let Some(stream) = accept(&listener).await else {
                continue;
            };
            let host = match stream.local_addr() {
                Ok(SocketAddr::V4(local)) => hosts.get(local.ip()),
                _ => None,
            };
            // Connections to addresses that are no simulated host are dropped.
            if let Some((fault, state)) = host {
                serve_connection(stream, *fault, Arc::clone(state), Arc::clone(&shared));
            }
        }
    });
    Ok(())
}

/// Whether this process's network namespace has no interface but `lo`, so that a wildcard
/// listener is reachable from loopback only.
pub fn only_loopback_interfaces() -> std::io::Result<bool> {
    let devices = std::fs::read_to_string("/proc/self/net/dev")?;
    Ok(devices
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .all(|name| name.trim() == "lo"))
}

/// The next connection; on an error (such as running out of descriptors) waits a little
/// instead of spinning.
async fn accept(listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept().await {
        Ok((stream, _)) => Some(stream),
        Err(error) => {
            eprintln!("fleetprune-sim: accept: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            None
        }
    }
}

fn serve_connection(stream: TcpStream, fault: Fault, state: Arc<EngineState>, shared: Arc<Shared>) {
    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
    if fault == Fault::BlackHole {
        // Hold the connection open without a word until the process ends.
        tokio::spawn(async move {
            let _held = stream;
            std::future::pending::<()>().await;
        });
        return;
    }
    let _ = stream.set_nodelay(true);
    let config = Arc::clone(&shared.config);
    let handler = HostHandler {
        fault,
        state,
        shared,
        sessions: HashMap::new(),
    };
    tokio::spawn(async move {
        if let Ok(session) = server::run_stream(config, stream, handler).await {
            let _ = session.await;
        }
    });
}

/// One SSH connection to one simulated host.
struct HostHandler {
    fault: Fault,
    state: Arc<EngineState>,
    shared: Arc<Shared>,
    /// Session channels waiting for their exec request.
    sessions: HashMap<ChannelId, Channel<Msg>>,
}

impl HostHandler {
    fn serve_engine(&self, channel: Channel<Msg>) {
        self.shared.counters.tunnels.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(engine::serve(
            channel.into_stream(),
            Arc::clone(&self.state),
            self.shared.latency,
            Arc::clone(&self.shared.engine_counters),
        ));
    }
}

impl server::Handler for HostHandler {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(
            if offer.public_key.key_data() == self.shared.client_key.key_data() {
                Auth::Accept
            } else {
                Auth::reject()
            },
        )
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let known = key.public_key.key_data() == self.shared.client_key.key_data();
        if known && self.fault != Fault::AuthFailure {
            self.shared
                .counters
                .authenticated
                .fetch_add(1, Ordering::Relaxed);
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        channel: Channel<Msg>,
        _socket_path: &str,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.fault == Fault::ExecOnly {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        reply.accept().await;
        self.serve_engine(channel);
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.sessions.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        command: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let dial_stdio = String::from_utf8_lossy(command).ends_with("system dial-stdio");
        match self.sessions.remove(&channel) {
            Some(open) if dial_stdio => {
                session.channel_success(channel)?;
                self.serve_engine(open);
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }
}
