//! Extra `ssh` command-line arguments as Ansible passes them (`ansible_ssh_common_args`,
//! `ansible_ssh_extra_args`, `ansible_ssh_args`, ansible.cfg's `ssh_args`), read into typed
//! options: `-o Option=value`, `-o "Option value"`, `-p`, `-i`, `-l`, `-J`, `-F` and flags.
//!
//! Options fleetprune honours become values; connection-sharing, keep-alive and logging options
//! that change nothing about where or as whom it connects are ignored; every other option is kept
//! as unsupported so the host fails naming it instead of connecting some other way.

use std::fmt;
use std::path::PathBuf;

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
    ConnectTimeout(u64),
    /// Options with no bearing on the destination or trust, e.g. `ControlPersist`, `-C`.
    Ignored(String),
    /// Anything else, as written: `ProxyJump`, `-J`, `-F`, `ProxyCommand`, ...
    Unsupported(String),
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
    #[error("unexpected ssh argument {argument:?}: only options (-o, -p, -i, ...) can be given")]
    NotAnOption { argument: String },
}

/// `-o` keywords (and ssh_config directives) that do not change the destination, the login or
/// host-key trust: connection sharing, keep-alives, logging, what a shell session would send or
/// forward (fleetprune opens no shell and forwards nothing), and `HashKnownHosts` (fleetprune
/// appends accepted keys unhashed).
const IGNORED_KEYWORDS: &[&str] = &[
    "controlmaster",
    "controlpersist",
    "controlpath",
    "compression",
    "serveraliveinterval",
    "serveralivecountmax",
    "tcpkeepalive",
    "loglevel",
    "connectionattempts",
    "sendenv",
    "setenv",
    "hashknownhosts",
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
    "identitiesonly",
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
        'J' => SshOption::Unsupported("-J (ProxyJump)".to_string()),
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
        "connecttimeout" => SshOption::ConnectTimeout(
            value
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| bad("a positive number of seconds"))?,
        ),
        _ if IGNORED_KEYWORDS.contains(&lower.as_str())
            || RESTATED_DEFAULTS
                .contains(&(lower.as_str(), value.to_ascii_lowercase().as_str())) =>
        {
            SshOption::Ignored(keyword.to_string())
        }
        _ => SshOption::Unsupported(keyword.to_string()),
    })
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
    fn ssh_args_keep_bastions_and_config_files_as_unsupported() {
        assert_eq!(
            parse("-J bastion -F cfg -o ProxyCommand='ssh -W %h:%p b' -o ProxyJump=b"),
            [
                SshOption::Unsupported("-J (ProxyJump)".into()),
                SshOption::Unsupported("-F".into()),
                SshOption::Unsupported("ProxyCommand".into()),
                SshOption::Unsupported("ProxyJump".into()),
            ]
        );
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
