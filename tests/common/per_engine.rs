//! The one way a test file runs a `fn(Engine)` test on each lab engine: the
//! [`on_each_engine!`](crate::common::on_each_engine) macro, shared by `tests/e2e.rs`,
//! `tests/plan_e2e.rs` and `tests/busy_farm.rs` so that every file names engines alike.

/// Runs each named `fn(Engine)` as one test per lab engine, in one module per engine:
/// `docker_20_10::NAME`, `docker_26::NAME`, `docker_26_containerd::NAME`, `docker_28::NAME`,
/// `docker_28_containerd::NAME`, and for the tests listed under `every engine:` also
/// `podman::NAME` and `podman_rootless::NAME`.
///
/// ```ignore
/// common::on_each_engine!(
///     docker only: [compares_with_docker_builder_prune],
///     every engine: [df_matches_the_engines_own_system_df],
/// );
/// common::on_each_engine!(runs_on_every_docker_engine, and_so_does_this);
/// ```
///
/// A plain list is the same as `docker only: [...]`: the tests run on the five Docker engines.
#[allow(unused_macros)] // some test binaries include `common` without running per-engine tests
macro_rules! on_each_engine {
    (docker only: [$($docker:ident),* $(,)?], every engine: [$($every:ident),* $(,)?] $(,)?) => {
        mod docker_20_10 {
            $(#[test] fn $docker() { super::$docker(crate::common::Engine::Docker20) })*
            $(#[test] fn $every() { super::$every(crate::common::Engine::Docker20) })*
        }
        mod docker_26 {
            $(#[test] fn $docker() { super::$docker(crate::common::Engine::Docker26) })*
            $(#[test] fn $every() { super::$every(crate::common::Engine::Docker26) })*
        }
        mod docker_26_containerd {
            $(#[test] fn $docker() { super::$docker(crate::common::Engine::Docker26Containerd) })*
            $(#[test] fn $every() { super::$every(crate::common::Engine::Docker26Containerd) })*
        }
        mod docker_28 {
            $(#[test] fn $docker() { super::$docker(crate::common::Engine::Docker28) })*
            $(#[test] fn $every() { super::$every(crate::common::Engine::Docker28) })*
        }
        mod docker_28_containerd {
            $(#[test] fn $docker() { super::$docker(crate::common::Engine::Docker28Containerd) })*
            $(#[test] fn $every() { super::$every(crate::common::Engine::Docker28Containerd) })*
        }
        mod podman {
            $(#[test] fn $every() { super::$every(crate::common::Engine::Podman) })*
        }
        mod podman_rootless {
            $(#[test] fn $every() { super::$every(crate::common::Engine::PodmanRootless) })*
        }
    };
    ($($docker:ident),* $(,)?) => {
        $crate::common::on_each_engine!(docker only: [$($docker),*], every engine: []);
    };
}

#[allow(unused_imports)] // as above
pub(crate) use on_each_engine;
