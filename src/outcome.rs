//! What happened on each host, as plain data: produced by [`crate::executor`], rendered by
//! [`crate::report`]. A failure is a value with the stage it happened in, never an abort.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::api_version::ApiVersion;
use crate::transport::ssh::HostKeyCheck;
use crate::transport::tunnel::TransportKind;

/// The step a host was in when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Connect,
    HostKey,
    Auth,
    Tunnel,
    Engine,
    Plan,
    Prune,
    DiskUsage,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connect",
            Stage::HostKey => "host key",
            Stage::Auth => "auth",
            Stage::Tunnel => "tunnel",
            Stage::Engine => "engine",
            Stage::Plan => "plan",
            Stage::Prune => "prune",
            Stage::DiskUsage => "disk usage",
        })
    }
}

/// Why a host failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostFailure {
    pub stage: Stage,
    pub message: String,
}

impl HostFailure {
    pub fn new(stage: Stage, message: impl fmt::Display) -> HostFailure {
        HostFailure {
            stage,
            message: message.to_string(),
        }
    }
}

/// How the engine was reached and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    pub transport: TransportKind,
    pub engine_version: String,
    pub api_version: ApiVersion,
}

/// One host's result for any command: connection facts, the command's payload (complete, or
/// as far as it got), and the failure if there was one.
#[derive(Debug, Clone)]
pub struct HostOutcome<T> {
    pub name: String,
    /// `address:port` as contacted.
    pub address: String,
    pub host_key: Option<HostKeyCheck>,
    pub connection: Option<ConnectionInfo>,
    pub payload: T,
    pub failure: Option<HostFailure>,
    pub duration: Duration,
}

impl<T> HostOutcome<T> {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}
