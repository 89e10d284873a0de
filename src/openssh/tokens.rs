//! OpenSSH's `%` tokens in `ProxyCommand`, `IdentityFile`, `UserKnownHostsFile` and
//! `IdentityAgent` (ssh_config(5), "TOKENS"): `%h` the address after `HostName`, `%p` the port,
//! `%r` the remote user, `%n` the name as given, `%u` the local user, `%d` the local home,
//! `%i` the local uid, `%%` a percent sign. Other tokens are refused, never left in place.

/// What the tokens stand for.
pub struct Destination<'a> {
    /// The inventory name (`%n`).
    pub name: &'a str,
    /// The address after `HostName` (`%h`).
    pub address: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub local_user: &'a str,
}

/// A token fleetprune does not expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option} token %{token} is not supported (use %h, %p, %r, %n, %u, %d, %i or %%)")]
pub struct TokenError {
    pub option: &'static str,
    pub token: char,
}

/// Expands the tokens of `text`, the value of `option`.
pub fn expand(
    option: &'static str,
    text: &str,
    destination: &Destination<'_>,
) -> Result<String, TokenError> {
    let mut expanded = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            expanded.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => expanded.push_str(destination.address),
            Some('p') => expanded.push_str(&destination.port.to_string()),
            Some('r') => expanded.push_str(destination.user),
            Some('n') => expanded.push_str(destination.name),
            Some('u') => expanded.push_str(destination.local_user),
            Some('d') => match super::home::home_dir() {
                Some(home) => expanded.push_str(&home.to_string_lossy()),
                None => return Err(TokenError { option, token: 'd' }),
            },
            // SAFETY: getuid cannot fail and has no preconditions.
            Some('i') => expanded.push_str(&unsafe { libc::getuid() }.to_string()),
            Some('%') => expanded.push('%'),
            Some(token) => return Err(TokenError { option, token }),
            None => return Err(TokenError { option, token: ' ' }),
        }
    }
    Ok(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> Destination<'static> {
        Destination {
            name: "web1",
            address: "10.0.0.5",
            port: 2222,
            user: "deploy",
            local_user: "me",
        }
    }

    #[test]
    fn tokens_expand_like_openssh() {
        assert_eq!(
            expand(
                "ProxyCommand",
                "nc -q0 %h %p # %r@%n by %u 100%%",
                &destination()
            )
            .unwrap(),
            "nc -q0 10.0.0.5 2222 # deploy@web1 by me 100%"
        );
        let uid = unsafe { libc::getuid() };
        assert_eq!(
            expand("IdentityFile", "/keys/%i/%h", &destination()).unwrap(),
            format!("/keys/{uid}/10.0.0.5")
        );
    }

    #[test]
    fn unknown_tokens_are_refused_naming_the_option() {
        assert_eq!(
            expand("IdentityFile", "x %C", &destination())
                .unwrap_err()
                .to_string(),
            "IdentityFile token %C is not supported (use %h, %p, %r, %n, %u, %d, %i or %%)"
        );
    }
}
