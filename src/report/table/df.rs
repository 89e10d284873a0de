//! The table of `fleetprune df`: docker's `system df` per host, each cell `size (reclaimable)`.

use std::io::{self, Write};

use super::{Layout, RunEnd, TableDraft, TableShape, status, total_cells};
use crate::human_size::human_size;
use crate::outcome::HostOutcome;
use crate::outcome::disk_usage::{DiskUsage, UsageLine};
use crate::report::run_info::RunInfo;
use crate::report::sanitize;

const HEADER: [&str; 8] = [
    "HOST",
    "STATUS",
    "IMAGES",
    "CONTAINERS",
    "LOCAL VOLUMES",
    "BUILD CACHE",
    "SIZE",
    "RECLAIMABLE",
];

fn usage_cell(line: &UsageLine) -> String {
    format!(
        "{} ({})",
        human_size(line.size_bytes),
        human_size(line.reclaimable_bytes)
    )
}

impl TableShape for DiskUsage {
    type Sums = DiskUsage;

    fn add(
        draft: &mut TableDraft,
        total: &mut DiskUsage,
        outcome: &HostOutcome<DiskUsage>,
        _: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let usage = &outcome.payload;
        let mut row = vec![sanitize(&outcome.name), status(outcome)];
        if outcome.succeeded() {
            total.add(usage);
            row.extend([
                usage_cell(&usage.images),
                usage_cell(&usage.containers),
                usage_cell(&usage.volumes),
                usage_cell(&usage.build_cache),
                human_size(usage.size_bytes()),
                human_size(usage.reclaimable_bytes()),
            ]);
        } else {
            row.extend(std::iter::repeat_n("-".to_string(), 6));
        }
        draft.row(u8::from(!outcome.succeeded()), index, row);
        draft.failure(index, outcome);
        Ok(())
    }

    fn write(
        out: &mut dyn Write,
        mut draft: TableDraft,
        total: DiskUsage,
        end: &RunEnd,
        _: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        let mut total_row = total_cells(end.tally);
        total_row.extend([
            usage_cell(&total.images),
            usage_cell(&total.containers),
            usage_cell(&total.volumes),
            usage_cell(&total.build_cache),
            human_size(total.size_bytes()),
            human_size(total.reclaimable_bytes()),
        ]);
        draft.write_table(out, &HEADER, Some(total_row), layout)?;
        writeln!(
            out,
            "(cells: size (reclaimable), computed as `docker system df` does)"
        )?;
        draft.write_failures(out, end.safety)
    }
}
