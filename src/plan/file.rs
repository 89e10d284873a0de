//! The plan file `fleetprune plan --save PLAN.json` writes and `fleetprune apply` reads: per
//! host, the identity it was made for (host key fingerprint, engine ID), when, and the objects by
//! ID with the references they had.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::plan::select::ObjectPlan;
use crate::snapshot::ImageStore;

/// Bumped on any change a reader of older files cannot follow.
pub const PLAN_FILE_VERSION: u32 = 1;

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFile {
    pub plan_file_version: u32,
    /// The controller's clock when the plan was made.
    pub created_at: Timestamp,
    pub hosts: Vec<SavedHost>,
}

/// One host's saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHost {
    pub name: String,
    /// `address:port` as contacted.
    pub address: String,
    /// The SSH host key's SHA256 fingerprint, as checked when the plan was made.
    pub host_key_fingerprint: Option<String>,
    /// `/info` `ID` of the daemon.
    pub engine_id: String,
    pub image_store: ImageStore,
    /// The daemon's clock at the snapshot.
    pub daemon_time: Timestamp,
    /// The prune plan in words.
    pub description: String,
    pub plan: ObjectPlan,
}

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("{path}: not a fleetprune plan file: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: plan file version {found}; this fleetprune reads version {PLAN_FILE_VERSION}")]
    Version { path: String, found: u32 },
}

impl PlanFile {
    pub fn to_json(&self) -> String {
        // Plain data: always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(path: &str, text: &str) -> Result<PlanFile, PlanFileError> {
        let file: PlanFile = serde_json::from_str(text).map_err(|source| PlanFileError::Parse {
            path: path.to_string(),
            source,
        })?;
        if file.plan_file_version != PLAN_FILE_VERSION {
            return Err(PlanFileError::Version {
                path: path.to_string(),
                found: file.plan_file_version,
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_file_reads_back_what_was_written() {
        let file = PlanFile {
            plan_file_version: PLAN_FILE_VERSION,
            created_at: "2026-06-01T12:00:00Z".parse().unwrap(),
            hosts: vec![SavedHost {
                name: "build-01".into(),
                address: "10.0.0.1:22".into(),
                host_key_fingerprint: Some("SHA256:abc".into()),
                engine_id: "ENGINE".into(),
                image_store: ImageStore::Graphdriver,
                daemon_time: "2026-06-01T12:00:01Z".parse().unwrap(),
                description: "images (all)".into(),
                plan: ObjectPlan::default(),
            }],
        };
        assert_eq!(
            PlanFile::from_json("p.json", &file.to_json()).unwrap(),
            file
        );
        let mut newer = file.clone();
        newer.plan_file_version = 99;
        assert!(matches!(
            PlanFile::from_json("p.json", &newer.to_json()),
            Err(PlanFileError::Version { found: 99, .. })
        ));
    }
}
