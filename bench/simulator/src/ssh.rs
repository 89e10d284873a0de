//! Each simulated host's SSH endpoint: a russh server on its own loopback address with the
//! fleet's host key, public-key authentication against the one client key, and the Docker socket
//! reached through `direct-streamlocal@openssh.com` or `docker system dial-stdio` in an exec
//! channel. The faults that live at this layer (refused, black hole, auth failure, exec only)
//! are played here; the socket's HTTP is [`crate::engine`]'s.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use russh::keys::PublicKey;
use russh::server::{self, Auth, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure};
use tokio::net::TcpListener;

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

/// Binds `host`'s listener (none for a refused host) and serves it until the process ends.
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
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            shared.counters.connections.fetch_add(1, Ordering::Relaxed);
            if fault == Fault::BlackHole {
                // Hold the connection open without a word until the process ends.
                tokio::spawn(async move {
                    let _held = stream;
                    std::future::pending::<()>().await;
                });
                continue;
            }
            let _ = stream.set_nodelay(true);
            let handler = HostHandler {
                fault,
                state: Arc::clone(&state),
                shared: Arc::clone(&shared),
                sessions: HashMap::new(),
            };
            let config = Arc::clone(&shared.config);
            tokio::spawn(async move {
                if let Ok(session) = server::run_stream(config, stream, handler).await {
                    let _ = session.await;
                }
            });
        }
    });
    Ok(())
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
        Ok(if offer.public_key.key_data() == self.shared.client_key.key_data() {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let known = key.public_key.key_data() == self.shared.client_key.key_data();
        if known && self.fault != Fault::AuthFailure {
            self.shared.counters.authenticated.fetch_add(1, Ordering::Relaxed);
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
