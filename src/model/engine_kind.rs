//! Which engine answers on a host's socket: Docker, or Podman's Docker-compatible service.
//!
//! Plain data shared by every floor: [`crate::engine`] detects it, [`crate::plan`] and
//! [`crate::commands::prune`] follow docker's semantics on either, and the reports name it. What differs
//! between the two is written in docs/engines-semantics.md.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The engine behind the socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// Docker Engine (moby).
    #[default]
    Docker,
    /// Podman's `podman system service`, told apart by its `Libpod-Api-Version` header.
    Podman,
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        })
    }
}
