//! The docker-style confirmation before deleting: a `WARNING!` naming the kinds, filters and
//! hosts, then `Are you sure you want to continue? [y/N]`. Without a terminal and without
//! `--yes` there is nobody to ask, and the run is refused.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use crate::host::Host;
use crate::human_size::human_size;
use crate::outcome::HostOutcome;
use crate::outcome::reclaim::PruneReport;
use crate::plan::select::{Action, ObjectPlan};
use crate::plan::{PruneKind, PrunePlan};
use crate::report::sanitize;
use crate::report::table::bytes_cell;

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
            .as_deref()
            .map(PrunePlan::describe)
            .unwrap_or_default();
        let entry = by_plan
            .entry(key)
            .or_insert((host.plan.as_deref(), Vec::new()));
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

/// Above this many objects on a host, the prompt shows counts per kind instead of names.
pub const PROMPT_OBJECT_LIST_LIMIT: usize = 12;

/// The confirmation text of `apply`: the host count, each host's objects (or a summary per kind
/// above [`PROMPT_OBJECT_LIST_LIMIT`]) and the predicted total.
pub fn apply_warning(file: &crate::plan::file::PlanFile, hosts: &[crate::host::Host]) -> String {
    let plans: Vec<(&str, &ObjectPlan)> = file
        .hosts
        .iter()
        .filter(|saved| hosts.iter().any(|h| h.name == saved.name))
        .map(|saved| (saved.name.as_str(), &saved.plan))
        .collect();
    format!("WARNING! {}", plan_warning(&plans))
}

/// The part of a prompt listing what each host would lose.
pub fn plan_warning(plans: &[(&str, &ObjectPlan)]) -> String {
    let total: u64 = plans
        .iter()
        .fold(0u64, |sum, (_, p)| sum.saturating_add(p.bytes()));
    let exact = plans.iter().all(|(_, p)| p.exact());
    let objects: usize = plans.iter().map(|(_, p)| p.doomed_count()).sum();
    let mut text = format!(
        "This will delete {objects} objects on {} host{}, freeing {}:\n",
        plans.len(),
        if plans.len() == 1 { "" } else { "s" },
        bytes_cell(total, exact)
    );
    for (name, plan) in plans {
        text.push_str(&format!(
            "  {} ({} objects, {}):\n",
            sanitize(name),
            plan.doomed_count(),
            bytes_cell(plan.bytes(), plan.exact())
        ));
        let detailed = plan.doomed_count() <= PROMPT_OBJECT_LIST_LIMIT;
        for kind in plan.kinds.iter().filter(|k| !k.doomed.is_empty()) {
            if detailed {
                for d in &kind.doomed {
                    let verb = match d.action {
                        Action::Delete => "delete",
                        Action::Untag => "untag",
                    };
                    text.push_str(&format!(
                        "    {verb} {} {} ({})\n",
                        kind.kind,
                        sanitize(&d.name),
                        human_size(d.bytes)
                    ));
                }
            } else {
                text.push_str(&format!(
                    "    {}: {} ({})\n",
                    kind.kind,
                    kind.doomed.len(),
                    bytes_cell(kind.bytes, kind.exact)
                ));
            }
        }
    }
    text
}

/// The confirmation text of `rmi`: for each reference, the hosts where it exists, whether its
/// image goes and which container keeps it; hosts that could not be checked.
pub fn rmi_warning(refs: &[String], preview: &[HostOutcome<PruneReport>]) -> String {
    let mut text = format!(
        "WARNING! This will remove {} on {} host{}:\n",
        refs.join(", "),
        preview.len(),
        if preview.len() == 1 { "" } else { "s" }
    );
    let (mut images, mut bytes) = (0usize, 0u64);
    for outcome in preview {
        let name = sanitize(&outcome.name);
        if let Some(failure) = &outcome.failure {
            text.push_str(&format!("  {name}: not checked ({})\n", failure.class));
            continue;
        }
        let Some(kind) = outcome
            .payload
            .preview
            .as_ref()
            .and_then(|p| p.kinds.first())
        else {
            continue;
        };
        if kind.doomed.is_empty() && kind.kept.is_empty() {
            text.push_str(&format!("  {name}: not present\n"));
        }
        for doomed in &kind.doomed {
            images += 1;
            bytes = bytes.saturating_add(doomed.bytes);
            let what = match doomed.action {
                crate::plan::select::Action::Delete => {
                    format!("image deleted ({})", human_size(doomed.bytes))
                }
                crate::plan::select::Action::Untag => "untag only, other references stay".into(),
            };
            text.push_str(&format!(
                "  {name}: {} {what}\n",
                sanitize(&doomed.untagged.join(", "))
            ));
        }
        for kept in &kind.kept {
            text.push_str(&format!(
                "  {name}: {} kept: {}\n",
                sanitize(&kept.name),
                sanitize(&kept.reason.to_string())
            ));
        }
    }
    text.push_str(&format!(
        "{images} image(s) affected, about {} freed\n",
        human_size(bytes)
    ));
    text
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

    #[test]
    fn prompt_lists_objects_per_host_and_summarises_long_lists() {
        let short = ObjectPlan::stopped_containers_for_tests(2);
        let long = ObjectPlan::stopped_containers_for_tests(PROMPT_OBJECT_LIST_LIMIT + 1);
        let text = plan_warning(&[("a", &short), ("b", &long)]);
        assert!(
            text.starts_with("This will delete 15 objects on 2 hosts, freeing 15kB:"),
            "{text}"
        );
        assert!(
            text.contains("  a (2 objects, 2kB):\n    delete containers box-0 (1kB)\n"),
            "{text}"
        );
        assert!(
            text.contains("  b (13 objects, 13kB):\n    containers: 13 (13kB)\n"),
            "{text}"
        );
    }
}
