//! Each command's payload in every format: the one trait [`crate::output`] needs to write a run
//! as a table, Markdown, JSON, NDJSON, CSV or Prometheus metrics.

use std::io::{self, Write};

use crate::outcome::FleetRun;
use crate::outcome::disk_usage::DiskUsage;
use crate::outcome::prediction::PlanReport;
use crate::outcome::reclaim::PruneReport;

use super::json::JsonShape;
use super::metrics::MetricsShape;
use super::run_info::RunInfo;
use super::table::Layout;
use super::{apply, csv, object_plan, table};

/// A command's payload, renderable in every format.
pub trait Render: JsonShape + MetricsShape + Send + Sync + 'static {
    /// The table (or Markdown, per `layout`); `info.detail` adds object lists.
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        info: &RunInfo,
        layout: Layout,
    ) -> io::Result<()>;
    /// CSV; `info` has each host's effective plan.
    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, info: &RunInfo) -> io::Result<()>;
}

impl Render for PruneReport {
    /// `prune` (with or without a keep policy) has the per-kind table; `apply` and `rmi`, which
    /// carry out a reviewed list, put planned beside done.
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        info: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        match info.command {
            "apply" | "rmi" => apply::write_table_report(out, run, info.detail.objects, layout),
            _ => table::write_prune(out, run, info.detail.objects, layout),
        }
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, info: &RunInfo) -> io::Result<()> {
        csv::write_prune(out, run, info)
    }
}

impl Render for PlanReport {
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        info: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        object_plan::write_table_report(out, run, info.detail, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, _: &RunInfo) -> io::Result<()> {
        csv::write_plan(out, run)
    }
}

impl Render for DiskUsage {
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        _: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        table::write_df(out, run, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, _: &RunInfo) -> io::Result<()> {
        csv::write_df(out, run)
    }
}

impl Render for () {
    fn table(
        out: &mut dyn Write,
        run: &FleetRun<Self>,
        _: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        table::write_ping(out, run, layout)
    }

    fn csv(out: &mut dyn Write, run: &FleetRun<Self>, _: &RunInfo) -> io::Result<()> {
        csv::write_ping(out, run)
    }
}
