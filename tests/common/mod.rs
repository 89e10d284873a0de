//! Test support: a lab fleet of real sshd + dockerd hosts (brought up by `lab/up.sh`, seeded by
//! `lab/seed.sh`, torn down by `lab/down.sh` on drop) on any of the lab's engines, and helpers to
//! run the fleetprune binary and each host's own docker client (`lab/docker.sh`) against it.
//!
//! A lab that cannot start fails the test with the scripts' output; nothing is skipped.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU16, Ordering};

mod per_engine;
pub mod twins;
#[allow(unused_imports)] // only the per-engine test files run tests on each engine
pub(crate) use per_engine::on_each_engine;

/// Port blocks handed to labs of one test process.
static NEXT_PORT_BLOCK: AtomicU16 = AtomicU16::new(0);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the fleetprune binary with `args`, stdin from /dev/null.
pub fn fleetprune(args: &[&str]) -> Output {
    fleetprune_command(args).output().expect("run fleetprune")
}

/// The fleetprune command with `args`, stdin from /dev/null and no setting of this machine
/// leaking in, for tests that need to choose stdout, stderr or the environment.
pub fn fleetprune_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetprune"));
    command
        .args(args)
        .env_remove("FLEETPRUNE_INVENTORY")
        .env_remove("FLEETPRUNE_KNOWN_HOSTS")
        .env_remove("SSH_AUTH_SOCK")
        // No ansible.cfg or ANSIBLE_* setting of the machine leaks into a test.
        .env("ANSIBLE_CONFIG", "/dev/null")
        .env_remove("ANSIBLE_INVENTORY")
        .env_remove("ANSIBLE_REMOTE_USER")
        .env_remove("ANSIBLE_PRIVATE_KEY_FILE")
        .env_remove("ANSIBLE_HOST_KEY_CHECKING")
        .env_remove("ANSIBLE_SSH_ARGS")
        .env("RUST_LOG", "warn")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        // Image-use history (unused_for) stays out of the user's state directory.
        .env(
            "FLEETPRUNE_STATE_DIR",
            std::env::temp_dir().join("fleetprune-test-state"),
        )
        .stdin(std::process::Stdio::null());
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The Docker Engines a lab host can run (`lab/up.sh --engine`, `--containerd-store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian 12's dockerd 20.10.24, API 1.41, overlay2 graphdriver store.
    Docker20,
    /// dockerd 26.1 from the lab's engine rootfs, API 1.45, overlay2 graphdriver store.
    Docker26,
    /// dockerd 26.1 with the containerd image store (`containerd-snapshotter`).
    Docker26Containerd,
    /// dockerd 28.5 (containerd 2.1) from the lab's engine rootfs, API 1.51, overlay2 store.
    Docker28,
    /// dockerd 28.5 with the containerd image store.
    Docker28Containerd,
    /// Podman 5.8 as root: `podman system service` (the Docker-compatible API, reported as
    /// API 1.44) on /run/podman/podman.sock; its own `podman` CLI is the oracle.
    Podman,
    /// Podman 5.8 rootless: the service runs as the lab's rootless user, on that user's
    /// /run/user/UID/podman/podman.sock, and fleetprune logs in as that user.
    PodmanRootless,
}

impl Engine {
    /// A short name for lab directories and messages.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Docker20 => "20",
            Engine::Docker26 => "26",
            Engine::Docker26Containerd => "26c",
            Engine::Docker28 => "28",
            Engine::Docker28Containerd => "28c",
            Engine::Podman => "podman",
            Engine::PodmanRootless => "podman-rootless",
        }
    }

    /// The API version fleetprune negotiates with this engine.
    pub fn api_version(self) -> &'static str {
        match self {
            Engine::Docker20 => "1.41",
            Engine::Docker26 | Engine::Docker26Containerd => "1.45",
            Engine::Docker28 | Engine::Docker28Containerd => "1.51",
            Engine::Podman | Engine::PodmanRootless => "1.44",
        }
    }

    /// How the engine's version string starts.
    pub fn version_prefix(self) -> &'static str {
        match self {
            Engine::Docker20 => "20.10.",
            Engine::Docker26 | Engine::Docker26Containerd => "26.1.",
            Engine::Docker28 | Engine::Docker28Containerd => "28.5.",
            Engine::Podman | Engine::PodmanRootless => "5.8.",
        }
    }

    /// API 1.42 and later prune only anonymous volumes unless `all=true`. On Podman that is
    /// fleetprune's promise (docker's meaning), not the engine's: its `/volumes/prune` and
    /// `podman volume prune` remove named volumes too.
    pub fn keeps_named_volumes(self) -> bool {
        self != Engine::Docker20
    }

    /// The engine is Podman (its Docker-compatible API), rootful or rootless.
    pub fn is_podman(self) -> bool {
        matches!(self, Engine::Podman | Engine::PodmanRootless)
    }

    /// The networks every host has and no prune removes: docker's `host` and `none` (the lab's
    /// dockerd runs without the default bridge), Podman's `podman`.
    pub fn builtin_networks(self) -> &'static [&'static str] {
        if self.is_podman() {
            &["podman"]
        } else {
            &["host", "none"]
        }
    }

    /// The user fleetprune and OpenSSH log in as: the rootless engine's own user there.
    pub fn ssh_user(self) -> &'static str {
        if self == Engine::PodmanRootless {
            "fplab-rootless"
        } else {
            "fplab"
        }
    }

    /// The engine keeps images in containerd's image store rather than a graphdriver.
    pub fn containerd_store(self) -> bool {
        matches!(
            self,
            Engine::Docker26Containerd | Engine::Docker28Containerd
        )
    }

    /// The `lab/up.sh` flags that give hosts `L` this engine (`--engine-28 L --containerd-store
    /// L`); none for 20.10, the default.
    fn up_flags(self) -> &'static [&'static str] {
        match self {
            Engine::Docker20 => &[],
            Engine::Docker26 => &["--engine-26"],
            Engine::Docker26Containerd => &["--engine-26", "--containerd-store"],
            Engine::Docker28 => &["--engine-28"],
            Engine::Docker28Containerd => &["--engine-28", "--containerd-store"],
            Engine::Podman => &["--engine-podman"],
            Engine::PodmanRootless => &["--engine-podman-rootless"],
        }
    }
}

/// A lab fleet owned by one test.
pub struct Lab {
    pub dir: PathBuf,
    pub first_port: u16,
    pub hosts: Vec<String>,
    pub engines: Vec<Engine>,
}

impl Lab {
    /// Brings up `count` seeded Docker 20.10 hosts; `no_streamlocal` names hosts whose sshd
    /// refuses stream-local forwarding.
    pub fn start(name: &str, count: usize, no_streamlocal: &[&str]) -> Lab {
        Lab::start_engines(name, &vec![Engine::Docker20; count], no_streamlocal)
    }

    /// Brings up `count` seeded hosts all running `engine`.
    pub fn start_on(engine: Engine, name: &str, count: usize, no_streamlocal: &[&str]) -> Lab {
        let name = format!("{name}-{}", engine.label());
        Lab::start_engines(&name, &vec![engine; count], no_streamlocal)
    }

    /// Brings up one seeded host per entry of `engines`, named host01, host02, ...
    pub fn start_engines(name: &str, engines: &[Engine], no_streamlocal: &[&str]) -> Lab {
        Lab::start_engines_with(name, engines, no_streamlocal, &[])
    }

    /// [`Lab::start_engines`] with more `lab/up.sh` arguments (`--small-root host01=64m`).
    pub fn start_engines_with(
        name: &str,
        engines: &[Engine],
        no_streamlocal: &[&str],
        up_args: &[&str],
    ) -> Lab {
        let count = engines.len();
        let dir =
            std::env::temp_dir().join(format!("fleetprune-e2e-{name}-{}", std::process::id()));
        let port_base = free_port_base(count);
        let hosts: Vec<String> = (1..=count).map(|i| format!("host{i:02}")).collect();
        let mut up = Command::new("bash");
        up.arg(repo_root().join("lab/up.sh"))
            .args(["-n", &count.to_string(), "-p", &port_base.to_string()])
            .arg("-d")
            .arg(&dir);
        if !no_streamlocal.is_empty() {
            up.args(["--no-streamlocal", &no_streamlocal.join(",")]);
        }
        up.args(up_args);
        for (host, engine) in hosts.iter().zip(engines) {
            for flag in engine.up_flags() {
                up.args([flag, host.as_str()]);
            }
        }
        let lab = Lab {
            dir,
            first_port: port_base + 1,
            hosts,
            engines: engines.to_vec(),
        };
        run_script(up, "lab/up.sh");
        let mut seed = Command::new("bash");
        seed.arg(repo_root().join("lab/seed.sh")).arg(&lab.dir);
        run_script(seed, "lab/seed.sh");
        lab
    }

    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.yaml")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    pub fn key(&self) -> PathBuf {
        self.dir.join("client/id_ed25519")
    }

    pub fn port(&self, host: &str) -> u16 {
        self.first_port + u16::try_from(self.index(host)).expect("small lab")
    }

    pub fn engine(&self, host: &str) -> Engine {
        self.engines[self.index(host)]
    }

    fn index(&self, host: &str) -> usize {
        self.hosts.iter().position(|h| h == host).expect("lab host")
    }

    /// Runs fleetprune against this lab's inventory and known_hosts.
    pub fn fleetprune(&self, args: &[&str]) -> Output {
        let inventory = self.inventory();
        let known_hosts = self.known_hosts();
        let mut all = vec![
            "-i",
            inventory.to_str().expect("utf-8 path"),
            "--known-hosts",
            known_hosts.to_str().expect("utf-8 path"),
        ];
        all.extend_from_slice(args);
        fleetprune(&all)
    }

    /// Runs fleetprune with this lab's known_hosts and `args` (which name the inventory).
    pub fn fleetprune_raw(&self, args: &[&str]) -> Output {
        let known_hosts = self.known_hosts();
        let mut all = vec!["--known-hosts", known_hosts.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        fleetprune(&all)
    }

    /// Runs the host's own engine's docker client on its socket (not through SSH).
    pub fn docker(&self, host: &str, args: &[&str]) -> String {
        self.docker_env(host, &[], args)
    }

    /// [`Lab::docker`] with extra environment variables for the client. On a Podman host, docker's
    /// `volume prune -a` is podman's plain `volume prune` (which has no `-a`: it always removes
    /// named volumes too); every other argument goes to `podman` as it is.
    pub fn docker_env(&self, host: &str, env: &[(&str, &str)], args: &[&str]) -> String {
        let podman_args: Vec<&str>;
        let args = if self.engine(host).is_podman() && args.starts_with(&["volume", "prune"]) {
            podman_args = args
                .iter()
                .map(|arg| match *arg {
                    "-af" | "-fa" => "-f",
                    other => other,
                })
                .filter(|arg| *arg != "-a" && *arg != "--all")
                .collect();
            &podman_args[..]
        } else {
            args
        };
        let output = Command::new("bash")
            .arg(repo_root().join("lab/docker.sh"))
            .arg(&self.dir)
            .arg(host)
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("run lab/docker.sh");
        assert!(
            output.status.success(),
            "docker {args:?} on {host} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs `command` on `host` through OpenSSH's own client as the lab user.
    pub fn ssh(&self, host: &str, command: &str) -> Output {
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
            ])
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "GlobalKnownHostsFile=/dev/null",
            ])
            .args(["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"])
            .arg("-i")
            .arg(self.key())
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.known_hosts().display()
            ))
            .args([
                "-p",
                &self.port(host).to_string(),
                &format!("{}@127.0.0.1", self.engine(host).ssh_user()),
                command,
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run ssh")
    }

    /// Makes `host`'s sshd run `command` instead of whatever a session asks for
    /// (`ForceCommand`), as restricted accounts do; forwarding still works. Returns once a
    /// login runs it.
    pub fn force_command(&self, host: &str, command: &str) {
        use std::io::Write;
        let host_dir = self.dir.join("hosts").join(host);
        let mut config = std::fs::OpenOptions::new()
            .append(true)
            .open(host_dir.join("sshd_config"))
            .expect("open sshd_config");
        writeln!(config, "ForceCommand {command}").expect("write sshd_config");
        let pid = std::fs::read_to_string(host_dir.join("sshd.pid")).expect("sshd.pid");
        // SIGHUP: sshd executes itself again and rereads its configuration.
        let status = Command::new("kill")
            .args(["-HUP", pid.trim()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -HUP {pid}");
        for _ in 0..100 {
            // `true` succeeds (0) until the forced command replaces it; 255 is ssh's own error.
            match self.ssh(host, "true").status.code() {
                Some(0) | Some(255) => std::thread::sleep(std::time::Duration::from_millis(100)),
                _ => return,
            }
        }
        panic!("{host}: sshd did not take ForceCommand {command}");
    }

    /// The host's own `df -P -k` of `dir`, run over OpenSSH: (size, used, available, capacity
    /// percent), sizes in bytes.
    pub fn df(&self, host: &str, dir: &str) -> (u64, u64, u64, u64) {
        let output = self.ssh(host, &format!("df -P -k -- '{dir}'"));
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "df on {host}: {}", stderr(&output));
        let fields: Vec<&str> = text
            .lines()
            .nth(1)
            .unwrap_or_else(|| panic!("df on {host} printed {text:?}"))
            .split_whitespace()
            .collect();
        let number = |i: usize| -> u64 { fields[i].trim_end_matches('%').parse().unwrap() };
        (
            number(1) * 1024,
            number(2) * 1024,
            number(3) * 1024,
            number(4),
        )
    }

    /// `repo:tag` of every tagged image, sorted. Podman names a local image
    /// `localhost/REPO:TAG`; that prefix is dropped so hosts of every engine compare alike.
    pub fn image_tags(&self, host: &str) -> Vec<String> {
        let mut tags: Vec<String> =
            lines(&self.docker(host, &["images", "--format", "{{.Repository}}:{{.Tag}}"]))
                .into_iter()
                .filter(|tag| tag != "<none>:<none>")
                .map(|tag| match tag.strip_prefix("localhost/") {
                    Some(local) => local.to_string(),
                    None => tag,
                })
                .collect();
        tags.sort();
        tags
    }

    /// The object count of each row of the engine's own `system df` (docker's `.TotalCount`,
    /// podman's `.Total`), one line per row.
    pub fn df_counts(&self, host: &str) -> String {
        let total = if self.engine(host).is_podman() {
            "{{.Total}}"
        } else {
            "{{.TotalCount}}"
        };
        self.docker(host, &["system", "df", "--format", total])
    }

    /// IDs of all images, intermediate ones included.
    pub fn image_count(&self, host: &str) -> usize {
        lines(&self.docker(host, &["images", "-aq"])).len()
    }

    pub fn dangling_count(&self, host: &str) -> usize {
        lines(&self.docker(host, &["images", "-q", "--filter", "dangling=true"])).len()
    }

    pub fn container_names(&self, host: &str) -> Vec<String> {
        lines(&self.docker(host, &["ps", "-a", "--format", "{{.Names}}"]))
    }

    pub fn volume_names(&self, host: &str) -> Vec<String> {
        lines(&self.docker(host, &["volume", "ls", "--format", "{{.Name}}"]))
    }

    pub fn network_names(&self, host: &str) -> Vec<String> {
        lines(&self.docker(host, &["network", "ls", "--format", "{{.Name}}"]))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let status = Command::new("bash")
            .arg(repo_root().join("lab/down.sh"))
            .arg(&self.dir)
            .output();
        if let Ok(output) = status
            && !output.status.success()
        {
            eprintln!(
                "lab/down.sh {} failed: {}",
                self.dir.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// Sorted non-empty lines.
pub fn lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn run_script(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed (exit {:?}); the lab could not start, so this test cannot run:\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A base port whose next `count` ports are free on 127.0.0.1 right now.
fn free_port_base(count: usize) -> u16 {
    let process_offset = u16::try_from(std::process::id() % 40).expect("small") * 200;
    loop {
        let block = NEXT_PORT_BLOCK.fetch_add(1, Ordering::SeqCst);
        let base = 24_000 + process_offset + block * 20;
        let all_free = (1..=count).all(|i| {
            let port = base + u16::try_from(i).expect("small lab");
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        });
        if all_free {
            return base;
        }
    }
}

/// Parses fleetprune's JSON report.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// The host entry named `name` in a JSON report.
pub fn json_host<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["hosts"]
        .as_array()
        .expect("hosts array")
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no host {name} in report"))
}

/// Writes a file under the lab dir and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Makes a key pair with `ssh-keygen` at `path` and returns the public key line.
pub fn keygen(path: &Path, options: &[&str], passphrase: &str) -> String {
    let output = Command::new("ssh-keygen")
        .arg("-q")
        .args(options)
        .args(["-N", passphrase, "-f"])
        .arg(path)
        .output()
        .expect("run ssh-keygen");
    assert!(
        output.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub")).expect("public key")
}
