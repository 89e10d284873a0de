//! How a host is reached: straight over TCP, through jump hosts (`ProxyJump`, `-J`), or through a
//! proxy command's stdio (`ProxyCommand`), resolved from the host's ssh options.
//!
//! Each jump host is resolved the way `ssh -J` resolves it: the `[user@]host[:port]` as written,
//! completed by the ssh config's `HostName`, `Port`, `User` and `IdentityFile` for that name, and
//! preceded by that name's own `ProxyJump`. Whatever cannot be honoured on a hop refuses the
//! host: it is never reached some other way than configured.

use std::path::PathBuf;

use serde::Serialize;

use super::args::{JumpSpec, SshOption};
use super::config::SshConfig;
use super::home::expand_tilde;
pub use super::tokens::Destination;
use super::tokens::{self, TokenError};

/// How deep jump hosts may chain through their own `ProxyJump`s (a guard against loops).
const MAX_JUMP_DEPTH: usize = 8;

/// The way to a host's sshd.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Route {
    /// A TCP connection from this machine.
    #[default]
    Direct,
    /// Through these jump hosts, first to last, each reached through the one before.
    Jump { hops: Vec<JumpHost> },
    /// Through the stdio of this command (tokens already expanded), run by `sh -c`.
    Command { command: String },
}

/// A jump host, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JumpHost {
    /// The name as written in `ProxyJump`.
    pub name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub identity: Option<PathBuf>,
}

/// The proxy setting a host's options chose (the first of `ProxyJump` and `ProxyCommand` wins,
/// as in OpenSSH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proxy {
    /// `none`: connect directly, overriding later settings.
    Disabled,
    Jump(Vec<JumpSpec>),
    Command(String),
}

impl Proxy {
    /// The proxy an option sets, if it is a proxy option.
    pub fn from_option(option: &SshOption) -> Option<Proxy> {
        match option {
            SshOption::ProxyJump(Some(hops)) => Some(Proxy::Jump(hops.clone())),
            SshOption::ProxyCommand(Some(command)) => Some(Proxy::Command(command.clone())),
            SshOption::ProxyJump(None) | SshOption::ProxyCommand(None) => Some(Proxy::Disabled),
            _ => None,
        }
    }
}

/// Why a route cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("jump host {hop}: {option} (from {setting}) cannot be honoured on a jump host")]
    HopOption {
        hop: String,
        setting: String,
        option: String,
    },
    #[error("jump hosts chain deeper than {MAX_JUMP_DEPTH} through their own ProxyJump (a loop?)")]
    TooDeep,
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl Proxy {
    /// The route this proxy setting means for `destination`.
    pub fn route(
        &self,
        destination: &Destination<'_>,
        config: &SshConfig,
    ) -> Result<Route, RouteError> {
        match self {
            Proxy::Disabled => Ok(Route::Direct),
            Proxy::Command(command) => Ok(Route::Command {
                command: tokens::expand("ProxyCommand", command, destination)?,
            }),
            Proxy::Jump(specs) => Ok(Route::Jump {
                hops: resolve_hops(specs, config, destination.local_user, 0)?,
            }),
        }
    }
}

fn resolve_hops(
    specs: &[JumpSpec],
    config: &SshConfig,
    local_user: &str,
    depth: usize,
) -> Result<Vec<JumpHost>, RouteError> {
    if depth >= MAX_JUMP_DEPTH {
        return Err(RouteError::TooDeep);
    }
    let mut hops = Vec::new();
    for spec in specs {
        let hop_config = config.host_config(&spec.host, spec.user.as_deref(), local_user);
        let (mut address, mut port, mut user, mut identity, mut proxy) =
            (None, None, None, None, None);
        for (place, option) in &hop_config.options {
            match option {
                SshOption::HostName(name) => {
                    address.get_or_insert_with(|| name.clone());
                }
                SshOption::Port(value) => {
                    port.get_or_insert(*value);
                }
                SshOption::User(value) => {
                    user.get_or_insert_with(|| value.clone());
                }
                SshOption::IdentityFile(path) => {
                    identity.get_or_insert_with(|| expand_tilde(path));
                }
                SshOption::ProxyJump(_) | SshOption::ProxyCommand(_) if proxy.is_none() => {
                    proxy = Proxy::from_option(option).map(|p| (place.clone(), p));
                }
                SshOption::Unsupported(what) => {
                    return Err(RouteError::HopOption {
                        hop: spec.host.clone(),
                        setting: format!("ssh config {place}"),
                        option: what.clone(),
                    });
                }
                _ => {}
            }
        }
        match proxy {
            Some((_, Proxy::Jump(inner))) => {
                hops.extend(resolve_hops(&inner, config, local_user, depth + 1)?);
            }
            Some((place, Proxy::Command(_))) => {
                return Err(RouteError::HopOption {
                    hop: spec.host.clone(),
                    setting: format!("ssh config {place}"),
                    option: "ProxyCommand".to_string(),
                });
            }
            Some((_, Proxy::Disabled)) | None => {}
        }
        hops.push(JumpHost {
            name: spec.host.clone(),
            address: address.unwrap_or_else(|| spec.host.clone()),
            port: spec.port.or(port).unwrap_or(22),
            user: spec
                .user
                .clone()
                .or(user)
                .unwrap_or_else(|| local_user.to_string()),
            identity,
        });
    }
    Ok(hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SshConfig {
        SshConfig::parse("cfg", text).unwrap()
    }

    fn destination() -> Destination<'static> {
        Destination {
            name: "web1",
            address: "10.0.0.5",
            port: 2222,
            user: "deploy",
            local_user: "me",
        }
    }

    fn jump(list: &str) -> Proxy {
        Proxy::Jump(JumpSpec::parse_list("ProxyJump", list).unwrap().unwrap())
    }

    #[test]
    fn jump_hosts_take_their_settings_from_ssh_config_with_the_spec_winning() {
        let config = config(
            "Host bastion\n  HostName 192.0.2.1\n  Port 2200\n  User jump\n  IdentityFile /k/jump\n",
        );
        let route = jump("bastion,ops@bastion:22")
            .route(&destination(), &config)
            .unwrap();
        let Route::Jump { hops } = route else {
            panic!("{route:?}")
        };
        assert_eq!(
            (
                hops[0].address.as_str(),
                hops[0].port,
                hops[0].user.as_str()
            ),
            ("192.0.2.1", 2200, "jump")
        );
        assert_eq!(hops[0].identity, Some(PathBuf::from("/k/jump")));
        assert_eq!((hops[1].port, hops[1].user.as_str()), (22, "ops"));
    }

    #[test]
    fn a_jump_hosts_own_proxy_jump_comes_before_it_and_loops_are_refused() {
        let config = config("Host inner\n  ProxyJump outer\nHost outer\n  User o\n");
        let Route::Jump { hops } = jump("inner").route(&destination(), &config).unwrap() else {
            panic!()
        };
        let names: Vec<&str> = hops.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["outer", "inner"]);
        let looping = config_loop();
        assert_eq!(
            jump("a").route(&destination(), &looping),
            Err(RouteError::TooDeep)
        );
    }

    fn config_loop() -> SshConfig {
        config("Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
    }

    #[test]
    fn a_jump_host_with_an_option_fleetprune_cannot_honour_refuses_the_route() {
        let config = config("Host b\n  LocalCommand x\n");
        let error = jump("b").route(&destination(), &config).unwrap_err();
        assert_eq!(
            error.to_string(),
            "jump host b: LocalCommand (from ssh config cfg:2) cannot be honoured on a jump host"
        );
    }

    #[test]
    fn proxy_command_tokens_expand() {
        let route = Proxy::Command("nc %h %p".into())
            .route(&destination(), &SshConfig::default())
            .unwrap();
        assert_eq!(
            route,
            Route::Command {
                command: "nc 10.0.0.5 2222".into()
            }
        );
        assert_eq!(
            Proxy::Command("x %C".into()).route(&destination(), &SshConfig::default()),
            Err(RouteError::Token(TokenError {
                option: "ProxyCommand",
                token: 'C'
            }))
        );
    }
}
