//! Image references as the daemon compares them: fully normalised names, repositories, tags
//! and digests, and moby's "single reference" rule.

use super::*;

/// A reference, with what ordering and repository comparisons need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ref {
    /// Fully normalised (`docker.io/library/alpine:3.20`): the daemon's sort order.
    pub(super) full: String,
    pub(super) familiar: String,
    /// Normalised repository name.
    pub(super) repo: String,
    pub(super) tag: bool,
}

impl Ref {
    pub(super) fn parse(familiar: &str) -> Ref {
        let (name, rest, tag) = match familiar.split_once('@') {
            Some((name, digest)) => (name, format!("@{digest}"), false),
            None => {
                let slash = familiar.rfind('/').map_or(0, |i| i + 1);
                match familiar[slash..].rfind(':') {
                    Some(colon) => (
                        &familiar[..slash + colon],
                        familiar[slash + colon..].to_string(),
                        true,
                    ),
                    None => (familiar, ":latest".to_string(), true),
                }
            }
        };
        let repo = normalise_name(name);
        Ref {
            full: format!("{repo}{rest}"),
            familiar: familiar.to_string(),
            repo,
            tag,
        }
    }
}

/// `alpine` → `docker.io/library/alpine`, `lab/app` → `docker.io/lab/app`.
pub(super) fn normalise_name(name: &str) -> String {
    match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            name.to_string()
        }
        Some(_) => format!("docker.io/{name}"),
    }
}

/// moby's `isSingleReference`: one tag (plus digests of its repository), or only digests of
/// one repository.
pub(super) fn is_single_reference(refs: &BTreeSet<Ref>) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let mut single: Option<&Ref> = None;
    let mut canonical_repos = BTreeSet::new();
    for r in refs {
        if !r.tag {
            canonical_repos.insert(r.repo.as_str());
        } else if single.is_none() {
            single = Some(r);
        } else {
            return false;
        }
    }
    let single = single.or_else(|| refs.iter().next());
    canonical_repos.len() == 1 && single.is_some_and(|s| canonical_repos.contains(s.repo.as_str()))
}

pub(super) fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

/// `alpine` → `docker.io/library/alpine:latest`: the form references are compared in.
pub(crate) fn normalised(reference: &str) -> String {
    Ref::parse(reference).full
}
