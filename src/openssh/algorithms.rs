//! OpenSSH's algorithm lists, `KexAlgorithms`, `Ciphers` and `MACs`: a list replaces the
//! default, `+list` appends to it, `^list` puts the list first and `-patterns` removes what the
//! patterns match, as ssh's `kex_assemble_names` does. Names are checked when read, as ssh does
//! when it reads its configuration, and resolved against what fleetprune's SSH implementation
//! supports.
//!
//! fleetprune's defaults put the post-quantum hybrid `mlkem768x25519-sha256` first, as OpenSSH
//! 10 does: a session recorded today cannot be decrypted by a future quantum computer. Servers
//! without it (OpenSSH before 9.9) settle on `curve25519-sha256`. bench/README.md gives what
//! each costs.

use std::fmt;

use super::pattern::{has_wildcard, wildcard_match};

/// Which list an option sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgorithmKind {
    Kex,
    Ciphers,
    Macs,
}

impl AlgorithmKind {
    /// The ssh_config keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            AlgorithmKind::Kex => "KexAlgorithms",
            AlgorithmKind::Ciphers => "Ciphers",
            AlgorithmKind::Macs => "MACs",
        }
    }

    /// What fleetprune offers when nothing is configured, most preferred first.
    pub fn default_names(self) -> &'static [&'static str] {
        match self {
            AlgorithmKind::Kex => &[
                "mlkem768x25519-sha256",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "diffie-hellman-group-exchange-sha256",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group17-sha512",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group15-sha512",
                "diffie-hellman-group14-sha256",
            ],
            AlgorithmKind::Ciphers => &[
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
                "aes128-ctr",
            ],
            AlgorithmKind::Macs => &[
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512",
                "hmac-sha2-256",
            ],
        }
    }

    /// Everything fleetprune can negotiate, in the order `+`/`^` wildcards expand to.
    pub fn supported_names(self) -> &'static [&'static str] {
        match self {
            AlgorithmKind::Kex => &[
                "mlkem768x25519-sha256",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "diffie-hellman-group-exchange-sha256",
                "diffie-hellman-group-exchange-sha1",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group17-sha512",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group15-sha512",
                "diffie-hellman-group14-sha256",
                "diffie-hellman-group14-sha1",
                "diffie-hellman-group1-sha1",
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
            ],
            AlgorithmKind::Ciphers => &[
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com",
                "aes128-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
                "aes128-ctr",
                "aes256-cbc",
                "aes192-cbc",
                "aes128-cbc",
            ],
            AlgorithmKind::Macs => &[
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha1-etm@openssh.com",
                "hmac-sha2-512",
                "hmac-sha2-256",
                "hmac-sha1",
            ],
        }
    }

    /// Names OpenSSH (up to 10.x) knows but fleetprune cannot negotiate: accepted in a list,
    /// as the same file serves ssh, and left out of what is offered.
    fn openssh_only_names(self) -> &'static [&'static str] {
        match self {
            AlgorithmKind::Kex => &[
                "sntrup761x25519-sha512",
                "sntrup761x25519-sha512@openssh.com",
            ],
            AlgorithmKind::Ciphers => &["3des-cbc", "rijndael-cbc@lysator.liu.se"],
            AlgorithmKind::Macs => &[
                "hmac-sha1-96",
                "hmac-md5",
                "hmac-md5-96",
                "umac-64@openssh.com",
                "umac-128@openssh.com",
                "hmac-sha1-96-etm@openssh.com",
                "hmac-md5-etm@openssh.com",
                "hmac-md5-96-etm@openssh.com",
                "umac-64-etm@openssh.com",
                "umac-128-etm@openssh.com",
            ],
        }
    }

    fn knows(self, name: &str) -> bool {
        self.supported_names().contains(&name) || self.openssh_only_names().contains(&name)
    }
}

/// How a list changes the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Replace,
    /// `+`
    Append,
    /// `^`
    Prepend,
    /// `-`
    Remove,
}

/// One `KexAlgorithms`/`Ciphers`/`MACs` value as written, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmList {
    pub kind: AlgorithmKind,
    edit: Edit,
    names: Vec<String>,
}

/// Why a list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmError {
    #[error("{keyword}: {name:?} is not an algorithm ssh knows")]
    Unknown { keyword: &'static str, name: String },
    #[error("{keyword}: an empty name in {value:?}")]
    Empty {
        keyword: &'static str,
        value: String,
    },
    #[error("{keyword} {value} leaves nothing fleetprune can negotiate (it supports {supported})")]
    NothingSupported {
        keyword: &'static str,
        value: String,
        supported: String,
    },
}

impl AlgorithmList {
    /// Reads a value as ssh_config and `-o` write it.
    pub fn parse(kind: AlgorithmKind, value: &str) -> Result<AlgorithmList, AlgorithmError> {
        let (edit, list) = match value.as_bytes().first() {
            Some(b'+') => (Edit::Append, &value[1..]),
            Some(b'^') => (Edit::Prepend, &value[1..]),
            Some(b'-') => (Edit::Remove, &value[1..]),
            _ => (Edit::Replace, value),
        };
        let mut names = Vec::new();
        for name in list.split(',') {
            let name = name.trim();
            if name.is_empty() {
                return Err(AlgorithmError::Empty {
                    keyword: kind.keyword(),
                    value: value.to_string(),
                });
            }
            // Only a removal takes patterns; ssh checks every other name when it reads it.
            if edit != Edit::Remove && !kind.knows(name) {
                return Err(AlgorithmError::Unknown {
                    keyword: kind.keyword(),
                    name: name.to_string(),
                });
            }
            names.push(name.to_string());
        }
        Ok(AlgorithmList { kind, edit, names })
    }

    /// What fleetprune offers, most preferred first: the default edited, without the names it
    /// cannot negotiate. Fails when nothing is left.
    pub fn resolve(&self) -> Result<Vec<&'static str>, AlgorithmError> {
        let supported = self.kind.supported_names();
        let default = self.kind.default_names();
        let listed: Vec<&'static str> = self
            .names
            .iter()
            .filter_map(|name| supported.iter().find(|s| **s == name.as_str()).copied())
            .collect();
        let mut offered: Vec<&'static str> = Vec::new();
        let mut add = |names: &[&'static str]| {
            for name in names {
                if !offered.contains(name) {
                    offered.push(name);
                }
            }
        };
        match self.edit {
            Edit::Replace => add(&listed),
            Edit::Append => {
                add(default);
                add(&listed);
            }
            Edit::Prepend => {
                add(&listed);
                add(default);
            }
            Edit::Remove => add(&default
                .iter()
                .copied()
                .filter(|name| !self.names.iter().any(|p| matches(p, name)))
                .collect::<Vec<_>>()),
        }
        if offered.is_empty() {
            return Err(AlgorithmError::NothingSupported {
                keyword: self.kind.keyword(),
                value: self.to_string(),
                supported: supported.join(","),
            });
        }
        Ok(offered)
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    if has_wildcard(pattern) {
        wildcard_match(pattern, name)
    } else {
        pattern == name
    }
}

impl fmt::Display for AlgorithmList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.edit {
            Edit::Replace => "",
            Edit::Append => "+",
            Edit::Prepend => "^",
            Edit::Remove => "-",
        };
        write!(f, "{prefix}{}", self.names.join(","))
    }
}

/// The algorithm lists a host's ssh options set; `None` where fleetprune's default applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Algorithms {
    pub kex: Option<Vec<&'static str>>,
    pub ciphers: Option<Vec<&'static str>>,
    pub macs: Option<Vec<&'static str>>,
}

impl Algorithms {
    /// Sets the list `resolved` belongs to.
    pub fn set(&mut self, kind: AlgorithmKind, resolved: Vec<&'static str>) {
        let slot = match kind {
            AlgorithmKind::Kex => &mut self.kex,
            AlgorithmKind::Ciphers => &mut self.ciphers,
            AlgorithmKind::Macs => &mut self.macs,
        };
        *slot = Some(resolved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(kind: AlgorithmKind, value: &str) -> Result<Vec<&'static str>, AlgorithmError> {
        AlgorithmList::parse(kind, value)?.resolve()
    }

    #[test]
    fn a_list_replaces_the_default_in_its_own_order() {
        assert_eq!(
            resolve(
                AlgorithmKind::Kex,
                "diffie-hellman-group14-sha256,curve25519-sha256"
            )
            .unwrap(),
            ["diffie-hellman-group14-sha256", "curve25519-sha256"]
        );
    }

    #[test]
    fn plus_appends_caret_prepends_and_minus_removes_by_pattern() {
        let kex = AlgorithmKind::Kex;
        let default = kex.default_names();
        let appended = resolve(kex, "+diffie-hellman-group14-sha1").unwrap();
        assert_eq!(&appended[..default.len()], default);
        assert_eq!(appended.last(), Some(&"diffie-hellman-group14-sha1"));
        let first = resolve(kex, "^curve25519-sha256").unwrap();
        assert_eq!(first[0], "curve25519-sha256");
        assert_eq!(first.len(), default.len(), "no duplicate");
        let removed = resolve(kex, "-mlkem*,diffie-hellman-*").unwrap();
        assert_eq!(
            removed,
            ["curve25519-sha256", "curve25519-sha256@libssh.org"]
        );
        let macs = resolve(AlgorithmKind::Macs, "-*-etm@openssh.com").unwrap();
        assert_eq!(macs, ["hmac-sha2-512", "hmac-sha2-256"]);
    }

    #[test]
    fn names_only_openssh_knows_are_left_out_and_an_empty_result_refused() {
        assert_eq!(
            resolve(
                AlgorithmKind::Kex,
                "sntrup761x25519-sha512@openssh.com,curve25519-sha256"
            )
            .unwrap(),
            ["curve25519-sha256"]
        );
        let error = resolve(AlgorithmKind::Ciphers, "3des-cbc").unwrap_err();
        assert!(
            matches!(error, AlgorithmError::NothingSupported { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("Ciphers 3des-cbc leaves nothing")
        );
        assert!(resolve(AlgorithmKind::Macs, "-*").is_err());
    }

    #[test]
    fn unknown_names_and_empty_entries_are_refused_when_read_but_removals_take_patterns() {
        assert_eq!(
            AlgorithmList::parse(AlgorithmKind::Kex, "curve25519-sha265"),
            Err(AlgorithmError::Unknown {
                keyword: "KexAlgorithms",
                name: "curve25519-sha265".into()
            })
        );
        assert!(AlgorithmList::parse(AlgorithmKind::Ciphers, "aes*").is_err());
        assert!(AlgorithmList::parse(AlgorithmKind::Macs, "hmac-sha2-256,").is_err());
        assert!(AlgorithmList::parse(AlgorithmKind::Ciphers, "-aes*-cbc,nothing-like-it").is_ok());
    }

    #[test]
    fn the_default_is_a_subset_of_what_is_supported() {
        for kind in [
            AlgorithmKind::Kex,
            AlgorithmKind::Ciphers,
            AlgorithmKind::Macs,
        ] {
            for name in kind.default_names() {
                assert!(kind.supported_names().contains(name), "{name}");
            }
        }
    }
}
