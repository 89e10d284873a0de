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
        let mut agent = AgentKeys::new(std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from));
        for path in explicit {
            if store.keys.contains_key(path) || store.unusable.contains_key(path) {
                continue;
            }
            match load_key(path, passphrase.as_deref(), &mut agent) {
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
            match load_key(&path, passphrase.as_deref(), &mut agent) {
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

/// Loads a key file, asking for its passphrase on a terminal unless the agent holds the key (its
/// copy is used then, as `ssh` does, without asking).
fn load_key(
    path: &Path,
    passphrase: Option<&str>,
    agent: &mut AgentKeys,
) -> Result<PrivateKey, IdentityError> {
    let shown = path.display().to_string();
    let text =
        crate::input_file::read_to_string(path, crate::input_file::KEY_LIMIT).map_err(|error| {
            IdentityError::Unreadable {
                path: shown.clone(),
                message: error.to_string(),
            }
        })?;
    match decode(&text, passphrase, &shown) {
        Err(IdentityError::NeedsPassphrase { .. })
            if std::io::stdin().is_terminal()
                && !public_half(path).is_some_and(|public| agent.holds(&public)) =>
        {
            let typed = rpassword::prompt_password(format!("Enter passphrase for key '{shown}': "))
                .map_err(|e| IdentityError::Unreadable {
                    path: shown.clone(),
                    message: e.to_string(),
                })?;
            decode(&text, Some(&typed), &shown)
        }
        decoded => decoded,
    }
}

/// The public keys the ssh-agent at `SSH_AUTH_SOCK` holds, asked for once and only when a
/// passphrase prompt could be spared. This runs before any session (and outside russh's async
/// agent client), so it is a blocking request of its own: `SSH_AGENTC_REQUEST_IDENTITIES`.
struct AgentKeys {
    socket: Option<PathBuf>,
    keys: Option<Vec<PublicKey>>,
}

impl AgentKeys {
    fn new(socket: Option<PathBuf>) -> AgentKeys {
        AgentKeys { socket, keys: None }
    }

    fn holds(&mut self, key: &PublicKey) -> bool {
        let socket = self.socket.as_deref();
        self.keys
            .get_or_insert_with(|| {
                let Some(socket) = socket else {
                    return Vec::new();
                };
                agent_identities(socket).unwrap_or_else(|error| {
                    tracing::debug!("ssh-agent at {} unusable: {error}", socket.display());
                    Vec::new()
                })
            })
            .iter()
            .any(|held| held.key_data() == key.key_data())
    }
}

/// How long the agent may take to answer before it is taken to hold nothing.
const AGENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The public keys an ssh-agent holds (draft-miller-ssh-agent: message 11, answered by 12 with
/// a count and, per key, its blob and comment).
fn agent_identities(socket: &Path) -> std::io::Result<Vec<PublicKey>> {
    use russh::keys::ssh_encoding::Decode;
    use std::io::{Read, Write};
    const REQUEST_IDENTITIES: u8 = 11;
    const IDENTITIES_ANSWER: u8 = 12;
    const LONGEST_ANSWER: usize = 256 * 1024;
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(AGENT_TIMEOUT))?;
    stream.set_write_timeout(Some(AGENT_TIMEOUT))?;
    stream.write_all(&[0, 0, 0, 1, REQUEST_IDENTITIES])?;
    let mut length = [0; 4];
    stream.read_exact(&mut length)?;
    let length = usize::try_from(u32::from_be_bytes(length)).unwrap_or(usize::MAX);
    if length > LONGEST_ANSWER {
        return Err(invalid("answer too long"));
    }
    let mut answer = vec![0; length];
    stream.read_exact(&mut answer)?;
    let Some((&IDENTITIES_ANSWER, mut reader)) = answer.split_first() else {
        return Err(invalid("not an identities answer"));
    };
    let count = u32::decode(&mut reader).map_err(|_| invalid("no key count"))?;
    let mut keys = Vec::new();
    for _ in 0..count {
        let blob = Vec::<u8>::decode(&mut reader).map_err(|_| invalid("truncated key"))?;
        Vec::<u8>::decode(&mut reader).map_err(|_| invalid("truncated comment"))?;
        // Keys of types russh does not know (certificates, FIDO keys) cannot be ours.
        if let Ok(key) = PublicKey::from_bytes(&blob) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Decodes a private key in any format OpenSSH reads: its own, PEM (PKCS#1 RSA, SEC1 EC, also
/// legacy-encrypted), PKCS#8 (encrypted or not), and PuTTY's. An encrypted key's failure to
/// decode with a passphrase means the passphrase is wrong.
fn decode(text: &str, passphrase: Option<&str>, shown: &str) -> Result<PrivateKey, IdentityError> {
    let legacy = LegacyPem::parse(text);
    let encrypted = legacy.is_some() || is_encrypted(text);
    if encrypted && passphrase.is_none() {
        return Err(IdentityError::NeedsPassphrase {
            path: shown.to_string(),
        });
    }
    // A passphrase given for other keys must not reach the decoder of an unencrypted key: russh
    // would read an unencrypted PKCS#8 key as an encrypted one and fail with a DER error.
    let passphrase = passphrase.filter(|_| encrypted);
    if let Some(pem) = legacy {
        return pem.decrypt(passphrase.unwrap_or_default(), shown);
    }
    russh::keys::decode_secret_key(text, passphrase).map_err(|error| {
        if encrypted {
            IdentityError::WrongPassphrase {
                path: shown.to_string(),
            }
        } else {
            IdentityError::Unreadable {
                path: shown.to_string(),
                message: error.to_string(),
            }
        }
    })
}

/// Whether the key needs a passphrase: OpenSSH's format says so itself, PKCS#8 by its label.
fn is_encrypted(text: &str) -> bool {
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || matches!(
            russh::keys::decode_secret_key(text, None),
            Err(russh::keys::Error::KeyIsEncrypted)
        )
}

/// A PEM key encrypted the legacy OpenSSL way (`ssh-keygen -m PEM -N ...`, `openssl ec -aes256`):
/// headers `Proc-Type: 4,ENCRYPTED` and `DEK-Info: CIPHER,IV`, the cipher's key derived from the
/// passphrase by OpenSSL's `EVP_BytesToKey` (MD5, one round, the IV's first 8 bytes as salt).
struct LegacyPem {
    /// `RSA PRIVATE KEY`, `EC PRIVATE KEY`, ...
    label: String,
    cipher: String,
    iv: Vec<u8>,
    body: Vec<u8>,
}

impl LegacyPem {
    /// The encrypted PEM in `text`, or `None` when it is not one.
    fn parse(text: &str) -> Option<LegacyPem> {
        let mut lines = text.lines().map(str::trim);
        let label =
            lines.find_map(|line| line.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))?;
        let (mut encrypted, mut dek_info, mut body) = (false, None, String::new());
        for line in lines.take_while(|line| !line.starts_with("-----END ")) {
            if let Some(value) = line.strip_prefix("Proc-Type:") {
                encrypted = value.trim() == "4,ENCRYPTED";
            } else if let Some(value) = line.strip_prefix("DEK-Info:") {
                dek_info = value.trim().split_once(',');
            } else {
                body.push_str(line);
            }
        }
        let (cipher, iv) = dek_info.filter(|_| encrypted)?;
        Some(LegacyPem {
            label: label.to_string(),
            cipher: cipher.to_ascii_uppercase(),
            iv: data_encoding::HEXLOWER_PERMISSIVE
                .decode(iv.as_bytes())
                .ok()?,
            body: data_encoding::BASE64.decode(body.as_bytes()).ok()?,
        })
    }

    /// The key; a failure to decrypt it, or to read what decrypting gave, is a wrong passphrase.
    fn decrypt(&self, passphrase: &str, shown: &str) -> Result<PrivateKey, IdentityError> {
        let unreadable = |message: String| IdentityError::Unreadable {
            path: shown.to_string(),
            message,
        };
        let key_length = match self.cipher.as_str() {
            "AES-128-CBC" => 16,
            "AES-192-CBC" => 24,
            "AES-256-CBC" => 32,
            other => {
                return Err(unreadable(format!(
                    "encrypted with {other}, which fleetprune cannot decrypt (AES-CBC only); re-encrypt it with ssh-keygen -p -f {shown}"
                )));
            }
        };
        if self.iv.len() != 16 {
            return Err(unreadable(format!(
                "DEK-Info has an IV of {} bytes, not 16",
                self.iv.len()
            )));
        }
        let key = evp_bytes_to_key(passphrase.as_bytes(), &self.iv[..8], key_length);
        let clear = match key_length {
            16 => cbc_decrypt::<aes::Aes128>(&key, &self.iv, &self.body),
            24 => cbc_decrypt::<aes::Aes192>(&key, &self.iv, &self.body),
            _ => cbc_decrypt::<aes::Aes256>(&key, &self.iv, &self.body),
        };
        let label = &self.label;
        clear
            .and_then(|der| {
                let pem = format!(
                    "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                    data_encoding::BASE64.encode(&der)
                );
                russh::keys::decode_secret_key(&pem, None).ok()
            })
            .ok_or_else(|| IdentityError::WrongPassphrase {
                path: shown.to_string(),
            })
    }
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: `D_i = MD5(D_(i-1) || passphrase || salt)`.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], length: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(length + 16);
    let mut block: Vec<u8> = Vec::new();
    while key.len() < length {
        let mut md5 = md5::Context::new();
        md5.consume(&block);
        md5.consume(passphrase);
        md5.consume(salt);
        block = md5.finalize().0.to_vec();
        key.extend_from_slice(&block);
    }
    key.truncate(length);
    key
}

/// AES-CBC decryption with PKCS#7 padding; `None` when the padding is wrong (a wrong key).
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipherDecrypt + aes::cipher::KeyInit,
{
    use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
    let mut buffer = data.to_vec();
    let length = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded::<Pkcs7>(&mut buffer)
        .ok()?
        .len();
    buffer.truncate(length);
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    const PASSPHRASE: &str = "correct horse";

    /// Runs a key generator (ssh-keygen, openssl) in `dir`, failing the test with its stderr.
    fn generate(dir: &Path, program: &str, args: &[&str]) {
        let output = Command::new(program)
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `ssh-keygen -t TYPE [-m FORMAT] -N PASSPHRASE`, returning the private key's text.
    fn ssh_keygen(dir: &Path, name: &str, options: &[&str], passphrase: &str) -> String {
        let mut args = vec!["-q", "-N", passphrase, "-f", name];
        args.extend_from_slice(options);
        generate(dir, "ssh-keygen", &args);
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    /// The public key OpenSSH itself reads from the private key file: the oracle.
    fn openssh_public(dir: &Path, name: &str, passphrase: &str) -> String {
        let output = Command::new("ssh-keygen")
            .current_dir(dir)
            .args(["-y", "-P", passphrase, "-f", name])
            .output()
            .unwrap();
        assert!(output.status.success(), "ssh-keygen -y {name}");
        let line = String::from_utf8_lossy(&output.stdout);
        line.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Decodes `name` as fleetprune does and checks it is the key OpenSSH reads from it.
    fn decodes_as_openssh(dir: &Path, name: &str, text: &str, passphrase: Option<&str>) {
        let key = decode(text, passphrase, name)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", text.lines().next().unwrap()));
        let ours = key.public_key().to_openssh().unwrap();
        let ours = ours
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            ours,
            openssh_public(dir, name, passphrase.unwrap_or("")),
            "{name}"
        );
    }

    #[test]
    fn openssh_format_keys_of_every_type_decode() {
        let dir = tempfile::tempdir().unwrap();
        for (name, options) in [
            ("ed25519", &["-t", "ed25519"][..]),
            ("ecdsa", &["-t", "ecdsa"]),
            ("rsa", &["-t", "rsa", "-b", "2048"]),
        ] {
            let text = ssh_keygen(dir.path(), name, options, "");
            decodes_as_openssh(dir.path(), name, &text, None);
        }
    }

    #[test]
    fn unencrypted_pem_and_pkcs8_keys_decode() {
        let dir = tempfile::tempdir().unwrap();
        generate(
            dir.path(),
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "pkcs8-rsa",
            ],
        );
        let text = std::fs::read_to_string(dir.path().join("pkcs8-rsa")).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
        decodes_as_openssh(dir.path(), "pkcs8-rsa", &text, None);
        // A passphrase meant for other keys does not get in the way (russh alone then fails
        // with a DER error, reading it as an encrypted PKCS#8 key).
        decodes_as_openssh(dir.path(), "pkcs8-rsa", &text, Some(PASSPHRASE));

        for (name, options, label) in [
            (
                "pem-rsa",
                &["-t", "rsa", "-b", "2048", "-m", "PEM"][..],
                "RSA PRIVATE KEY",
            ),
            ("pem-ecdsa", &["-t", "ecdsa", "-m", "PEM"], "EC PRIVATE KEY"),
            (
                "pkcs8-ecdsa",
                &["-t", "ecdsa", "-m", "PKCS8"],
                "PRIVATE KEY",
            ),
        ] {
            let text = ssh_keygen(dir.path(), name, options, "");
            assert!(
                text.starts_with(&format!("-----BEGIN {label}-----")),
                "{name}: {text}"
            );
            decodes_as_openssh(dir.path(), name, &text, None);
        }
    }

    #[test]
    fn encrypted_keys_decode_with_the_right_passphrase_only() {
        let dir = tempfile::tempdir().unwrap();
        for (name, options, marker) in [
            (
                "openssh-ed25519",
                &["-t", "ed25519"][..],
                "OPENSSH PRIVATE KEY",
            ),
            (
                "pem-ecdsa",
                &["-t", "ecdsa", "-m", "PEM"],
                "DEK-Info: AES-128-CBC",
            ),
            (
                "pem-rsa",
                &["-t", "rsa", "-b", "2048", "-m", "PEM"],
                "DEK-Info: AES-128-CBC",
            ),
            (
                "pkcs8-rsa",
                &["-t", "rsa", "-b", "2048", "-m", "PKCS8"],
                "ENCRYPTED PRIVATE KEY",
            ),
            (
                "pkcs8-ecdsa",
                &["-t", "ecdsa", "-m", "PKCS8"],
                "ENCRYPTED PRIVATE KEY",
            ),
        ] {
            let text = ssh_keygen(dir.path(), name, options, PASSPHRASE);
            assert!(text.contains(marker), "{name}: {text}");
            decodes_as_openssh(dir.path(), name, &text, Some(PASSPHRASE));
            assert!(
                matches!(
                    decode(&text, Some("not it"), name),
                    Err(IdentityError::WrongPassphrase { .. })
                ),
                "{name}"
            );
            assert!(
                matches!(
                    decode(&text, None, name),
                    Err(IdentityError::NeedsPassphrase { .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn legacy_pem_with_aes_256_decodes() {
        let dir = tempfile::tempdir().unwrap();
        ssh_keygen(dir.path(), "clear", &["-t", "ecdsa", "-m", "PEM"], "");
        generate(
            dir.path(),
            "openssl",
            &[
                "ec",
                "-in",
                "clear",
                "-aes256",
                "-passout",
                &format!("pass:{PASSPHRASE}"),
                "-out",
                "aes256",
            ],
        );
        let text = std::fs::read_to_string(dir.path().join("aes256")).unwrap();
        assert!(text.contains("DEK-Info: AES-256-CBC,"), "{text}");
        decodes_as_openssh(dir.path(), "aes256", &text, Some(PASSPHRASE));
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -pass pass:secret -S 0001020304050607` (no -pbkdf2)
        let key = evp_bytes_to_key(b"secret", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(
            data_encoding::HEXUPPER.encode(&key),
            "035FB8145B73CF111570DC936112BE9C375A5D3D8B915BC213BDBEF9DBFB7851"
        );
    }

    #[test]
    fn the_keys_an_agent_holds_are_known_without_asking_for_passphrases() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let mut agent = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("run ssh-agent");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent made no socket"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        ssh_keygen(dir.path(), "held", &["-t", "ed25519"], "");
        ssh_keygen(dir.path(), "other", &["-t", "ecdsa"], "");
        let added = Command::new("ssh-add")
            .arg(dir.path().join("held"))
            .env("SSH_AUTH_SOCK", &socket)
            .output()
            .unwrap();
        let public =
            |name: &str| PublicKey::from_openssh(&openssh_public(dir.path(), name, "")).unwrap();
        let mut keys = AgentKeys::new(Some(socket.clone()));
        let (held, other) = (keys.holds(&public("held")), keys.holds(&public("other")));
        let _ = agent.kill();
        let _ = agent.wait();
        assert!(added.status.success(), "ssh-add");
        assert!(held && !other);
        // No agent, or a dead one: it holds nothing.
        assert!(!AgentKeys::new(None).holds(&public("held")));
        assert!(!AgentKeys::new(Some(socket)).holds(&public("held")));
    }

    #[test]
    fn a_legacy_cipher_other_than_aes_is_named() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let error = decode(text, Some(PASSPHRASE), "k").unwrap_err();
        assert_eq!(
            error.to_string(),
            "identity file k: encrypted with DES-EDE3-CBC, which fleetprune cannot decrypt (AES-CBC only); re-encrypt it with ssh-keygen -p -f k"
        );
    }
}
