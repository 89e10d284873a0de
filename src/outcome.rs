//! What happened on each host, as plain data: produced by [`crate::executor`], rendered by
//! [`crate::report`]. A failure is a value with the stage it happened in and a stable class,
//! never an abort.

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
    /// Never started: the run stopped before this host's turn.
    Queued,
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
            Stage::Queued => "queue",
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

/// A failure's stable, documented class: what scripts match on (`error.class` in JSON). The
/// message may change wording; the class does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// TCP connection refused (nothing listens on the SSH port).
    ConnectRefused,
    /// No TCP connection or no SSH session within `--connect-timeout`.
    ConnectTimeout,
    /// The host name does not resolve.
    Dns,
    /// The peer does not speak SSH (or HTTP to the engine) as expected.
    Protocol,
    /// The server shares no key exchange, cipher, MAC or host key algorithm with the ones
    /// offered (`KexAlgorithms`, `Ciphers`, `MACs` in ssh config narrow them).
    NoCommonAlgorithm,
    HostKeyUnknown,
    HostKeyChanged,
    HostKeyRevoked,
    /// A host certificate from a known authority that is expired, for another host, badly
    /// signed or otherwise not valid.
    HostCertificateInvalid,
    AuthFailed,
    /// The key file named for this host is missing, unreadable, locked or not a key.
    KeyUnusable,
    /// The Docker socket does not exist on the host.
    SocketMissing,
    /// The login user may not use the Docker socket.
    PermissionDenied,
    /// No Docker Engine answers on the socket.
    EngineUnavailable,
    /// The engine answered with an error, or with something fleetprune cannot use.
    EngineError,
    /// The engine kept answering 409: another prune is running.
    Conflict,
    /// The per-host `--timeout` ran out before anything was sent for deletion.
    Timeout,
    /// Ctrl-C or SIGTERM stopped the host before anything was sent for deletion.
    Interrupted,
    /// A prune request was sent and its answer never came: the daemon may have deleted objects.
    OutcomeUnknown,
    /// An engine response (header or body) exceeded fleetprune's size caps.
    ResponseTooLarge,
    /// The host was never started (interrupted run, `--max-fail-percentage`, canary batch).
    Cancelled,
    /// Not contacted: its connection settings name an option fleetprune cannot honour (a
    /// bastion through `ProxyJump`, `ProxyCommand`, ...), so it is not reached some other way.
    UnsupportedOption,
    /// Not contacted: `ansible_connection` is not ssh.
    Skipped,
    /// The way to the host failed: its `ProxyCommand` exited, or a jump host would not open a
    /// connection onwards.
    ProxyFailed,
    /// `apply`: the host is not the one the plan was made for (another SSH host key or engine ID).
    PlanMismatch,
    /// A `threshold` policy needs the size and free space of the filesystem holding
    /// DockerRootDir, and `df` on the host could not be run or read: nothing was deleted.
    FilesystemUnknown,
}

impl ErrorClass {
    /// The JSON name, also used in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::ConnectRefused => "connect_refused",
            ErrorClass::ConnectTimeout => "connect_timeout",
            ErrorClass::Dns => "dns",
            ErrorClass::Protocol => "protocol",
            ErrorClass::NoCommonAlgorithm => "no_common_algorithm",
            ErrorClass::HostKeyUnknown => "host_key_unknown",
            ErrorClass::HostKeyChanged => "host_key_changed",
            ErrorClass::HostKeyRevoked => "host_key_revoked",
            ErrorClass::HostCertificateInvalid => "host_certificate_invalid",
            ErrorClass::AuthFailed => "auth_failed",
            ErrorClass::KeyUnusable => "key_unusable",
            ErrorClass::SocketMissing => "socket_missing",
            ErrorClass::PermissionDenied => "permission_denied",
            ErrorClass::EngineUnavailable => "engine_unavailable",
            ErrorClass::EngineError => "engine_error",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Interrupted => "interrupted",
            ErrorClass::OutcomeUnknown => "outcome_unknown",
            ErrorClass::ResponseTooLarge => "response_too_large",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::UnsupportedOption => "unsupported_option",
            ErrorClass::Skipped => "skipped",
            ErrorClass::ProxyFailed => "proxy_failed",
            ErrorClass::PlanMismatch => "plan_mismatch",
            ErrorClass::FilesystemUnknown => "filesystem_unknown",
        }
    }

    /// The short form shown in the table's STATUS column.
    pub fn short(self) -> &'static str {
        match self {
            ErrorClass::ConnectRefused => "refused",
            ErrorClass::ConnectTimeout => "connect timeout",
            ErrorClass::Dns => "dns",
            ErrorClass::Protocol => "protocol",
            ErrorClass::NoCommonAlgorithm => "no common algorithm",
            ErrorClass::HostKeyUnknown => "unknown host key",
            ErrorClass::HostKeyChanged => "host key changed",
            ErrorClass::HostKeyRevoked => "host key revoked",
            ErrorClass::HostCertificateInvalid => "bad host certificate",
            ErrorClass::AuthFailed => "auth",
            ErrorClass::KeyUnusable => "bad key file",
            ErrorClass::SocketMissing => "no socket",
            ErrorClass::PermissionDenied => "denied",
            ErrorClass::EngineUnavailable => "no engine",
            ErrorClass::EngineError => "engine error",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Interrupted => "interrupted",
            ErrorClass::OutcomeUnknown => "OUTCOME UNKNOWN",
            ErrorClass::ResponseTooLarge => "too large",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::UnsupportedOption => "unsupported option",
            ErrorClass::Skipped => "skipped",
            ErrorClass::ProxyFailed => "proxy failed",
            ErrorClass::PlanMismatch => "not the planned host",
            ErrorClass::FilesystemUnknown => "filesystem unknown",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors that know their class; implemented by the transport and engine errors.
pub trait Classify: std::error::Error {
    fn class(&self) -> ErrorClass;
}

/// Why a host failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostFailure {
    pub stage: Stage,
    pub class: ErrorClass,
    pub message: String,
}

impl HostFailure {
    pub fn new(stage: Stage, class: ErrorClass, message: impl fmt::Display) -> HostFailure {
        HostFailure {
            stage,
            class,
            message: message.to_string(),
        }
    }

    /// Renders a typed error, once, with its own class.
    pub fn from_error(stage: Stage, error: &dyn Classify) -> HostFailure {
        HostFailure::new(stage, error.class(), error)
    }
}

/// How the engine was reached and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    pub transport: TransportKind,
    /// As the engine reported it, cut to [`crate::engine::REMOTE_STRING_LIMIT`] characters.
    pub engine_version: String,
    /// Docker or Podman.
    pub engine: crate::engine_kind::EngineKind,
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
    /// SSH connection attempts (more than 1 when `--retries` retried a transient failure).
    pub attempts: u32,
}

impl<T> HostOutcome<T> {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// The fleet's safety valves as set for the run, and whether they stopped it early.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SafetyReport {
    /// `--serial` as given (`2`, `25%`), when batches were used.
    pub serial: Option<String>,
    /// Sizes of the batches started, in order; the first is the canary when there is more than one.
    pub batches: Vec<usize>,
    pub max_fail_percentage: Option<u8>,
    pub retries: u32,
    /// Why hosts were left unstarted, when they were.
    pub stopped: Option<String>,
}

/// A fleet run: every host's outcome in inventory order, and the run's safety facts.
#[derive(Debug, Clone)]
pub struct FleetRun<T> {
    pub outcomes: Vec<HostOutcome<T>>,
    pub safety: SafetyReport,
}
