//! Which algorithms a session offers: the key exchange, cipher and MAC lists the host's ssh
//! options set (resolved by [`crate::openssh::algorithms`]), and the host key algorithms in the
//! order OpenSSH would ask for them.

use russh::keys::Algorithm;

use super::{SshSettings, SshTarget};
use crate::openssh::algorithms::Algorithms;

/// Key exchange, cipher and MAC lists as the host's ssh options set them, russh's (which
/// [`crate::openssh::algorithms`] restates) where they do not. The kex list keeps the client's
/// extension markers (`ext-info-c`, strict key exchange), as ssh adds them to any list.
pub(super) fn configured_algorithms(algorithms: &Algorithms) -> russh::Preferred {
    fn names<N: for<'a> TryFrom<&'a str>>(list: &[&str]) -> Vec<N> {
        // Every name crate::openssh::algorithms offers is one russh has (a test checks it).
        list.iter()
            .filter_map(|name| N::try_from(name).ok())
            .collect()
    }
    let mut preferred = russh::Preferred::DEFAULT;
    if let Some(kex) = &algorithms.kex {
        let mut kex: Vec<russh::kex::Name> = names(kex);
        kex.extend([
            russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
            russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]);
        preferred.kex = kex.into();
    }
    if let Some(ciphers) = &algorithms.ciphers {
        preferred.cipher = names::<russh::cipher::Name>(ciphers).into();
    }
    if let Some(macs) = &algorithms.macs {
        preferred.mac = names::<russh::mac::Name>(macs).into();
    }
    preferred
}

/// OpenSSH prefers the host key algorithms it already knows for a host, so that a host with
/// several keys presents the one recorded in known_hosts.
pub(super) fn preferred_host_key_algorithms(
    settings: &SshSettings,
    target: &SshTarget,
) -> Vec<Algorithm> {
    let (name, port) = target.key_name();
    let known = settings.known_hosts.algorithms_for(name, port);
    let mut preferred: Vec<Algorithm> = Vec::new();
    for algorithm in known.iter().chain(russh::Preferred::DEFAULT.key.iter()) {
        let expanded: Vec<Algorithm> = match algorithm {
            // An RSA key in known_hosts can be used with any RSA signature hash.
            Algorithm::Rsa { .. } => russh::Preferred::DEFAULT
                .key
                .iter()
                .filter(|a| matches!(a, Algorithm::Rsa { .. }))
                .cloned()
                .collect(),
            other => vec![other.clone()],
        };
        for candidate in expanded {
            if !preferred.contains(&candidate) && russh::Preferred::DEFAULT.key.contains(&candidate)
            {
                preferred.push(candidate);
            }
        }
    }
    preferred
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_fleetprune_offers_is_one_russh_negotiates() {
        use crate::openssh::algorithms::AlgorithmKind;
        let kex = AlgorithmKind::Kex.supported_names();
        let ciphers = AlgorithmKind::Ciphers.supported_names();
        let macs = AlgorithmKind::Macs.supported_names();
        let all = Algorithms {
            kex: Some(kex.to_vec()),
            ciphers: Some(ciphers.to_vec()),
            macs: Some(macs.to_vec()),
        };
        let preferred = configured_algorithms(&all);
        // Each list converted whole, plus the two extension markers on the kex list.
        assert_eq!(preferred.kex.len(), kex.len() + 2);
        assert_eq!(preferred.cipher.len(), ciphers.len());
        assert_eq!(preferred.mac.len(), macs.len());
        // The defaults restate russh's own.
        let defaults = Algorithms {
            kex: Some(AlgorithmKind::Kex.default_names().to_vec()),
            ciphers: Some(AlgorithmKind::Ciphers.default_names().to_vec()),
            macs: Some(AlgorithmKind::Macs.default_names().to_vec()),
        };
        let restated = configured_algorithms(&defaults);
        let russh = russh::Preferred::DEFAULT;
        let without_markers = |names: &[russh::kex::Name]| -> Vec<String> {
            names
                .iter()
                .map(|n| n.as_ref().to_string())
                .filter(|n| !n.starts_with("ext-info") && !n.starts_with("kex-strict"))
                .collect()
        };
        assert_eq!(without_markers(&restated.kex), without_markers(&russh.kex));
        assert_eq!(restated.cipher, russh.cipher);
        assert_eq!(restated.mac, russh.mac);
    }
}
