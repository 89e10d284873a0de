//! `--filter` values on arbitrary text: a filter set or an error, never a panic.
#![no_main]

use fleetprune::filter::FilterSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let texts: Vec<&str> = text.split('\n').collect();
    let _ = FilterSet::parse(&texts);
});
