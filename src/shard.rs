//! `--shard I/N`: a deterministic slice of the selected hosts, so N controllers (a Kubernetes
//! Indexed Job, a CI matrix, several cron hosts) cover a fleet exactly once.
//!
//! A host belongs to shard `fmix64(fnv1a64(name)) % N + 1`: FNV-1a over the name's bytes, mixed
//! by MurmurHash3's 64-bit finaliser so similar names (`host01`, `host02`) spread evenly. Both
//! are fixed algorithms, so every controller, build and platform agrees (std's hasher is seeded
//! randomly per process and could not be used). Shards are numbered from 1; `auto/N` takes the
//! index from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs, numbered from 0).

use std::fmt;
use std::str::FromStr;

/// `--shard` as written: an index or `auto`, and the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardArg {
    /// `None` for `auto`.
    index: Option<u32>,
    count: u32,
}

/// A resolved shard: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("invalid --shard {0:?}: expected I/N with 1 <= I <= N (2/4), or auto/N")]
    Syntax(String),
    #[error(
        "--shard auto/{count}: JOB_COMPLETION_INDEX is {value:?}; expected 0 to {} (a Kubernetes Indexed Job sets it)",
        count - 1
    )]
    JobIndex { count: u32, value: String },
}

impl FromStr for ShardArg {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<ShardArg, ShardError> {
        let error = || ShardError::Syntax(text.to_string());
        let (index, count) = text.split_once('/').ok_or_else(error)?;
        let count: u32 = count.parse().map_err(|_| error())?;
        if count == 0 {
            return Err(error());
        }
        let index = match index {
            "auto" => None,
            index => match index.parse::<u32>() {
                Ok(i) if (1..=count).contains(&i) => Some(i),
                _ => return Err(error()),
            },
        };
        Ok(ShardArg { index, count })
    }
}

impl ShardArg {
    /// The shard, with `auto` taken from `job_index` (`JOB_COMPLETION_INDEX`, from 0).
    pub fn resolve(self, job_index: Option<String>) -> Result<Shard, ShardError> {
        let index = match self.index {
            Some(index) => index,
            None => {
                let value = job_index.unwrap_or_default();
                match value.trim().parse::<u32>() {
                    Ok(i) if i < self.count => i + 1,
                    _ => {
                        return Err(ShardError::JobIndex {
                            count: self.count,
                            value,
                        });
                    }
                }
            }
        };
        Ok(Shard {
            index,
            count: self.count,
        })
    }
}

impl Shard {
    /// Whether the host named `name` belongs to this shard.
    pub fn includes(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (from 1) of `name` among `count`.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let hash = fmix64(fnv1a64(name.as_bytes()));
    (hash % u64::from(count)) as u32 + 1
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_host_exactly_once() {
        let hosts: Vec<String> = (1..=1000).map(|i| format!("host{i:04}")).collect();
        for count in [1, 2, 3, 4, 7, 16] {
            let shards: Vec<Shard> = (1..=count)
                .map(|i| format!("{i}/{count}").parse::<ShardArg>().unwrap())
                .map(|arg| arg.resolve(None).unwrap())
                .collect();
            for host in &hosts {
                let owners = shards.iter().filter(|s| s.includes(host)).count();
                assert_eq!(owners, 1, "{host} in {owners} of {count} shards");
            }
            // Evenly enough: no shard gets more than twice its fair share.
            for shard in &shards {
                let size = hosts.iter().filter(|h| shard.includes(h)).count();
                assert!(size <= 2 * hosts.len() / count as usize, "{shard}: {size}");
            }
        }
    }

    #[test]
    fn the_hash_is_fixed() {
        // Pinned: a change would move hosts between controllers mid-rollout.
        // FNV-1a's published test vector.
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            (1..=8)
                .map(|i| shard_of(&format!("host{i:02}"), 4))
                .collect::<Vec<_>>(),
            [2, 4, 1, 2, 4, 3, 1, 2]
        );
    }

    #[test]
    fn auto_reads_the_job_completion_index() {
        let arg: ShardArg = "auto/3".parse().unwrap();
        assert_eq!(arg.resolve(Some("0".into())).unwrap().to_string(), "1/3");
        assert_eq!(arg.resolve(Some("2".into())).unwrap().to_string(), "3/3");
        assert!(arg.resolve(Some("3".into())).is_err());
        assert!(arg.resolve(None).is_err());
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "1/4/2", "-1/4"] {
            assert!(bad.parse::<ShardArg>().is_err(), "{bad}");
        }
    }
}
