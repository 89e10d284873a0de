//! `fleetprune ping`: reaching each host's engine (SSH, host key, auth, tunnel, API version) is
//! the whole job.

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::executor::HostJob;
use crate::host::Host;
use crate::model::failure::{HostFailure, Stage};
use crate::transport::shell::HostShell;

/// `fleetprune ping`: reaching the engine is the whole job.
pub struct ReachOnly;

impl HostJob for ReachOnly {
    type Output = ();
    const STAGE: Stage = Stage::Engine;

    async fn run(
        &self,
        _: &Host,
        _: &Engine,
        _: &HostShell<'_>,
        _: &mut (),
        _: &CancellationToken,
    ) -> Result<(), HostFailure> {
        Ok(())
    }
}
