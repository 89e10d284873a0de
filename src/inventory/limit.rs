//! Ansible's `--limit` pattern language over inventory hosts and groups.
//!
//! `builders,!build-02`, `all:!gpu-box`, `builders:&gpu`, `web*`: plain terms are unioned, then
//! every `&` term intersects and every `!` term excludes (Ansible applies them in that order, so
//! the order of terms does not matter). A term naming a group selects the group's hosts; one
//! naming no group selects hosts by name (see [`Limit::select`]). `~regex` terms match from the start of a name, as
//! Python's `re.match`; `@file` reads one term per line.
//!
//! A term that selects no host is reported: the caller refuses an unmatched plain or `&` term
//! and warns about an unmatched `!` term, so a typo never widens what is pruned.

use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;

use super::InventoryHost;

/// A parsed --limit pattern list.
#[derive(Debug, Clone)]
pub struct Limit {
    spec: String,
    /// Plain terms, unioned; empty means "all hosts".
    include: Vec<Term>,
    /// `&` terms: a host must match every one.
    intersect: Vec<Term>,
    /// `!` terms: a host matching any one is dropped.
    exclude: Vec<Term>,
}

/// The hosts a limit selects, and its terms that selected no host.
#[derive(Debug)]
pub struct LimitSelection<'a> {
    pub hosts: Vec<&'a InventoryHost>,
    pub unmatched: Vec<UnmatchedTerm>,
}

/// A term that selected no host of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedTerm {
    /// The term as written, prefix included.
    pub term: String,
    /// `!` terms only narrow a selection, so missing one is a warning, not an error.
    pub is_exclusion: bool,
}

/// Why a --limit value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Nothing but whitespace.
    #[error("empty --limit: give host names, group names or patterns, e.g. builders,!build-02")]
    Empty,
    /// `a,,b`, `a,`, `!`.
    #[error("--limit {spec:?} has an empty term (check for doubled or trailing separators)")]
    EmptyTerm { spec: String },
    /// `~regex` that does not compile.
    #[error("--limit term {term:?}: invalid regular expression: {message}")]
    Regex { term: String, message: String },
    /// `group[0]`, `group[0:2]`, `group[1-3]`.
    #[error(
        "--limit term {term:?}: subscripts such as group[0] or group[0:2] are not supported \
         (Ansible reads a trailing [n], [n:m] or [n-m] as positions in a group, not as a \
         character class)"
    )]
    Subscript { term: String },
    /// `@retry-file` that cannot be read.
    #[error("--limit term {term:?}: cannot read the limit file {path}: {message}")]
    LimitFile {
        term: String,
        path: PathBuf,
        message: String,
    },
    /// `!&x`, `&!x`.
    #[error("--limit term {term:?}: put only one of ! or & in front of a term")]
    DoublePrefix { term: String },
    /// `web 01`.
    #[error("--limit term {term:?}: terms cannot contain spaces; separate terms with ','")]
    Whitespace { term: String },
    /// `a:&b,c`: with a comma present Ansible splits on commas only.
    #[error(
        "--limit {spec:?} mixes ',' and ':' separators; Ansible splits only on ',' when \
         there is one, so write {suggestion}"
    )]
    MixedSeparators { spec: String, suggestion: String },
    /// The term is not a valid glob.
    #[error("--limit term {term:?}: invalid pattern: {source}")]
    Glob {
        term: String,
        #[source]
        source: globset::Error,
    },
}

/// How a term combines with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Include,
    Intersect,
    Exclude,
}

/// One host/group name, glob or regex, with the text it was written as.
#[derive(Debug, Clone)]
struct Term {
    text: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// `all` or `*`.
    Everything,
    /// A name or fnmatch-style glob, matched case-sensitively against the whole name.
    Glob(GlobMatcher),
    /// `~regex`, anchored at the start of the name only.
    Regex(Regex),
}

/// How a term applies in one inventory, as Ansible's `_enumerate_matches` decides it.
#[derive(Debug, Clone, Copy)]
struct Scope {
    /// The term matches at least one group name: it selects those groups' hosts.
    groups: bool,
    /// The term is also matched against host names.
    hosts: bool,
}

impl Scope {
    const EXACT_HOST: Scope = Scope {
        groups: false,
        hosts: true,
    };

    fn of(term: &Term, groups: &[String]) -> Scope {
        let group_match = groups.iter().any(|g| term.matches_name(g));
        let pattern =
            matches!(term.matcher, Matcher::Regex(_)) || term.text.contains(['.', '?', '*', '[']);
        Scope {
            groups: group_match,
            hosts: !group_match || pattern,
        }
    }
}

impl Term {
    fn selects(&self, scope: Scope, host: &InventoryHost) -> bool {
        matches!(self.matcher, Matcher::Everything)
            || (scope.groups && host.groups.iter().any(|g| self.matches_name(g)))
            || (scope.hosts && self.matches_name(&host.name))
    }

    fn matches_name(&self, name: &str) -> bool {
        match &self.matcher {
            Matcher::Everything => true,
            Matcher::Glob(glob) => glob.is_match(name),
            Matcher::Regex(regex) => regex.is_match(name),
        }
    }
}

impl Limit {
    /// Parses a `--limit` value.
    ///
    /// Terms are separated by `,`; without any comma, `:` separates them too (`all:!gpu-box`),
    /// except inside `[...]` and when the whole value is an IPv6 address. Surrounding spaces are
    /// trimmed. A term is a host name, a group name or a glob (`web*`, `build-0?`, `db-[ab]`),
    /// optionally prefixed with `!` (exclude) or `&` (intersect); `all` and `*` match every host.
    /// Regexes (`~`), subscripts (`group[0]`) and `@file` are rejected.
    pub fn parse(spec: &str) -> Result<Limit, LimitError> {
        if spec.trim().is_empty() {
            return Err(LimitError::Empty);
        }
        let mut limit = Limit {
            spec: spec.to_string(),
            include: Vec::new(),
            intersect: Vec::new(),
            exclude: Vec::new(),
        };
        for raw in split_terms(spec)? {
            match raw.trim().strip_prefix('@') {
                Some(path) => {
                    for line in read_limit_file(raw.trim(), path)? {
                        limit.push(parse_term(spec, &line)?);
                    }
                }
                None => limit.push(parse_term(spec, raw)?),
            }
        }
        Ok(limit)
    }

    fn push(&mut self, (role, term): (Role, Term)) {
        match role {
            Role::Include => self.include.push(term),
            Role::Intersect => self.intersect.push(term),
            Role::Exclude => self.exclude.push(term),
        }
    }

    /// The hosts selected among `hosts` (in their order) from an inventory whose group names
    /// are `groups`, and the terms that select no host.
    ///
    /// As in Ansible, a plain term that is exactly a host name selects that host; otherwise a
    /// term that matches a group name selects that group's hosts, and is matched against host
    /// names too only when no group matched or when it is a regex or holds `.`, `?`, `*` or `[`
    /// (so `!name` and `&name` mean the group when a host and a group share the name).
    /// Selected = (any plain term selects the host, or there are no plain terms) and every `&`
    /// term selects it and no `!` term does.
    pub fn select<'a>(&self, hosts: &'a [InventoryHost], groups: &[String]) -> LimitSelection<'a> {
        let scope = |term: &Term| Scope::of(term, groups);
        // Ansible's shortcut: a plain term that is exactly a host name selects that host alone,
        // even when a group has the same name.
        let host_names: HashSet<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        let include: Vec<(&Term, Scope)> = self
            .include
            .iter()
            .map(|t| match host_names.contains(t.text.as_str()) {
                true => (t, Scope::EXACT_HOST),
                false => (t, scope(t)),
            })
            .collect();
        let intersect: Vec<(&Term, Scope)> = self.intersect.iter().map(|t| (t, scope(t))).collect();
        let exclude: Vec<(&Term, Scope)> = self.exclude.iter().map(|t| (t, scope(t))).collect();
        let all_terms = || include.iter().chain(&intersect).chain(&exclude);
        // A term naming a group counts as matched even if the group is empty, as in Ansible.
        let mut used: Vec<bool> = all_terms().map(|(_, scope)| scope.groups).collect();
        let mut selected = Vec::new();
        for host in hosts {
            let selects = |(term, scope): &(&Term, Scope)| term.selects(*scope, host);
            for (seen, entry) in used.iter_mut().zip(all_terms()) {
                *seen = *seen || selects(entry);
            }
            let included = include.is_empty() || include.iter().any(selects);
            if included && intersect.iter().all(selects) && !exclude.iter().any(selects) {
                selected.push(host);
            }
        }
        let exclusions = include.len() + intersect.len();
        let unmatched = all_terms()
            .zip(used)
            .enumerate()
            .filter(|(_, (_, seen))| !seen)
            .map(|(index, ((term, _), _))| UnmatchedTerm {
                term: term.text.clone(),
                is_exclusion: index >= exclusions,
            })
            .collect();
        LimitSelection {
            hosts: selected,
            unmatched,
        }
    }

    /// The value as given.
    pub fn as_str(&self) -> &str {
        &self.spec
    }
}

/// Ansible's `split_host_pattern`: commas if there are any, otherwise colons outside brackets
/// (unless the value is one IPv6 address).
fn split_terms(spec: &str) -> Result<Vec<&str>, LimitError> {
    if spec.contains(',') {
        let terms: Vec<&str> = spec.split(',').collect();
        let mixed = terms.iter().any(|t| {
            let name = t.trim().trim_start_matches(['!', '&']);
            has_colon_outside_brackets(name) && !is_ipv6(name)
        });
        if mixed {
            return Err(LimitError::MixedSeparators {
                spec: spec.to_string(),
                suggestion: split_outside_brackets(spec, ':').join(","),
            });
        }
        return Ok(terms);
    }
    if is_ipv6(spec.trim().trim_start_matches(['!', '&'])) {
        return Ok(vec![spec]);
    }
    Ok(split_outside_brackets(spec, ':'))
}

fn is_ipv6(text: &str) -> bool {
    text.parse::<Ipv6Addr>().is_ok()
}

fn has_colon_outside_brackets(text: &str) -> bool {
    split_outside_brackets(text, ':').len() > 1
}

/// Splits at `sep`, except between `[` and `]`.
fn split_outside_brackets(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_brackets) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            c if c == sep && !in_brackets => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Parses one term with its optional `!` / `&` prefix.
fn parse_term(spec: &str, raw: &str) -> Result<(Role, Term), LimitError> {
    let text = raw.trim();
    let empty = || LimitError::EmptyTerm {
        spec: spec.to_string(),
    };
    let term_s = || text.to_string();
    let (role, name) = if let Some(name) = text.strip_prefix('!') {
        (Role::Exclude, name)
    } else if let Some(name) = text.strip_prefix('&') {
        (Role::Intersect, name)
    } else {
        (Role::Include, text)
    };
    if name.is_empty() {
        return Err(empty());
    }
    if text.chars().any(char::is_whitespace) {
        return Err(LimitError::Whitespace { term: term_s() });
    }
    if name.starts_with(['!', '&']) {
        return Err(LimitError::DoublePrefix { term: term_s() });
    }
    let term = |matcher| Term {
        text: text.to_string(),
        matcher,
    };
    if let Some(pattern) = name.strip_prefix('~') {
        let regex = Regex::new(&format!("^(?:{pattern})")).map_err(|e| LimitError::Regex {
            term: term_s(),
            message: e.to_string(),
        })?;
        return Ok((role, term(Matcher::Regex(regex))));
    }
    if is_subscript(name) {
        return Err(LimitError::Subscript { term: term_s() });
    }
    if name == "all" || name == "*" {
        return Ok((role, term(Matcher::Everything)));
    }
    let glob = GlobBuilder::new(&fnmatch_to_globset(name))
        .literal_separator(false)
        .backslash_escape(false)
        .build()
        .map_err(|source| LimitError::Glob {
            term: term_s(),
            source,
        })?;
    Ok((role, term(Matcher::Glob(glob.compile_matcher()))))
}

/// The terms of an `@file`: one per non-empty line, as Ansible reads retry files.
fn read_limit_file(term: &str, path: &str) -> Result<Vec<String>, LimitError> {
    let text =
        crate::input_file::read_to_string(Path::new(path), crate::input_file::INVENTORY_LIMIT)
            .map_err(|e| LimitError::LimitFile {
                term: term.to_string(),
                path: PathBuf::from(path),
                message: e.to_string(),
            })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect())
}

/// Ansible's `PATTERN_WITH_SUBSCRIPT`: `(.+)\[(-?[0-9]+|[0-9]+[:-][0-9]*)\]`.
fn is_subscript(name: &str) -> bool {
    let Some(inner_end) = name.strip_suffix(']') else {
        return false;
    };
    let Some(open) = inner_end.rfind('[') else {
        return false;
    };
    if open == 0 {
        return false;
    }
    let inner = &inner_end[open + 1..];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let index = digits(inner.strip_prefix('-').unwrap_or(inner));
    let range = inner.find([':', '-']).is_some_and(|at| {
        digits(&inner[..at]) && inner[at + 1..].bytes().all(|c| c.is_ascii_digit())
    });
    index || range
}

/// Rewrites an fnmatch pattern (what Ansible uses) for globset: braces are literal in fnmatch, and
/// a `[` without a closing `]` is a literal bracket.
fn fnmatch_to_globset(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '[' => {
                // fnmatch: an optional '!', then a ']' right away is part of the class.
                let mut j = i + 1;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while chars.get(j).is_some_and(|&c| c != ']') {
                    j += 1;
                }
                if j < chars.len() {
                    out.extend(&chars[i..=j]);
                    i = j + 1;
                    continue;
                }
                out.push_str("[[]");
            }
            '{' => out.push_str("[{]"),
            '}' => out.push_str("[}]"),
            other => out.push(other),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(spec: &str) -> Limit {
        match Limit::parse(spec) {
            Ok(limit) => limit,
            Err(err) => panic!("{spec:?} should parse: {err}"),
        }
    }

    fn err(spec: &str) -> LimitError {
        match Limit::parse(spec) {
            Ok(limit) => panic!("{spec:?} should be rejected, got {limit:?}"),
            Err(err) => err,
        }
    }

    /// A small fleet: (host, groups including `all` and ancestors).
    const FLEET: [(&str, &[&str]); 5] = [
        ("build-01", &["all", "builders", "linux"]),
        ("build-02", &["all", "builders", "linux", "gpu"]),
        ("gpu-box", &["all", "gpu", "linux"]),
        ("web-01", &["all", "web", "linux"]),
        ("db-01", &["all", "ungrouped"]),
    ];

    fn inventory_host(name: &str, groups: &[&str]) -> InventoryHost {
        InventoryHost {
            name: name.to_string(),
            place: super::super::Place::new("t", super::super::Position::default()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            vars: Box::default(),
        }
    }

    fn group_names(fleet: &[(&str, &[&str])]) -> Vec<String> {
        let mut names: Vec<String> = fleet
            .iter()
            .flat_map(|(_, groups)| groups.iter().map(|g| g.to_string()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The hosts of `fleet` the limit selects, in fleet order.
    fn selected_in(fleet: &[(&'static str, &[&str])], spec: &str) -> Vec<&'static str> {
        let hosts: Vec<InventoryHost> = fleet
            .iter()
            .map(|(name, groups)| inventory_host(name, groups))
            .collect();
        let names: Vec<&str> = limit(spec)
            .select(&hosts, &group_names(fleet))
            .hosts
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        fleet
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| names.contains(name))
            .collect()
    }

    /// The hosts of FLEET the limit selects, in FLEET order.
    fn selected(spec: &str) -> Vec<&'static str> {
        selected_in(&FLEET, spec)
    }

    /// Whether the limit selects one host in an inventory of that host alone.
    fn selects(spec: &str, host: &'static str, groups: &[&str]) -> bool {
        !selected_in(&[(host, groups)], spec).is_empty()
    }

    #[test]
    fn limit_word_naming_a_host_and_a_group_selects_the_host_but_excludes_the_group() {
        let fleet: [(&str, &[&str]); 3] = [
            ("db", &["all", "ungrouped"]),
            ("db-01", &["all", "db"]),
            ("web.example", &["all", "web"]),
        ];
        assert_eq!(selected_in(&fleet, "db"), ["db"]);
        assert_eq!(selected_in(&fleet, "all:!db"), ["db", "web.example"]);
        // A glob is matched against host names too.
        assert_eq!(selected_in(&fleet, "d*"), ["db", "db-01"]);
        assert_eq!(selected_in(&fleet, "web.example"), ["web.example"]);
    }

    #[test]
    fn limit_selects_plain_host() {
        assert_eq!(selected("build-01"), ["build-01"]);
    }

    #[test]
    fn limit_selects_group_members() {
        assert_eq!(selected("builders"), ["build-01", "build-02"]);
        assert_eq!(selected("gpu"), ["build-02", "gpu-box"]);
    }

    #[test]
    fn limit_unions_plain_terms() {
        assert_eq!(selected("web-01,db-01"), ["web-01", "db-01"]);
        assert_eq!(selected("web:gpu-box"), ["gpu-box", "web-01"]);
    }

    #[test]
    fn limit_matches_globs_on_hosts_and_groups() {
        assert_eq!(selected("build-0?"), ["build-01", "build-02"]);
        assert_eq!(selected("*-01"), ["build-01", "web-01", "db-01"]);
        assert_eq!(selected("build-0[!1]"), ["build-02"]);
        assert_eq!(selected("[gw]*"), ["build-02", "gpu-box", "web-01"]);
        // The glob matches the group name "builders".
        assert_eq!(selected("build*s"), ["build-01", "build-02"]);
    }

    #[test]
    fn limit_all_and_star_select_everything() {
        assert_eq!(selected("all").len(), FLEET.len());
        assert_eq!(selected("*").len(), FLEET.len());
        // Even for a host whose group list was left empty.
        assert!(selects("all", "lonely", &[]));
        assert!(selects("*", "lonely", &[]));
    }

    #[test]
    fn limit_excludes_with_bang() {
        assert_eq!(selected("builders,!build-02"), ["build-01"]);
        assert_eq!(
            selected("all:!gpu-box"),
            ["build-01", "build-02", "web-01", "db-01"]
        );
        assert_eq!(selected("linux,!gpu"), ["build-01", "web-01"]);
    }

    #[test]
    fn limit_intersects_with_ampersand() {
        assert_eq!(selected("builders:&gpu"), ["build-02"]);
        assert_eq!(selected("builders,&gpu"), ["build-02"]);
        assert_eq!(selected("linux,&builders,&gpu"), ["build-02"]);
    }

    #[test]
    fn limit_only_exclusions_select_everyone_else() {
        assert_eq!(
            selected("!build-01"),
            ["build-02", "gpu-box", "web-01", "db-01"]
        );
        assert_eq!(selected("!gpu:!db-01"), ["build-01", "web-01"]);
    }

    #[test]
    fn limit_only_intersection_selects_within_all() {
        assert_eq!(selected("&gpu"), ["build-02", "gpu-box"]);
    }

    #[test]
    fn limit_term_order_does_not_matter() {
        assert_eq!(
            selected("!build-02,builders"),
            selected("builders,!build-02")
        );
        assert_eq!(selected("&gpu:builders"), ["build-02"]);
    }

    #[test]
    fn limit_trims_spaces_around_terms() {
        assert_eq!(selected(" builders , !build-02 "), ["build-01"]);
    }

    #[test]
    fn limit_is_case_sensitive() {
        assert!(selected("Build-01").is_empty());
    }

    #[test]
    fn limit_unknown_name_selects_nothing() {
        assert!(selected("nosuchhost").is_empty());
    }

    #[test]
    fn limit_treats_braces_and_unclosed_brackets_literally() {
        assert!(selects("web{1}", "web{1}", &[]));
        assert!(!selects("web{1}", "web1", &[]));
        assert!(selects("web[", "web[", &[]));
        assert!(!selects("web[", "web1", &[]));
    }

    #[test]
    fn limit_accepts_ipv6_host() {
        assert!(selects("fe80::1", "fe80::1", &[]));
        assert!(selects("!fe80::1", "build-01", &["all"]));
        assert!(!selects("!fe80::1", "fe80::1", &["all"]));
        assert!(selects("fe80::1,build-01", "build-01", &["all"]));
    }

    #[test]
    fn limit_rejects_empty_spec() {
        assert_eq!(err(""), LimitError::Empty);
        assert_eq!(err("   "), LimitError::Empty);
    }

    #[test]
    fn limit_rejects_empty_term() {
        for spec in ["a,,b", "a,", ",a", "a:", "!", "&", "a, ,b"] {
            assert!(
                matches!(err(spec), LimitError::EmptyTerm { .. }),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn limit_regex_matches_from_the_start_of_names() {
        assert_eq!(selected("~build-0[12]"), ["build-01", "build-02"]);
        assert_eq!(selected("~uild"), Vec::<&str>::new());
        assert_eq!(selected("all:!~(gpu|web)"), ["build-01", "db-01"]);
        assert!(matches!(err("~web[("), LimitError::Regex { .. }));
    }

    #[test]
    fn limit_rejects_subscripts() {
        for spec in [
            "builders[0]",
            "builders[-1]",
            "builders[0:2]",
            "builders[1:]",
            "web-0[1-3]",
        ] {
            assert!(
                matches!(err(spec), LimitError::Subscript { .. }),
                "{spec:?}"
            );
        }
        // Character classes that are not subscripts stay globs.
        assert_eq!(selected("build-0[12]x").len(), 0);
        assert_eq!(selected("[b]uild-01"), ["build-01"]);
    }

    #[test]
    fn limit_rejects_mixed_separators() {
        assert_eq!(
            err("builders:&gpu,web-01"),
            LimitError::MixedSeparators {
                spec: "builders:&gpu,web-01".into(),
                suggestion: "builders,&gpu,web-01".into()
            }
        );
    }

    #[test]
    fn limit_rejects_double_prefix() {
        assert!(matches!(err("!&gpu"), LimitError::DoublePrefix { .. }));
        assert!(matches!(err("&!gpu"), LimitError::DoublePrefix { .. }));
    }

    #[test]
    fn limit_file_gives_one_term_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("retry");
        std::fs::write(&file, "build-01\n\n!gpu\nweb-01\n").unwrap();
        assert_eq!(
            selected(&format!("@{}", file.display())),
            ["build-01", "web-01"]
        );
        assert!(matches!(
            err("@/nonexistent/retry"),
            LimitError::LimitFile { .. }
        ));
    }

    #[test]
    fn limit_reports_terms_matching_nothing() {
        let inventory = crate::inventory::Inventory::from_text(
            std::path::Path::new("t.yaml"),
            "all:\n  children:\n    web:\n      hosts: {w1: , w2: }\n",
        )
        .unwrap();
        let limit = limit("web,!build-0l,&all,nope");
        let selection = inventory.select(Some(&limit));
        assert_eq!(selection.hosts.len(), 2);
        assert_eq!(
            selection.unmatched,
            [
                UnmatchedTerm {
                    term: "nope".into(),
                    is_exclusion: false
                },
                UnmatchedTerm {
                    term: "!build-0l".into(),
                    is_exclusion: true
                },
            ]
        );
    }

    #[test]
    fn limit_rejects_spaces_inside_term() {
        assert!(matches!(err("web 01"), LimitError::Whitespace { .. }));
    }

    #[test]
    fn limit_keeps_spec_text() {
        assert_eq!(limit("builders,!build-02").as_str(), "builders,!build-02");
    }
}
