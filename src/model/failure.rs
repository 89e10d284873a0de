//! A host's failure as a value: the step it happened in ([`Stage`]), a stable documented class
//! ([`ErrorClass`], what scripts match on) and the message, rendered once from a typed error
//! that knows its class ([`Classify`]).

use std::fmt;

use serde::Serialize;

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
    /// A bug in fleetprune stopped the host while no request that may delete was in flight
    /// (with one in flight, the host is `OutcomeUnknown`).
    Internal,
    /// The host's busy guard said busy (a matching running container, or `busy_check` failed
    /// or could not run): skipped before the first deletion or between kinds, with the reason.
    /// Not a failure for the exit code unless `--fail-on-busy`.
    Busy,
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
            ErrorClass::Internal => "internal_error",
            ErrorClass::Busy => "busy",
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
            ErrorClass::Internal => "INTERNAL ERROR",
            ErrorClass::Busy => "busy",
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
