//! The inventory loader on arbitrary text: hosts or an error naming the file, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match fleetprune::inventory::Inventory::from_text(Path::new("inv.yaml"), text) {
        Ok(inventory) => {
            let _ = inventory.select(None);
        }
        Err(error) => assert!(error.to_string().starts_with("inv.yaml")),
    }
});
