//! Sessions with jump hosts (`ProxyJump`), opened once per run and shared by every host behind
//! them: the first hop over TCP, each later hop through a `direct-tcpip` channel of the one before,
//! every hop's host key verified and its own key used, as `ssh -J` does.
//!
//! A hop that fails is remembered as failed for the run, so a bastion that is down fails the
//! hosts behind it at once instead of each waiting for it in turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use russh::client::Handle;
use tokio::sync::OnceCell;

use super::ssh::{self, HostKeyVerifier, SshError, SshSettings, SshTarget, Via};

/// A jump session, or why it could not be had.
type Shared = Result<Arc<Handle<HostKeyVerifier>>, Arc<SshError>>;

/// The identity of a chain of hops: who logs in where, through which hops before.
type ChainKey = Vec<(String, u16, String, Option<std::path::PathBuf>)>;

/// The jump sessions of a run, by chain of hops.
#[derive(Default)]
pub struct JumpSessions {
    chains: Mutex<HashMap<ChainKey, Arc<OnceCell<Shared>>>>,
}

impl std::fmt::Debug for JumpSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.chains.lock().map(|c| c.len()).unwrap_or_default();
        f.debug_struct("JumpSessions")
            .field("chains", &open)
            .finish()
    }
}

impl JumpSessions {
    /// The session with the last of `hops`, opening the chain as far as needed; returns that
    /// hop too, for messages.
    pub async fn session<'a>(
        &self,
        hops: &'a [SshTarget],
        settings: &SshSettings,
    ) -> Result<(&'a SshTarget, Arc<Handle<HostKeyVerifier>>), SshError> {
        let mut previous: Option<Arc<Handle<HostKeyVerifier>>> = None;
        for (index, hop) in hops.iter().enumerate() {
            let cell = self.cell(&hops[..=index]);
            let shared = cell
                .get_or_init(|| open_hop(hop, previous.clone(), settings))
                .await
                .clone();
            previous = Some(shared.map_err(|source| SshError::Jump {
                hop: hop.endpoint(),
                source,
            })?);
        }
        match (hops.last(), previous) {
            (Some(last), Some(handle)) => Ok((last, handle)),
            _ => Err(SshError::HostKeyNotChecked),
        }
    }

    fn cell(&self, chain: &[SshTarget]) -> Arc<OnceCell<Shared>> {
        let key: ChainKey = chain
            .iter()
            .map(|hop| {
                (
                    hop.address.clone(),
                    hop.port,
                    hop.user.clone(),
                    hop.identity.clone(),
                )
            })
            .collect();
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(chains.entry(key).or_default())
    }
}

/// Logs in to `hop`, over TCP or through the hop before it.
async fn open_hop(
    hop: &SshTarget,
    through: Option<Arc<Handle<HostKeyVerifier>>>,
    settings: &SshSettings,
) -> Shared {
    let hop = SshTarget {
        via: Via::Direct,
        ..hop.clone()
    };
    let opened = async {
        settings.identities.candidates(hop.identity.as_deref())?;
        let session = match through {
            None => ssh::handshake(ssh::tcp_connect(&hop).await?, &hop, settings).await?,
            Some(previous) => {
                let channel = previous
                    .channel_open_direct_tcpip(
                        hop.address.as_str(),
                        hop.port.into(),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|source| SshError::JumpChannel {
                        hop: "the previous jump host".to_string(),
                        target: hop.endpoint(),
                        source: Box::new(source),
                    })?;
                ssh::handshake(channel.into_stream(), &hop, settings).await?
            }
        };
        tracing::debug!(hop = %hop.endpoint().escape_debug(), "jump session open");
        Ok::<_, SshError>(Arc::new(session.handle))
    };
    opened.await.map_err(Arc::new)
}
