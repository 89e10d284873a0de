//! Test support: a lab fleet of real sshd + dockerd hosts (brought up by `lab/up.sh`, seeded by
//! `lab/seed.sh`, torn down by `lab/down.sh` on drop), and helpers to run the fleetprune binary
//! and the host's own docker client against it.
//!
//! A lab that cannot start fails the test with the scripts' output; nothing is skipped.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU16, Ordering};

/// The Debian docker client (20.10), which matches the lab daemons.
const DOCKER: &str = "/usr/bin/docker";

/// Port blocks handed to labs of one test process.
static NEXT_PORT_BLOCK: AtomicU16 = AtomicU16::new(0);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the fleetprune binary with `args`, stdin from /dev/null.
pub fn fleetprune(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetprune"))
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
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run fleetprune")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A lab fleet owned by one test.
pub struct Lab {
    pub dir: PathBuf,
    pub first_port: u16,
    pub hosts: Vec<String>,
}

impl Lab {
    /// Brings up `count` seeded hosts; `no_streamlocal` names hosts whose sshd refuses
    /// stream-local forwarding.
    pub fn start(name: &str, count: usize, no_streamlocal: &[&str]) -> Lab {
        let dir =
            std::env::temp_dir().join(format!("fleetprune-e2e-{name}-{}", std::process::id()));
        let port_base = free_port_base(count);
        let mut up = Command::new("bash");
        up.arg(repo_root().join("lab/up.sh"))
            .args(["-n", &count.to_string(), "-p", &port_base.to_string()])
            .arg("-d")
            .arg(&dir);
        if !no_streamlocal.is_empty() {
            up.args(["--no-streamlocal", &no_streamlocal.join(",")]);
        }
        let lab = Lab {
            dir,
            first_port: port_base + 1,
            hosts: (1..=count).map(|i| format!("host{i:02}")).collect(),
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
        let index = self.hosts.iter().position(|h| h == host).expect("lab host");
        self.first_port + u16::try_from(index).expect("small lab")
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

    /// Runs the docker client directly on a host's socket (not through SSH).
    pub fn docker(&self, host: &str, args: &[&str]) -> String {
        let socket = format!(
            "unix://{}",
            self.dir
                .join("hosts")
                .join(host)
                .join("run/docker.sock")
                .display()
        );
        let output = Command::new(DOCKER)
            .arg("-H")
            .arg(&socket)
            .args(args)
            .output()
            .expect("run docker");
        assert!(
            output.status.success(),
            "docker {args:?} on {host} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `repo:tag` of every tagged image, sorted.
    pub fn image_tags(&self, host: &str) -> Vec<String> {
        lines(&self.docker(host, &["images", "--format", "{{.Repository}}:{{.Tag}}"]))
            .into_iter()
            .filter(|tag| tag != "<none>:<none>")
            .collect()
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
