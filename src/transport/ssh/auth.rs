//! Public-key authentication as OpenSSH does it: the host's own key files first (through the
//! agent's copy when the agent holds one), then the agent's other keys unless `IdentitiesOnly`,
//! telling a refused key from the server cutting the connection on `MaxAuthTries`.

use std::sync::Arc;

use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, PrivateKeyWithHashAlg, PublicKey};

use super::{HostKeyVerifier, SshError, SshSettings, SshTarget};

/// Public-key authentication: the host's own key files first (through the agent's copy when
/// the agent holds one), then the agent's other keys unless `IdentitiesOnly`.
pub(super) async fn authenticate(
    handle: &mut Handle<HostKeyVerifier>,
    target: &SshTarget,
    settings: &SshSettings,
) -> Result<(), SshError> {
    let candidates = settings.identities.candidates(target.identity.as_deref())?;
    let mut agent = match &settings.agent_socket {
        Some(socket) => match AgentClient::connect_uds(socket).await {
            Ok(mut agent) => {
                let keys: Vec<(PublicKey, String)> = agent
                    .request_identities()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|identity| match identity {
                        AgentIdentity::PublicKey { key, comment } => Some((key, comment)),
                        _ => None,
                    })
                    .collect();
                Some((agent, keys))
            }
            Err(error) => {
                tracing::debug!("ssh-agent at {} unusable: {error}", socket.display());
                None
            }
        },
        None => None,
    };
    let mut attempts = Attempts::default();
    let mut locked = None;
    for candidate in &candidates {
        let in_agent = candidate.public.as_ref().filter(|public| {
            agent.as_ref().is_some_and(|(_, keys)| {
                keys.iter()
                    .any(|(key, _)| key.key_data() == public.key_data())
            })
        });
        let shown = candidate.path.display().to_string();
        let accepted = match (in_agent, &mut agent, &candidate.private) {
            (Some(public), Some((agent, _)), _) => {
                let hash = rsa_hash(handle, &public.algorithm()).await?;
                let result = handle
                    .authenticate_publickey_with(&target.user, public.clone(), hash, agent)
                    .await;
                attempts.judge(
                    result.map_err(|e| e.to_string()),
                    format!("{shown} (agent)"),
                )?
            }
            (_, _, Ok(key)) => {
                let hash = rsa_hash(handle, &key.algorithm()).await?;
                let result = handle
                    .authenticate_publickey(
                        &target.user,
                        PrivateKeyWithHashAlg::new(Arc::clone(key), hash),
                    )
                    .await;
                attempts.judge(result.map_err(|e| e.to_string()), shown)?
            }
            (_, _, Err(error)) => {
                locked.get_or_insert_with(|| error.clone());
                false
            }
        };
        if accepted {
            return Ok(());
        }
    }
    if !target.identities_only
        && let Some((agent, keys)) = &mut agent
    {
        let own: Vec<&PublicKey> = candidates
            .iter()
            .filter_map(|c| c.public.as_ref())
            .collect();
        for (key, comment) in keys.iter() {
            if own.iter().any(|o| o.key_data() == key.key_data()) {
                continue;
            }
            let hash = rsa_hash(handle, &key.algorithm()).await?;
            let result = handle
                .authenticate_publickey_with(&target.user, key.clone(), hash, agent)
                .await;
            if attempts.judge(
                result.map_err(|e| e.to_string()),
                format!("agent key {comment}"),
            )? {
                return Ok(());
            }
        }
    }
    if attempts.tried.is_empty()
        && let Some(error) = locked
    {
        return Err(SshError::KeyUnusable(error));
    }
    let tried = if attempts.tried.is_empty() {
        "no key to offer (no agent, no identity file)".to_string()
    } else {
        format!("tried {}", attempts.tried.join(", "))
    };
    Err(SshError::Auth {
        user: target.user.clone(),
        address: target.address.clone(),
        tried,
    })
}

/// The keys offered so far, to name them and to tell the server's cut-off from a bad key.
#[derive(Default)]
struct Attempts {
    tried: Vec<String>,
}

impl Attempts {
    /// Whether `result` is a success; a refusal is remembered, and an error after refusals is
    /// the server closing the connection on too many attempts (its `MaxAuthTries`).
    fn judge<E: std::fmt::Display>(
        &mut self,
        result: Result<AuthResult, E>,
        shown: String,
    ) -> Result<bool, SshError> {
        match result {
            Ok(AuthResult::Success) => Ok(true),
            Ok(AuthResult::Failure { .. }) => {
                self.tried.push(shown);
                Ok(false)
            }
            Err(error) if !self.tried.is_empty() => {
                // russh only says its event loop is gone; the cut-off is what happened.
                tracing::debug!("offering {shown} failed: {error}");
                Err(SshError::AuthCutOff {
                    refused: self.tried.len(),
                    tried: self.tried.join(", "),
                })
            }
            Err(error) => {
                tracing::debug!("offering {shown} failed: {error}");
                Ok(false)
            }
        }
    }
}

async fn rsa_hash(
    handle: &Handle<HostKeyVerifier>,
    algorithm: &Algorithm,
) -> Result<Option<russh::keys::HashAlg>, SshError> {
    if matches!(algorithm, Algorithm::Rsa { .. }) {
        Ok(handle.best_supported_rsa_hash().await?.flatten())
    } else {
        Ok(None)
    }
}
