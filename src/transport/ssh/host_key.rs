//! The server's host key: checked against known_hosts (and `@cert-authority` lines for host
//! certificates) as `StrictHostKeyChecking` says, for a session; or only recorded, as
//! `ssh-keyscan` does, for `ping --print-host-keys`.

use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use super::algorithms::{configured_algorithms, preferred_host_key_algorithms};
use super::carrier::carry;
use super::{HostKeyChecking, SshError, SshSettings, SshTarget};
use crate::model::connection::HostKeyCheck;
use crate::transport::known_hosts::{self, HostKeyStatus};

/// The russh handler: verifies the server's key and nothing else.
pub struct HostKeyVerifier {
    address: String,
    port: u16,
    settings: SshSettings,
    verdict: Arc<Mutex<Option<HostKeyCheck>>>,
}

impl client::Handler for HostKeyVerifier {
    type Error = SshError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, SshError> {
        let check = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.verify(key)?,
            PublicKeyOrCertificate::Certificate(certificate) => {
                self.verify_certificate(certificate)?
            }
        };
        if let Ok(mut slot) = self.verdict.lock() {
            *slot = Some(check);
        }
        Ok(true)
    }
}

impl HostKeyVerifier {
    /// A verifier for the key recorded under `address` and `port`, and the slot where it leaves
    /// its verdict once the server's key is checked.
    pub(super) fn new(
        address: String,
        port: u16,
        settings: SshSettings,
    ) -> (HostKeyVerifier, Arc<Mutex<Option<HostKeyCheck>>>) {
        let verdict = Arc::new(Mutex::new(None));
        let verifier = HostKeyVerifier {
            address,
            port,
            settings,
            verdict: Arc::clone(&verdict),
        };
        (verifier, verdict)
    }

    /// `host` on port 22, `[host]:port` otherwise, as messages name it.
    fn name(&self) -> String {
        if self.port == 22 {
            self.address.clone()
        } else {
            format!("[{}]:{}", self.address, self.port)
        }
    }

    /// A host certificate, checked against the `@cert-authority` lines for the host. Whatever
    /// the checking mode, an untrusted certificate fails the host: fleetprune only asks for
    /// certificates from hosts whose authority it was told.
    fn verify_certificate(
        &self,
        certificate: &russh::keys::Certificate,
    ) -> Result<HostKeyCheck, SshError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let certified = self
            .settings
            .known_hosts
            .check_certificate(&self.address, self.port, certificate, now)
            .map_err(|problem| SshError::HostCertificate {
                name: self.name(),
                problem,
            })?;
        Ok(HostKeyCheck::Certified {
            fingerprint: certificate
                .public_key()
                .fingerprint(russh::keys::HashAlg::Sha256)
                .to_string(),
            authority: certified.authority,
        })
    }

    fn verify(&self, key: &PublicKey) -> Result<HostKeyCheck, SshError> {
        let fingerprint = known_hosts::fingerprint(key);
        let known = &self.settings.known_hosts;
        let verdict = known.check(&self.address, self.port, key);
        let path = verdict.path.display().to_string();
        let name = self.name();
        match verdict.status {
            HostKeyStatus::Trusted { .. } => Ok(HostKeyCheck::Verified { fingerprint }),
            HostKeyStatus::Revoked { line } => Err(SshError::HostKeyRevoked {
                name,
                fingerprint,
                path,
                line,
            }),
            HostKeyStatus::Changed { lines } if self.settings.checking != HostKeyChecking::Off => {
                let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
                Err(SshError::HostKeyChanged {
                    name,
                    fingerprint,
                    path,
                    lines: lines.join(", "),
                })
            }
            HostKeyStatus::Changed { .. } => {
                tracing::warn!(
                    "host key of {} differs from known_hosts ({fingerprint}); accepted because host key checking is off",
                    name.escape_debug()
                );
                Ok(HostKeyCheck::Unchecked { fingerprint })
            }
            HostKeyStatus::Unknown => match self.settings.checking {
                HostKeyChecking::Strict => Err(SshError::HostKeyUnknown {
                    name,
                    fingerprint,
                    path,
                }),
                HostKeyChecking::AcceptNew => {
                    known.append(&self.address, self.port, key)?;
                    tracing::warn!(
                        "permanently added {} ({fingerprint}) to {path}",
                        name.escape_debug()
                    );
                    Ok(HostKeyCheck::Added { fingerprint })
                }
                HostKeyChecking::Off => Ok(HostKeyCheck::Unchecked { fingerprint }),
            },
        }
    }
}

/// The server's host key, as `ssh-keyscan` gets it: the handshake stops once the key is seen,
/// before it is trusted or anything is authenticated. Jump hosts on the way are checked as usual.
pub async fn scan_host_key(
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<PublicKey, SshError> {
    let scan = async {
        let (stream, carrier) = carry(target, settings).await?;
        let seen = Arc::new(Mutex::new(None));
        let scanner = KeyScanner {
            seen: Arc::clone(&seen),
        };
        let config = client::Config {
            preferred: russh::Preferred {
                key: preferred_host_key_algorithms(settings, target).into(),
                ..configured_algorithms(&target.algorithms)
            },
            ..client::Config::default()
        };
        let result = client::connect_stream(Arc::new(config), stream, scanner).await;
        if let Some(key) = seen.lock().ok().and_then(|mut slot| slot.take()) {
            return Ok(key);
        }
        Err(carrier.explain(
            result
                .err()
                .map(SshError::Protocol)
                .unwrap_or(SshError::HostKeyNotChecked),
            target,
        ))
    };
    tokio::time::timeout(settings.connect_timeout, scan)
        .await
        .unwrap_or_else(|_| {
            Err(SshError::ConnectTimeout {
                address: target.endpoint(),
                seconds: settings.connect_timeout.as_secs(),
            })
        })
}

/// Records the server's key and ends the handshake there.
struct KeyScanner {
    seen: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for KeyScanner {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, russh::Error> {
        if let (PublicKeyOrCertificate::PublicKey { key, .. }, Ok(mut slot)) =
            (server_key, self.seen.lock())
        {
            *slot = Some(key.clone());
        }
        Ok(false)
    }
}
