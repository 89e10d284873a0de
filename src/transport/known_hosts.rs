//! OpenSSH's known_hosts file: which host keys we trust, read once per run and shared by every
//! host's connection.
//!
//! Entries are parsed with `ssh-key`; matching follows OpenSSH: `[host]:port` names for other ports
//! than 22, hashed names (`|1|salt|hash`), `*`/`?` globs, `!` negations and `@revoked` markers.
//! A host is checked against several files as OpenSSH does ([`KnownHostsFiles`]): its user files
//! (`UserKnownHostsFile`), then the global ones (`GlobalKnownHostsFile`). What to do with the
//! verdict (strict, accept-new, off) is the SSH handler's decision.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use russh::keys::ssh_key::public::KeyData;
use russh::keys::{Algorithm, Certificate, HashAlg, PublicKey};
use sha1::Sha1;

use crate::openssh::pattern::{has_wildcard, wildcard_match};

/// The global files OpenSSH reads when `GlobalKnownHostsFile` is not set.
pub const DEFAULT_GLOBAL_KNOWN_HOSTS: [&str; 2] =
    ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];

/// The parsed known_hosts file.
#[derive(Debug, Default)]
pub struct KnownHosts {
    path: PathBuf,
    /// Entries with their 1-based line numbers.
    entries: Vec<(usize, Entry)>,
    /// Unmarked entries whose patterns are all plain names, by lower-cased name: looked up, not
    /// scanned, so checking N hosts against an N-line file is not quadratic.
    by_name: HashMap<String, Vec<usize>>,
    /// Unmarked entries that must be matched one by one: hashed names, globs, negations.
    scanned: Vec<usize>,
    /// `@revoked` entries.
    revoked: Vec<usize>,
    /// `@cert-authority` entries: keys trusted to sign host certificates for their patterns.
    authorities: Vec<usize>,
    /// Serialises appends from hosts connecting at the same time.
    append_lock: Mutex<()>,
}

/// What known_hosts says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A matching entry lists exactly this key.
    Trusted { line: usize },
    /// The key is marked `@revoked`.
    Revoked { line: usize },
    /// The host has recorded keys, and this key is none of them.
    Changed { lines: Vec<usize> },
    /// The host has no recorded key.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    #[error("cannot read known_hosts file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot add the host key to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl KnownHosts {
    /// Reads `path`; a missing file (or `/dev/null`, `none`) is an empty one, as for OpenSSH. Lines that do not parse are
    /// skipped (OpenSSH skips them too) and logged.
    pub fn load(path: &Path) -> Result<KnownHosts, KnownHostsError> {
        // `UserKnownHostsFile none` and `/dev/null`: no file at all.
        if path == Path::new("/dev/null") || path == Path::new("none") {
            return Ok(KnownHosts::parse(path, ""));
        }
        let text =
            match crate::input_file::read_to_string(path, crate::input_file::KNOWN_HOSTS_LIMIT) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(source) => {
                    return Err(KnownHostsError::Read {
                        path: path.display().to_string(),
                        source,
                    });
                }
            };
        Ok(KnownHosts::parse(path, &text))
    }

    fn parse(path: &Path, text: &str) -> KnownHosts {
        // Room for every line: a file of 10,000 hosts would otherwise grow to room for 16,384.
        let mut entries = Vec::with_capacity(text.lines().count());
        for (index, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            // ssh-key splits on single spaces; OpenSSH accepts any run of blanks.
            let normalised = content.split_whitespace().collect::<Vec<_>>().join(" ");
            match normalised.parse::<Entry>() {
                Ok(entry) => entries.push((index + 1, entry)),
                Err(error) => tracing::warn!(
                    "{}:{}: skipping unreadable known_hosts line: {error}",
                    path.display(),
                    index + 1
                ),
            }
        }
        entries.shrink_to_fit();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::with_capacity(entries.len());
        let (mut scanned, mut revoked, mut authorities) = (Vec::new(), Vec::new(), Vec::new());
        for (index, (_, entry)) in entries.iter().enumerate() {
            match (entry.marker(), entry.host_patterns()) {
                (Some(Marker::Revoked), _) => revoked.push(index),
                // A certificate authority never matches a plain host key.
                (Some(Marker::CertAuthority), _) => authorities.push(index),
                (None, HostPatterns::Patterns(list))
                    if list.iter().all(|p| !p.starts_with('!') && !has_wildcard(p)) =>
                {
                    for name in list {
                        let slots = by_name.entry(name.to_ascii_lowercase()).or_default();
                        // A name listed twice on one line is one entry.
                        if slots.last() != Some(&index) {
                            slots.push(index);
                        }
                    }
                }
                (None, _) => scanned.push(index),
            }
        }
        KnownHosts {
            path: path.to_path_buf(),
            entries,
            by_name,
            scanned,
            revoked,
            authorities,
            append_lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The unmarked entries naming `name`, in file order.
    fn matching(&self, name: &str) -> impl Iterator<Item = &(usize, Entry)> {
        let mut indices: Vec<usize> = self
            .scanned
            .iter()
            .copied()
            .filter(|i| patterns_match(self.entries[*i].1.host_patterns(), name))
            .chain(self.by_name.get(name).into_iter().flatten().copied())
            .collect();
        indices.sort_unstable();
        indices.into_iter().map(|i| &self.entries[i])
    }

    /// Checks `key` presented by `host` on `port`.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let name = lookup_name(host, port);
        let same_key = |entry: &Entry| entry.public_key().key_data() == key.key_data();
        if let Some((line, _)) = self
            .revoked
            .iter()
            .map(|i| &self.entries[*i])
            .find(|(_, entry)| same_key(entry))
        {
            return HostKeyStatus::Revoked { line: *line };
        }
        let mut recorded = Vec::new();
        for (line, entry) in self.matching(&name) {
            if same_key(entry) {
                return HostKeyStatus::Trusted { line: *line };
            }
            recorded.push(*line);
        }
        if recorded.is_empty() {
            HostKeyStatus::Unknown
        } else {
            HostKeyStatus::Changed { lines: recorded }
        }
    }

    /// The line marking `key` `@revoked`, if any.
    fn revoked_line(&self, key: &KeyData) -> Option<usize> {
        self.revoked
            .iter()
            .map(|i| &self.entries[*i])
            .find(|(_, entry)| entry.public_key().key_data() == key)
            .map(|(line, _)| *line)
    }

    /// The `@cert-authority` entries for `host`:`port`: (line, CA key).
    fn authorities_for(&self, host: &str, port: u16) -> Vec<(usize, &KeyData)> {
        let name = lookup_name(host, port);
        self.authorities
            .iter()
            .map(|i| &self.entries[*i])
            .filter(|(_, entry)| patterns_match(entry.host_patterns(), &name))
            .map(|(line, entry)| (*line, entry.public_key().key_data()))
            .collect()
    }

    /// The key algorithms recorded for `host`:`port`, in file order.
    pub fn algorithms_for(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let name = lookup_name(host, port);
        let mut algorithms = Vec::new();
        for (_, entry) in self.matching(&name) {
            let algorithm = entry.public_key().algorithm();
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// Appends `key` for `host`:`port`, as `accept-new` does on first contact; the name is
    /// hashed when `hashed` (OpenSSH's `HashKnownHosts yes`).
    pub fn append(
        &self,
        host: &str,
        port: u16,
        key: &PublicKey,
        hashed: bool,
    ) -> Result<(), KnownHostsError> {
        let write_error = |source| KnownHostsError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let encoded = key
            .to_openssh()
            .map_err(|e| write_error(std::io::Error::other(e.to_string())))?;
        if let Some(parent) = self.path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        let _guard = self.append_lock.lock();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(write_error)?;
        let needs_newline = std::fs::read(&self.path)
            .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
            .unwrap_or(false);
        let separator = if needs_newline { "\n" } else { "" };
        let name = if hashed {
            hashed_name(&lookup_name(host, port)).map_err(write_error)?
        } else {
            lookup_name(host, port)
        };
        writeln!(file, "{separator}{name} {encoded}").map_err(write_error)
    }
}

/// The known_hosts files one host is checked against, in OpenSSH's order: the user files, then
/// the global ones. A key found in any file is trusted; a key `@revoked` in any file is refused;
/// keys learnt on first use are appended to the first user file.
#[derive(Debug, Clone, Default)]
pub struct KnownHostsFiles {
    user: Vec<Arc<KnownHosts>>,
    global: Vec<Arc<KnownHosts>>,
    /// `HashKnownHosts yes`: names appended are hashed.
    pub hash_names: bool,
}

/// A verdict and the file it comes from (the first user file when no file knows the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: HostKeyStatus,
    pub path: PathBuf,
}

impl KnownHostsFiles {
    pub fn new(
        user: Vec<Arc<KnownHosts>>,
        global: Vec<Arc<KnownHosts>>,
        hash_names: bool,
    ) -> KnownHostsFiles {
        KnownHostsFiles {
            user,
            global,
            hash_names,
        }
    }

    fn all(&self) -> impl Iterator<Item = &Arc<KnownHosts>> {
        self.user.iter().chain(self.global.iter())
    }

    /// Where new keys go, and where "unknown" points.
    pub fn primary_path(&self) -> PathBuf {
        self.user
            .first()
            .map(|file| file.path().to_path_buf())
            .unwrap_or_default()
    }

    /// Checks `key` presented by `host` on `port` against every file.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Verdict {
        let verdicts: Vec<(HostKeyStatus, &Path)> = self
            .all()
            .map(|file| (file.check(host, port, key), file.path()))
            .collect();
        let pick = |wanted: fn(&HostKeyStatus) -> bool| {
            verdicts
                .iter()
                .find(|(status, _)| wanted(status))
                .map(|(status, path)| Verdict {
                    status: status.clone(),
                    path: path.to_path_buf(),
                })
        };
        pick(|s| matches!(s, HostKeyStatus::Revoked { .. }))
            .or_else(|| pick(|s| matches!(s, HostKeyStatus::Trusted { .. })))
            .or_else(|| pick(|s| matches!(s, HostKeyStatus::Changed { .. })))
            .unwrap_or_else(|| Verdict {
                status: HostKeyStatus::Unknown,
                path: self.primary_path(),
            })
    }

    /// Whether any file names a certificate authority for `host`:`port`: then host certificates
    /// are asked for, as OpenSSH does.
    pub fn has_authority_for(&self, host: &str, port: u16) -> bool {
        self.all()
            .any(|file| !file.authorities_for(host, port).is_empty())
    }

    /// Checks a host certificate presented by `host` on `port` at `now` (seconds since the
    /// epoch), as OpenSSH does: signed by a `@cert-authority` listed for the host, neither the
    /// CA nor the host key revoked, a host certificate, valid now, its principals naming the
    /// host (or empty), and no critical option.
    pub fn check_certificate(
        &self,
        host: &str,
        port: u16,
        certificate: &Certificate,
        now: u64,
    ) -> Result<CertifiedBy, CertificateProblem> {
        for file in self.all() {
            for key in [certificate.signature_key(), certificate.public_key()] {
                if let Some(line) = file.revoked_line(key) {
                    return Err(CertificateProblem::Revoked {
                        path: file.path().to_path_buf(),
                        line,
                    });
                }
            }
        }
        let authority = self.all().find_map(|file| {
            file.authorities_for(host, port)
                .into_iter()
                .find(|(_, ca)| *ca == certificate.signature_key())
                .map(|(line, _)| (file.path().to_path_buf(), line))
        });
        let Some((path, line)) = authority else {
            return Err(CertificateProblem::UnknownAuthority {
                authority: certificate
                    .signature_key()
                    .fingerprint(HashAlg::Sha256)
                    .to_string(),
            });
        };
        if certificate.verify_signature().is_err() {
            return Err(CertificateProblem::BadSignature);
        }
        if certificate.cert_type() != CertType::Host {
            return Err(CertificateProblem::NotAHostCertificate);
        }
        if now < certificate.valid_after() {
            return Err(CertificateProblem::NotYetValid {
                valid_after: certificate.valid_after(),
            });
        }
        if now >= certificate.valid_before() {
            return Err(CertificateProblem::Expired {
                valid_before: certificate.valid_before(),
            });
        }
        let principals = certificate.valid_principals();
        if !principals.is_empty() && !principals.iter().any(|p| p.eq_ignore_ascii_case(host)) {
            return Err(CertificateProblem::WrongPrincipal {
                host: host.to_string(),
                principals: principals.join(","),
            });
        }
        if let Some(option) = certificate.critical_options().keys().next() {
            return Err(CertificateProblem::CriticalOption {
                option: option.clone(),
            });
        }
        Ok(CertifiedBy {
            authority: certificate
                .signature_key()
                .fingerprint(HashAlg::Sha256)
                .to_string(),
            path,
            line,
        })
    }

    /// The key algorithms recorded for `host`:`port` in any file, in order.
    pub fn algorithms_for(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let mut algorithms = Vec::new();
        for algorithm in self.all().flat_map(|file| file.algorithms_for(host, port)) {
            if !algorithms.contains(&algorithm) {
                algorithms.push(algorithm);
            }
        }
        algorithms
    }

    /// Appends `key` to the first user file.
    pub fn append(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), KnownHostsError> {
        match self.user.first() {
            Some(file) => file.append(host, port, key, self.hash_names),
            None => Err(KnownHostsError::Write {
                path: String::new(),
                source: std::io::Error::other("no user known_hosts file to write to"),
            }),
        }
    }
}

/// The authority that signed a valid host certificate, and where it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedBy {
    /// The CA key's SHA256 fingerprint.
    pub authority: String,
    pub path: PathBuf,
    pub line: usize,
}

/// Why a host certificate is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    #[error("no @cert-authority line for this host lists its signing key {authority}")]
    UnknownAuthority { authority: String },
    #[error("the certificate or its authority is marked @revoked in {}:{line}", path.display())]
    Revoked { path: PathBuf, line: usize },
    #[error("the certificate's signature does not verify")]
    BadSignature,
    #[error("it is a user certificate, not a host certificate")]
    NotAHostCertificate,
    #[error("the certificate is not valid before {valid_after} (seconds since 1970)")]
    NotYetValid { valid_after: u64 },
    #[error("the certificate expired at {valid_before} (seconds since 1970)")]
    Expired { valid_before: u64 },
    #[error("the certificate names {principals}, not {host}")]
    WrongPrincipal { host: String, principals: String },
    #[error("the certificate has critical option {option}, which is not understood")]
    CriticalOption { option: String },
}

/// `|1|salt|hash`: the name hashed with a fresh salt, as `ssh-keygen -H` writes it.
fn hashed_name(name: &str) -> std::io::Result<String> {
    let mut salt = [0u8; 20];
    // SAFETY: the buffer is valid for its length; getrandom writes at most that many bytes.
    let filled = unsafe { libc::getrandom(salt.as_mut_ptr().cast(), salt.len(), 0) };
    if filled != salt.len() as isize {
        return Err(std::io::Error::last_os_error());
    }
    let mac = Hmac::<Sha1>::new_from_slice(&salt)
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .chain_update(name.as_bytes())
        .finalize()
        .into_bytes();
    let encode = |bytes: &[u8]| data_encoding::BASE64.encode(bytes);
    Ok(format!("|1|{}|{}", encode(&salt), encode(&mac)))
}

/// The known_hosts line for `key` of `host`:`port`, as `ssh-keyscan` prints it.
pub fn known_hosts_line(host: &str, port: u16, key: &PublicKey) -> Result<String, KnownHostsError> {
    let encoded = key.to_openssh().map_err(|e| KnownHostsError::Write {
        path: "stdout".to_string(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(format!("{} {encoded}", lookup_name(host, port)))
}

/// The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise.
fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_ascii_lowercase()
    } else {
        format!("[{}]:{port}", host.to_ascii_lowercase())
    }
}

fn patterns_match(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mac) = Hmac::<Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(list) => {
            let mut matched = false;
            for pattern in list {
                let pattern = pattern.to_ascii_lowercase();
                if let Some(negated) = pattern.strip_prefix('!') {
                    if wildcard_match(negated, name) {
                        return false;
                    }
                } else if wildcard_match(&pattern, name) {
                    matched = true;
                }
            }
            matched
        }
    }
}

/// The SHA256 fingerprint OpenSSH prints, e.g. `SHA256:abc...`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    fn hosts(text: &str) -> KnownHosts {
        KnownHosts::parse(Path::new("known_hosts"), text)
    }

    #[test]
    fn bracketed_port_entry_trusts_matching_key() {
        let known = hosts(&format!("# comment\n[127.0.0.1]:2222 {KEY_A}\n"));
        assert_eq!(
            known.check("127.0.0.1", 2222, &key(KEY_A)),
            HostKeyStatus::Trusted { line: 2 }
        );
        assert_eq!(
            known.check("127.0.0.1", 22, &key(KEY_A)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn different_key_for_known_host_is_changed() {
        let known = hosts(&format!("build-01,10.0.0.1 {KEY_A}\n"));
        assert_eq!(
            known.check("10.0.0.1", 22, &key(KEY_B)),
            HostKeyStatus::Changed { lines: vec![1] }
        );
    }

    #[test]
    fn hashed_hostname_matches() {
        // What `ssh-keygen -H` writes for "[127.0.0.1]:2222", with a fixed salt.
        let salt = [7u8; 20];
        let mac = Hmac::<Sha1>::new_from_slice(&salt)
            .unwrap()
            .chain_update(b"[127.0.0.1]:2222")
            .finalize()
            .into_bytes();
        let encode = |bytes: &[u8]| data_encoding::BASE64.encode(bytes);
        let line = format!("|1|{}|{} {KEY_A}\n", encode(&salt), encode(&mac));
        let known = hosts(&line);
        assert_eq!(
            known.check("127.0.0.1", 2222, &key(KEY_A)),
            HostKeyStatus::Trusted { line: 1 }
        );
        assert_eq!(
            known.check("127.0.0.2", 2222, &key(KEY_A)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn globs_and_negations_follow_openssh() {
        let known = hosts(&format!("*.farm.example,!bad.farm.example {KEY_A}\n"));
        assert!(matches!(
            known.check("b1.farm.example", 22, &key(KEY_A)),
            HostKeyStatus::Trusted { .. }
        ));
        assert_eq!(
            known.check("bad.farm.example", 22, &key(KEY_A)),
            HostKeyStatus::Unknown
        );
    }

    #[test]
    fn revoked_key_is_refused_even_if_listed() {
        let known = hosts(&format!("@revoked * {KEY_A}\nbuild-01 {KEY_A}\n"));
        assert_eq!(
            known.check("build-01", 22, &key(KEY_A)),
            HostKeyStatus::Revoked { line: 1 }
        );
    }

    #[test]
    fn unreadable_lines_are_skipped_and_tabs_accepted() {
        let known = hosts(&format!("garbage line\nbuild-01\t{KEY_A}\n"));
        assert_eq!(
            known.check("build-01", 22, &key(KEY_A)),
            HostKeyStatus::Trusted { line: 2 }
        );
    }

    #[test]
    fn append_writes_a_line_that_is_then_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ssh/known_hosts");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("other {KEY_B}")).unwrap();
        let known = KnownHosts::load(&path).unwrap();
        known.append("127.0.0.1", 2201, &key(KEY_A), false).unwrap();
        known.append("10.0.0.9", 22, &key(KEY_B), true).unwrap();
        let reloaded = KnownHosts::load(&path).unwrap();
        assert_eq!(
            reloaded.check("127.0.0.1", 2201, &key(KEY_A)),
            HostKeyStatus::Trusted { line: 2 }
        );
        assert_eq!(
            reloaded.check("10.0.0.9", 22, &key(KEY_B)),
            HostKeyStatus::Trusted { line: 3 }
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().nth(2).unwrap().starts_with("|1|"), "{text}");
        assert!(!text.contains("10.0.0.9"));
    }

    #[test]
    fn several_files_trust_a_key_found_in_any_and_refuse_one_revoked_in_any() {
        let user = Arc::new(hosts(&format!("a {KEY_A}\n")));
        let global = Arc::new(KnownHosts::parse(
            Path::new("/etc/ssh/ssh_known_hosts"),
            &format!("b {KEY_B}\nc {KEY_A}\n@revoked * {KEY_B}\n"),
        ));
        let files = KnownHostsFiles::new(vec![user], vec![global], false);
        assert!(matches!(
            files.check("a", 22, &key(KEY_A)).status,
            HostKeyStatus::Trusted { .. }
        ));
        assert_eq!(
            files.check("b", 22, &key(KEY_B)),
            Verdict {
                status: HostKeyStatus::Revoked { line: 3 },
                path: "/etc/ssh/ssh_known_hosts".into()
            }
        );
        assert_eq!(
            files.check("c", 22, &key(KEY_B)).path,
            PathBuf::from("/etc/ssh/ssh_known_hosts")
        );
        assert_eq!(
            files.check("d", 22, &key(KEY_A)),
            Verdict {
                status: HostKeyStatus::Unknown,
                path: "known_hosts".into()
            }
        );
    }

    #[test]
    fn missing_file_is_empty() {
        let known = KnownHosts::load(Path::new("/nonexistent/known_hosts")).unwrap();
        assert_eq!(known.check("a", 22, &key(KEY_A)), HostKeyStatus::Unknown);
    }
}
