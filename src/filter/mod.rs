//! Docker's prune filter grammar (`--filter key=value`), shared by the command line and the inventory.
//!
//! A [`FilterSet`] is validated once, before any host is contacted: keys, `until` values, `dangling`
//! booleans. Which prune kinds accept which keys, and what each daemon API version accepts, is
//! decided by [`crate::plan`].

mod until;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use until::{Until, UntilError, UntilKind};

/// The filter keys fleetprune accepts, as docker spells them.
const KNOWN_KEYS: [&str; 4] = ["until", "label", "label!", "dangling"];

/// One `key=value` filter, parsed the way the docker CLI parses `--filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `until=<timestamp|duration>`: objects created before this point.
    Until(Until),
    /// `label=key` or `label=key=value`: objects carrying that label.
    Label(String),
    /// `label!=key` or `label!=key=value`: objects not carrying that label.
    LabelNot(String),
    /// `dangling=true|false`: images only; `false` means all unused images (like `-a`).
    Dangling(bool),
}

/// Why a `--filter` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("bad filter {0:?}: expected key=value, e.g. until=24h or label=keep=true")]
    MissingEquals(String),
    #[error(
        "unknown filter key {key:?}{suggestion}; fleetprune accepts until, label, label! and dangling"
    )]
    UnknownKey { key: String, suggestion: Suggestion },
    #[error("filter {key}= needs a value")]
    EmptyValue { key: String },
    #[error(transparent)]
    Until(#[from] UntilError),
    #[error("invalid dangling value {0:?}: expected true, false, 1 or 0")]
    Dangling(String),
    #[error("more than one until filter specified")]
    SeveralUntil,
    #[error("conflicting dangling filters: dangling=true and dangling=false")]
    ConflictingDangling,
}

/// An optional " (did you mean ...?)" tail for error messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Suggestion(Option<String>);

impl Suggestion {
    /// The closest of `candidates` to `input`, if it is close enough to be a likely typo.
    pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Suggestion {
        let best = candidates
            .into_iter()
            .map(|c| (strsim::normalized_damerau_levenshtein(input, c), c))
            .filter(|(similarity, _)| *similarity >= 0.6)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        Suggestion(best.map(|(_, c)| c.to_string()))
    }
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(candidate) => write!(f, " (did you mean {candidate:?}?)"),
            None => Ok(()),
        }
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    /// Splits at the first `=`, lower-cases and trims the key and trims the value, as
    /// docker's `FilterOpt.Set` does; so `label!=a=b` is key `label!`, value `a=b`.
    fn from_str(text: &str) -> Result<Filter, FilterError> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| FilterError::MissingEquals(text.to_string()))?;
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        if !KNOWN_KEYS.contains(&key.as_str()) {
            let suggestion = Suggestion::closest(&key, KNOWN_KEYS);
            return Err(FilterError::UnknownKey { key, suggestion });
        }
        if value.is_empty() {
            return Err(FilterError::EmptyValue { key });
        }
        Ok(match key.as_str() {
            "until" => Filter::Until(Until::parse(value)?),
            "label" => Filter::Label(value.to_string()),
            "label!" => Filter::LabelNot(value.to_string()),
            _ => Filter::Dangling(parse_dangling(value)?),
        })
    }
}

fn parse_dangling(value: &str) -> Result<bool, FilterError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FilterError::Dangling(value.to_string())),
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Until(until) => write!(f, "until={}", until.as_str()),
            Filter::Label(label) => write!(f, "label={label}"),
            Filter::LabelNot(label) => write!(f, "label!={label}"),
            Filter::Dangling(dangling) => write!(f, "dangling={dangling}"),
        }
    }
}

/// A validated list of filters: at most one `until`, no contradicting `dangling`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSet {
    filters: Vec<Filter>,
}

impl FilterSet {
    /// Checks the combination rules the daemon enforces across values of one key.
    pub fn new(filters: Vec<Filter>) -> Result<FilterSet, FilterError> {
        let untils = filters
            .iter()
            .filter(|f| matches!(f, Filter::Until(_)))
            .count();
        if untils > 1 {
            return Err(FilterError::SeveralUntil);
        }
        let dangling: Vec<bool> = filters
            .iter()
            .filter_map(|f| match f {
                Filter::Dangling(d) => Some(*d),
                _ => None,
            })
            .collect();
        if dangling.contains(&true) && dangling.contains(&false) {
            return Err(FilterError::ConflictingDangling);
        }
        Ok(FilterSet { filters })
    }

    /// Parses each `key=value` and validates the set.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<FilterSet, FilterError> {
        let filters = texts
            .iter()
            .map(|t| t.as_ref().parse())
            .collect::<Result<Vec<Filter>, _>>()?;
        FilterSet::new(filters)
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Filter> {
        self.filters.iter()
    }

    pub fn until(&self) -> Option<&Until> {
        self.filters.iter().find_map(|f| match f {
            Filter::Until(until) => Some(until),
            _ => None,
        })
    }

    pub fn has_labels(&self) -> bool {
        self.filters
            .iter()
            .any(|f| matches!(f, Filter::Label(_) | Filter::LabelNot(_)))
    }

    /// The explicit `dangling=` value, if any.
    pub fn dangling(&self) -> Option<bool> {
        self.filters.iter().find_map(|f| match f {
            Filter::Dangling(d) => Some(*d),
            _ => None,
        })
    }

    /// The `until`, `label` and `label!` filters in the Engine API's JSON shape
    /// (`{"key": ["value", ...]}`); `dangling` is left to the caller, which decides the image mode.
    pub fn to_api_map(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for filter in &self.filters {
            let (key, value) = match filter {
                Filter::Until(until) => ("until", until.as_str().to_string()),
                Filter::Label(label) => ("label", label.clone()),
                Filter::LabelNot(label) => ("label!", label.clone()),
                Filter::Dangling(_) => continue,
            };
            let values = map.entry(key.to_string()).or_default();
            if !values.contains(&value) {
                values.push(value);
            }
        }
        map
    }
}

impl fmt::Display for FilterSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self.filters.iter().map(Filter::to_string).collect();
        f.write_str(&texts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_splits_at_first_equals_like_docker() {
        assert_eq!(
            "label!=a=b".parse::<Filter>(),
            Ok(Filter::LabelNot("a=b".into()))
        );
        assert_eq!(
            " Label = keep ".parse::<Filter>(),
            Ok(Filter::Label("keep".into()))
        );
    }

    #[test]
    fn filter_rejects_unknown_key_with_suggestion() {
        let err = "untill=24h".parse::<Filter>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown filter key \"untill\" (did you mean \"until\"?); fleetprune accepts until, label, label! and dangling"
        );
    }

    #[test]
    fn filter_rejects_missing_equals_and_empty_value() {
        assert!(matches!(
            "until".parse::<Filter>(),
            Err(FilterError::MissingEquals(_))
        ));
        assert!(matches!(
            "label=".parse::<Filter>(),
            Err(FilterError::EmptyValue { .. })
        ));
    }

    #[test]
    fn filter_rejects_banana_until() {
        assert!(matches!(
            "until=banana".parse::<Filter>(),
            Err(FilterError::Until(_))
        ));
    }

    #[test]
    fn dangling_accepts_docker_booleans_only() {
        assert_eq!("dangling=1".parse::<Filter>(), Ok(Filter::Dangling(true)));
        assert_eq!(
            "dangling=false".parse::<Filter>(),
            Ok(Filter::Dangling(false))
        );
        assert!("dangling=yes".parse::<Filter>().is_err());
    }

    #[test]
    fn filter_set_rejects_two_untils() {
        assert_eq!(
            FilterSet::parse(&["until=1h", "until=2h"]),
            Err(FilterError::SeveralUntil)
        );
    }

    #[test]
    fn filter_set_rejects_contradicting_dangling() {
        assert_eq!(
            FilterSet::parse(&["dangling=true", "dangling=0"]),
            Err(FilterError::ConflictingDangling)
        );
    }

    #[test]
    fn api_map_groups_values_and_collapses_duplicates() {
        let set = FilterSet::parse(&[
            "label=a",
            "label=b",
            "label=a",
            "until=24h",
            "dangling=true",
        ])
        .unwrap();
        let map = set.to_api_map();
        assert_eq!(map["label"], vec!["a", "b"]);
        assert_eq!(map["until"], vec!["24h"]);
        assert!(!map.contains_key("dangling"));
    }
}
