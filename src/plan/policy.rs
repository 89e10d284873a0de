//! Keep policies: what docker's prune filters cannot say (docker-gc's and docuum's rules), set
//! in the inventory's `fleetprune.prune` or on the command line. When a host has one, fleetprune
//! decides the object list itself ([`crate::plan::select`] honours the policy) and deletes by ID.
//!
//! - `keep_last: N`: the N most recently created tagged images of each repository stay;
//! - `protect: [globs]` on image references (`registry.example.com/base/*`, `*:stable`);
//! - `protect_labels: [k or k=v]` on images, containers, volumes and networks;
//! - `protect_containers: [globs]` on container names (their images stay too);
//! - `min_age: 48h`: nothing created more recently goes (docker-gc's grace period);
//! - `unused_for: 14d`: images used more recently stay; an image's last use is the latest of its
//!   containers' create/start/finish times and of what fleetprune saw on earlier runs
//!   ([`crate::use_log`]), else its creation;
//! - `max_usage: 50GB` (or `{ high: 50GB, low: 40GB }`): hosts whose docker usage is above the
//!   high mark lose stopped containers, dangling images, build cache, then least recently used
//!   images until the prediction reaches the low mark; hosts under it are left alone;
//! - `threshold: { high: 85%, low: 70% }` (or `85%`): the same stages, measured on the
//!   filesystem holding DockerRootDir (its `df` on the host) instead of docker's own usage, or
//!   on the one holding containerd's root when the containerd image store keeps its images
//!   there and that one is fuller;
//! - `inode_threshold: { high: 90%, low: 80% }` (or `90%`): the same on those filesystems'
//!   inodes (`df -i`), since build hosts can run out of inodes before bytes;
//! - `exited_for: 1h`: containers that exited (`State.FinishedAt`) less than this ago stay;
//! - `keep_exited: N`: the N most recently exited containers of each name stem or compose
//!   service stay (kubelet's `maximum-dead-containers-per-container`);
//! - `include_managed: true`: lifts the default protection of objects an orchestrator manages
//!   ([`crate::plan::managed`]).

use std::collections::BTreeMap;
use std::fmt;

use globset::{Glob, GlobMatcher};
use jiff::{SignedDuration, Span, SpanRelativeTo};

/// A host's keep policy; empty when nothing is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeepPolicy {
    pub keep_last: Option<usize>,
    pub protect: Vec<String>,
    pub protect_labels: Vec<String>,
    pub protect_containers: Vec<String>,
    pub min_age: Option<SignedDuration>,
    /// Images last used (by a container, or as fleetprune saw on earlier runs) more recently
    /// than this stay.
    pub unused_for: Option<SignedDuration>,
    /// A bound on docker's own disk usage: hosts above `high` lose objects until `low`.
    pub max_usage: Option<UsageLimit>,
    /// A bound on how full the filesystem holding DockerRootDir (or containerd's root, the
    /// fuller) may be.
    pub threshold: Option<DiskThreshold>,
    /// The same bound on those filesystems' inodes.
    pub inode_threshold: Option<DiskThreshold>,
    /// Stopped containers that finished less than this long ago stay.
    pub exited_for: Option<SignedDuration>,
    /// The N most recently exited containers of each name stem or compose service stay.
    pub keep_exited: Option<usize>,
    /// Kubernetes', Nomad's and Swarm's objects may go too (they are protected by default).
    pub include_managed: bool,
}

/// `threshold`: the filesystem holding DockerRootDir, used above `high` percent, is brought
/// down to `low` percent (used / (used + available), as df's Capacity column); also
/// `inode_threshold`, on inodes (used / (used + free), as df's IUse% column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskThreshold {
    pub high: Percent,
    pub low: Percent,
}

/// A percentage with two decimals, 0% to 100%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent {
    hundredths: u16,
}

impl Percent {
    /// Whole percents (0..=100).
    pub fn new(percent: u8) -> Percent {
        Percent {
            hundredths: u16::from(percent.min(100)) * 100,
        }
    }

    /// The fraction of `total` this percentage is, rounded down.
    pub fn of(self, total: u64) -> u64 {
        (u128::from(total) * u128::from(self.hundredths) / 10_000) as u64
    }

    /// True when `part` of `total` is more than this percentage.
    pub fn exceeded_by(self, part: u64, total: u64) -> bool {
        u128::from(part) * 10_000 > u128::from(self.hundredths) * u128::from(total)
    }
}

impl std::str::FromStr for Percent {
    type Err = PolicyError;

    /// `85%`, `72.5%`.
    fn from_str(text: &str) -> Result<Percent, PolicyError> {
        let error = || PolicyError::Percent(text.to_string());
        let number = text.trim().strip_suffix('%').ok_or_else(error)?.trim();
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
            return Err(error());
        }
        let whole: u32 = whole.parse().map_err(|_| error())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| error())?;
        let hundredths = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(fraction))
            .filter(|h| *h <= 10_000)
            .ok_or_else(error)?;
        Ok(Percent {
            hundredths: hundredths as u16,
        })
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.hundredths / 100, self.hundredths % 100);
        match fraction {
            0 => write!(f, "{whole}%"),
            f10 if f10 % 10 == 0 => write!(f, "{whole}.{}%", f10 / 10),
            _ => write!(f, "{whole}.{fraction:02}%"),
        }
    }
}

impl std::str::FromStr for DiskThreshold {
    type Err = PolicyError;

    /// `85%`, or `85%:70%` (high:low).
    fn from_str(text: &str) -> Result<DiskThreshold, PolicyError> {
        let (high, low) = match text.split_once(':') {
            Some((high, low)) => (high.parse()?, low.parse()?),
            None => {
                let high = text.parse()?;
                (high, high)
            }
        };
        if low > high {
            return Err(PolicyError::Percent(format!(
                "{text}: the low mark is above the high one"
            )));
        }
        Ok(DiskThreshold { high, low })
    }
}

/// `max_usage`: docker's own usage (images' layers, containers' RW layers, volumes, build
/// cache) above `high` is brought down to `low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageLimit {
    pub high: u64,
    pub low: u64,
}

impl std::str::FromStr for UsageLimit {
    type Err = PolicyError;

    /// `50GB`, or `50GB:40GB` (high:low).
    fn from_str(text: &str) -> Result<UsageLimit, PolicyError> {
        let (high, low) = match text.split_once(':') {
            Some((high, low)) => (parse_size(high)?, parse_size(low)?),
            None => {
                let high = parse_size(text)?;
                (high, high)
            }
        };
        if low > high {
            return Err(PolicyError::Size(format!(
                "{text}: the low mark is above the high one"
            )));
        }
        Ok(UsageLimit { high, low })
    }
}

/// `50GB`, `1.5GiB`, `500MB`, `1024`: docker's decimal units, and binary ones.
pub fn parse_size(text: &str) -> Result<u64, PolicyError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| PolicyError::Size(text.to_string()))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(PolicyError::Size(text.to_string())),
    };
    Ok((number * factor) as u64)
}

/// Why a policy value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid glob {glob:?}: {message}")]
    Glob { glob: String, message: String },
    #[error("invalid duration {0:?}: expected e.g. 48h, 14d, 2h30m, at most {MAX_AGE_TEXT}")]
    Duration(String),
    #[error("duration {0:?} is longer than {MAX_AGE_TEXT}, the longest fleetprune accepts")]
    DurationTooLong(String),
    #[error("invalid size {0:?}: expected e.g. 50GB, 1.5GiB, or HIGH:LOW such as 50GB:40GB")]
    Size(String),
    #[error("invalid percentage {0:?}: expected 0% to 100%, e.g. 85%, or HIGH:LOW such as 85%:70%")]
    Percent(String),
}

/// The longest age a policy or `--max-age` takes: 100 years, so that any timestamp minus it
/// stays a timestamp.
pub const MAX_AGE: SignedDuration = SignedDuration::from_hours(876_000);
const MAX_AGE_TEXT: &str = "36500d (100 years)";

/// `48h`, `14d`, `2w`, `2h30m` (days are 24 hours), at most [`MAX_AGE`].
pub fn parse_age(text: &str) -> Result<SignedDuration, PolicyError> {
    let age = text
        .trim()
        .parse::<Span>()
        .ok()
        .and_then(|span| span.to_duration(SpanRelativeTo::days_are_24_hours()).ok())
        .filter(|d| !d.is_negative())
        .ok_or_else(|| PolicyError::Duration(text.to_string()))?;
    if age > MAX_AGE {
        return Err(PolicyError::DurationTooLong(text.to_string()));
    }
    Ok(age)
}

impl KeepPolicy {
    /// True when a watermark reads the host's filesystems with df.
    pub fn measures_filesystems(&self) -> bool {
        self.threshold.is_some() || self.inode_threshold.is_some()
    }

    /// True when no rule needs fleetprune's own object-level decision: `include_managed` alone
    /// only lifts a protection, so the daemon's prune endpoints can do the work.
    pub fn is_empty(&self) -> bool {
        KeepPolicy {
            include_managed: false,
            ..self.clone()
        } == KeepPolicy::default()
    }

    /// Checks the globs once, before any host is contacted.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for glob in self.protect.iter().chain(&self.protect_containers) {
            matcher(glob)?;
        }
        Ok(())
    }

    /// The compiled form used by the selection.
    pub(crate) fn compile(&self) -> CompiledPolicy {
        let compile = |globs: &[String]| {
            globs
                .iter()
                .filter_map(|g| matcher(g).ok().map(|m| (g.clone(), m)))
                .collect()
        };
        CompiledPolicy {
            keep_last: self.keep_last,
            protect: compile(&self.protect),
            protect_labels: self.protect_labels.clone(),
            protect_containers: compile(&self.protect_containers),
            min_age: self.min_age,
            unused_for: self.unused_for,
            exited_for: self.exited_for,
            keep_exited: self.keep_exited,
            include_managed: self.include_managed,
        }
    }
}

impl fmt::Display for KeepPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.keep_last {
            parts.push(format!("keep_last={n}"));
        }
        for p in &self.protect {
            parts.push(format!("protect={p}"));
        }
        for p in &self.protect_labels {
            parts.push(format!("protect_label={p}"));
        }
        for p in &self.protect_containers {
            parts.push(format!("protect_container={p}"));
        }
        if let Some(age) = self.min_age {
            parts.push(format!("min_age={age:#}"));
        }
        if let Some(age) = self.unused_for {
            parts.push(format!("unused_for={age:#}"));
        }
        if let Some(limit) = self.max_usage {
            parts.push(format!("max_usage={}:{}", limit.high, limit.low));
        }
        if let Some(threshold) = self.threshold {
            parts.push(format!("threshold={}:{}", threshold.high, threshold.low));
        }
        if let Some(threshold) = self.inode_threshold {
            parts.push(format!(
                "inode_threshold={}:{}",
                threshold.high, threshold.low
            ));
        }
        if let Some(age) = self.exited_for {
            parts.push(format!("exited_for={age:#}"));
        }
        if let Some(n) = self.keep_exited {
            parts.push(format!("keep_exited={n}"));
        }
        if self.include_managed {
            parts.push("include_managed".to_string());
        }
        f.write_str(&parts.join(", "))
    }
}

fn matcher(glob: &str) -> Result<GlobMatcher, PolicyError> {
    Glob::new(glob)
        .map(|g| g.compile_matcher())
        .map_err(|e| PolicyError::Glob {
            glob: glob.to_string(),
            message: e.kind().to_string(),
        })
}

/// A policy ready to match.
pub(crate) struct CompiledPolicy {
    pub keep_last: Option<usize>,
    pub protect: Vec<(String, GlobMatcher)>,
    pub protect_labels: Vec<String>,
    pub protect_containers: Vec<(String, GlobMatcher)>,
    pub min_age: Option<SignedDuration>,
    pub unused_for: Option<SignedDuration>,
    pub exited_for: Option<SignedDuration>,
    pub keep_exited: Option<usize>,
    pub include_managed: bool,
}

impl CompiledPolicy {
    /// The first protect glob matching one of `refs`.
    pub fn protected_ref<'a>(&'a self, refs: impl Iterator<Item = &'a String>) -> Option<String> {
        let refs: Vec<&String> = refs.collect();
        self.protect.iter().find_map(|(glob, m)| {
            refs.iter()
                .find(|r| m.is_match(r.as_str()))
                .map(|r| format!("{r} matches {glob}"))
        })
    }

    /// The first protect label the labels carry.
    pub fn protected_label(&self, labels: &BTreeMap<String, String>) -> Option<String> {
        self.protect_labels
            .iter()
            .find(|p| match p.split_once('=') {
                Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
                None => labels.contains_key(p.as_str()),
            })
            .map(|p| format!("label {p}"))
    }

    /// The first container-name glob matching `name`.
    pub fn protected_container(&self, name: &str) -> Option<String> {
        self.protect_containers
            .iter()
            .find(|(_, m)| m.is_match(name))
            .map(|(glob, _)| format!("{name} matches {glob}"))
    }

    /// True when `created` is within `min_age` of `now`.
    pub fn too_young(&self, created: Option<jiff::Timestamp>, now: jiff::Timestamp) -> bool {
        match (self.min_age, created) {
            (Some(age), Some(created)) => now.duration_since(created) < age,
            (Some(_), None) => false,
            (None, _) => false,
        }
    }

    /// True when a container that finished at `finished` did so within `exited_for` of `now`.
    pub fn exited_recently(&self, finished: Option<jiff::Timestamp>, now: jiff::Timestamp) -> bool {
        match (self.exited_for, finished) {
            (Some(grace), Some(finished)) => now.duration_since(finished) < grace,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_take_days_and_weeks_as_24_hours() {
        assert_eq!(parse_age("14d").unwrap(), SignedDuration::from_hours(336));
        assert_eq!(parse_age("48h").unwrap(), SignedDuration::from_hours(48));
        assert_eq!(parse_age("1w").unwrap(), SignedDuration::from_hours(168));
        assert!(parse_age("banana").is_err());
    }

    #[test]
    fn ages_are_bounded_with_the_limit_in_the_message() {
        assert_eq!(parse_age("36500d").unwrap(), MAX_AGE);
        assert_eq!(
            parse_age("36501d").unwrap_err().to_string(),
            "duration \"36501d\" is longer than 36500d (100 years), the longest fleetprune accepts"
        );
        // Past jiff's own range: still refused, still naming the limit.
        assert_eq!(
            parse_age("9999999999999h").unwrap_err().to_string(),
            "invalid duration \"9999999999999h\": expected e.g. 48h, 14d, 2h30m, at most 36500d (100 years)"
        );
    }

    #[test]
    fn sizes_and_limits_read_docker_units() {
        assert_eq!(parse_size("50GB").unwrap(), 50_000_000_000);
        assert_eq!(parse_size("1.5GiB").unwrap(), 1_610_612_736);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert!(parse_size("lots").is_err());
        let limit: UsageLimit = "50GB:40GB".parse().unwrap();
        assert_eq!((limit.high, limit.low), (50_000_000_000, 40_000_000_000));
        assert!("40GB:50GB".parse::<UsageLimit>().is_err());
    }

    #[test]
    fn thresholds_read_percentages_and_refuse_bad_ones() {
        let t: DiskThreshold = "85%:70%".parse().unwrap();
        assert_eq!((t.high, t.low), (Percent::new(85), Percent::new(70)));
        let t: DiskThreshold = "85%".parse().unwrap();
        assert_eq!((t.high, t.low), (Percent::new(85), Percent::new(85)));
        let t: DiskThreshold = "72.5%:0%".parse().unwrap();
        assert_eq!(
            (t.high.to_string(), t.low.to_string()),
            ("72.5%".into(), "0%".into())
        );
        assert_eq!("100%".parse::<Percent>().unwrap().to_string(), "100%");
        assert_eq!("12.34%".parse::<Percent>().unwrap().to_string(), "12.34%");
        for bad in [
            "85", "101%", "70%:85%", "-1%", "%", "85%:", "x%", "1.234%", "85 %%", "1e2%", "",
        ] {
            let error = bad.parse::<DiskThreshold>().unwrap_err();
            assert!(matches!(error, PolicyError::Percent(_)), "{bad}: {error}");
        }
        assert!(
            "70%:85%"
                .parse::<DiskThreshold>()
                .unwrap_err()
                .to_string()
                .contains("the low mark is above the high one")
        );
    }

    #[test]
    fn percentages_compare_and_take_their_share_exactly() {
        let high = Percent::new(85);
        assert!(!high.exceeded_by(85, 100));
        assert!(high.exceeded_by(86, 100));
        assert_eq!(Percent::new(70).of(1000), 700);
        assert_eq!("72.5%".parse::<Percent>().unwrap().of(1000), 725);
        assert_eq!(Percent::new(100).of(u64::MAX), u64::MAX);
    }

    #[test]
    fn globs_match_references_and_bad_globs_are_refused() {
        let policy = KeepPolicy {
            protect: vec!["registry.example.com/base/*".into(), "*:stable".into()],
            ..KeepPolicy::default()
        };
        let compiled = policy.compile();
        let refs = ["app:stable".to_string()];
        assert!(compiled.protected_ref(refs.iter()).is_some());
        let refs = ["registry.example.com/base/os:1".to_string()];
        assert!(compiled.protected_ref(refs.iter()).is_some());
        let refs = ["app:1".to_string()];
        assert!(compiled.protected_ref(refs.iter()).is_none());
        let bad = KeepPolicy {
            protect: vec!["a[".into()],
            ..KeepPolicy::default()
        };
        assert!(bad.validate().is_err());
    }
}
