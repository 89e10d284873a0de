//! Extra `ssh` command-line arguments as Ansible passes them (`ansible_ssh_common_args`,
//! `ansible_ssh_extra_args`, `ansible_ssh_args`, ansible.cfg's `ssh_args`), read into typed
//! options: `-o Option=value`, `-o "Option value"`, `-p`, `-i`, `-l`, `-J`, `-F` and flags.
//!
//! Options fleetprune honours become values; connection-sharing, keep-alive and logging options
//! that change nothing about where or as whom it connects are ignored; every other option is kept
//! as unsupported so the host fails naming it instead of connecting some other way.
//! `ProxyJump`/`-J` and `ProxyCommand` are read as routes, and `-F FILE` as the ssh configuration
//! to read instead of the default files; [`crate::host`] resolves both.

use std::fmt;
use std::path::PathBuf;

use super::algorithms::{AlgorithmError, AlgorithmKind, AlgorithmList};

/// OpenSSH's `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    /// `yes` or `ask`: only known keys.
    Yes,
    /// `accept-new`.
    AcceptNew,
    /// `no` or `off`.
    No,
}

/// One option, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshOption {
    /// `HostName`: the address actually contacted.
    HostName(String),
    Port(u16),
    User(String),
    IdentityFile(PathBuf),
    StrictHostKeyChecking(StrictHostKeyChecking),
    UserKnownHostsFile(Vec<PathBuf>),
    GlobalKnownHostsFile(Vec<PathBuf>),
    /// `HashKnownHosts`: hash the names of keys appended to known_hosts.
    HashKnownHosts(bool),
    ConnectTimeout(u64),
    /// `ProxyJump`/`-J`: the jump hosts in order, or `None` for `none` (no jump).
    ProxyJump(Option<Vec<JumpSpec>>),
    /// `ProxyCommand`: the command line as written, or `None` for `none`.
    ProxyCommand(Option<String>),
    /// `IdentitiesOnly`: offer only the configured key files (and their agent copies).
    IdentitiesOnly(bool),
    /// `IdentityAgent`: the agent's socket, or `None` for `none` (no agent).
    IdentityAgent(Option<String>),
    /// `HostKeyAlias`: the name host keys are looked up and recorded under.
    HostKeyAlias(String),
    ServerAliveInterval(u64),
    ServerAliveCountMax(u32),
    /// `KexAlgorithms`, `Ciphers` or `MACs`.
    Algorithms(AlgorithmList),
    /// `-F FILE`: read FILE instead of `~/.ssh/config` and `/etc/ssh/ssh_config` (the last `-F`
    /// of a command line wins, as in ssh); the path as written, never `~`-expanded.
    ConfigFile(PathBuf),
    /// Options with no bearing on the destination or trust, e.g. `ControlPersist`, `-C`.
    Ignored(String),
    /// Anything else, as written: `-R`, `LocalCommand`, ...
    Unsupported(String),
}

/// One jump host of a `ProxyJump` list: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JumpSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl JumpSpec {
    /// Parses a comma-separated `ProxyJump` value; `none` is `None`.
    pub fn parse_list(option: &str, value: &str) -> Result<Option<Vec<JumpSpec>>, SshArgsError> {
        if value.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let bad = || SshArgsError::BadValue {
            option: option.to_string(),
            value: value.to_string(),
            expected: "a list of [user@]host[:port]",
        };
        let mut hops = Vec::new();
        for text in value.split(',') {
            let text = text.trim();
            let text = text.strip_prefix("ssh://").unwrap_or(text);
            let (user, rest) = match text.rsplit_once('@') {
                Some((user, rest)) if !user.is_empty() => (Some(user.to_string()), rest),
                Some(_) => return Err(bad()),
                None => (None, text),
            };
            let (host, port) = match rest.strip_prefix('[') {
                // `[2001:db8::1]:2222` or `[host]`
                Some(bracketed) => {
                    let (host, after) = bracketed.split_once(']').ok_or_else(bad)?;
                    match after.strip_prefix(':') {
                        Some(port) => (host, Some(parse_port(option, port)?)),
                        None if after.is_empty() => (host, None),
                        None => return Err(bad()),
                    }
                }
                None => match rest.split_once(':') {
                    Some((host, port)) if !port.contains(':') => {
                        (host, Some(parse_port(option, port)?))
                    }
                    _ => (rest, None),
                },
            };
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(bad());
            }
            hops.push(JumpSpec {
                user,
                host: host.to_string(),
                port,
            });
        }
        Ok(Some(hops))
    }
}

impl fmt::Display for JumpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match self.port {
            Some(port) => f.write_str(&crate::model::connection::endpoint(&self.host, port)),
            None => f.write_str(&self.host),
        }
    }
}

/// A parsed argument string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshArgs {
    pub options: Vec<SshOption>,
}

/// Why an argument string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshArgsError {
    #[error("unbalanced quotes in ssh arguments")]
    Quotes,
    #[error("ssh option {flag} needs a value")]
    MissingValue { flag: String },
    #[error("ssh option {option}: {value:?} is not {expected}")]
    BadValue {
        option: String,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Algorithm(#[from] AlgorithmError),
    #[error("unexpected ssh argument {argument:?}: only options (-o, -p, -i, ...) can be given")]
    NotAnOption { argument: String },
}

/// `-o` keywords (and ssh_config directives) that do not change the destination, the login or
/// host-key trust: connection sharing, keep-alives, logging, what a shell session would send or
/// forward (fleetprune opens no shell and forwards nothing).
const IGNORED_KEYWORDS: &[&str] = &[
    "controlmaster",
    "controlpersist",
    "controlpath",
    "compression",
    "tcpkeepalive",
    "loglevel",
    "connectionattempts",
    "sendenv",
    "setenv",
    "forwardagent",
    "forwardx11",
    "forwardx11trusted",
    "requesttty",
    "escapechar",
    "visualhostkey",
    "checkhostip",
    "updatehostkeys",
    "batchmode",
    "addkeystoagent",
    "gssapiauthentication",
    "gssapidelegatecredentials",
];

/// Authentication settings that only restate what fleetprune always does: keys, no passwords.
const RESTATED_DEFAULTS: [(&str, &str); 5] = [
    ("passwordauthentication", "no"),
    ("kbdinteractiveauthentication", "no"),
    ("challengeresponseauthentication", "no"),
    ("gssapiauthentication", "no"),
    ("pubkeyauthentication", "yes"),
];

/// Flags without a value that change nothing fleetprune does (compression, verbosity, tty).
const IGNORED_FLAGS: [char; 6] = ['C', 'q', 'v', 'T', 't', 'n'];

/// Flags ssh reads a value for.
const FLAGS_WITH_VALUE: &str = "BbcDEeFIiJLlmOoPpQRSWw";

impl SshArgs {
    /// Splits `text` as Ansible does (shell quoting) and reads each option.
    pub fn parse(text: &str) -> Result<SshArgs, SshArgsError> {
        let words = shlex::split(text).ok_or(SshArgsError::Quotes)?;
        let mut options = Vec::new();
        let mut words = words.into_iter();
        while let Some(word) = words.next() {
            let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
                return Err(SshArgsError::NotAnOption { argument: word });
            };
            // `-Cq`: several flags; the first flag taking a value takes the rest or the next word.
            for (at, flag) in flags.char_indices() {
                if FLAGS_WITH_VALUE.contains(flag) {
                    let attached = &flags[at + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        words.next().ok_or_else(|| SshArgsError::MissingValue {
                            flag: format!("-{flag}"),
                        })?
                    } else {
                        attached.to_string()
                    };
                    options.push(flag_option(flag, &value)?);
                    break;
                }
                options.push(if IGNORED_FLAGS.contains(&flag) {
                    SshOption::Ignored(format!("-{flag}"))
                } else {
                    SshOption::Unsupported(format!("-{flag}"))
                });
            }
        }
        Ok(SshArgs { options })
    }
}

fn flag_option(flag: char, value: &str) -> Result<SshOption, SshArgsError> {
    Ok(match flag {
        'o' => return keyword_option(value),
        'p' => SshOption::Port(parse_port("-p", value)?),
        'l' => SshOption::User(value.to_string()),
        'i' => SshOption::IdentityFile(PathBuf::from(value)),
        'J' => SshOption::ProxyJump(JumpSpec::parse_list("-J", value)?),
        'F' => SshOption::ConfigFile(PathBuf::from(value)),
        other => SshOption::Unsupported(format!("-{other}")),
    })
}

/// `-o Keyword=value` or `-o "Keyword value"` (the ssh_config forms too); keywords are
/// case-insensitive.
pub(crate) fn keyword_option(text: &str) -> Result<SshOption, SshArgsError> {
    let text = text.trim();
    let split = text
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(text.len());
    let keyword = &text[..split];
    let value = text[split..]
        .trim_start()
        .strip_prefix('=')
        .unwrap_or(text[split..].trim_start())
        .trim();
    let lower = keyword.to_ascii_lowercase();
    if value.is_empty() {
        return Err(SshArgsError::MissingValue {
            flag: format!("-o {keyword}"),
        });
    }
    let bad = |expected| SshArgsError::BadValue {
        option: keyword.to_string(),
        value: value.to_string(),
        expected,
    };
    Ok(match lower.as_str() {
        "hostname" => SshOption::HostName(value.to_string()),
        "port" => SshOption::Port(parse_port(keyword, value)?),
        "user" => SshOption::User(value.to_string()),
        "identityfile" => SshOption::IdentityFile(PathBuf::from(value)),
        "stricthostkeychecking" => {
            SshOption::StrictHostKeyChecking(match value.to_ascii_lowercase().as_str() {
                "yes" | "ask" => StrictHostKeyChecking::Yes,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                "no" | "off" => StrictHostKeyChecking::No,
                _ => return Err(bad("yes, ask, accept-new, no or off")),
            })
        }
        "userknownhostsfile" => {
            SshOption::UserKnownHostsFile(value.split_whitespace().map(PathBuf::from).collect())
        }
        "proxyjump" => SshOption::ProxyJump(JumpSpec::parse_list(keyword, value)?),
        "proxycommand" => SshOption::ProxyCommand(
            Some(value.to_string()).filter(|command| !command.eq_ignore_ascii_case("none")),
        ),
        "identitiesonly" => {
            SshOption::IdentitiesOnly(yes_no(value).ok_or_else(|| bad("yes or no"))?)
        }
        "identityagent" => SshOption::IdentityAgent(
            Some(value.to_string()).filter(|agent| !agent.eq_ignore_ascii_case("none")),
        ),
        "hostkeyalias" => SshOption::HostKeyAlias(value.to_string()),
        "serveraliveinterval" => SshOption::ServerAliveInterval(
            seconds(value)
                .ok_or_else(|| bad("a number of seconds, at most 2147483647 (as OpenSSH)"))?,
        ),
        "serveralivecountmax" => {
            SshOption::ServerAliveCountMax(value.parse().map_err(|_| bad("a count"))?)
        }
        "kexalgorithms" => SshOption::Algorithms(AlgorithmList::parse(AlgorithmKind::Kex, value)?),
        "ciphers" => SshOption::Algorithms(AlgorithmList::parse(AlgorithmKind::Ciphers, value)?),
        "macs" => SshOption::Algorithms(AlgorithmList::parse(AlgorithmKind::Macs, value)?),
        "hashknownhosts" => {
            SshOption::HashKnownHosts(yes_no(value).ok_or_else(|| bad("yes or no"))?)
        }
        "globalknownhostsfile" => {
            SshOption::GlobalKnownHostsFile(value.split_whitespace().map(PathBuf::from).collect())
        }
        "connecttimeout" => {
            SshOption::ConnectTimeout(seconds(value).filter(|s| *s > 0).ok_or_else(|| {
                bad("a positive number of seconds, at most 2147483647 (as OpenSSH)")
            })?)
        }
        _ if IGNORED_KEYWORDS.contains(&lower.as_str())
            || RESTATED_DEFAULTS
                .contains(&(lower.as_str(), value.to_ascii_lowercase().as_str())) =>
        {
            SshOption::Ignored(keyword.to_string())
        }
        _ => SshOption::Unsupported(keyword.to_string()),
    })
}

/// A time in seconds as OpenSSH takes it: no more than `INT_MAX` ("invalid time value"), so
/// that no deadline computed from it can overflow.
fn seconds(value: &str) -> Option<u64> {
    value.parse().ok().filter(|s| *s <= i32::MAX as u64)
}

fn yes_no(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn parse_port(option: &str, value: &str) -> Result<u16, SshArgsError> {
    value
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| SshArgsError::BadValue {
            option: option.to_string(),
            value: value.to_string(),
            expected: "a port between 1 and 65535",
        })
}

impl fmt::Display for StrictHostKeyChecking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StrictHostKeyChecking::Yes => "yes",
            StrictHostKeyChecking::AcceptNew => "accept-new",
            StrictHostKeyChecking::No => "no",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<SshOption> {
        SshArgs::parse(text).unwrap().options
    }

    #[test]
    fn ssh_args_read_equals_and_space_forms_of_dash_o() {
        assert_eq!(
            parse("-o Port=2222 -o 'User deploy' -oStrictHostKeyChecking=accept-new"),
            [
                SshOption::Port(2222),
                SshOption::User("deploy".into()),
                SshOption::StrictHostKeyChecking(StrictHostKeyChecking::AcceptNew),
            ]
        );
    }

    #[test]
    fn ssh_times_past_int_max_are_refused_as_openssh_does() {
        // `ssh -G -o ServerAliveInterval=2147483648 x`: "invalid time value"; a larger one
        // panicked in the keep-alive timer.
        assert_eq!(
            parse("-o ServerAliveInterval=2147483647 -o ConnectTimeout=2147483647"),
            [
                SshOption::ServerAliveInterval(2_147_483_647),
                SshOption::ConnectTimeout(2_147_483_647),
            ]
        );
        assert_eq!(
            SshArgs::parse("-o ServerAliveInterval=18446744073709551615")
                .unwrap_err()
                .to_string(),
            "ssh option ServerAliveInterval: \"18446744073709551615\" is not a number of seconds, at most 2147483647 (as OpenSSH)"
        );
        assert_eq!(
            SshArgs::parse("-o ConnectTimeout=2147483648")
                .unwrap_err()
                .to_string(),
            "ssh option ConnectTimeout: \"2147483648\" is not a positive number of seconds, at most 2147483647 (as OpenSSH)"
        );
    }

    #[test]
    fn ssh_args_read_algorithm_lists_and_refuse_names_ssh_does_not_know() {
        let options =
            parse("-o KexAlgorithms=+diffie-hellman-group14-sha1 -o 'Ciphers ^aes128-ctr'");
        let [SshOption::Algorithms(kex), SshOption::Algorithms(ciphers)] = &options[..] else {
            panic!("{options:?}");
        };
        assert_eq!(kex.kind, AlgorithmKind::Kex);
        assert_eq!(kex.to_string(), "+diffie-hellman-group14-sha1");
        assert_eq!(ciphers.resolve().unwrap()[0], "aes128-ctr");
        let error = SshArgs::parse("-o MACs=hmac-sha3").unwrap_err();
        assert_eq!(
            error.to_string(),
            "MACs: \"hmac-sha3\" is not an algorithm ssh knows"
        );
    }

    #[test]
    fn ssh_args_read_short_flags_with_attached_or_separate_values() {
        assert_eq!(
            parse("-p2200 -i ~/.ssh/k -l ops"),
            [
                SshOption::Port(2200),
                SshOption::IdentityFile("~/.ssh/k".into()),
                SshOption::User("ops".into()),
            ]
        );
    }

    #[test]
    fn ssh_args_read_bastions_and_config_files() {
        let hop = |user: Option<&str>, host: &str, port| JumpSpec {
            user: user.map(str::to_string),
            host: host.into(),
            port,
        };
        assert_eq!(
            parse(
                "-J bastion -F cfg -R 8080:x:80 -o ProxyCommand='ssh -W %h:%p b' -o ProxyJump=ops@b:2222,ssh://[::1]:22"
            ),
            [
                SshOption::ProxyJump(Some(vec![hop(None, "bastion", None)])),
                SshOption::ConfigFile("cfg".into()),
                SshOption::Unsupported("-R".into()),
                SshOption::ProxyCommand(Some("ssh -W %h:%p b".into())),
                SshOption::ProxyJump(Some(vec![
                    hop(Some("ops"), "b", Some(2222)),
                    hop(None, "::1", Some(22))
                ])),
            ]
        );
        assert_eq!(
            parse("-o ProxyJump=none -o ProxyCommand=NONE"),
            [SshOption::ProxyJump(None), SshOption::ProxyCommand(None)]
        );
        assert!(SshArgs::parse("-J a@:22").is_err());
        assert!(SshArgs::parse("-J b:port").is_err());
    }

    #[test]
    fn ssh_args_ignore_connection_sharing_and_compression() {
        assert_eq!(
            parse("-C -o ControlMaster=auto -o ControlPersist=60s"),
            [
                SshOption::Ignored("-C".into()),
                SshOption::Ignored("ControlMaster".into()),
                SshOption::Ignored("ControlPersist".into()),
            ]
        );
    }

    #[test]
    fn ssh_args_ignore_auth_settings_fleetprune_already_has_but_not_their_opposites() {
        assert_eq!(
            parse("-o PasswordAuthentication=no -o PubkeyAuthentication=no"),
            [
                SshOption::Ignored("PasswordAuthentication".into()),
                SshOption::Unsupported("PubkeyAuthentication".into()),
            ]
        );
    }

    #[test]
    fn ssh_args_report_bad_values_and_quotes() {
        assert_eq!(SshArgs::parse("-o 'Port=1"), Err(SshArgsError::Quotes));
        assert_eq!(
            SshArgs::parse("-p"),
            Err(SshArgsError::MissingValue { flag: "-p".into() })
        );
        assert!(matches!(
            SshArgs::parse("-o Port=ssh"),
            Err(SshArgsError::BadValue { .. })
        ));
        assert!(matches!(
            SshArgs::parse("bastion"),
            Err(SshArgsError::NotAnOption { .. })
        ));
    }
}
