//! The Ansible settings fleetprune honours, from the first ansible.cfg Ansible would read
//! (`$ANSIBLE_CONFIG`, `./ansible.cfg`, `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`) and the
//! `ANSIBLE_*` variables that override it: `inventory`, `remote_user`, `private_key_file`,
//! `host_key_checking` and `[ssh_connection] ssh_args`. Every other setting is Ansible's alone.
//!
//! ansible.cfg is read as Python's configparser reads it with Ansible's options (`;` starts an
//! inline comment, `key = value` or `key: value`, indented lines continue a value); the few lines
//! this needs are written here rather than pulling an INI crate whose comment rules differ.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::openssh::args::{SshArgs, SshArgsError};
use crate::openssh::home::{expand_tilde, home_dir};

/// The settings read, already typed.
#[derive(Debug, Clone, Default)]
pub struct AnsibleConfig {
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// `inventory` / `ANSIBLE_INVENTORY`: paths, relative ones resolved against the file's dir.
    pub inventory: Vec<PathBuf>,
    /// `remote_user` / `ANSIBLE_REMOTE_USER`.
    pub remote_user: Option<String>,
    /// `private_key_file` / `ANSIBLE_PRIVATE_KEY_FILE`.
    pub private_key_file: Option<PathBuf>,
    /// `host_key_checking` / `ANSIBLE_HOST_KEY_CHECKING`.
    pub host_key_checking: Option<bool>,
    /// `[ssh_connection] ssh_args` / `ANSIBLE_SSH_ARGS`.
    pub ssh_args: Option<SshArgs>,
}

/// A setting that cannot be used, with its place.
#[derive(Debug, thiserror::Error)]
pub enum AnsibleConfigError {
    #[error("{path}: cannot read Ansible configuration: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin}: {key}: {value:?} is not a boolean (use True or False)")]
    Boolean {
        origin: String,
        key: String,
        value: String,
    },
    #[error("{origin}: ssh_args: {error}")]
    SshArgs { origin: String, error: SshArgsError },
}

/// One setting's value and where it came from (`file:line` or the variable's name).
struct Setting {
    value: String,
    origin: String,
}

impl AnsibleConfig {
    /// Finds and reads the configuration as Ansible would, then applies `ANSIBLE_*` variables.
    pub fn discover() -> Result<AnsibleConfig, AnsibleConfigError> {
        let file = config_file();
        let mut settings = match &file {
            Some(path) => read_settings(path)?,
            None => HashMap::new(),
        };
        for (key, variable) in [
            ("defaults.inventory", "ANSIBLE_INVENTORY"),
            ("defaults.remote_user", "ANSIBLE_REMOTE_USER"),
            ("defaults.private_key_file", "ANSIBLE_PRIVATE_KEY_FILE"),
            ("defaults.host_key_checking", "ANSIBLE_HOST_KEY_CHECKING"),
            ("ssh_connection.ssh_args", "ANSIBLE_SSH_ARGS"),
        ] {
            if let Some(value) = std::env::var(variable).ok().filter(|v| !v.is_empty()) {
                settings.insert(
                    key.to_string(),
                    Setting {
                        value,
                        origin: variable.to_string(),
                    },
                );
            }
        }
        let base = file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = |value: &str| {
            let expanded = expand_tilde(Path::new(value.trim()));
            if expanded.is_relative() {
                base.join(expanded)
            } else {
                expanded
            }
        };
        let get = |key: &str| settings.get(key);
        Ok(AnsibleConfig {
            inventory: get("defaults.inventory")
                .map(|s| {
                    s.value
                        .split(',')
                        .filter(|p| !p.trim().is_empty())
                        .map(path)
                        .collect()
                })
                .unwrap_or_default(),
            remote_user: get("defaults.remote_user").map(|s| s.value.clone()),
            private_key_file: get("defaults.private_key_file").map(|s| path(&s.value)),
            host_key_checking: get("defaults.host_key_checking")
                .map(|s| parse_bool("host_key_checking", s))
                .transpose()?,
            ssh_args: get("ssh_connection.ssh_args")
                .map(|s| {
                    SshArgs::parse(&s.value).map_err(|error| AnsibleConfigError::SshArgs {
                        origin: s.origin.clone(),
                        error,
                    })
                })
                .transpose()?,
            file,
        })
    }
}

/// Ansible's search order; the first file that exists is the only one read.
fn config_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ANSIBLE_CONFIG").filter(|p| !p.is_empty()) {
        let path = expand_tilde(Path::new(&path));
        let path = if path.is_dir() {
            path.join("ansible.cfg")
        } else {
            path
        };
        if path.exists() {
            return Some(path);
        }
    }
    let mut candidates = vec![PathBuf::from("ansible.cfg")];
    candidates.extend(home_dir().map(|home| home.join(".ansible.cfg")));
    candidates.push(PathBuf::from("/etc/ansible/ansible.cfg"));
    candidates.into_iter().find(|p| p.is_file())
}

/// `section.key` -> value, for the sections and keys fleetprune reads.
fn read_settings(path: &Path) -> Result<HashMap<String, Setting>, AnsibleConfigError> {
    let shown = path.display().to_string();
    let text = crate::input_file::read_to_string(path, crate::input_file::INVENTORY_LIMIT)
        .map_err(|source| AnsibleConfigError::Read {
            path: shown.clone(),
            source,
        })?;
    let mut settings: HashMap<String, Setting> = HashMap::new();
    let mut section = String::new();
    let mut last_key: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = strip_inline_comment(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with(char::is_whitespace)
            && let Some(key) = &last_key
            && let Some(setting) = settings.get_mut(key)
        {
            setting.value.push(' ');
            setting.value.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            section = name.trim().to_string();
            last_key = None;
            continue;
        }
        let Some(at) = trimmed.find(['=', ':']) else {
            continue;
        };
        let key = format!("{section}.{}", trimmed[..at].trim().to_ascii_lowercase());
        settings.insert(
            key.clone(),
            Setting {
                value: trimmed[at + 1..].trim().to_string(),
                origin: format!("{shown}:{}", index + 1),
            },
        );
        last_key = Some(key);
    }
    Ok(settings)
}

/// Ansible reads ansible.cfg with `inline_comment_prefixes=(';',)`.
fn strip_inline_comment(line: &str) -> &str {
    line.char_indices()
        .find(|&(at, c)| c == ';' && at > 0 && line[..at].ends_with(char::is_whitespace))
        .map_or(line, |(at, _)| &line[..at])
}

/// Ansible's boolean spellings.
fn parse_bool(key: &str, setting: &Setting) -> Result<bool, AnsibleConfigError> {
    match setting.value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" | "t" => Ok(true),
        "false" | "no" | "off" | "0" | "n" | "f" => Ok(false),
        _ => Err(AnsibleConfigError::Boolean {
            origin: setting.origin.clone(),
            key: key.to_string(),
            value: setting.value.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansible_cfg_sections_keys_comments_and_continuations_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ansible.cfg");
        std::fs::write(
            &path,
            "# comment\n[defaults]\ninventory = hosts, other ; the fleet\nRemote_User: ops\nhost_key_checking = False\n\n[ssh_connection]\nssh_args = -C\n  -o ControlMaster=auto\n",
        )
        .unwrap();
        let settings = read_settings(&path).unwrap();
        assert_eq!(settings["defaults.inventory"].value, "hosts, other");
        assert_eq!(settings["defaults.remote_user"].value, "ops");
        assert!(!parse_bool("host_key_checking", &settings["defaults.host_key_checking"]).unwrap());
        assert_eq!(
            settings["ssh_connection.ssh_args"].value,
            "-C -o ControlMaster=auto"
        );
        assert!(
            settings["defaults.inventory"]
                .origin
                .ends_with("ansible.cfg:3")
        );
    }

    #[test]
    fn ansible_cfg_bad_boolean_names_its_place() {
        let setting = Setting {
            value: "maybe".into(),
            origin: "ansible.cfg:4".into(),
        };
        assert_eq!(
            parse_bool("host_key_checking", &setting)
                .unwrap_err()
                .to_string(),
            "ansible.cfg:4: host_key_checking: \"maybe\" is not a boolean (use True or False)"
        );
    }
}
