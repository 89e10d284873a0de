//! A filesystem's size and use, as `df` on a host reports it (the `threshold` and
//! `inode_threshold` keep policies): bytes from `df -P -k`, inodes from `df -P -i`.

use serde::{Deserialize, Serialize};

/// A filesystem's size and use in bytes, from `df -P -k` on the host, and its inodes from
/// `df -P -i` when an inode watermark asked for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemUsage {
    /// The directory asked about (DockerRootDir, or containerd's root).
    pub path: String,
    /// Other directories asked about that live on this same filesystem (measured once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_holds: Vec<String>,
    /// Where the filesystem holding it is mounted.
    pub mount_point: String,
    pub size: u64,
    pub used: u64,
    /// Free to unprivileged users (without the blocks reserved for root).
    pub available: u64,
    /// Its inodes, read only when an `inode_threshold` needs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inodes: Option<InodeUsage>,
}

/// A filesystem's inodes, from `df -P -i` (`Inodes IUsed IFree`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InodeUsage {
    pub total: u64,
    pub used: u64,
    pub free: u64,
}

/// Which filesystem decided a watermark policy (the fuller of those measured), for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidingFilesystem {
    /// The policy key: `threshold` or `inode_threshold`.
    pub policy: String,
    /// The directory measured there (DockerRootDir or containerd's root).
    pub path: String,
    pub mount_point: String,
}

/// `part` of `total` in percent, rounded up as df's Capacity and IUse% columns show it.
fn percent_of(part: u64, total: u64) -> u64 {
    if total == 0 {
        return 0;
    }
    (u128::from(part) * 100).div_ceil(u128::from(total)) as u64
}

/// True when `a_part / a_total` is more than `b_part / b_total` (exactly, no rounding); a
/// zero total counts as empty.
pub fn fuller(a_part: u64, a_total: u64, b_part: u64, b_total: u64) -> bool {
    match (a_total, b_total) {
        (0, _) => false,
        (_, 0) => a_part > 0,
        _ => u128::from(a_part) * u128::from(b_total) > u128::from(b_part) * u128::from(a_total),
    }
}

impl FilesystemUsage {
    /// What df's Capacity column divides by: `used + available` (reserved blocks excluded).
    pub fn usable(&self) -> u64 {
        self.used.saturating_add(self.available)
    }

    /// Used percent of `usable`, rounded up as df's Capacity column shows it.
    pub fn used_percent(&self, used: u64) -> u64 {
        percent_of(used, self.usable())
    }

    /// The directories measured on this filesystem, in words (`/a and /b`).
    pub fn paths(&self) -> String {
        std::iter::once(&self.path)
            .chain(&self.also_holds)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

impl InodeUsage {
    /// What df's IUse% column divides by: `used + free`.
    pub fn usable(&self) -> u64 {
        self.used.saturating_add(self.free)
    }

    /// Used percent, rounded up as df's IUse% column shows it.
    pub fn used_percent(&self, used: u64) -> u64 {
        percent_of(used, self.usable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuller_compares_shares_exactly_and_an_empty_total_is_empty() {
        assert!(fuller(901, 1000, 9, 10));
        assert!(!fuller(900, 1000, 9, 10), "a tie is not fuller");
        assert!(!fuller(5, 0, 0, 10));
        assert!(fuller(1, 10, 5, 0));
    }

    #[test]
    fn inode_percent_rounds_up_as_df_shows_it() {
        let inodes = InodeUsage {
            total: 3_085_471,
            used: 846,
            free: 3_084_625,
        };
        assert_eq!(inodes.used_percent(inodes.used), 1);
        assert_eq!(inodes.used_percent(0), 0);
    }
}
