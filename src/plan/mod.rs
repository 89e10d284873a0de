//! What to prune on one host, as pure data: the kinds, their `all` switches, the filters, and the
//! exact Engine API requests they become for a given API version.
//!
//! Nothing here talks to a daemon; [`crate::commands::prune`] makes the calls. Keeping the decision apart
//! lets `inventory` print effective plans and lets every rule be unit-tested. [`select`] predicts,
//! from a host snapshot, exactly which objects those requests would delete.

pub mod busy;
pub mod file;
pub mod managed;
pub mod policy;
pub mod select;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::api_version::ApiVersion;
use crate::filter::FilterSet;
use crate::model::engine_kind::EngineKind;
use policy::KeepPolicy;

/// The prune kinds, declared in `docker system prune` order, which is also the order they run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneKind {
    Containers,
    Networks,
    Volumes,
    Images,
    BuildCache,
}

impl PruneKind {
    /// The noun docker uses in its prune warnings.
    pub fn noun(self) -> &'static str {
        match self {
            PruneKind::Containers => "containers",
            PruneKind::Networks => "networks",
            PruneKind::Volumes => "volumes",
            PruneKind::Images => "images",
            PruneKind::BuildCache => "build cache",
        }
    }
}

impl fmt::Display for PruneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// Which kinds `-a/--all` (or an inventory `all: true`) widens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AllScope {
    /// All unused images, not only dangling ones.
    pub images: bool,
    /// Named volumes too, not only anonymous ones (API >= 1.42).
    pub volumes: bool,
    /// All build cache, including internal and shared records.
    pub build_cache: bool,
}

/// The size controls of a build-cache prune, in bytes, as `docker buildx prune` spells them
/// (`--keep-storage` is the older name of `--reserved-space`). With any of them the daemon
/// decides which records go: it stops once the cache is within the limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BuildCacheSpace {
    /// Keep at least this much cache (`reserved-space`; `keep-storage` before API 1.48).
    pub reserved_space: Option<u64>,
    /// Keep the cache at most this large (API >= 1.48).
    pub max_used_space: Option<u64>,
    /// Keep at least this much of the disk free (API >= 1.48).
    pub min_free_space: Option<u64>,
}

impl BuildCacheSpace {
    pub fn is_empty(&self) -> bool {
        *self == BuildCacheSpace::default()
    }

    /// The `/build/prune` query parameters for `api`: the names changed at 1.48, where
    /// `keep-storage` became `reserved-space` and the other two appeared.
    fn query(&self, api: ApiVersion) -> Result<BTreeMap<String, u64>, PlanError> {
        let mut query = BTreeMap::new();
        let new_names = api >= ApiVersion::BUILD_CACHE_SPACE;
        if let Some(bytes) = self.reserved_space {
            let name = if new_names {
                "reserved-space"
            } else {
                "keep-storage"
            };
            query.insert(name.to_string(), bytes);
        }
        for (name, value) in [
            ("max-used-space", self.max_used_space),
            ("min-free-space", self.min_free_space),
        ] {
            if let Some(bytes) = value {
                if !new_names {
                    return Err(PlanError::BuildCacheSpaceNeedsApi148 { api, option: name });
                }
                query.insert(name.to_string(), bytes);
            }
        }
        Ok(query)
    }
}

impl fmt::Display for BuildCacheSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (name, value) in [
            ("reserved-space", self.reserved_space),
            ("max-used-space", self.max_used_space),
            ("min-free-space", self.min_free_space),
        ] {
            if let Some(bytes) = value {
                parts.push(format!("{name}={}", crate::human_size::human_size(bytes)));
            }
        }
        f.write_str(&parts.join(" "))
    }
}

/// A validated prune plan for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    kinds: BTreeSet<PruneKind>,
    all: AllScope,
    filters: FilterSet,
    /// Empty unless a keep policy is set; then fleetprune deletes by ID.
    policy: KeepPolicy,
    /// Build-cache size controls, sent to the daemon as they are.
    build_cache_space: BuildCacheSpace,
}

/// Why a plan cannot run, either anywhere (checked before any host is contacted) or on one host's
/// API version (checked once connected, before the first delete).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "nothing to prune: give at least one of --containers, --images, --volumes, --networks, --build-cache, --system, or a prune plan in the inventory"
    )]
    NoKinds,
    #[error(
        "the until filter does not apply to volumes (docker has none for volumes); prune volumes in a separate run"
    )]
    UntilWithVolumes,
    #[error(
        "label filters do not apply to build cache (the daemon ignores them and would prune everything); prune build cache in a separate run"
    )]
    LabelWithBuildCache,
    #[error("the dangling filter applies only to images, and images are not selected")]
    DanglingWithoutImages,
    #[error("dangling=true contradicts -a/--all for images")]
    DanglingContradictsAll,
    #[error("build cache on API {api} accepts only a duration as until (e.g. 240h), not {value:?}")]
    BuildCacheUntilNeedsDuration { api: ApiVersion, value: String },
    #[error(transparent)]
    Busy(#[from] busy::BusyError),
    #[error(
        "the build cache size controls (reserved-space, max-used-space, min-free-space, keep-storage) apply only to build cache, and build cache is not selected"
    )]
    BuildCacheSpaceWithoutBuildCache,
    #[error(
        "{option} needs API 1.48 (Docker 28.0); this engine speaks API {api}, whose build-cache prune takes only keep-storage (--reserved-space)"
    )]
    BuildCacheSpaceNeedsApi148 {
        api: ApiVersion,
        option: &'static str,
    },
}

/// Which volumes a volume prune removes on a host: this depends on its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeScope {
    /// API >= 1.42 without `all`: only anonymous volumes.
    Anonymous,
    /// API >= 1.42 with `all=true`: named and anonymous volumes.
    NamedAndAnonymous,
    /// API < 1.42: the daemon has no `all` filter and always removes named volumes too.
    NamedAndAnonymousLegacy,
}

impl fmt::Display for VolumeScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VolumeScope::Anonymous => "anonymous volumes only",
            VolumeScope::NamedAndAnonymous => "named and anonymous volumes",
            VolumeScope::NamedAndAnonymousLegacy => {
                "named and anonymous volumes (API < 1.42 always prunes named volumes)"
            }
        })
    }
}

/// One prune call, exactly as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneRequest {
    pub kind: PruneKind,
    /// The `filters` query parameter, `{"key": ["value", ...]}`.
    pub filters: BTreeMap<String, Vec<String>>,
    /// The build-cache `all` query parameter; `None` for other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_cache_all: Option<bool>,
    /// Build-cache size controls by their query name for this API version (`keep-storage`,
    /// `reserved-space`, ...), in bytes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub build_cache_space: BTreeMap<String, u64>,
    /// Volumes on Podman without `all`: not `/volumes/prune` (which removes named volumes
    /// there), but the anonymous unused volumes selected and deleted one by one, by name.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub volumes_by_name: bool,
}

impl PrunePlan {
    /// Validates the kind/filter combination, before any host is contacted.
    pub fn new(
        kinds: BTreeSet<PruneKind>,
        mut all: AllScope,
        filters: FilterSet,
    ) -> Result<PrunePlan, PlanError> {
        if kinds.is_empty() {
            return Err(PlanError::NoKinds);
        }
        if filters.until().is_some() && kinds.contains(&PruneKind::Volumes) {
            return Err(PlanError::UntilWithVolumes);
        }
        if filters.has_labels() && kinds.contains(&PruneKind::BuildCache) {
            return Err(PlanError::LabelWithBuildCache);
        }
        match filters.dangling() {
            Some(_) if !kinds.contains(&PruneKind::Images) => {
                return Err(PlanError::DanglingWithoutImages);
            }
            Some(true) if all.images => return Err(PlanError::DanglingContradictsAll),
            Some(false) => all.images = true,
            _ => {}
        }
        Ok(PrunePlan {
            kinds,
            all,
            filters,
            policy: KeepPolicy::default(),
            build_cache_space: BuildCacheSpace::default(),
        })
    }

    /// The same plan with build-cache size controls; refused when build cache is not pruned.
    pub fn with_build_cache_space(
        mut self,
        space: BuildCacheSpace,
    ) -> Result<PrunePlan, PlanError> {
        if !space.is_empty() && !self.includes(PruneKind::BuildCache) {
            return Err(PlanError::BuildCacheSpaceWithoutBuildCache);
        }
        self.build_cache_space = space;
        Ok(self)
    }

    pub fn build_cache_space(&self) -> BuildCacheSpace {
        self.build_cache_space
    }

    /// The same plan with a keep policy.
    pub fn with_policy(mut self, policy: KeepPolicy) -> PrunePlan {
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &KeepPolicy {
        &self.policy
    }

    pub fn kinds(&self) -> impl Iterator<Item = PruneKind> + '_ {
        self.kinds.iter().copied()
    }

    pub fn includes(&self, kind: PruneKind) -> bool {
        self.kinds.contains(&kind)
    }

    pub fn all(&self) -> AllScope {
        self.all
    }

    pub fn filters(&self) -> &FilterSet {
        &self.filters
    }

    /// What a volume prune removes on `engine` speaking `api`. On Podman, fleetprune keeps
    /// docker's meaning whatever the API version: named volumes only with `all`.
    pub fn volume_scope(&self, api: ApiVersion, engine: EngineKind) -> VolumeScope {
        if engine == EngineKind::Docker && api < ApiVersion::VOLUME_PRUNE_ALL {
            VolumeScope::NamedAndAnonymousLegacy
        } else if self.all.volumes {
            VolumeScope::NamedAndAnonymous
        } else {
            VolumeScope::Anonymous
        }
    }

    /// The calls to make on `engine` speaking `api`, in `docker system prune` order.
    pub fn requests(
        &self,
        api: ApiVersion,
        engine: EngineKind,
    ) -> Result<Vec<PruneRequest>, PlanError> {
        self.kinds()
            .map(|kind| self.request(kind, api, engine))
            .collect()
    }

    fn request(
        &self,
        kind: PruneKind,
        api: ApiVersion,
        engine: EngineKind,
    ) -> Result<PruneRequest, PlanError> {
        let mut filters = self.filters.to_api_map();
        let mut build_cache_all = None;
        let mut build_cache_space = BTreeMap::new();
        let mut volumes_by_name = false;
        match kind {
            PruneKind::Containers | PruneKind::Networks => {}
            PruneKind::Images => {
                // docker image prune always states the mode explicitly.
                let dangling = if self.all.images { "false" } else { "true" };
                filters.insert("dangling".into(), vec![dangling.into()]);
            }
            PruneKind::Volumes => match (engine, self.volume_scope(api, engine)) {
                (EngineKind::Docker, VolumeScope::NamedAndAnonymous) => {
                    filters.insert("all".into(), vec!["true".into()]);
                }
                // Podman's `/volumes/prune` refuses an `all` filter and removes named volumes
                // without one (up to 5.8 at least): right for `-a`, never without.
                (EngineKind::Podman, VolumeScope::Anonymous) => volumes_by_name = true,
                _ => {}
            },
            PruneKind::BuildCache => {
                if let Some(until) = self.filters.until()
                    && api < ApiVersion::BUILD_CACHE_UNTIL_TIMESTAMP
                    && !until.is_duration()
                {
                    return Err(PlanError::BuildCacheUntilNeedsDuration {
                        api,
                        value: until.as_str().to_string(),
                    });
                }
                build_cache_all = Some(self.all.build_cache);
                build_cache_space = self.build_cache_space.query(api)?;
            }
        }
        Ok(PruneRequest {
            kind,
            filters,
            build_cache_all,
            build_cache_space,
            volumes_by_name,
        })
    }

    /// A one-line description such as `containers, images (all unused) until=240h`.
    pub fn describe(&self) -> String {
        let kinds: Vec<String> = self
            .kinds()
            .map(|kind| {
                let widened = match kind {
                    PruneKind::Images => self.all.images,
                    PruneKind::Volumes => self.all.volumes,
                    PruneKind::BuildCache => self.all.build_cache,
                    PruneKind::Containers | PruneKind::Networks => false,
                };
                if widened {
                    format!("{kind} (all)")
                } else {
                    kind.to_string()
                }
            })
            .collect();
        let mut text = if self.filters.is_empty() {
            kinds.join(", ")
        } else {
            format!("{} [{}]", kinds.join(", "), self.filters)
        };
        if !self.build_cache_space.is_empty() {
            text.push_str(&format!(" space({})", self.build_cache_space));
        }
        if self.policy != KeepPolicy::default() {
            text.push_str(&format!(" keep({})", self.policy));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_20_10: ApiVersion = ApiVersion::new(1, 41);
    const API_25: ApiVersion = ApiVersion::new(1, 44);
    const API_28: ApiVersion = ApiVersion::new(1, 51);
    const DOCKER: EngineKind = EngineKind::Docker;
    const PODMAN: EngineKind = EngineKind::Podman;

    fn plan(kinds: &[PruneKind], all: AllScope, filters: &[&str]) -> Result<PrunePlan, PlanError> {
        PrunePlan::new(
            kinds.iter().copied().collect(),
            all,
            FilterSet::parse(filters).unwrap(),
        )
    }

    #[test]
    fn plan_without_kinds_is_rejected() {
        assert_eq!(plan(&[], AllScope::default(), &[]), Err(PlanError::NoKinds));
    }

    #[test]
    fn requests_run_in_system_prune_order() {
        let p = plan(
            &[
                PruneKind::BuildCache,
                PruneKind::Images,
                PruneKind::Containers,
                PruneKind::Networks,
            ],
            AllScope::default(),
            &[],
        )
        .unwrap();
        let kinds: Vec<PruneKind> = p
            .requests(API_25, DOCKER)
            .unwrap()
            .iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                PruneKind::Containers,
                PruneKind::Networks,
                PruneKind::Images,
                PruneKind::BuildCache
            ]
        );
    }

    #[test]
    fn images_always_send_dangling_like_docker_cli() {
        let dangling_only = plan(&[PruneKind::Images], AllScope::default(), &[]).unwrap();
        assert_eq!(
            dangling_only.requests(API_25, DOCKER).unwrap()[0].filters["dangling"],
            ["true"]
        );
        let all = AllScope {
            images: true,
            ..AllScope::default()
        };
        let every_unused = plan(&[PruneKind::Images], all, &[]).unwrap();
        assert_eq!(
            every_unused.requests(API_25, DOCKER).unwrap()[0].filters["dangling"],
            ["false"]
        );
    }

    #[test]
    fn dangling_false_filter_means_all_images() {
        let p = plan(
            &[PruneKind::Images],
            AllScope::default(),
            &["dangling=false"],
        )
        .unwrap();
        assert!(p.all().images);
    }

    #[test]
    fn dangling_true_contradicts_all() {
        let all = AllScope {
            images: true,
            ..AllScope::default()
        };
        assert_eq!(
            plan(&[PruneKind::Images], all, &["dangling=true"]),
            Err(PlanError::DanglingContradictsAll)
        );
    }

    #[test]
    fn dangling_without_images_is_rejected() {
        assert_eq!(
            plan(
                &[PruneKind::Containers],
                AllScope::default(),
                &["dangling=true"]
            ),
            Err(PlanError::DanglingWithoutImages)
        );
    }

    #[test]
    fn until_with_volumes_is_rejected() {
        assert_eq!(
            plan(
                &[PruneKind::Volumes, PruneKind::Images],
                AllScope::default(),
                &["until=24h"]
            ),
            Err(PlanError::UntilWithVolumes)
        );
    }

    #[test]
    fn labels_with_build_cache_are_rejected() {
        assert_eq!(
            plan(
                &[PruneKind::BuildCache],
                AllScope::default(),
                &["label!=keep"]
            ),
            Err(PlanError::LabelWithBuildCache)
        );
    }

    #[test]
    fn volume_all_is_sent_only_from_api_1_42() {
        let all = AllScope {
            volumes: true,
            ..AllScope::default()
        };
        let p = plan(&[PruneKind::Volumes], all, &[]).unwrap();
        assert_eq!(
            p.requests(API_25, DOCKER).unwrap()[0].filters["all"],
            ["true"]
        );
        assert!(
            !p.requests(API_20_10, DOCKER).unwrap()[0]
                .filters
                .contains_key("all")
        );
        assert_eq!(
            p.volume_scope(API_20_10, DOCKER),
            VolumeScope::NamedAndAnonymousLegacy
        );
        assert_eq!(
            p.volume_scope(API_25, DOCKER),
            VolumeScope::NamedAndAnonymous
        );
    }

    #[test]
    fn volume_prune_without_all_is_anonymous_only_on_new_daemons() {
        let p = plan(&[PruneKind::Volumes], AllScope::default(), &["label!=keep"]).unwrap();
        assert_eq!(p.volume_scope(API_25, DOCKER), VolumeScope::Anonymous);
        assert_eq!(
            p.requests(API_25, DOCKER).unwrap()[0].filters["label!"],
            ["keep"]
        );
    }

    #[test]
    fn podman_never_gets_volumes_prune_without_all() {
        let p = plan(&[PruneKind::Volumes], AllScope::default(), &["label!=keep"]).unwrap();
        for api in [API_20_10, API_25] {
            assert_eq!(p.volume_scope(api, PODMAN), VolumeScope::Anonymous);
            let request = &p.requests(api, PODMAN).unwrap()[0];
            assert!(request.volumes_by_name, "API {api}");
            assert_eq!(request.filters["label!"], ["keep"]);
        }
        assert!(!p.requests(API_25, DOCKER).unwrap()[0].volumes_by_name);
    }

    #[test]
    fn podman_volume_prune_with_all_sends_no_all_filter() {
        let all = AllScope {
            volumes: true,
            ..AllScope::default()
        };
        let p = plan(&[PruneKind::Volumes], all, &[]).unwrap();
        let request = &p.requests(API_25, PODMAN).unwrap()[0];
        assert!(!request.volumes_by_name);
        assert!(!request.filters.contains_key("all"));
        assert_eq!(
            p.volume_scope(API_25, PODMAN),
            VolumeScope::NamedAndAnonymous
        );
    }

    #[test]
    fn build_cache_timestamp_until_needs_api_1_43() {
        let p = plan(
            &[PruneKind::BuildCache],
            AllScope::default(),
            &["until=2024-01-01"],
        )
        .unwrap();
        assert!(matches!(
            p.requests(API_20_10, DOCKER),
            Err(PlanError::BuildCacheUntilNeedsDuration { .. })
        ));
        assert!(p.requests(API_25, DOCKER).is_ok());
        let duration = plan(
            &[PruneKind::BuildCache],
            AllScope::default(),
            &["until=24h"],
        )
        .unwrap();
        assert_eq!(
            duration.requests(API_20_10, DOCKER).unwrap()[0].filters["until"],
            ["24h"]
        );
    }

    #[test]
    fn build_cache_space_is_sent_by_the_names_each_api_version_takes() {
        let space = BuildCacheSpace {
            reserved_space: Some(10_000_000_000),
            ..BuildCacheSpace::default()
        };
        let p = plan(&[PruneKind::BuildCache], AllScope::default(), &[])
            .unwrap()
            .with_build_cache_space(space)
            .unwrap();
        let query = |api| {
            p.requests(api, DOCKER).unwrap()[0]
                .build_cache_space
                .clone()
        };
        assert_eq!(
            query(API_25),
            [("keep-storage".to_string(), 10_000_000_000)].into()
        );
        assert_eq!(
            query(API_28),
            [("reserved-space".to_string(), 10_000_000_000)].into()
        );
        assert_eq!(p.describe(), "build cache space(reserved-space=10GB)");
    }

    #[test]
    fn max_used_and_min_free_space_need_api_1_48() {
        let space = BuildCacheSpace {
            max_used_space: Some(5_000_000_000),
            min_free_space: Some(20_000_000_000),
            ..BuildCacheSpace::default()
        };
        let p = plan(&[PruneKind::BuildCache], AllScope::default(), &[])
            .unwrap()
            .with_build_cache_space(space)
            .unwrap();
        assert!(matches!(
            p.requests(API_25, DOCKER),
            Err(PlanError::BuildCacheSpaceNeedsApi148 {
                option: "max-used-space",
                ..
            })
        ));
        let request = &p.requests(API_28, DOCKER).unwrap()[0];
        assert_eq!(
            request.build_cache_space,
            [
                ("max-used-space".to_string(), 5_000_000_000),
                ("min-free-space".to_string(), 20_000_000_000)
            ]
            .into()
        );
    }

    #[test]
    fn build_cache_space_without_build_cache_is_rejected() {
        let space = BuildCacheSpace {
            reserved_space: Some(1),
            ..BuildCacheSpace::default()
        };
        assert_eq!(
            plan(&[PruneKind::Images], AllScope::default(), &[])
                .unwrap()
                .with_build_cache_space(space),
            Err(PlanError::BuildCacheSpaceWithoutBuildCache)
        );
    }

    #[test]
    fn describe_names_kinds_scope_and_filters() {
        let all = AllScope {
            images: true,
            ..AllScope::default()
        };
        let p = plan(
            &[PruneKind::Images, PruneKind::Containers],
            all,
            &["until=240h"],
        )
        .unwrap();
        assert_eq!(p.describe(), "containers, images (all) [until=240h]");
    }
}
