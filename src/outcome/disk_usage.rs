//! What `df` found on a host: count, size and reclaimable bytes per kind, as `docker system df`
//! computes them.

use serde::Serialize;

/// One line of `docker system df`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageLine {
    pub total: u64,
    pub active: u64,
    pub size_bytes: u64,
    pub reclaimable_bytes: u64,
}

impl UsageLine {
    /// Adds `other`, saturating rather than wrapping on absurd daemon numbers.
    pub fn add(&mut self, other: &UsageLine) {
        self.total = self.total.saturating_add(other.total);
        self.active = self.active.saturating_add(other.active);
        self.size_bytes = self.size_bytes.saturating_add(other.size_bytes);
        self.reclaimable_bytes = self
            .reclaimable_bytes
            .saturating_add(other.reclaimable_bytes);
    }
}

/// A host's disk usage by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiskUsage {
    pub images: UsageLine,
    pub containers: UsageLine,
    pub volumes: UsageLine,
    pub build_cache: UsageLine,
}

impl DiskUsage {
    pub fn reclaimable_bytes(&self) -> u64 {
        self.lines()
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(l.reclaimable_bytes))
    }

    pub fn size_bytes(&self) -> u64 {
        self.lines()
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(l.size_bytes))
    }

    fn lines(&self) -> [UsageLine; 4] {
        [self.images, self.containers, self.volumes, self.build_cache]
    }

    pub fn add(&mut self, other: &DiskUsage) {
        self.images.add(&other.images);
        self.containers.add(&other.containers);
        self.volumes.add(&other.volumes);
        self.build_cache.add(&other.build_cache);
    }
}
