//! Docker Engine API versions (`1.41`, `1.44`, ...), as negotiated per host.
//!
//! Only comparison and formatting live here; what each version changes is decided in
//! [`crate::plan`] (requests) and [`crate::engine`] (negotiation).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An Engine API version such as `1.41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
}

impl ApiVersion {
    pub const fn new(major: u16, minor: u16) -> ApiVersion {
        ApiVersion { major, minor }
    }

    /// The first version with the volume prune `all` filter (Docker 23.0).
    pub const VOLUME_PRUNE_ALL: ApiVersion = ApiVersion::new(1, 42);
    /// The first version whose build-cache prune accepts a timestamp as `until` (Docker 24.0).
    pub const BUILD_CACHE_UNTIL_TIMESTAMP: ApiVersion = ApiVersion::new(1, 43);
    /// The first version whose build-cache prune takes `reserved-space`, `max-used-space` and
    /// `min-free-space` (Docker 28.0); before it, `keep-storage` only.
    pub const BUILD_CACHE_SPACE: ApiVersion = ApiVersion::new(1, 48);
    /// The newest version fleetprune negotiates: the newest whose answers its tests have seen
    /// from a live daemon (Docker 28.5 in the lab). A newer daemon is spoken to in 1.51, which
    /// every Docker up to 29.7 accepts (29.0-29.2 refuse only below 1.44).
    pub const NEWEST_SUPPORTED: ApiVersion = ApiVersion::new(1, 51);
    /// The oldest version fleetprune will talk to (Docker 20.10).
    pub const OLDEST_SUPPORTED: ApiVersion = ApiVersion::new(1, 41);
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version {0:?}: expected MAJOR.MINOR such as 1.41")]
pub struct ApiVersionError(String);

impl FromStr for ApiVersion {
    type Err = ApiVersionError;

    fn from_str(text: &str) -> Result<ApiVersion, ApiVersionError> {
        let error = || ApiVersionError(text.to_string());
        let (major, minor) = text.trim().split_once('.').ok_or_else(error)?;
        Ok(ApiVersion {
            major: major.parse().map_err(|_| error())?,
            minor: minor.parse().map_err(|_| error())?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_compare_numerically() {
        let old: ApiVersion = "1.9".parse().unwrap();
        let new: ApiVersion = "1.41".parse().unwrap();
        assert!(old < new);
        assert_eq!(new.to_string(), "1.41");
        assert!("1".parse::<ApiVersion>().is_err());
    }
}
