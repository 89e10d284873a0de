//! Property tests for the readers of untrusted local input: the inventory loader, `--limit` and
//! `--filter`. Whatever the text, they return a value or a located error: no panic, no hang.
//! 256 cases each, so they stay quick.

use std::path::Path;

use fleetprune::filter::{Filter, FilterSet};
use fleetprune::inventory::{Inventory, Limit};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

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
