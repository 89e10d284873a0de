//! What a session is opened with: the settings every host shares (known_hosts, identities, the
//! agent, jump sessions, the connect timeout) and each host's target (where, as whom, with which
//! algorithms, carried how). Plain values: opening the session is [`super`]'s job.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::model::connection::endpoint;
use crate::openssh::algorithms::Algorithms;
use crate::transport::identity::IdentityStore;
use crate::transport::jump::JumpSessions;
use crate::transport::known_hosts::KnownHostsFiles;

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
    pub(super) fn key_name(&self) -> (&str, u16) {
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
