//! Each command's payload in every format, host by host: the shapes a payload must have for
//! [`crate::output`] to write a run as a table, Markdown, JSON, NDJSON, CSV or Prometheus
//! metrics while keeping of each finished host only what the chosen outputs still need.

use super::csv::CsvShape;
use super::json::JsonShape;
use super::metrics::MetricsShape;
use super::table::TableShape;

/// A command's payload, renderable in every format.
pub trait Render: JsonShape + MetricsShape + CsvShape + TableShape + Send + Sync + 'static {}

impl<T> Render for T where
    T: JsonShape + MetricsShape + CsvShape + TableShape + Send + Sync + 'static
{
}

/// A run kept whole, written at once in one format, as the streaming outputs would write it.
#[cfg(test)]
pub(crate) mod whole {
    use super::Render;
    use crate::outcome::{FleetRun, Tally};
    use crate::report::csv::CsvDraft;
    use crate::report::json::{DocumentDraft, JsonShape};
    use crate::report::metrics::MetricsDraft;
    use crate::report::run_info::RunInfo;
    use crate::report::table::{Layout, RunEnd, TableDraft};

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("reports are UTF-8")
    }

    /// The outcomes in a finishing order unlike inventory order (last first), as a fleet would
    /// deliver them: every whole-run test also checks that order does not leak into output.
    fn finishing_order<T>(
        run: &FleetRun<T>,
    ) -> impl Iterator<Item = (usize, &crate::outcome::HostOutcome<T>)> {
        run.outcomes.iter().enumerate().rev()
    }

    pub(crate) fn json<T: Render>(run: &FleetRun<T>, info: &RunInfo) -> String {
        let mut draft = DocumentDraft::default();
        let mut totals = <T as JsonShape>::Totals::default();
        for (index, outcome) in finishing_order(run) {
            draft.add(outcome, info, index).unwrap();
            T::add_to_totals(&mut totals, outcome);
        }
        let mut out = Vec::new();
        let tally = Tally::of(&run.outcomes);
        draft
            .write(&mut out, info, &tally, &totals, &run.safety)
            .unwrap();
        text(out)
    }

    /// NDJSON: the host lines in inventory order, then the summary.
    pub(crate) fn ndjson<T: Render>(run: &FleetRun<T>, info: &RunInfo) -> String {
        let mut out = Vec::new();
        let mut totals = <T as JsonShape>::Totals::default();
        for (index, outcome) in run.outcomes.iter().enumerate() {
            crate::report::json::write_host_event(&mut out, outcome, info, index).unwrap();
            T::add_to_totals(&mut totals, outcome);
        }
        let tally = Tally::of(&run.outcomes);
        crate::report::json::write_summary_event(&mut out, info, &tally, &totals, &run.safety)
            .unwrap();
        text(out)
    }

    pub(crate) fn table<T: Render>(run: &FleetRun<T>, info: &RunInfo, layout: Layout) -> String {
        let mut draft = TableDraft::default();
        let mut sums = T::Sums::default();
        for (index, outcome) in finishing_order(run) {
            T::add(&mut draft, &mut sums, outcome, info, index).unwrap();
        }
        let tally = Tally::of(&run.outcomes);
        let end = RunEnd {
            tally: &tally,
            safety: &run.safety,
        };
        let mut out = Vec::new();
        T::write(&mut out, draft, sums, &end, info, layout).unwrap();
        text(out)
    }

    pub(crate) fn csv<T: Render>(run: &FleetRun<T>, info: &RunInfo) -> String {
        let mut draft = CsvDraft::default();
        for (index, outcome) in finishing_order(run) {
            draft.add(outcome, info, index).unwrap();
        }
        let mut out = Vec::new();
        draft.write::<T>(&mut out).unwrap();
        text(out)
    }

    pub(crate) fn metrics<T: Render>(run: &FleetRun<T>, info: &RunInfo) -> String {
        let mut draft = MetricsDraft::default();
        for (index, outcome) in finishing_order(run) {
            draft.add(outcome, info.command, index);
        }
        let mut out = Vec::new();
        draft
            .write(&mut out, info, &Tally::of(&run.outcomes), None)
            .unwrap();
        text(out)
    }
}
