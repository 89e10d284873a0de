//! The table of `fleetprune ping`: what each host's connection looks like.

use std::io::{self, Write};

use super::{Layout, RunEnd, TableDraft, TableShape, status, total_cells};
use crate::model::connection::HostKeyCheck;
use crate::model::engine_kind::EngineKind;
use crate::outcome::HostOutcome;
use crate::report::run_info::RunInfo;
use crate::report::{sanitize, seconds};

const HEADER: [&str; 8] = [
    "HOST",
    "STATUS",
    "ADDRESS",
    "HOST KEY",
    "TRANSPORT",
    "ENGINE",
    "API",
    "TIME",
];

impl TableShape for () {
    type Sums = ();

    fn add(
        draft: &mut TableDraft,
        _: &mut (),
        outcome: &HostOutcome<()>,
        _: &RunInfo,
        index: usize,
    ) -> io::Result<()> {
        let host_key = match &outcome.host_key {
            Some(HostKeyCheck::Verified { .. }) => "verified",
            Some(HostKeyCheck::Added { .. }) => "added",
            Some(HostKeyCheck::Unchecked { .. }) => "unchecked",
            Some(HostKeyCheck::Certified { .. }) => "certified",
            None => "-",
        };
        let (transport, engine, api) = match &outcome.connection {
            Some(c) => (
                match &c.found_socket {
                    Some(socket) => format!("{} {}", c.transport, sanitize(socket)),
                    None => c.transport.to_string(),
                },
                match c.engine {
                    EngineKind::Docker => sanitize(&c.engine_version),
                    EngineKind::Podman => format!("podman {}", sanitize(&c.engine_version)),
                },
                c.api_version.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let row = vec![
            sanitize(&outcome.name),
            status(outcome),
            sanitize(&outcome.address),
            host_key.to_string(),
            transport,
            engine,
            api,
            seconds(outcome.duration),
        ];
        draft.row(u8::from(!outcome.succeeded()), index, row);
        draft.failure(index, outcome);
        Ok(())
    }

    fn write(
        out: &mut dyn Write,
        mut draft: TableDraft,
        _: (),
        end: &RunEnd,
        _: &RunInfo,
        layout: Layout,
    ) -> io::Result<()> {
        let mut total_row = total_cells(end.tally);
        total_row.extend(std::iter::repeat_n(String::new(), 6));
        draft.write_table(out, &HEADER, Some(total_row), layout)?;
        draft.write_failures(out, end.safety)
    }
}
