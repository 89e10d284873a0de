//! One SSH session per host: the connection (TCP, through jump hosts, or a proxy command's
//! stdio), host key verification against known_hosts, and public-key authentication (the host's
//! own key files first, then other ssh-agent keys unless `IdentitiesOnly`, as OpenSSH does).
//!
//! Failures are typed by the stage they happened in, so a host's row can say what went wrong.
//! Carrying the Docker API over the session is [`super::tunnel`]'s job.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::identity::{IdentityError, IdentityStore};
use super::jump::JumpSessions;
use super::known_hosts::{
    self, CertificateProblem, HostKeyStatus, KnownHostsError, KnownHostsFiles,
};
use super::proxy_command::{self, CommandStderr};
use crate::model::connection::{HostKeyCheck, endpoint};
use crate::model::failure::{Classify, ErrorClass, Stage};
use crate::openssh::algorithms::Algorithms;

/// How strictly host keys are checked, as OpenSSH's `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyChecking {
    /// Only keys already in known_hosts are accepted.
    Strict,
    /// Unknown hosts are trusted on first use and their key appended; changed keys still fail.
    AcceptNew,
    /// No checking at all (warned about). Changed keys are still logged.
    Off,
}

/// Settings shared by every host's session.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// The files host keys are checked against (per host: its own `UserKnownHostsFile`s).
    pub known_hosts: KnownHostsFiles,
    pub checking: HostKeyChecking,
    pub identities: Arc<IdentityStore>,
    /// `SSH_AUTH_SOCK`, when an agent should be asked first.
    pub agent_socket: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// Sessions with jump hosts, shared by every host behind them.
    pub jumps: Arc<JumpSessions>,
}

/// Where and as whom to log in.
#[derive(Debug, Clone)]
pub struct SshTarget {
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: Option<PathBuf>,
    /// Offer no agent key other than copies of `identity`.
    pub identities_only: bool,
    /// `HostKeyAlias`: the name host keys are looked up and recorded under (on port 22's terms).
    pub host_key_alias: Option<String>,
    /// Keep-alive every this often (`ServerAliveInterval`; `None`: off), giving up after this
    /// many unanswered (`ServerAliveCountMax`).
    pub keepalive: (Option<Duration>, usize),
    /// `KexAlgorithms`, `Ciphers` and `MACs`, where set.
    pub algorithms: Algorithms,
    pub via: Via,
}

impl SshTarget {
    /// A target with OpenSSH's defaults for everything but where and as whom.
    pub fn new(address: String, port: u16, user: String, identity: Option<PathBuf>) -> SshTarget {
        SshTarget {
            address,
            port,
            user,
            identity,
            identities_only: false,
            host_key_alias: None,
            keepalive: (Some(DEFAULT_KEEPALIVE), DEFAULT_KEEPALIVE_MAX),
            algorithms: Algorithms::default(),
            via: Via::Direct,
        }
    }

    /// The name and port host keys are checked under: the `HostKeyAlias`, else the address.
    fn key_name(&self) -> (&str, u16) {
        match &self.host_key_alias {
            Some(alias) => (alias, 22),
            None => (&self.address, self.port),
        }
    }
}

/// Keep-alives when `ServerAliveInterval` is not set: a dead peer is noticed within a minute.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);
/// OpenSSH's default `ServerAliveCountMax`.
pub const DEFAULT_KEEPALIVE_MAX: usize = 3;

/// How the SSH connection is carried.
#[derive(Debug, Clone, Default)]
pub enum Via {
    /// TCP from this machine.
    #[default]
    Direct,
    /// A `direct-tcpip` channel through the last of these jump hosts, each reached through the
    /// one before it (the first over TCP).
    Jump(Vec<SshTarget>),
    /// The stdio of this command, run by `sh -c`.
    Command(String),
}

impl SshTarget {
    /// `host:port`, with IPv6 addresses in brackets.
    pub fn endpoint(&self) -> String {
        endpoint(&self.address, self.port)
    }
}

/// A failure to establish a session, by stage.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot resolve {host}: {source}")]
    Dns {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("no SSH session with {address} within {seconds}s")]
    ConnectTimeout { address: String, seconds: u64 },
    #[error(
        "{address} does not speak SSH: it answered {first_line:?}{}",
        http_hint(first_line)
    )]
    NotSsh { address: String, first_line: String },
    #[error("SSH protocol error: {0}")]
    Protocol(#[from] russh::Error),
    #[error("jump host {hop}: {source}")]
    Jump { hop: String, source: Arc<SshError> },
    #[error("jump host {hop} could not open a connection to {target}: {source}")]
    JumpChannel {
        hop: String,
        target: String,
        source: Box<russh::Error>,
    },
    #[error("cannot run ProxyCommand {command:?}: {source}")]
    ProxyCommandSpawn {
        command: String,
        source: std::io::Error,
    },
    #[error(
        "ProxyCommand {command:?} closed the connection before SSH started{}",
        stderr_suffix(stderr)
    )]
    ProxyCommandClosed { command: String, stderr: String },
    #[error("the host key of {name} ({fingerprint}) is marked as revoked in {path}:{line}")]
    HostKeyRevoked {
        name: String,
        fingerprint: String,
        path: String,
        line: usize,
    },
    #[error(
        "REMOTE HOST IDENTIFICATION HAS CHANGED for {name}! Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed. The key sent is {fingerprint}; the known key is in {path} line {lines}. Refusing to connect."
    )]
    HostKeyChanged {
        name: String,
        fingerprint: String,
        path: String,
        lines: String,
    },
    #[error(
        "no host key is known for {name} in {path} (server key {fingerprint}); add it (ssh-keyscan) or use --host-key-checking accept-new"
    )]
    HostKeyUnknown {
        name: String,
        fingerprint: String,
        path: String,
    },
    #[error("the host certificate of {name} is not trusted: {problem}")]
    HostCertificate {
        name: String,
        problem: CertificateProblem,
    },
    #[error("the server's host key was never checked")]
    HostKeyNotChecked,
    #[error(transparent)]
    RecordHostKey(#[from] KnownHostsError),
    #[error("permission denied (publickey) for {user}@{address}: {tried}")]
    Auth {
        user: String,
        address: String,
        tried: String,
    },
    #[error(
        "the server closed the connection after refusing {refused} keys ({tried}): too many authentication attempts for its MaxAuthTries; name the right key (IdentityFile) and set IdentitiesOnly yes"
    )]
    AuthCutOff { refused: usize, tried: String },
    #[error(transparent)]
    KeyUnusable(#[from] IdentityError),
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// A hint when the peer on the SSH port is a web server (a Docker daemon's TCP port, say).
fn http_hint(first_line: &str) -> &'static str {
    if first_line.starts_with("HTTP/") {
        " (an HTTP server, not sshd: is the port a Docker or web port?)"
    } else {
        ""
    }
}

impl SshError {
    /// Worth another attempt with `--retries`: the host may come up or accept connections.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::ConnectRefused | ErrorClass::ConnectTimeout
        )
    }

    /// The stage this error belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            SshError::Dns { .. }
            | SshError::Connect { .. }
            | SshError::ConnectTimeout { .. }
            | SshError::NotSsh { .. }
            | SshError::JumpChannel { .. }
            | SshError::ProxyCommandSpawn { .. }
            | SshError::ProxyCommandClosed { .. }
            | SshError::Protocol(_) => Stage::Connect,
            SshError::Jump { source, .. } => source.stage(),
            SshError::HostKeyRevoked { .. }
            | SshError::HostKeyChanged { .. }
            | SshError::HostKeyUnknown { .. }
            | SshError::HostCertificate { .. }
            | SshError::HostKeyNotChecked
            | SshError::RecordHostKey(_) => Stage::HostKey,
            SshError::Auth { .. } | SshError::AuthCutOff { .. } | SshError::KeyUnusable(_) => {
                Stage::Auth
            }
        }
    }
}

impl Classify for SshError {
    fn class(&self) -> ErrorClass {
        match self {
            SshError::Dns { .. } => ErrorClass::Dns,
            SshError::Connect { source, .. } => match source.kind() {
                std::io::ErrorKind::ConnectionRefused => ErrorClass::ConnectRefused,
                // Timed out, host or network unreachable: no answer from the host at all.
                _ => ErrorClass::ConnectTimeout,
            },
            SshError::ConnectTimeout { .. } => ErrorClass::ConnectTimeout,
            SshError::Jump { source, .. } => source.class(),
            SshError::JumpChannel { source, .. }
                if matches!(
                    **source,
                    russh::Error::ChannelOpenFailure(russh::ChannelOpenFailure::ConnectFailed)
                ) =>
            {
                ErrorClass::ConnectRefused
            }
            SshError::JumpChannel { .. }
            | SshError::ProxyCommandSpawn { .. }
            | SshError::ProxyCommandClosed { .. } => ErrorClass::ProxyFailed,
            SshError::Protocol(russh::Error::NoCommonAlgo { .. }) => ErrorClass::NoCommonAlgorithm,
            SshError::NotSsh { .. } | SshError::Protocol(_) => ErrorClass::Protocol,
            SshError::HostCertificate {
                problem: CertificateProblem::Revoked { .. },
                ..
            } => ErrorClass::HostKeyRevoked,
            SshError::HostCertificate {
                problem: CertificateProblem::UnknownAuthority { .. },
                ..
            } => ErrorClass::HostKeyUnknown,
            SshError::HostCertificate { .. } => ErrorClass::HostCertificateInvalid,
            SshError::HostKeyRevoked { .. } => ErrorClass::HostKeyRevoked,
            SshError::HostKeyChanged { .. } => ErrorClass::HostKeyChanged,
            SshError::HostKeyUnknown { .. }
            | SshError::HostKeyNotChecked
            | SshError::RecordHostKey(_) => ErrorClass::HostKeyUnknown,
            SshError::Auth { .. } | SshError::AuthCutOff { .. } => ErrorClass::AuthFailed,
            SshError::KeyUnusable(_) => ErrorClass::KeyUnusable,
        }
    }
}

/// An authenticated session.
pub struct SshSession {
    pub handle: Handle<HostKeyVerifier>,
    pub host_key: HostKeyCheck,
}

/// The russh handler: verifies the server's key and nothing else.
pub struct HostKeyVerifier {
    address: String,
    port: u16,
    settings: SshSettings,
    verdict: Arc<Mutex<Option<HostKeyCheck>>>,
}

impl client::Handler for HostKeyVerifier {
    type Error = SshError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, SshError> {
        let check = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.verify(key)?,
            PublicKeyOrCertificate::Certificate(certificate) => {
                self.verify_certificate(certificate)?
            }
        };
        if let Ok(mut slot) = self.verdict.lock() {
            *slot = Some(check);
        }
        Ok(true)
    }
}

impl HostKeyVerifier {
    /// `host` on port 22, `[host]:port` otherwise, as messages name it.
    fn name(&self) -> String {
        if self.port == 22 {
            self.address.clone()
        } else {
            format!("[{}]:{}", self.address, self.port)
        }
    }

    /// A host certificate, checked against the `@cert-authority` lines for the host. Whatever
    /// the checking mode, an untrusted certificate fails the host: fleetprune only asks for
    /// certificates from hosts whose authority it was told.
    fn verify_certificate(
        &self,
        certificate: &russh::keys::Certificate,
    ) -> Result<HostKeyCheck, SshError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let certified = self
            .settings
            .known_hosts
            .check_certificate(&self.address, self.port, certificate, now)
            .map_err(|problem| SshError::HostCertificate {
                name: self.name(),
                problem,
            })?;
        Ok(HostKeyCheck::Certified {
            fingerprint: certificate
                .public_key()
                .fingerprint(russh::keys::HashAlg::Sha256)
                .to_string(),
            authority: certified.authority,
        })
    }

    fn verify(&self, key: &PublicKey) -> Result<HostKeyCheck, SshError> {
        let fingerprint = known_hosts::fingerprint(key);
        let known = &self.settings.known_hosts;
        let verdict = known.check(&self.address, self.port, key);
        let path = verdict.path.display().to_string();
        let name = self.name();
        match verdict.status {
            HostKeyStatus::Trusted { .. } => Ok(HostKeyCheck::Verified { fingerprint }),
            HostKeyStatus::Revoked { line } => Err(SshError::HostKeyRevoked {
                name,
                fingerprint,
                path,
                line,
            }),
            HostKeyStatus::Changed { lines } if self.settings.checking != HostKeyChecking::Off => {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                Err(SshError::HostKeyChanged {
                    name,
                    fingerprint,
                    path,
                    lines: lines.join(", "),
                })
            }
            HostKeyStatus::Changed { .. } => {
                tracing::warn!(
                    "host key of {} differs from known_hosts ({fingerprint}); accepted because host key checking is off",
                    name.escape_debug()
                );
                Ok(HostKeyCheck::Unchecked { fingerprint })
            }
            HostKeyStatus::Unknown => match self.settings.checking {
                HostKeyChecking::Strict => Err(SshError::HostKeyUnknown {
                    name,
                    fingerprint,
                    path,
                }),
                HostKeyChecking::AcceptNew => {
                    known.append(&self.address, self.port, key)?;
                    tracing::warn!(
                        "permanently added {} ({fingerprint}) to {path}",
                        name.escape_debug()
                    );
                    Ok(HostKeyCheck::Added { fingerprint })
                }
                HostKeyChecking::Off => Ok(HostKeyCheck::Unchecked { fingerprint }),
            },
        }
    }
}

/// Connects, verifies the host key and authenticates, all within the connect timeout: a host
/// that accepts TCP but never speaks SSH must not hold the run for the whole per-host timeout.
pub async fn connect(target: &SshTarget, settings: &SshSettings) -> Result<SshSession, SshError> {
    tokio::time::timeout(settings.connect_timeout, establish(target, settings))
        .await
        .unwrap_or_else(|_| {
            Err(SshError::ConnectTimeout {
                address: target.endpoint(),
                seconds: settings.connect_timeout.as_secs(),
            })
        })
}

async fn establish(target: &SshTarget, settings: &SshSettings) -> Result<SshSession, SshError> {
    // A key file named for this host that cannot be used fails it before it is contacted.
    settings.identities.candidates(target.identity.as_deref())?;
    let (stream, carrier) = carry(target, settings).await?;
    handshake(stream, target, settings)
        .await
        .map_err(|error| carrier.explain(error, target))
}

/// The server's host key, as `ssh-keyscan` gets it: the handshake stops once the key is seen,
/// before it is trusted or anything is authenticated. Jump hosts on the way are checked as usual.
pub async fn scan_host_key(
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<PublicKey, SshError> {
    let scan = async {
        let (stream, carrier) = carry(target, settings).await?;
        let seen = Arc::new(Mutex::new(None));
        let scanner = KeyScanner {
            seen: Arc::clone(&seen),
        };
        let config = client::Config {
            preferred: russh::Preferred {
                key: preferred_host_key_algorithms(settings, target).into(),
                ..configured_algorithms(&target.algorithms)
            },
            ..client::Config::default()
        };
        let result = client::connect_stream(Arc::new(config), stream, scanner).await;
        if let Some(key) = seen.lock().ok().and_then(|mut slot| slot.take()) {
            return Ok(key);
        }
        Err(carrier.explain(
            result
                .err()
                .map(SshError::Protocol)
                .unwrap_or(SshError::HostKeyNotChecked),
            target,
        ))
    };
    tokio::time::timeout(settings.connect_timeout, scan)
        .await
        .unwrap_or_else(|_| {
            Err(SshError::ConnectTimeout {
                address: target.endpoint(),
                seconds: settings.connect_timeout.as_secs(),
            })
        })
}

/// Records the server's key and ends the handshake there.
struct KeyScanner {
    seen: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for KeyScanner {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, russh::Error> {
        if let (PublicKeyOrCertificate::PublicKey { key, .. }, Ok(mut slot)) =
            (server_key, self.seen.lock())
        {
            *slot = Some(key.clone());
        }
        Ok(false)
    }
}

/// A stream to the target's sshd.
trait SshStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> SshStream for T {}

/// What carries the connection, kept to explain a handshake that fails.
enum Carrier {
    /// TCP, with the first bytes the peer sent.
    Tcp(Arc<Mutex<Vec<u8>>>),
    Jump,
    Command(String, CommandStderr),
}

impl Carrier {
    /// A clearer error for a failed handshake: a peer that is not sshd, a proxy command that
    /// exited.
    fn explain(&self, error: SshError, target: &SshTarget) -> SshError {
        match (self, error) {
            (Carrier::Tcp(first_bytes), error @ SshError::Protocol(_)) => {
                not_ssh(target, first_bytes).unwrap_or(error)
            }
            (Carrier::Command(command, stderr), error) => proxy_closed(error, command, stderr),
            (_, error) => error,
        }
    }
}

/// The connection to the target's sshd, carried as its route says.
async fn carry(
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<(Box<dyn SshStream>, Carrier), SshError> {
    match &target.via {
        Via::Direct => {
            let (stream, first_bytes) = FirstBytes::record(tcp_connect(target).await?);
            Ok((Box::new(stream), Carrier::Tcp(first_bytes)))
        }
        Via::Jump(hops) => {
            let (last, jump) = settings.jumps.session(hops, settings).await?;
            let channel = jump
                .channel_open_direct_tcpip(
                    target.address.as_str(),
                    target.port.into(),
                    "127.0.0.1",
                    0,
                )
                .await
                .map_err(|source| SshError::JumpChannel {
                    hop: last.endpoint(),
                    target: target.endpoint(),
                    source: Box::new(source),
                })?;
            Ok((Box::new(channel.into_stream()), Carrier::Jump))
        }
        Via::Command(command) => {
            let (stream, stderr) =
                proxy_command::spawn(command).map_err(|source| SshError::ProxyCommandSpawn {
                    command: command.clone(),
                    source,
                })?;
            Ok((Box::new(stream), Carrier::Command(command.clone(), stderr)))
        }
    }
}

/// A proxy command that ended before the handshake is named, with what it said on stderr.
fn proxy_closed(error: SshError, command: &str, stderr: &CommandStderr) -> SshError {
    match error {
        SshError::Protocol(russh::Error::Disconnect | russh::Error::IO(_) | russh::Error::HUP) => {
            SshError::ProxyCommandClosed {
                command: command.to_string(),
                stderr: proxy_command::stderr_text(stderr),
            }
        }
        other => other,
    }
}

/// A TCP connection to the target, with small exchanges sent at once.
pub(crate) async fn tcp_connect(target: &SshTarget) -> Result<tokio::net::TcpStream, SshError> {
    // Resolved first, so that a name that does not resolve is told apart from a refused port.
    let addresses: Vec<std::net::SocketAddr> =
        tokio::net::lookup_host((target.address.as_str(), target.port))
            .await
            .map_err(|source| SshError::Dns {
                host: target.address.clone(),
                source,
            })?
            .collect();
    let stream = tokio::net::TcpStream::connect(addresses.as_slice())
        .await
        .map_err(|source| SshError::Connect {
            address: target.endpoint(),
            source,
        })?;
    // Small request/response exchanges: do not wait for Nagle or delayed ACKs.
    let _ = stream.set_nodelay(true);
    let _ = socket2::SockRef::from(&stream).set_tcp_quickack(true);
    Ok(stream)
}

/// The SSH handshake over `stream`: host key verification, then authentication.
pub(crate) async fn handshake<S>(
    stream: S,
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<SshSession, SshError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let verdict = Arc::new(Mutex::new(None));
    let (key_name, key_port) = target.key_name();
    let handler = HostKeyVerifier {
        address: key_name.to_string(),
        port: key_port,
        settings: settings.clone(),
        verdict: Arc::clone(&verdict),
    };
    let key = preferred_host_key_algorithms(settings, target);
    // Host certificates are asked for only from hosts with a known authority, as OpenSSH does.
    let host_key_certificates = if settings.known_hosts.has_authority_for(key_name, key_port) {
        key.clone()
    } else {
        Vec::new()
    };
    let config = client::Config {
        preferred: russh::Preferred {
            key: key.into(),
            host_key_certificates: host_key_certificates.into(),
            ..configured_algorithms(&target.algorithms)
        },
        keepalive_interval: target.keepalive.0,
        keepalive_max: target.keepalive.1,
        nodelay: true,
        ..client::Config::default()
    };
    let mut handle = client::connect_stream(Arc::new(config), stream, handler).await?;
    let host_key = verdict
        .lock()
        .ok()
        .and_then(|slot| slot.clone())
        .ok_or(SshError::HostKeyNotChecked)?;
    authenticate(&mut handle, target, settings).await?;
    Ok(SshSession { handle, host_key })
}

/// Key exchange, cipher and MAC lists as the host's ssh options set them, russh's (which
/// [`crate::openssh::algorithms`] restates) where they do not. The kex list keeps the client's
/// extension markers (`ext-info-c`, strict key exchange), as ssh adds them to any list.
fn configured_algorithms(algorithms: &Algorithms) -> russh::Preferred {
    fn names<N: for<'a> TryFrom<&'a str>>(list: &[&str]) -> Vec<N> {
        // Every name crate::openssh::algorithms offers is one russh has (a test checks it).
        list.iter()
            .filter_map(|name| N::try_from(name).ok())
            .collect()
    }
    let mut preferred = russh::Preferred::DEFAULT;
    if let Some(kex) = &algorithms.kex {
        let mut kex: Vec<russh::kex::Name> = names(kex);
        kex.extend([
            russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
            russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]);
        preferred.kex = kex.into();
    }
    if let Some(ciphers) = &algorithms.ciphers {
        preferred.cipher = names::<russh::cipher::Name>(ciphers).into();
    }
    if let Some(macs) = &algorithms.macs {
        preferred.mac = names::<russh::mac::Name>(macs).into();
    }
    preferred
}

/// OpenSSH prefers the host key algorithms it already knows for a host, so that a host with
/// several keys presents the one recorded in known_hosts.
fn preferred_host_key_algorithms(settings: &SshSettings, target: &SshTarget) -> Vec<Algorithm> {
    let (name, port) = target.key_name();
    let known = settings.known_hosts.algorithms_for(name, port);
    let mut preferred: Vec<Algorithm> = Vec::new();
    for algorithm in known.iter().chain(russh::Preferred::DEFAULT.key.iter()) {
        let expanded: Vec<Algorithm> = match algorithm {
            // An RSA key in known_hosts can be used with any RSA signature hash.
            Algorithm::Rsa { .. } => russh::Preferred::DEFAULT
                .key
                .iter()
                .filter(|a| matches!(a, Algorithm::Rsa { .. }))
                .cloned()
                .collect(),
            other => vec![other.clone()],
        };
        for candidate in expanded {
            if !preferred.contains(&candidate) && russh::Preferred::DEFAULT.key.contains(&candidate)
            {
                preferred.push(candidate);
            }
        }
    }
    preferred
}

/// Public-key authentication: the host's own key files first (through the agent's copy when
/// the agent holds one), then the agent's other keys unless `IdentitiesOnly`.
async fn authenticate(
    handle: &mut Handle<HostKeyVerifier>,
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<(), SshError> {
    let candidates = settings.identities.candidates(target.identity.as_deref())?;
    let mut agent = match &settings.agent_socket {
        Some(socket) => match AgentClient::connect_uds(socket).await {
            Ok(mut agent) => {
                let keys: Vec<(PublicKey, String)> = agent
                    .request_identities()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|identity| match identity {
                        AgentIdentity::PublicKey { key, comment } => Some((key, comment)),
                        _ => None,
                    })
                    .collect();
                Some((agent, keys))
            }
            Err(error) => {
                tracing::debug!("ssh-agent at {} unusable: {error}", socket.display());
                None
            }
        },
        None => None,
    };
    let mut attempts = Attempts::default();
    let mut locked = None;
    for candidate in &candidates {
        let in_agent = candidate.public.as_ref().filter(|public| {
            agent.as_ref().is_some_and(|(_, keys)| {
                keys.iter()
                    .any(|(key, _)| key.key_data() == public.key_data())
            })
        });
        let shown = candidate.path.display().to_string();
        let accepted = match (in_agent, &mut agent, &candidate.private) {
            (Some(public), Some((agent, _)), _) => {
                let hash = rsa_hash(handle, &public.algorithm()).await?;
                let result = handle
                    .authenticate_publickey_with(&target.user, public.clone(), hash, agent)
                    .await;
                attempts.judge(
                    result.map_err(|e| e.to_string()),
                    format!("{shown} (agent)"),
                )?
            }
            (_, _, Ok(key)) => {
                let hash = rsa_hash(handle, &key.algorithm()).await?;
                let result = handle
                    .authenticate_publickey(
                        &target.user,
                        PrivateKeyWithHashAlg::new(Arc::clone(key), hash),
                    )
                    .await;
                attempts.judge(result.map_err(|e| e.to_string()), shown)?
            }
            (_, _, Err(error)) => {
                locked.get_or_insert_with(|| error.clone());
                false
            }
        };
        if accepted {
            return Ok(());
        }
    }
    if !target.identities_only
        && let Some((agent, keys)) = &mut agent
    {
        let own: Vec<&PublicKey> = candidates
            .iter()
            .filter_map(|c| c.public.as_ref())
            .collect();
        for (key, comment) in keys.iter() {
            if own.iter().any(|o| o.key_data() == key.key_data()) {
                continue;
            }
            let hash = rsa_hash(handle, &key.algorithm()).await?;
            let result = handle
                .authenticate_publickey_with(&target.user, key.clone(), hash, agent)
                .await;
            if attempts.judge(
                result.map_err(|e| e.to_string()),
                format!("agent key {comment}"),
            )? {
                return Ok(());
            }
        }
    }
    if attempts.tried.is_empty()
        && let Some(error) = locked
    {
        return Err(SshError::KeyUnusable(error));
    }
    let tried = if attempts.tried.is_empty() {
        "no key to offer (no agent, no identity file)".to_string()
    } else {
        format!("tried {}", attempts.tried.join(", "))
    };
    Err(SshError::Auth {
        user: target.user.clone(),
        address: target.address.clone(),
        tried,
    })
}

/// The keys offered so far, to name them and to tell the server's cut-off from a bad key.
#[derive(Default)]
struct Attempts {
    tried: Vec<String>,
}

impl Attempts {
    /// Whether `result` is a success; a refusal is remembered, and an error after refusals is
    /// the server closing the connection on too many attempts (its `MaxAuthTries`).
    fn judge<E: std::fmt::Display>(
        &mut self,
        result: Result<AuthResult, E>,
        shown: String,
    ) -> Result<bool, SshError> {
        match result {
            Ok(AuthResult::Success) => Ok(true),
            Ok(AuthResult::Failure { .. }) => {
                self.tried.push(shown);
                Ok(false)
            }
            Err(error) if !self.tried.is_empty() => {
                // russh only says its event loop is gone; the cut-off is what happened.
                tracing::debug!("offering {shown} failed: {error}");
                Err(SshError::AuthCutOff {
                    refused: self.tried.len(),
                    tried: self.tried.join(", "),
                })
            }
            Err(error) => {
                tracing::debug!("offering {shown} failed: {error}");
                Ok(false)
            }
        }
    }
}

async fn rsa_hash(
    handle: &Handle<HostKeyVerifier>,
    algorithm: &Algorithm,
) -> Result<Option<russh::keys::HashAlg>, SshError> {
    if matches!(algorithm, Algorithm::Rsa { .. }) {
        Ok(handle.best_supported_rsa_hash().await?.flatten())
    } else {
        Ok(None)
    }
}

/// How much of what the server sends first is kept, to explain a peer that is not sshd.
const FIRST_BYTES_KEPT: usize = 256;

/// Keeps the first bytes read from the server while russh reads its identification line.
struct FirstBytes<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<S> FirstBytes<S> {
    fn record(inner: S) -> (FirstBytes<S>, Arc<Mutex<Vec<u8>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        (
            FirstBytes {
                inner,
                seen: Arc::clone(&seen),
            },
            seen,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Ok(mut seen) = self.seen.lock()
            && seen.len() < FIRST_BYTES_KEPT
        {
            let fresh = &buf.filled()[before..];
            let room = FIRST_BYTES_KEPT - seen.len();
            seen.extend_from_slice(&fresh[..fresh.len().min(room)]);
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `NotSsh` when the server's first line is not an SSH identification string.
fn not_ssh(target: &SshTarget, first_bytes: &Mutex<Vec<u8>>) -> Option<SshError> {
    let seen = first_bytes.lock().ok()?;
    if seen.is_empty() || seen.starts_with(b"SSH-") {
        return None;
    }
    let text = String::from_utf8_lossy(&seen);
    let first_line = text.lines().next().unwrap_or_default().trim().to_string();
    Some(SshError::NotSsh {
        address: target.endpoint(),
        first_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> SshTarget {
        SshTarget::new("10.0.0.7".into(), 22, "ops".into(), None)
    }

    #[test]
    fn every_algorithm_fleetprune_offers_is_one_russh_negotiates() {
        use crate::openssh::algorithms::AlgorithmKind;
        let kex = AlgorithmKind::Kex.supported_names();
        let ciphers = AlgorithmKind::Ciphers.supported_names();
        let macs = AlgorithmKind::Macs.supported_names();
        let all = Algorithms {
            kex: Some(kex.to_vec()),
            ciphers: Some(ciphers.to_vec()),
            macs: Some(macs.to_vec()),
        };
        let preferred = configured_algorithms(&all);
        // Each list converted whole, plus the two extension markers on the kex list.
        assert_eq!(preferred.kex.len(), kex.len() + 2);
        assert_eq!(preferred.cipher.len(), ciphers.len());
        assert_eq!(preferred.mac.len(), macs.len());
        // The defaults restate russh's own.
        let defaults = Algorithms {
            kex: Some(AlgorithmKind::Kex.default_names().to_vec()),
            ciphers: Some(AlgorithmKind::Ciphers.default_names().to_vec()),
            macs: Some(AlgorithmKind::Macs.default_names().to_vec()),
        };
        let restated = configured_algorithms(&defaults);
        let russh = russh::Preferred::DEFAULT;
        let without_markers = |names: &[russh::kex::Name]| -> Vec<String> {
            names
                .iter()
                .map(|n| n.as_ref().to_string())
                .filter(|n| !n.starts_with("ext-info") && !n.starts_with("kex-strict"))
                .collect()
        };
        assert_eq!(without_markers(&restated.kex), without_markers(&russh.kex));
        assert_eq!(restated.cipher, russh.cipher);
        assert_eq!(restated.mac, russh.mac);
    }

    #[test]
    fn http_answer_on_the_ssh_port_is_named_as_such() {
        let seen = Mutex::new(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec());
        let error = not_ssh(&target(), &seen).unwrap();
        assert_eq!(error.class(), ErrorClass::Protocol);
        assert_eq!(
            error.to_string(),
            "10.0.0.7:22 does not speak SSH: it answered \"HTTP/1.1 400 Bad Request\" (an HTTP server, not sshd: is the port a Docker or web port?)"
        );
    }

    #[test]
    fn a_real_ssh_banner_or_silence_is_not_blamed_on_the_peer() {
        assert!(not_ssh(&target(), &Mutex::new(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec())).is_none());
        assert!(not_ssh(&target(), &Mutex::new(Vec::new())).is_none());
    }

    #[test]
    fn refused_connections_are_retried_but_host_key_problems_are_not() {
        let refused = SshError::Connect {
            address: "h:22".into(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(refused.is_transient());
        let unknown = SshError::HostKeyUnknown {
            name: "h".into(),
            fingerprint: "SHA256:x".into(),
            path: "kh".into(),
        };
        assert!(!unknown.is_transient());
        assert_eq!(unknown.stage(), Stage::HostKey);
    }
}
