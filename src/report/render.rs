//! Each command's payload in every format: the one trait [`crate::output`] needs to write a run
//! as a table, Markdown, JSON, NDJSON, CSV or Prometheus metrics.

use std::io::{self, Write};

use crate::df::DiskUsage;
use crate::outcome::FleetRun;
use crate::progress::LiveFacts;
use crate::prune::PruneReport;

use super::json::JsonShape;
use super::metrics::MetricsShape;
use super::run_info::RunInfo;
use super::table::Layout;
use super::{csv, table};

/// A command's payload, renderable in every format.
pub trait Render: JsonShape + MetricsShape + LiveFacts + Send + Sync + 'static {
    /// The table (or Markdown, per `layout`); `verbose` adds the deleted objects.
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        verbose: bool,
        layout: Layout,
    ) -> io::Result<()>;
    /// CSV; `info` has each host's effective plan.
    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, info: &RunInfo) -> io::Result<()>;
}

impl LiveFacts for PruneReport {
    fn live_bytes(&self) -> Option<u64> {
        Some(self.reclaimed_bytes())
    }
}

impl Render for PruneReport {
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        verbose: bool,
        layout: Layout,
    ) -> io::Result<()> {
        table::write_prune(out, run, verbose, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, info: &RunInfo) -> io::Result<()> {
        csv::write_prune(out, run, info)
    }
}

impl LiveFacts for DiskUsage {
    const BYTES_LABEL: &'static str = "reclaimable";

    fn live_bytes(&self) -> Option<u64> {
        Some(self.reclaimable_bytes())
    }
}

impl Render for DiskUsage {
    fn table(out: &mut dyn Write, run: &FleetRun<Self>, _: bool, layout: Layout) -> io::Result<()> {
        table::write_df(out, run, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, _: &RunInfo) -> io::Result<()> {
        csv::write_df(out, run)
    }
}

impl Render for () {
    fn table(out: &mut dyn Write, run: &FleetRun<Self>, _: bool, layout: Layout) -> io::Result<()> {
        table::write_ping(out, run, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, _: &RunInfo) -> io::Result<()> {
        csv::write_ping(out, run)
    }
}

impl LiveFacts for crate::apply::ApplyReport {
    fn live_bytes(&self) -> Option<u64> {
        Some(self.reclaimed_bytes())
    }
}

impl LiveFacts for crate::predict::PlanReport {
    fn live_bytes(&self) -> Option<u64> {
        Some(self.plan.bytes())
    }
    const BYTES_LABEL: &'static str = "predicted";
}
