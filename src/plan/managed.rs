//! Which orchestrator manages an object, read from its labels: Kubernetes (`io.kubernetes.*`),
//! Nomad (`com.hashicorp.nomad.*`) and Swarm (`com.docker.swarm.*`) label what they create.
//! Their objects are theirs to collect; [`crate::plan::select`] keeps them unless the policy's
//! `include_managed` says otherwise. Pure data, no daemon.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An orchestrator that labels the Docker objects it manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orchestrator {
    Kubernetes,
    Nomad,
    Swarm,
}

impl Orchestrator {
    /// The label-key prefixes each orchestrator sets, in the order they are checked.
    const PREFIXES: [(&'static str, Orchestrator); 3] = [
        ("io.kubernetes.", Orchestrator::Kubernetes),
        ("com.hashicorp.nomad.", Orchestrator::Nomad),
        ("com.docker.swarm.", Orchestrator::Swarm),
    ];

    /// The orchestrator whose label an object carries, if any.
    pub fn managing(labels: &BTreeMap<String, String>) -> Option<Orchestrator> {
        labels.keys().find_map(|key| {
            Orchestrator::PREFIXES
                .iter()
                .find(|(prefix, _)| key.starts_with(prefix))
                .map(|(_, orchestrator)| *orchestrator)
        })
    }
}

impl fmt::Display for Orchestrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Orchestrator::Kubernetes => "Kubernetes",
            Orchestrator::Nomad => "Nomad",
            Orchestrator::Swarm => "Swarm",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(keys: &[&str]) -> BTreeMap<String, String> {
        keys.iter().map(|k| (k.to_string(), "x".into())).collect()
    }

    #[test]
    fn orchestrators_are_recognised_by_their_label_prefixes() {
        assert_eq!(
            Orchestrator::managing(&labels(&["io.kubernetes.pod.name"])),
            Some(Orchestrator::Kubernetes)
        );
        assert_eq!(
            Orchestrator::managing(&labels(&["a", "com.hashicorp.nomad.alloc_id"])),
            Some(Orchestrator::Nomad)
        );
        assert_eq!(
            Orchestrator::managing(&labels(&["com.docker.swarm.service.id"])),
            Some(Orchestrator::Swarm)
        );
    }

    #[test]
    fn compose_and_lookalike_labels_are_not_an_orchestrator() {
        assert_eq!(
            Orchestrator::managing(&labels(&[
                "com.docker.compose.project",
                "io.kubernetes",
                "kubernetes.io/name"
            ])),
            None
        );
    }
}
