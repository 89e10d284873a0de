//! A filesystem's size and use, as `df` on a host reports it (the `threshold` keep policy).

use serde::{Deserialize, Serialize};

/// A filesystem's size and use in bytes, from `df -P -k` on the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemUsage {
    /// The directory asked about (DockerRootDir).
    pub path: String,
    /// Where the filesystem holding it is mounted.
    pub mount_point: String,
    pub size: u64,
    pub used: u64,
    /// Free to unprivileged users (without the blocks reserved for root).
    pub available: u64,
}

impl FilesystemUsage {
    /// What df's Capacity column divides by: `used + available` (reserved blocks excluded).
    pub fn usable(&self) -> u64 {
        self.used.saturating_add(self.available)
    }

    /// Used percent of `usable`, rounded up as df's Capacity column shows it.
    pub fn used_percent(&self, used: u64) -> u64 {
        let total = u128::from(self.usable());
        if total == 0 {
            return 0;
        }
        (u128::from(used) * 100).div_ceil(total) as u64
    }
}
