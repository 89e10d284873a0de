//! The docker-style confirmation before deleting: a `WARNING!` naming the kinds, filters and
//! hosts, then `Are you sure you want to continue? [y/N]`. Without a terminal and without
//! `--yes` there is nobody to ask, and the run is refused.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use crate::host::Host;
use crate::plan::{PruneKind, PrunePlan};

/// What docker's prune warnings say each kind removes.
fn removes(plan: &PrunePlan) -> Vec<&'static str> {
    plan.kinds()
        .map(|kind| match kind {
            PruneKind::Containers => "all stopped containers",
            PruneKind::Networks => "all networks not used by at least one container",
            PruneKind::Volumes if plan.all().volumes => {
                "all volumes, named and anonymous, not used by at least one container"
            }
            PruneKind::Volumes => {
                "all anonymous volumes not used by at least one container (named ones too on daemons with API < 1.42)"
            }
            PruneKind::Images if plan.all().images => {
                "all images without at least one container associated to them"
            }
            PruneKind::Images => "all dangling images",
            PruneKind::BuildCache if plan.all().build_cache => "all build cache",
            PruneKind::BuildCache => "unused build cache",
        })
        .collect()
}

/// The warning for a set of hosts, grouping hosts that share a plan.
pub fn warning(hosts: &[Host]) -> String {
    let mut by_plan: BTreeMap<String, (Option<&PrunePlan>, Vec<&str>)> = BTreeMap::new();
    for host in hosts {
        let key = host
            .plan
            .as_ref()
            .map(PrunePlan::describe)
            .unwrap_or_default();
        let entry = by_plan
            .entry(key)
            .or_insert((host.plan.as_ref(), Vec::new()));
        entry.1.push(&host.name);
    }
    let count = |n: usize| {
        if n == 1 {
            "1 host".to_string()
        } else {
            format!("{n} hosts")
        }
    };
    let mut text = format!("WARNING! This will remove, on {}:\n", count(hosts.len()));
    for (plan, names) in by_plan.values() {
        let Some(plan) = plan else { continue };
        if by_plan.len() > 1 {
            let shown: Vec<&str> = names.iter().take(5).copied().collect();
            let more = if names.len() > 5 { ", ..." } else { "" };
            text.push_str(&format!(
                "  on {} ({}{more}):\n",
                count(names.len()),
                shown.join(", ")
            ));
        }
        for line in removes(plan) {
            text.push_str(&format!("  - {line}\n"));
        }
        if !plan.filters().is_empty() {
            text.push_str(&format!(
                "  Items to be pruned will be filtered with: {}\n",
                plan.filters()
            ));
        }
    }
    text
}

/// Asks on `output`, reads one line from `input`; only `y`/`yes` (any case) confirms.
pub fn confirm(warning: &str, input: &mut dyn BufRead, output: &mut dyn Write) -> io::Result<bool> {
    write!(output, "{warning}Are you sure you want to continue? [y/N] ")?;
    output.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FilterSet;
    use crate::plan::AllScope;

    fn host(name: &str, kinds: &[PruneKind], all: bool, filters: &[&str]) -> Host {
        let all = AllScope {
            images: all,
            volumes: all,
            build_cache: all,
        };
        let plan = PrunePlan::new(
            kinds.iter().copied().collect(),
            all,
            FilterSet::parse(filters).unwrap(),
        )
        .unwrap();
        Host::planned_for_tests(name, plan)
    }

    #[test]
    fn warning_names_kinds_filters_and_host_count() {
        let hosts = vec![
            host(
                "a",
                &[PruneKind::Images, PruneKind::Containers],
                true,
                &["until=240h"],
            ),
            host(
                "b",
                &[PruneKind::Images, PruneKind::Containers],
                true,
                &["until=240h"],
            ),
        ];
        assert_eq!(
            warning(&hosts),
            "WARNING! This will remove, on 2 hosts:\n  - all stopped containers\n  - all images without at least one container associated to them\n  Items to be pruned will be filtered with: until=240h\n"
        );
    }

    #[test]
    fn warning_groups_hosts_by_plan() {
        let hosts = vec![
            host("a", &[PruneKind::Images], true, &[]),
            host("gpu", &[PruneKind::Images], false, &[]),
        ];
        let text = warning(&hosts);
        assert!(
            text.contains("on 1 host (gpu):\n  - all dangling images\n"),
            "{text}"
        );
        assert!(
            text.contains("on 1 host (a):\n  - all images without"),
            "{text}"
        );
    }

    #[test]
    fn only_yes_confirms() {
        for (answer, expected) in [
            ("y\n", true),
            ("YES\n", true),
            ("\n", false),
            ("no\n", false),
            ("", false),
        ] {
            let mut output = Vec::new();
            let confirmed = confirm("W\n", &mut answer.as_bytes(), &mut output).unwrap();
            assert_eq!(confirmed, expected, "answer {answer:?}");
            assert_eq!(
                String::from_utf8(output).unwrap(),
                "W\nAre you sure you want to continue? [y/N] "
            );
        }
    }
}
