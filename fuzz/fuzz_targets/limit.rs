//! `--limit` on arbitrary text, then applied to a small inventory: never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use fleetprune::inventory::{Inventory, Limit};
use libfuzzer_sys::fuzz_target;

fn inventory() -> &'static Inventory {
    static INVENTORY: OnceLock<Inventory> = OnceLock::new();
    INVENTORY.get_or_init(|| {
        Inventory::from_text(
            Path::new("inv.yaml"),
            "all:\n  children:\n    web:\n      hosts:\n        web[01:03]:\n    db:\n      hosts:\n        db1:\n",
        )
        .expect("fixed inventory")
    })
}

fuzz_target!(|spec: &str| {
    if let Ok(limit) = Limit::parse(spec) {
        let _ = inventory().select(Some(&limit));
    }
});
