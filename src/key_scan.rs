//! `ping --print-host-keys`: each selected host's SSH host key as a known_hosts line, the way
//! `ssh-keyscan` prints it, to review and pin. Nothing is trusted, authenticated or written;
//! jump hosts on the way are checked as usual. Hosts are scanned `--forks` at a time.

use futures::StreamExt;

use crate::executor::{FleetOptions, ssh_target};
use crate::host::Host;
use crate::model::failure::{ErrorClass, HostFailure, Stage};
use crate::transport::known_hosts;
use crate::transport::ssh;

/// One host's scan: its known_hosts line, or why there is none.
#[derive(Debug)]
pub struct ScannedKey {
    pub host: String,
    pub result: Result<String, HostFailure>,
}

/// Scans every host, in inventory order.
pub async fn scan_fleet(hosts: &[Host], options: &FleetOptions) -> Vec<ScannedKey> {
    futures::stream::iter(hosts)
        .map(|host| async move {
            ScannedKey {
                host: host.name.clone(),
                result: scan(host, options).await,
            }
        })
        .buffered(options.forks.get())
        .collect()
        .await
}

async fn scan(host: &Host, options: &FleetOptions) -> Result<String, HostFailure> {
    if let Some(refusal) = &host.refused {
        return Err(HostFailure::new(
            Stage::Connect,
            ErrorClass::UnsupportedOption,
            refusal.to_string(),
        ));
    }
    let key = ssh::scan_host_key(&ssh_target(host), &options.ssh_for(host))
        .await
        .map_err(|error| HostFailure::from_error(error.stage(), &error))?;
    known_hosts::known_hosts_line(&host.address, host.port, &key)
        .map_err(|error| HostFailure::new(Stage::HostKey, ErrorClass::Protocol, error.to_string()))
}
