//! Commands on the host itself, in exec channels of the host's SSH session, for what the Engine
//! API does not report: the size and free space of the filesystem holding DockerRootDir
//! and of containerd's root (`df -P -k`, `df -P -i`, POSIX output; which mount holds a path,
//! from `/proc/self/mountinfo`), what a socket path that cannot be reached is (`test`), which
//! engine socket exists (`docker_socket: auto`), and a busy guard's `busy_check` command. Plain
//! data comes back; the caller decides what it means.

use russh::ChannelMsg;
use russh::client::Handle;

use super::ssh::HostKeyVerifier;
use super::tunnel::shell_quote;
use crate::model::failure::{Classify, ErrorClass};
use crate::model::filesystem::{FilesystemUsage, InodeUsage};
use crate::model::remote_text::bounded_remote_string;

/// Keeps at most this much of a command's output.
const OUTPUT_LIMIT: usize = 64 * 1024;

/// The host's shell, reached through its SSH session; only jobs that need it use it. A host
/// reached without SSH (an in-memory test host) has none: its commands are refused.
pub struct HostShell<'a> {
    handle: Option<&'a Handle<HostKeyVerifier>>,
}

/// What a command printed and how it ended.
#[derive(Debug, Default)]
struct CommandOutput {
    stdout: String,
    stderr: String,
    exit_status: Option<u32>,
}

/// Why the filesystem holding a directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FilesystemError {
    #[error("cannot read the filesystem of {dir} with df: {source}")]
    Channel { dir: String, source: russh::Error },
    #[error("cannot read the filesystem of {dir} with df: the server refused to run commands")]
    Refused { dir: String },
    #[error("cannot read the filesystem of {dir}: `{command}` {}", ended(*.exit_status, .stderr))]
    Failed {
        dir: String,
        command: String,
        exit_status: Option<u32>,
        stderr: String,
    },
    #[error(
        "cannot read the filesystem of {dir}: `{command}` printed {output:?}, not POSIX df output"
    )]
    Unparsable {
        dir: String,
        command: String,
        output: String,
    },
}

/// The sockets `docker_socket: auto` looks for, in order, `UID` being the login user's uid:
/// rootful docker, rootless docker, rootful Podman, rootless Podman.
pub const AUTO_SOCKETS: [&str; 4] = [
    "/var/run/docker.sock",
    "/run/user/UID/docker.sock",
    "/run/podman/podman.sock",
    "/run/user/UID/podman/podman.sock",
];

/// Why `docker_socket: auto` found no socket.
#[derive(Debug, thiserror::Error)]
pub enum SocketProbeError {
    #[error("docker_socket auto: cannot look for the engine's socket: {0}")]
    Channel(russh::Error),
    #[error(
        "docker_socket auto: the server refused to run the shell command that looks for the engine's socket; name the socket"
    )]
    Refused,
    #[error("docker_socket auto: none of {} is a socket on this host ({})", AUTO_SOCKETS.join(", "), ended(*.exit_status, .stderr))]
    NotFound {
        exit_status: Option<u32>,
        stderr: String,
    },
}

impl Classify for SocketProbeError {
    fn class(&self) -> ErrorClass {
        ErrorClass::SocketMissing
    }
}

/// How a command ended, with what it said on stderr.
fn ended(exit_status: Option<u32>, stderr: &str) -> String {
    let stderr = stderr.trim();
    let how = match exit_status {
        Some(code) => format!("exited with {code}"),
        None => "ended without an exit status".to_string(),
    };
    if stderr.is_empty() {
        how
    } else {
        format!("{how}: {}", bounded_remote_string(stderr))
    }
}

impl Classify for FilesystemError {
    fn class(&self) -> ErrorClass {
        ErrorClass::FilesystemUnknown
    }
}

impl<'a> HostShell<'a> {
    pub fn new(handle: &'a Handle<HostKeyVerifier>) -> HostShell<'a> {
        HostShell {
            handle: Some(handle),
        }
    }

    /// A shell that runs nothing: every command is refused, as by a `ForceCommand` server.
    pub fn none() -> HostShell<'static> {
        HostShell { handle: None }
    }

    /// The filesystem holding `dir`, from `df -P -k -- DIR` on the host.
    pub async fn filesystem_usage(&self, dir: &str) -> Result<FilesystemUsage, FilesystemError> {
        let command = format!("df -P -k -- {}", shell_quote(dir));
        let output = self.run_for(dir, &command).await?;
        parse_df(dir, &output).ok_or_else(|| FilesystemError::Unparsable {
            dir: dir.to_string(),
            command,
            output: bounded_remote_string(&output),
        })
    }

    /// The inodes of the filesystem holding `dir`, from `df -P -i -- DIR` on the host.
    pub async fn inode_usage(&self, dir: &str) -> Result<InodeUsage, FilesystemError> {
        let command = format!("df -P -i -- {}", shell_quote(dir));
        let output = self.run_for(dir, &command).await?;
        parse_df_inodes(&output).ok_or_else(|| FilesystemError::Unparsable {
            dir: dir.to_string(),
            command,
            output: bounded_remote_string(&output),
        })
    }

    /// The mount point of the filesystem holding `path`, from the host's mount table: the
    /// longest mount point that is `path` or one of its parents. Unlike df this needs no
    /// permission on `path` (containerd's root under DockerRootDir is root's alone).
    pub async fn mount_point_of(&self, path: &str) -> Result<String, FilesystemError> {
        let command = "cat /proc/self/mountinfo";
        let output = self.run_for(path, command).await?;
        mount_point_in(&output, path).ok_or_else(|| FilesystemError::Unparsable {
            dir: path.to_string(),
            command: command.to_string(),
            output: bounded_remote_string(&output),
        })
    }

    /// Runs a measuring command about `dir`: its stdout when it exits 0.
    async fn run_for(&self, dir: &str, command: &str) -> Result<String, FilesystemError> {
        let output = self.run(command).await.map_err(|error| match error {
            RunError::Channel(source) => FilesystemError::Channel {
                dir: dir.to_string(),
                source,
            },
            RunError::Refused => FilesystemError::Refused {
                dir: dir.to_string(),
            },
        })?;
        if output.exit_status != Some(0) {
            return Err(FilesystemError::Failed {
                dir: dir.to_string(),
                command: command.to_string(),
                exit_status: output.exit_status,
                stderr: output.stderr,
            });
        }
        Ok(output.stdout)
    }

    /// What `path` is on the host; `None` when the command cannot run or says something else.
    pub async fn path_kind(&self, path: &str) -> Option<PathKind> {
        let path = shell_quote(path);
        let command = format!(
            "if [ -S {path} ]; then echo socket; elif [ -d {path} ]; then echo directory; \
             elif [ -f {path} ]; then echo file; elif [ -e {path} ]; then echo other; \
             else echo missing; fi"
        );
        let output = self.run(&command).await.ok()?;
        PathKind::from_word(&output.stdout)
    }

    /// Runs a check command: `Ok(None)` when it exits 0, `Ok(Some(line))` with the first
    /// non-empty line of its output (stdout, else stderr) when it exits otherwise, `Err` with
    /// the reason when it cannot be run at all.
    pub async fn check(&self, command: &str) -> Result<Option<String>, String> {
        let output = self.run(command).await.map_err(|error| match error {
            RunError::Channel(source) => format!("cannot run `{command}`: {source}"),
            RunError::Refused => {
                format!("cannot run `{command}`: the server refused to run commands")
            }
        })?;
        if output.exit_status == Some(0) {
            return Ok(None);
        }
        let first_line = output
            .stdout
            .lines()
            .chain(output.stderr.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(bounded_remote_string);
        Ok(Some(match first_line {
            Some(line) => line,
            None => format!("`{command}` {}", ended(output.exit_status, "")),
        }))
    }

    /// The first of [`AUTO_SOCKETS`] that is a socket on the host.
    pub async fn find_engine_socket(&self) -> Result<String, SocketProbeError> {
        let candidates: Vec<String> = AUTO_SOCKETS
            .iter()
            .map(|s| shell_quote(s).replace("UID", "'\"$uid\"'"))
            .collect();
        let command = format!(
            "uid=$(id -u) || exit 1; for s in {}; do if [ -S \"$s\" ]; then printf '%s\\n' \"$s\"; exit 0; fi; done; exit 3",
            candidates.join(" ")
        );
        let output = self.run(&command).await.map_err(|error| match error {
            RunError::Channel(source) => SocketProbeError::Channel(source),
            RunError::Refused => SocketProbeError::Refused,
        })?;
        match output.stdout.lines().next().map(str::trim) {
            Some(socket) if output.exit_status == Some(0) && socket.starts_with('/') => {
                Ok(socket.to_string())
            }
            _ => Err(SocketProbeError::NotFound {
                exit_status: output.exit_status,
                stderr: output.stderr,
            }),
        }
    }

    /// Runs `command` to its end and collects its output (each stream capped).
    async fn run(&self, command: &str) -> Result<CommandOutput, RunError> {
        let handle = self.handle.ok_or(RunError::Refused)?;
        let mut channel = handle
            .channel_open_session()
            .await
            .map_err(RunError::Channel)?;
        channel
            .exec(true, command.as_bytes())
            .await
            .map_err(RunError::Channel)?;
        let mut output = CommandOutput::default();
        let keep = |into: &mut String, data: &[u8]| {
            let room = OUTPUT_LIMIT.saturating_sub(into.len());
            into.push_str(&String::from_utf8_lossy(&data[..data.len().min(room)]));
        };
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Failure => return Err(RunError::Refused),
                ChannelMsg::Data { data } => keep(&mut output.stdout, &data),
                ChannelMsg::ExtendedData { data, .. } => keep(&mut output.stderr, &data),
                ChannelMsg::ExitStatus { exit_status } => output.exit_status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        Ok(output)
    }
}

/// What a path on the host is, as POSIX `test` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Socket,
    Directory,
    RegularFile,
    /// Something else that exists (a FIFO, a device).
    Other,
    Missing,
}

impl PathKind {
    /// The kind from the word [`HostShell::path_kind`]'s command prints.
    fn from_word(word: &str) -> Option<PathKind> {
        Some(match word.trim() {
            "socket" => PathKind::Socket,
            "directory" => PathKind::Directory,
            "file" => PathKind::RegularFile,
            "other" => PathKind::Other,
            "missing" => PathKind::Missing,
            _ => return None,
        })
    }
}

/// Why a command did not run.
enum RunError {
    Channel(russh::Error),
    Refused,
}

/// The one filesystem line of POSIX df output under a header whose second word is
/// `second_header` (`1024-blocks`, `Inodes`), split into words with where each ends (to keep
/// the spaces of a mount point).
fn df_line<'a>(output: &'a str, second_header: &str) -> Option<(&'a str, Vec<(&'a str, usize)>)> {
    let mut lines = output.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split_whitespace().collect();
    if header.first() != Some(&"Filesystem") || header.get(1) != Some(&second_header) {
        return None;
    }
    let line = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    let mut words = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        let word = &rest[start..];
        let len = word.find(char::is_whitespace).unwrap_or(word.len());
        let end = line.len() - rest.len() + start + len;
        words.push((&word[..len], end));
        rest = &word[len..];
    }
    Some((line, words))
}

/// Reads `df -P -k` output: a `Filesystem 1024-blocks Used Available Capacity Mounted on`
/// header and one line for the filesystem (whose name and mount point may hold spaces).
fn parse_df(dir: &str, output: &str) -> Option<FilesystemUsage> {
    let (line, words) = df_line(output, "1024-blocks")?;
    let blocks = |word: &str| word.parse::<u64>().ok()?.checked_mul(1024);
    // The first run of three numbers and a percentage after the filesystem's name.
    (1..words.len().saturating_sub(3)).find_map(|i| {
        let (size, used, available) = (
            blocks(words[i].0)?,
            blocks(words[i + 1].0)?,
            blocks(words[i + 2].0)?,
        );
        let (capacity, end) = words[i + 3];
        capacity.strip_suffix('%')?.parse::<u64>().ok()?;
        let mount_point = line[end..].trim();
        (!mount_point.is_empty()).then(|| FilesystemUsage {
            path: dir.to_string(),
            also_holds: Vec::new(),
            mount_point: mount_point.to_string(),
            size,
            used,
            available,
            inodes: None,
        })
    })
}

/// Reads `df -P -i` output: a `Filesystem Inodes IUsed IFree IUse% Mounted on` header and one
/// line. A filesystem without fixed inodes (btrfs) shows `-` as its IUse%.
fn parse_df_inodes(output: &str) -> Option<InodeUsage> {
    let (line, words) = df_line(output, "Inodes")?;
    let number = |word: &str| word.parse::<u64>().ok();
    (1..words.len().saturating_sub(3)).find_map(|i| {
        let (total, used, free) = (
            number(words[i].0)?,
            number(words[i + 1].0)?,
            number(words[i + 2].0)?,
        );
        let (percent, end) = words[i + 3];
        if percent != "-" {
            percent.strip_suffix('%')?.parse::<u64>().ok()?;
        }
        (!line[end..].trim().is_empty()).then_some(InodeUsage { total, used, free })
    })
}

/// The mount point holding `path` in `/proc/self/mountinfo` text (the fifth field, with
/// spaces and other bytes written as octal escapes such as `\040`).
fn mount_point_in(mountinfo: &str, path: &str) -> Option<String> {
    let path = path.trim_end_matches('/');
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_octal)
        .filter(|mount| {
            let mount = mount.trim_end_matches('/');
            mount.is_empty()
                || path == mount
                || path
                    .strip_prefix(mount)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        // The last of the longest: a later mount on the same point hides the earlier one.
        .fold(None, |best: Option<String>, mount| match best {
            Some(best) if best.len() > mount.len() => Some(best),
            _ => Some(mount),
        })
}

/// Undoes the kernel's `\ooo` escapes of a mount point.
fn unescape_octal(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match code {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_df_output_is_read_in_bytes_with_the_mount_point() {
        let output = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                      /dev/sda1         10000000  9100000    900000      92% /var/lib/docker\n";
        let usage = parse_df("/var/lib/docker", output).unwrap();
        assert_eq!(usage.size, 10_240_000_000);
        assert_eq!(usage.used, 9_318_400_000);
        assert_eq!(usage.available, 921_600_000);
        assert_eq!(usage.mount_point, "/var/lib/docker");
        // df's Capacity: used / (used + available), rounded up.
        assert_eq!(usage.used_percent(usage.used), 91);
    }

    #[test]
    fn names_and_mount_points_with_spaces_are_kept() {
        let output = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                      my disk 100 50 50 50% /mnt/docker data\n";
        let usage = parse_df("/mnt/docker data/root", output).unwrap();
        assert_eq!(usage.mount_point, "/mnt/docker data");
        assert_eq!((usage.size, usage.used), (102_400, 51_200));
    }

    #[test]
    fn posix_df_inode_output_is_read_and_a_dash_percent_accepted() {
        let output = "Filesystem           Inodes IUsed   IFree IUse% Mounted on\n\
                      fleetprune-lab-root 3085471   846 3084625    1% /srv/docker data\n";
        assert_eq!(
            parse_df_inodes(output),
            Some(InodeUsage {
                total: 3_085_471,
                used: 846,
                free: 3_084_625
            })
        );
        let btrfs = "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sdb 0 0 0 - /data\n";
        assert_eq!(
            parse_df_inodes(btrfs).map(|i| i.used_percent(i.used)),
            Some(0)
        );
        // Bytes are not inodes.
        let bytes = "Filesystem 1024-blocks Used Available Capacity Mounted on\na 1 1 0 100% /\n";
        assert_eq!(parse_df_inodes(bytes), None);
    }

    #[test]
    fn the_mount_table_names_the_longest_mount_holding_a_path() {
        let mountinfo = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                         30 22 0:40 / /var/lib/docker rw - xfs /dev/sdb rw\n\
                         31 30 0:41 / /var/lib/docker/containerd\\040x rw - tmpfs t rw\n\
                         32 22 0:42 / /var/lib/dockerish rw - tmpfs t rw\n";
        let at = |path| mount_point_in(mountinfo, path);
        assert_eq!(at("/var/lib/docker").as_deref(), Some("/var/lib/docker"));
        assert_eq!(
            at("/var/lib/docker/containerd/daemon").as_deref(),
            Some("/var/lib/docker")
        );
        assert_eq!(
            at("/var/lib/docker/containerd x/daemon").as_deref(),
            Some("/var/lib/docker/containerd x")
        );
        assert_eq!(at("/var/lib/containerd").as_deref(), Some("/"));
        assert_eq!(mount_point_in("", "/x"), None);
    }

    #[test]
    fn odd_output_is_refused() {
        for output in [
            "",
            "commands are not allowed here\n",
            // Not -P -k: 512-byte blocks, or human sizes.
            "Filesystem 512-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 50 50% /\n",
            "Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 10G 5G 5G 50% /\n",
            // Two filesystems, or none.
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n",
            "Filesystem 1024-blocks Used Available Capacity Mounted on\na 1 1 0 100% /\nb 1 1 0 100% /b\n",
            "Filesystem 1024-blocks Used Available Capacity Mounted on\na 1 x 0 100% /\n",
            "Filesystem 1024-blocks Used Available Capacity Mounted on\na 1 1 0 100%\n",
        ] {
            assert_eq!(parse_df("/d", output), None, "{output:?}");
        }
    }

    #[test]
    fn failures_say_how_the_command_ended() {
        let error = FilesystemError::Failed {
            dir: "/var/lib/docker".into(),
            command: "df -P -k -- '/var/lib/docker'".into(),
            exit_status: Some(127),
            stderr: "sh: 1: df: not found\n".into(),
        };
        assert_eq!(
            error.to_string(),
            "cannot read the filesystem of /var/lib/docker: `df -P -k -- '/var/lib/docker'` exited with 127: sh: 1: df: not found"
        );
        assert_eq!(error.class(), ErrorClass::FilesystemUnknown);
    }
}
