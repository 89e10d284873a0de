//! Property tests for the readers of untrusted local input: the inventory loader, `--limit`,
//! `--filter` and the OpenSSH client config reader. Whatever the text, they return a value or a located error: no panic, no hang.
//! 256 cases each, so they stay quick.

use std::path::Path;

use fleetprune::filter::{Filter, FilterSet};
use fleetprune::inventory::{Inventory, Limit};
use fleetprune::openssh::config::SshConfig;
use proptest::prelude::*;

/// Lines an inventory is made of, good and bad, to be shuffled into documents.
fn inventory_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("all:".to_string()),
        Just("  hosts:".to_string()),
        Just("  children:".to_string()),
        Just("  vars:".to_string()),
        Just("    web:".to_string()),
        Just("      hosts:".to_string()),
        "[a-z]{1,6}(\\[0{0,1}[0-9]:[0-9]{1,2}\\])?".prop_map(|h| format!("    {h}:")),
        "[a-z]{1,6}".prop_map(|h| format!("        {h}:")),
        (0u32..70000).prop_map(|p| format!("      ansible_port: {p}")),
        Just("      ansible_host:".to_string()),
        Just("      fleetprune: { docker_socket: /run/d.sock }".to_string()),
        Just(
            "      fleetprune: { prune: { images: { all: true }, filter: [\"until=24h\"] } }"
                .to_string()
        ),
        "[ -~]{0,20}".prop_map(|t| format!("# {t}")),
        "[ -~]{0,30}",
        Just("- [".to_string()),
        Just("&a *a".to_string()),
    ]
}

/// Lines an ssh config is made of, good and bad.
fn ssh_config_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z*?!.-]{1,8}( [a-z*?!.-]{1,8}){0,2}".prop_map(|p| format!("Host {p}")),
        Just("Match all".to_string()),
        "(host|originalhost|user|localuser|exec|canonical|final|bogus)( [a-z*,]{0,8})?"
            .prop_map(|c| format!("Match {c}")),
        "[a-z%.]{0,12}".prop_map(|h| format!("    HostName {h}")),
        "[0-9a-z]{0,6}".prop_map(|p| format!("    Port {p}")),
        "[a-z]{0,6}".prop_map(|u| format!("    User={u}")),
        Just("    ProxyJump bastion".to_string()),
        Just("    StrictHostKeyChecking accept-new".to_string()),
        "[A-Za-z]{1,12} [ -~]{0,12}".prop_map(|l| format!("    {l}")),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ssh_config_reader_returns_options_or_a_located_error(
        lines in proptest::collection::vec(ssh_config_line(), 0..30),
        host in "[a-z.-]{0,10}",
    ) {
        match SshConfig::parse("cfg", &lines.join("\n")) {
            Ok(config) => {
                for (place, _) in config.host_config(&host, None, "me").options {
                    prop_assert!(place.starts_with("cfg:"), "{place}");
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.starts_with("cfg:"), "{message}");
            }
        }
    }

    #[test]
    fn inventory_loader_returns_hosts_or_a_located_error(
        lines in proptest::collection::vec(inventory_line(), 0..40)
    ) {
        let text = lines.join("\n");
        match Inventory::from_text(Path::new("inv.yaml"), &text) {
            Ok(inventory) => {
                let _ = inventory.select(None);
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.starts_with("inv.yaml"), "{message}");
            }
        }
    }

    #[test]
    fn inventory_loader_survives_arbitrary_text(text in "\\PC{0,200}") {
        if let Err(error) = Inventory::from_text(Path::new("inv.yaml"), &text) {
            prop_assert!(error.to_string().starts_with("inv.yaml"));
        }
    }

    #[test]
    fn limit_parses_or_explains_and_selection_never_panics(
        spec in "[a-z0-9*?!&:,\\[\\]~.^$()-]{0,24}"
    ) {
        let inventory = Inventory::from_text(
            Path::new("inv.yaml"),
            "all:\n  children:\n    web:\n      hosts:\n        web[01:03]:\n    db:\n      hosts:\n        db1:\n",
        )
        .expect("fixed inventory");
        match Limit::parse(&spec) {
            Ok(limit) => {
                let _ = inventory.select(Some(&limit));
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn filters_parse_or_name_the_problem(
        key in prop_oneof![
            Just("until"), Just("label"), Just("label!"), Just("dangling"), Just("x")
        ],
        value in "[ -~]{0,24}"
    ) {
        let text = format!("{key}={value}");
        match text.parse::<Filter>() {
            Ok(filter) => {
                let _ = FilterSet::new(vec![filter]);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        let _ = FilterSet::parse(&[text.as_str()]);
    }
}
