//! OpenSSH's client configuration as `ssh` reads it (`ssh_config(5)`): `~/.ssh/config` then
//! `/etc/ssh/ssh_config`, or only the file given with `--ssh-config` or a host's own `-F FILE`
//! (like `ssh -F`), each read once per run. `Host` and `Match` blocks, `Include`, first value
//! wins per keyword.
//!
//! A host's applicable directives become the same typed options as `-o` arguments
//! ([`super::args`]), so whatever fleetprune cannot honour (`ProxyJump`, `ProxyCommand`, an
//! unevaluable `Match exec`, ...) fails that host, naming the file and line, instead of it being
//! reached some other way. Applying the options with the inventory's precedence is
//! [`crate::host`]'s job.

use std::path::{Path, PathBuf};

use super::args::{SshOption, keyword_option};
use super::pattern::{has_wildcard, wildcard_match};

/// Configuration files larger than this are refused (real ones are a few kB).
const MAX_FILE_BYTES: u64 = 1 << 20;
/// The system-wide file, read after the user's; its relative `Include`s are under /etc/ssh.
const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";
/// OpenSSH's limit on nested `Include`s.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The parsed configuration files, in reading order.
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

/// Directives under one condition, inside the blocks of any `Include`s that read it: an
/// `Include` in a `Host` or `Match` block is read only where that block applies.
#[derive(Debug, Clone)]
struct Block {
    guards: Vec<Condition>,
    condition: Condition,
    /// `file:line` of the `Host` or `Match` line (or of the file's start).
    place: String,
    directives: Vec<Directive>,
}

#[derive(Debug, Clone)]
enum Condition {
    /// Before the first `Host` or `Match` of a file.
    Always,
    /// `Host` patterns, matched against the host name as given.
    Host(Vec<Pattern>),
    /// `Match` criteria, all of which must hold.
    Match(Vec<Criterion>),
}

#[derive(Debug, Clone)]
enum Criterion {
    All,
    /// `host`: the host name after any `HostName` so far.
    Host(Vec<Pattern>),
    /// `originalhost`: the host name as given.
    OriginalHost(Vec<Pattern>),
    /// `user`: the remote login.
    User(Vec<Pattern>),
    /// `localuser`: the local login.
    LocalUser(Vec<Pattern>),
    /// `exec`, `canonical`, `final`, `localnetwork`, `tagged`: nothing fleetprune can evaluate.
    Unsupported(String),
}

/// One glob pattern of a list, `!` for negation.
#[derive(Debug, Clone)]
struct Pattern {
    negated: bool,
    glob: String,
}

#[derive(Debug, Clone)]
struct Directive {
    /// The option, read once when the file is read; one that cannot be used is
    /// `SshOption::Unsupported` and refuses only the hosts its block applies to.
    option: SshOption,
    /// `file:line`, for messages.
    place: String,
}

/// What the configuration says for one host: options in the order `ssh` obtains them, each
/// with the `file:line` it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub options: Vec<(String, SshOption)>,
}

/// A configuration file that cannot be used; the run stops before any host is contacted.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("cannot read ssh config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{place}: {message}")]
    Syntax { place: String, message: String },
    #[error("{place}: Include nested more than {MAX_INCLUDE_DEPTH} levels deep")]
    TooDeep { place: String },
}

impl SshConfig {
    /// Reads `files` in order; a default file that does not exist is skipped, as ssh does, and
    /// `/dev/null` or `none` (ssh's way of saying "no configuration") reads nothing.
    pub fn load(files: &[PathBuf], home: Option<&Path>) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        for file in files {
            if file.as_os_str() == "none" || file == Path::new("/dev/null") {
                continue;
            }
            if file.exists() {
                // Relative `Include`s: under /etc/ssh for the system file, ~/.ssh for every
                // user file (ssh reads `-F FILE` as a user file wherever it lives).
                let base = match home {
                    Some(home) if file != Path::new(SYSTEM_CONFIG) => home.join(".ssh"),
                    _ => PathBuf::from("/etc/ssh"),
                };
                config.read_file(file, &base, &home.map(Path::to_path_buf), &[])?;
            }
        }
        Ok(config)
    }

    /// Reads the one file ssh is told to read with `-F FILE`: it must exist ("Can't open user
    /// config file"), except `none` and `/dev/null`, which read nothing.
    pub fn load_given(file: &Path, home: Option<&Path>) -> Result<SshConfig, SshConfigError> {
        if file.as_os_str() != "none" {
            std::fs::metadata(file).map_err(|source| SshConfigError::Read {
                path: file.display().to_string(),
                source,
            })?;
        }
        SshConfig::load(&[file.to_path_buf()], home)
    }

    /// Parses configuration text as if read from a file named `name`; relative `Include`s are
    /// looked up under `/etc/ssh`.
    pub fn parse(name: &str, text: &str) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        config.read_text(name, text, Path::new("/etc/ssh"), &None, &[])?;
        Ok(config)
    }

    /// Parses configuration text, as if read from a file named `name`.
    fn read_text(
        &mut self,
        name: &str,
        text: &str,
        base: &Path,
        home: &Option<PathBuf>,
        guards: &[Condition],
    ) -> Result<(), SshConfigError> {
        let block = |condition, place: &str| Block {
            guards: guards.to_vec(),
            condition,
            place: place.to_string(),
            directives: Vec::new(),
        };
        self.blocks
            .push(block(Condition::Always, &format!("{name}:1")));
        for (index, line) in text.lines().enumerate() {
            let place = format!("{name}:{}", index + 1);
            let Some((keyword, value)) = split_directive(line) else {
                continue;
            };
            let lower = keyword.to_ascii_lowercase();
            match lower.as_str() {
                "host" => self.blocks.push(block(
                    Condition::Host(patterns(value.split_whitespace())),
                    &place,
                )),
                "match" => self
                    .blocks
                    .push(block(Condition::Match(criteria(value, &place)?), &place)),
                "include" => {
                    if guards.len() >= MAX_INCLUDE_DEPTH {
                        return Err(SshConfigError::TooDeep { place });
                    }
                    let including = self
                        .blocks
                        .last()
                        .map_or(Condition::Always, |b| b.condition.clone());
                    let mut inner = guards.to_vec();
                    inner.push(including.clone());
                    for pattern in value.split_whitespace() {
                        for path in include_paths(pattern, base, home) {
                            self.read_file(&path, base, home, &inner)?;
                        }
                    }
                    // After an Include, the including block goes on.
                    self.blocks.push(block(including, &place));
                }
                _ => {
                    let block = self
                        .blocks
                        .last_mut()
                        .expect("read_text pushes a block first");
                    let option =
                        keyword_option(&format!("{keyword} {value}")).unwrap_or_else(|error| {
                            SshOption::Unsupported(format!("{keyword} ({error})"))
                        });
                    block.directives.push(Directive { option, place });
                }
            }
        }
        Ok(())
    }

    fn read_file(
        &mut self,
        path: &Path,
        base: &Path,
        home: &Option<PathBuf>,
        guards: &[Condition],
    ) -> Result<(), SshConfigError> {
        let shown = path.display().to_string();
        let text = crate::input_file::read_to_string(path, MAX_FILE_BYTES).map_err(|source| {
            SshConfigError::Read {
                path: shown.clone(),
                source,
            }
        })?;
        self.read_text(&shown, &text, base, home, guards)
    }

    /// The options for `host` (the destination as given: `ansible_host`, or the inventory
    /// name), with `user` the login known so far and `local_user` ours.
    pub fn host_config(&self, host: &str, user: Option<&str>, local_user: &str) -> HostConfig {
        let original = host;
        let mut host_name: Option<String> = None;
        let mut options = Vec::new();
        for block in &self.blocks {
            let current = host_name.as_deref().unwrap_or(original);
            let target = Target {
                original,
                current,
                user: user.unwrap_or(local_user),
                local_user,
            };
            let applies = block
                .guards
                .iter()
                .chain([&block.condition])
                .map(|condition| target.evaluate(condition))
                .try_fold(Applies::Yes, |all, this| match this {
                    Applies::No => None,
                    Applies::Unknown(what) => Some(Applies::Unknown(what)),
                    Applies::Yes => Some(all),
                });
            match applies {
                None => continue,
                Some(Applies::Unknown(what)) => {
                    // The block might apply: fail the host rather than guess.
                    options.push((
                        block.place.clone(),
                        SshOption::Unsupported(format!("Match {what}")),
                    ));
                    continue;
                }
                Some(_) => {}
            }
            for directive in &block.directives {
                let option = match &directive.option {
                    SshOption::HostName(name) => {
                        let name = expand_host_tokens(name, original);
                        host_name.get_or_insert_with(|| name.to_ascii_lowercase());
                        SshOption::HostName(name)
                    }
                    option => option.clone(),
                };
                options.push((directive.place.clone(), option));
            }
        }
        HostConfig { options }
    }
}

/// What a condition is evaluated against.
struct Target<'a> {
    /// The host name as given.
    original: &'a str,
    /// After any `HostName` so far.
    current: &'a str,
    user: &'a str,
    local_user: &'a str,
}

/// Whether a condition holds; `Unknown` names a `Match` criterion fleetprune cannot evaluate.
enum Applies {
    Yes,
    No,
    Unknown(String),
}

impl Target<'_> {
    fn evaluate(&self, condition: &Condition) -> Applies {
        match condition {
            Condition::Always => Applies::Yes,
            Condition::Host(patterns) => {
                if matches(patterns, self.original, false) {
                    Applies::Yes
                } else {
                    Applies::No
                }
            }
            Condition::Match(criteria) => {
                let mut unknown = None;
                for criterion in criteria {
                    let holds = match criterion {
                        Criterion::All => true,
                        Criterion::Host(p) => matches(p, self.current, true),
                        Criterion::OriginalHost(p) => matches(p, self.original, true),
                        Criterion::User(p) => matches(p, self.user, false),
                        Criterion::LocalUser(p) => matches(p, self.local_user, false),
                        Criterion::Unsupported(what) => {
                            unknown.get_or_insert_with(|| what.clone());
                            true
                        }
                    };
                    if !holds {
                        return Applies::No;
                    }
                }
                unknown.map_or(Applies::Yes, Applies::Unknown)
            }
        }
    }
}

/// `Keyword value`, `Keyword=value` or `Keyword = value`; `None` for blank and comment lines.
fn split_directive(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(line.len());
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((&line[..end], rest.trim_matches('"')))
}

fn patterns<'a>(words: impl Iterator<Item = &'a str>) -> Vec<Pattern> {
    words
        .filter(|w| !w.is_empty())
        .map(|w| match w.strip_prefix('!') {
            Some(glob) => Pattern {
                negated: true,
                glob: glob.to_string(),
            },
            None => Pattern {
                negated: false,
                glob: w.to_string(),
            },
        })
        .collect()
}

fn criteria(value: &str, place: &str) -> Result<Vec<Criterion>, SshConfigError> {
    let mut words = value.split_whitespace();
    let mut criteria = Vec::new();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        let mut list = || {
            words
                .next()
                .map(|w| patterns(w.split(',')))
                .ok_or_else(|| SshConfigError::Syntax {
                    place: place.to_string(),
                    message: format!("Match {word} needs an argument"),
                })
        };
        criteria.push(match lower.as_str() {
            "all" => Criterion::All,
            "host" => Criterion::Host(list()?),
            "originalhost" => Criterion::OriginalHost(list()?),
            "user" => Criterion::User(list()?),
            "localuser" => Criterion::LocalUser(list()?),
            "canonical" | "final" => Criterion::Unsupported(lower),
            "exec" | "localnetwork" | "tagged" => {
                list()?;
                Criterion::Unsupported(lower)
            }
            _ => {
                return Err(SshConfigError::Syntax {
                    place: place.to_string(),
                    message: format!("unknown Match criterion {word:?}"),
                });
            }
        });
    }
    if criteria.is_empty() {
        return Err(SshConfigError::Syntax {
            place: place.to_string(),
            message: "Match needs criteria".to_string(),
        });
    }
    Ok(criteria)
}

/// A list matches when some positive pattern matches and no negated one does. `Host` lines
/// compare case-sensitively, `Match host` and `originalhost` case-insensitively, as ssh does.
fn matches(patterns: &[Pattern], name: &str, ignore_case: bool) -> bool {
    let mut matched = false;
    for pattern in patterns {
        let hit = if ignore_case {
            wildcard_match(
                &pattern.glob.to_ascii_lowercase(),
                &name.to_ascii_lowercase(),
            )
        } else {
            wildcard_match(&pattern.glob, name)
        };
        if hit {
            if pattern.negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

/// `%h` and `%%` in `HostName`.
fn expand_host_tokens(value: &str, host: &str) -> String {
    value
        .replace("%%", "\u{0}")
        .replace("%h", host)
        .replace('\u{0}', "%")
}

/// The files an `Include` pattern names, sorted as glob(3) sorts them.
fn include_paths(pattern: &str, base: &Path, home: &Option<PathBuf>) -> Vec<PathBuf> {
    let path = match (pattern.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if pattern.starts_with('/') => PathBuf::from(pattern),
        _ => base.join(pattern),
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    if !has_wildcard(name) {
        return if path.exists() {
            vec![path]
        } else {
            Vec::new()
        };
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|n| !n.starts_with('.') && wildcard_match(name, n))
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openssh::args::StrictHostKeyChecking;

    fn config(text: &str) -> SshConfig {
        let mut config = SshConfig::default();
        config
            .read_text("cfg", text, Path::new("/nonexistent"), &None, &[])
            .unwrap();
        config
    }

    fn options(config: &SshConfig, host: &str) -> Vec<SshOption> {
        config
            .host_config(host, None, "me")
            .options
            .into_iter()
            .map(|(_, o)| o)
            .collect()
    }

    #[test]
    fn an_alias_gets_its_host_name_port_user_and_key_first_value_winning() {
        let config = config(
            "Host web1\n  HostName 10.0.0.5\n  Port 2222\n\nHost web*\n  User deploy\n  Port 22\n\nHost *\n  IdentityFile ~/.ssh/id_farm\n",
        );
        assert_eq!(
            options(&config, "web1"),
            [
                SshOption::HostName("10.0.0.5".into()),
                SshOption::Port(2222),
                SshOption::User("deploy".into()),
                SshOption::Port(22),
                SshOption::IdentityFile("~/.ssh/id_farm".into()),
            ]
        );
        assert_eq!(
            options(&config, "db1"),
            [SshOption::IdentityFile("~/.ssh/id_farm".into())]
        );
    }

    #[test]
    fn negated_patterns_exclude_and_equals_forms_parse() {
        let config = config("Host *.farm !bastion.farm\n  StrictHostKeyChecking=accept-new\n");
        assert_eq!(
            options(&config, "b1.farm"),
            [SshOption::StrictHostKeyChecking(
                StrictHostKeyChecking::AcceptNew
            )]
        );
        assert!(options(&config, "bastion.farm").is_empty());
    }

    #[test]
    fn a_bastion_in_the_config_is_read_with_its_place() {
        let config = config("Host db*\n  ProxyJump bastion\n");
        let found = config.host_config("db1", None, "me");
        assert_eq!(
            found.options,
            [(
                "cfg:2".to_string(),
                SshOption::ProxyJump(Some(vec![crate::openssh::args::JumpSpec {
                    user: None,
                    host: "bastion".into(),
                    port: None
                }]))
            )]
        );
    }

    #[test]
    fn match_exec_that_might_apply_fails_the_host_and_match_host_uses_the_host_name() {
        let config = config(
            "Host short\n  HostName %h.example.net\nMatch host *.example.net\n  User ops\nMatch exec \"true\"\n  Port 2200\n",
        );
        let found = options(&config, "short");
        assert_eq!(found[0], SshOption::HostName("short.example.net".into()));
        assert_eq!(found[1], SshOption::User("ops".into()));
        assert_eq!(found[2], SshOption::Unsupported("Match exec".into()));
    }

    #[test]
    fn an_option_that_cannot_be_used_refuses_only_the_hosts_its_block_applies_to() {
        let config = config("Host legacy*\n  Port many\nHost *\n  User ops\n");
        assert!(matches!(
            options(&config, "legacy1")[0],
            SshOption::Unsupported(ref why) if why.starts_with("Port (")
        ));
        assert_eq!(options(&config, "web1"), [SshOption::User("ops".into())]);
    }

    #[test]
    fn debians_default_global_config_only_asks_for_hashed_known_hosts() {
        let config = config(
            "Include /nonexistent.d/*.conf\nHost *\n    SendEnv LANG LC_*\n    HashKnownHosts yes\n    GSSAPIAuthentication yes\n",
        );
        let found = options(&config, "anything");
        assert!(
            found
                .iter()
                .all(|o| matches!(o, SshOption::Ignored(_) | SshOption::HashKnownHosts(true))),
            "{found:?}"
        );
    }
}
