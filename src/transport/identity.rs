//! Private keys for public-key authentication, loaded once per run before any host is contacted.
//!
//! A key file named on the command line or in the inventory that cannot be used (missing,
//! unreadable, not a key) fails the hosts it is named for, not the run; OpenSSH's default
//! files (`~/.ssh/id_ed25519`, ...) are used when present. An encrypted key is unlocked with
//! `FLEETPRUNE_KEY_PASSPHRASE` or, on a terminal, a prompt — once, not once per host. A locked
//! key whose public half is known (from the key file itself or `FILE.pub`) can still be used
//! through the ssh-agent's copy, as `ssh` does.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::{PrivateKey, PublicKey};

/// The environment variable holding the passphrase of encrypted keys.
pub const PASSPHRASE_VARIABLE: &str = "FLEETPRUNE_KEY_PASSPHRASE";

/// OpenSSH's default identity files, in the order `ssh` tries them.
const DEFAULT_IDENTITY_FILES: [&str; 4] = ["id_rsa", "id_ecdsa", "id_ed25519", "id_dsa"];

/// Keys loaded from files, shared by every host's session.
#[derive(Debug, Clone, Default)]
pub struct IdentityStore {
    keys: BTreeMap<PathBuf, Arc<PrivateKey>>,
    /// Named key files that could not be loaded, failing the hosts they are named for unless the
    /// agent holds their public key (when it is known).
    unusable: BTreeMap<PathBuf, (Option<PublicKey>, IdentityError)>,
    defaults: Vec<PathBuf>,
}

/// A key file to offer: its public key, and the private key when it could be loaded.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub path: PathBuf,
    pub public: Option<PublicKey>,
    /// The loaded key, or why it could not be (then only an agent copy can be used).
    pub private: Result<Arc<PrivateKey>, IdentityError>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IdentityError {
    #[error("identity file {path}: {message}")]
    Unreadable { path: String, message: String },
    #[error(
        "identity file {path} is encrypted: set {PASSPHRASE_VARIABLE} or run on a terminal to be asked"
    )]
    NeedsPassphrase { path: String },
    #[error("identity file {path}: wrong passphrase")]
    WrongPassphrase { path: String },
}

impl IdentityStore {
    /// Loads every explicitly named key (remembering why one could not be loaded) and the
    /// default keys that exist.
    pub fn load(explicit: &[PathBuf], home: Option<&Path>) -> IdentityStore {
        let mut store = IdentityStore::default();
        let passphrase = std::env::var(PASSPHRASE_VARIABLE).ok();
        for path in explicit {
            if store.keys.contains_key(path) || store.unusable.contains_key(path) {
                continue;
            }
            match load_key(path, passphrase.as_deref()) {
                Ok(key) => {
                    store.keys.insert(path.clone(), Arc::new(key));
                }
                Err(error) => {
                    let public = public_half(path);
                    // Escaped: a path from the inventory must not forge log lines.
                    if public.is_some() {
                        tracing::info!(
                            "{}; only an ssh-agent copy of it can be used",
                            error.to_string().escape_debug()
                        );
                    } else {
                        tracing::warn!(
                            "{}; hosts using it will fail",
                            error.to_string().escape_debug()
                        );
                    }
                    store.unusable.insert(path.clone(), (public, error));
                }
            }
        }
        let ssh_dir = home.map(|home| home.join(".ssh"));
        for name in DEFAULT_IDENTITY_FILES {
            let Some(path) = ssh_dir.as_ref().map(|dir| dir.join(name)) else {
                continue;
            };
            if !path.exists() {
                continue;
            }
            // A default key that cannot be used is skipped, as ssh does, not fatal.
            match load_key(&path, passphrase.as_deref()) {
                Ok(key) => {
                    store.keys.insert(path.clone(), Arc::new(key));
                    store.defaults.push(path);
                }
                Err(error) => tracing::warn!("skipping default identity: {error}"),
            }
        }
        store
    }

    /// The key files to offer for a host: its own key file if it has one, else the defaults. Its
    /// own key file failing to load is an error only when no agent copy could stand in for it
    /// (its public key is unknown).
    pub fn candidates(&self, explicit: Option<&Path>) -> Result<Vec<Candidate>, IdentityError> {
        if let Some(path) = explicit
            && let Some((public, error)) = self.unusable.get(path)
        {
            return match public {
                Some(public) => Ok(vec![Candidate {
                    path: path.to_path_buf(),
                    public: Some(public.clone()),
                    private: Err(error.clone()),
                }]),
                None => Err(error.clone()),
            };
        }
        let paths: Vec<&PathBuf> = match explicit {
            Some(path) => self.keys.keys().filter(|p| p.as_path() == path).collect(),
            None => self.defaults.iter().collect(),
        };
        Ok(paths
            .into_iter()
            .filter_map(|p| {
                self.keys.get(p).map(|key| Candidate {
                    path: p.clone(),
                    public: Some(key.public_key().clone()),
                    private: Ok(Arc::clone(key)),
                })
            })
            .collect())
    }
}

/// The public half of a key file that could not be loaded: from the file itself (OpenSSH's
/// format keeps it in the clear) or from `FILE.pub`.
fn public_half(path: &Path) -> Option<PublicKey> {
    let text = crate::input_file::read_to_string(path, crate::input_file::KEY_LIMIT).ok()?;
    if let Ok(key) = PrivateKey::from_openssh(&text) {
        return Some(key.public_key().clone());
    }
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    let text =
        crate::input_file::read_to_string(Path::new(&pub_path), crate::input_file::KEY_LIMIT)
            .ok()?;
    PublicKey::from_openssh(text.trim()).ok()
}

fn load_key(path: &Path, passphrase: Option<&str>) -> Result<PrivateKey, IdentityError> {
    let shown = path.display().to_string();
    let text =
        crate::input_file::read_to_string(path, crate::input_file::KEY_LIMIT).map_err(|error| {
            IdentityError::Unreadable {
                path: shown.clone(),
                message: error.to_string(),
            }
        })?;
    match russh::keys::decode_secret_key(&text, passphrase) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) if passphrase.is_none() => {
            if !std::io::stdin().is_terminal() {
                return Err(IdentityError::NeedsPassphrase { path: shown });
            }
            let typed = rpassword::prompt_password(format!("Enter passphrase for key '{shown}': "))
                .map_err(|e| IdentityError::Unreadable {
                    path: shown.clone(),
                    message: e.to_string(),
                })?;
            russh::keys::decode_secret_key(&text, Some(&typed))
                .map_err(|_| IdentityError::WrongPassphrase { path: shown })
        }
        // A failed decryption says "cryptographic error"; on an encrypted key it means the
        // passphrase is wrong.
        Err(_) if passphrase.is_some() && is_encrypted(&text) => {
            Err(IdentityError::WrongPassphrase { path: shown })
        }
        Err(error) => Err(IdentityError::Unreadable {
            path: shown,
            message: error.to_string(),
        }),
    }
}

fn is_encrypted(text: &str) -> bool {
    matches!(
        russh::keys::decode_secret_key(text, None),
        Err(russh::keys::Error::KeyIsEncrypted)
    )
}
