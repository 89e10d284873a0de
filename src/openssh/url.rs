//! Docker's own way of naming a host over SSH, `ssh://[user@]host[:port][/socket]` (the
//! `DOCKER_HOST` and docker context form), read wherever fleetprune takes a destination: an
//! `ansible_host` value, or a host name in `-i` lists and inventories.
//!
//! The user and port act as they do when the URL is given to `ssh` itself: below the login and
//! port the inventory and ssh arguments pass on the command line, above the ssh config. The path,
//! which ssh does not accept and docker reads as the engine's socket, becomes the host's socket.
//! Applying them is [`crate::host`]'s job.

use super::args::{JumpSpec, SshArgsError};

/// The scheme prefix that marks a destination as a URL.
pub const SCHEME: &str = "ssh://";

/// A parsed `ssh://` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshUrl {
    pub user: Option<String>,
    /// The host part, as ssh looks it up in its config (IPv6 without brackets).
    pub host: String,
    pub port: Option<u16>,
    /// The engine's socket, when the URL has a path other than `/`.
    pub socket: Option<String>,
}

/// Why an `ssh://` destination cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url:?} is not ssh://[user@]host[:port][/socket]: {reason}")]
pub struct SshUrlError {
    pub url: String,
    pub reason: String,
}

impl SshUrl {
    /// `None` when `text` is a plain destination; an error when it is a malformed URL.
    pub fn parse(text: &str) -> Option<Result<SshUrl, SshUrlError>> {
        let rest = text.strip_prefix(SCHEME)?;
        let error = |reason: String| SshUrlError {
            url: text.to_string(),
            reason,
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], Some(&rest[at..])),
            None => (rest, None),
        };
        if authority.contains(',') || authority.is_empty() {
            return Some(Err(error("no host".to_string())));
        }
        let spec = match JumpSpec::parse_list("ssh:// URL", authority) {
            Ok(Some(mut hops)) if hops.len() == 1 => hops.remove(0),
            Ok(_) => return Some(Err(error("no host".to_string()))),
            Err(SshArgsError::BadValue { .. }) => {
                return Some(Err(error("expected [user@]host[:port]".to_string())));
            }
            Err(other) => return Some(Err(error(other.to_string()))),
        };
        if path.is_some_and(|p| p.contains(['?', '#'])) {
            return Some(Err(error(
                "a query or fragment is not part of a socket path".to_string(),
            )));
        }
        Some(Ok(SshUrl {
            user: spec.user,
            host: spec.host,
            port: spec.port,
            socket: path.filter(|p| *p != "/").map(str::to_string),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> SshUrl {
        SshUrl::parse(text).unwrap().unwrap()
    }

    #[test]
    fn docker_host_urls_give_user_host_port_and_socket() {
        assert_eq!(
            url("ssh://ops@build-1:2222/run/user/1000/docker.sock"),
            SshUrl {
                user: Some("ops".into()),
                host: "build-1".into(),
                port: Some(2222),
                socket: Some("/run/user/1000/docker.sock".into()),
            }
        );
        assert_eq!(
            url("ssh://[2001:db8::1]:22/"),
            SshUrl {
                user: None,
                host: "2001:db8::1".into(),
                port: Some(22),
                socket: None,
            }
        );
        assert_eq!(url("ssh://h").host, "h");
    }

    #[test]
    fn plain_names_are_not_urls_and_bad_urls_say_why() {
        assert!(SshUrl::parse("build-1").is_none());
        assert!(SshUrl::parse("tcp://h:2375").is_none());
        for bad in [
            "ssh://",
            "ssh://h:port",
            "ssh://@h",
            "ssh://h/s?x=1",
            "ssh://a,b",
        ] {
            assert!(matches!(SshUrl::parse(bad), Some(Err(_))), "{bad}");
        }
        assert_eq!(
            SshUrl::parse("ssh://h:0").unwrap().unwrap_err().to_string(),
            "\"ssh://h:0\" is not ssh://[user@]host[:port][/socket]: expected [user@]host[:port]"
        );
    }
}
