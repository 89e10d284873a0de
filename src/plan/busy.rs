//! The busy guard of a host, as validated data: the running containers that make it busy
//! (docker's container filters, one match is enough), a command whose failure means busy, and
//! how long to wait for it to become idle. [`crate::busy`] asks the host; nothing here does.

use std::fmt;
use std::time::Duration;

/// Container filter keys `GET /containers/json` accepts (moby `daemon/list.go`
/// `acceptedPsFilterTags`).
const CONTAINER_FILTER_KEYS: [&str; 15] = [
    "ancestor",
    "before",
    "expose",
    "exited",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

/// One `busy_if_running` filter: `label=com.gitlab.gitlab-runner.type=build`, `name=jenkins-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFilter {
    pub key: String,
    pub value: String,
}

impl std::str::FromStr for ContainerFilter {
    type Err = BusyError;

    /// `KEY=VALUE`, split at the first `=` and trimmed as the docker CLI does.
    fn from_str(text: &str) -> Result<ContainerFilter, BusyError> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| BusyError::Filter(text.to_string()))?;
        let key = key.trim().to_ascii_lowercase();
        if !CONTAINER_FILTER_KEYS.contains(&key.as_str()) {
            return Err(BusyError::FilterKey {
                text: text.to_string(),
                key,
            });
        }
        Ok(ContainerFilter {
            key,
            value: value.trim().to_string(),
        })
    }
}

impl fmt::Display for ContainerFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// Why a busy-guard setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusyError {
    #[error(
        "busy_if_running filter {0:?} is not KEY=VALUE (e.g. label=ci.job=build, name=jenkins-)"
    )]
    Filter(String),
    #[error(
        "busy_if_running filter {text:?}: docker has no container filter {key:?} (ancestor, before, expose, exited, health, id, isolation, is-task, label, name, network, publish, since, status, volume)"
    )]
    FilterKey { text: String, key: String },
    #[error("busy_check is empty")]
    EmptyCheck,
}

/// A host's busy guard; empty when nothing is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusyGuard {
    /// Busy while a running container matches any of these.
    pub if_running: Vec<ContainerFilter>,
    /// Run on the host; a non-zero exit means busy, its first line of output says why.
    pub check: Option<String>,
    /// `--wait-idle`: how long to wait for a busy host within the run before skipping it.
    pub wait_idle: Option<Duration>,
}

impl BusyGuard {
    /// True when the guard checks nothing.
    pub fn is_empty(&self) -> bool {
        self.if_running.is_empty() && self.check.is_none()
    }

    /// Parses `busy_if_running` values and checks `busy_check`.
    pub fn new(
        if_running: &[String],
        check: Option<String>,
        wait_idle: Option<Duration>,
    ) -> Result<BusyGuard, BusyError> {
        let if_running = if_running
            .iter()
            .map(|f| f.parse())
            .collect::<Result<Vec<ContainerFilter>, _>>()?;
        if check.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(BusyError::EmptyCheck);
        }
        Ok(BusyGuard {
            if_running,
            check,
            wait_idle,
        })
    }
}

impl fmt::Display for BusyGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .if_running
            .iter()
            .map(|filter| format!("busy_if_running={filter}"))
            .collect();
        if let Some(check) = &self.check {
            parts.push(format!("busy_check={check:?}"));
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_split_at_the_first_equals_like_the_docker_cli() {
        let filter: ContainerFilter = "label=com.gitlab.gitlab-runner.type=build".parse().unwrap();
        assert_eq!(filter.key, "label");
        assert_eq!(filter.value, "com.gitlab.gitlab-runner.type=build");
        let filter: ContainerFilter = " Name = jenkins-".parse().unwrap();
        assert_eq!(filter.to_string(), "name=jenkins-");
    }

    #[test]
    fn unknown_filter_keys_and_bare_words_are_refused() {
        assert!(matches!(
            "colour=red".parse::<ContainerFilter>(),
            Err(BusyError::FilterKey { .. })
        ));
        assert!(matches!(
            "jenkins".parse::<ContainerFilter>(),
            Err(BusyError::Filter(_))
        ));
        assert_eq!(
            BusyGuard::new(&[], Some("  ".into()), None),
            Err(BusyError::EmptyCheck)
        );
    }

    #[test]
    fn a_guard_without_filters_or_check_is_empty() {
        assert!(BusyGuard::default().is_empty());
        let guard = BusyGuard::new(&["name=ci-".into()], None, None).unwrap();
        assert!(!guard.is_empty());
        assert_eq!(guard.to_string(), "busy_if_running=name=ci-");
    }
}
