//! Public-key authentication on a real sshd (OpenSSH's default `MaxAuthTries 6`), with a real
//! `ssh-agent` per test and OpenSSH's own `ssh` as the oracle: the host's own key first (its agent
//! copy when the agent holds it), other agent keys unless `IdentitiesOnly`, the server's cut-off
//! named as such, a locked key file used through the agent's copy, and every key format OpenSSH
//! reads.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Lab, json, json_host, keygen, stderr, stdout, write_file};

const PASSPHRASE: &str = "correct horse";

/// An `ssh-agent` started by this test, stopped (by its pid) when dropped.
struct Agent {
    socket: PathBuf,
    process: Child,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let process = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .spawn()
            .expect("run ssh-agent");
        let agent = Agent { socket, process };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !agent.socket.exists() {
            assert!(Instant::now() < deadline, "ssh-agent made no socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        agent
    }

    /// `ssh-add` of unencrypted key files, in this order.
    fn add(&self, keys: &[PathBuf]) {
        let output = Command::new("ssh-add")
            .args(keys)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("run ssh-add");
        assert!(output.status.success(), "ssh-add: {}", stderr(&output));
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A lab with one host and a scratch dir (an empty HOME, keys, inventories) inside it.
struct Setup {
    lab: Lab,
    home: PathBuf,
}

impl Setup {
    fn start(name: &str) -> Setup {
        let lab = Lab::start(name, 1, &[]);
        let home = lab.dir.join("auth-home");
        std::fs::create_dir_all(&home).unwrap();
        Setup { lab, home }
    }

    /// A new ed25519 key pair in the scratch dir, not authorized on the host.
    fn stranger(&self, name: &str) -> PathBuf {
        let path = self.home.join(name);
        keygen(&path, &["-t", "ed25519", "-C", name], "");
        path
    }

    fn strangers(&self, count: usize) -> Vec<PathBuf> {
        (1..=count)
            .map(|i| self.stranger(&format!("stranger{i}")))
            .collect()
    }

    /// Lets the key at `path` log in as the lab user.
    fn authorize(&self, path: &Path) {
        let mut public = path.as_os_str().to_owned();
        public.push(".pub");
        let line = std::fs::read_to_string(&public).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.lab.dir.join("client/authorized_keys"))
            .unwrap();
        writeln!(file, "{}", line.trim()).unwrap();
    }

    /// An inventory of lab host01 under several names, each with its own variables.
    fn inventory(&self, name: &str, hosts: &[(&str, &str)]) -> PathBuf {
        let port = self.lab.port("host01");
        let mut text = String::from("all:\n  vars:\n    ansible_user: fplab\n  hosts:\n");
        for (host, vars) in hosts {
            text.push_str(&format!(
                "    {host}:\n      ansible_host: 127.0.0.1\n      ansible_port: {port}\n"
            ));
            for line in vars.lines() {
                text.push_str(&format!("      {line}\n"));
            }
        }
        write_file(&self.home, name, &text)
    }

    /// `fleetprune ping --output json` over `inventory`, with an empty HOME (no default keys),
    /// the agent when given and the passphrase variable when given.
    fn ping(&self, inventory: &Path, agent: Option<&Agent>, passphrase: Option<&str>) -> Output {
        let known_hosts = self.lab.known_hosts();
        let mut command = common::fleetprune_command(&[
            "-i",
            inventory.to_str().unwrap(),
            "--known-hosts",
            known_hosts.to_str().unwrap(),
            "ping",
            "--output",
            "json",
        ]);
        command
            .env("HOME", &self.home)
            .env_remove("FLEETPRUNE_KEY_PASSPHRASE");
        if let Some(agent) = agent {
            command.env("SSH_AUTH_SOCK", &agent.socket);
        }
        if let Some(passphrase) = passphrase {
            command.env("FLEETPRUNE_KEY_PASSPHRASE", passphrase);
        }
        command.output().expect("run fleetprune")
    }

    /// [`Setup::ping`] with the agent, no passphrase and stdin, stdout and stderr on a terminal
    /// (`script`'s pty): what `script` saw, and the JSON report. A prompt would wait for an
    /// answer, so the run is killed after a minute (SIGTERM alone waits for the prompt).
    fn ping_on_terminal(&self, inventory: &Path, agent: &Agent) -> (Output, serde_json::Value) {
        let report = self.home.join("terminal-report.json");
        let quoted = |path: &Path| {
            shlex::try_quote(path.to_str().unwrap())
                .unwrap()
                .to_string()
        };
        let command = format!(
            "timeout --foreground --kill-after 5 60 {} -i {} --known-hosts {} ping --output json --report {}",
            quoted(Path::new(env!("CARGO_BIN_EXE_fleetprune"))),
            quoted(inventory),
            quoted(&self.lab.known_hosts()),
            quoted(&report),
        );
        let mut script = Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env("HOME", &self.home)
            .env("SSH_AUTH_SOCK", &agent.socket)
            .env("RUST_LOG", "warn")
            .env("ANSIBLE_CONFIG", "/dev/null")
            .env_remove("FLEETPRUNE_KEY_PASSPHRASE")
            .env_remove("FLEETPRUNE_INVENTORY")
            .env_remove("FLEETPRUNE_KNOWN_HOSTS")
            .stdin(Stdio::null());
        let output = script.output().expect("run script");
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        let report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("report: {e}: {text}\n{}", stdout(&output)));
        (output, report)
    }

    /// OpenSSH's `ssh` to host01 running `true`, with no config file, the agent when given, and
    /// `passphrase` answered by an askpass program (never a terminal).
    fn ssh(&self, options: &[&str], agent: Option<&Agent>, passphrase: Option<&str>) -> Output {
        let known_hosts = format!("UserKnownHostsFile={}", self.lab.known_hosts().display());
        let mut command = Command::new("ssh");
        command
            .args(["-F", "/dev/null", "-o", &known_hosts])
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "StrictHostKeyChecking=yes"])
            .args(["-o", "PreferredAuthentications=publickey"])
            .args(["-o", "ConnectTimeout=10"])
            .args(options)
            .args([
                "-p",
                &self.lab.port("host01").to_string(),
                "fplab@127.0.0.1",
            ])
            .arg("true")
            .env_remove("SSH_AUTH_SOCK")
            .env("SSH_ASKPASS", "/bin/false")
            .env("SSH_ASKPASS_REQUIRE", "force")
            .stdin(Stdio::null());
        if let Some(passphrase) = passphrase {
            let askpass = write_file(
                &self.home,
                "askpass",
                &format!("#!/bin/sh\nprintf '%s\\n' '{passphrase}'\n"),
            );
            std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
            command.env("SSH_ASKPASS", &askpass);
        }
        if let Some(agent) = agent {
            command.env("SSH_AUTH_SOCK", &agent.socket);
        }
        command.output().expect("run ssh")
    }
}

fn key_var(path: &Path) -> String {
    format!("ansible_ssh_private_key_file: {}", path.display())
}

/// The host's row, after checking the run's exit code.
fn host_row(run: &Output, code: i32, host: &str) -> serde_json::Value {
    assert_eq!(run.status.code(), Some(code), "{}", stderr(run));
    json_host(&json(run), host).clone()
}

fn message(row: &serde_json::Value) -> &str {
    row["error"]["message"].as_str().unwrap_or_default()
}

#[test]
fn the_hosts_own_key_goes_before_many_agent_keys_and_the_cut_off_is_named() {
    let setup = Setup::start("auth-many");
    let agent = Agent::start(&setup.home);
    let strangers = setup.strangers(8);
    agent.add(&strangers);
    let lab_key = setup.lab.key();

    // Only unrelated keys (8 > MaxAuthTries 6): the server cuts the attempts off.
    let inventory = setup.inventory("strangers.yaml", &[("host01", "")]);
    let run = setup.ping(&inventory, Some(&agent), None);
    let row = host_row(&run, 3, "host01");
    assert_eq!(row["status"], "failed", "{row}");
    assert_eq!(row["error"]["stage"], "auth", "{row}");
    assert_eq!(row["error"]["class"], "auth_failed", "{row}");
    assert!(message(&row).contains("MaxAuthTries"), "{row}");
    assert!(!message(&row).contains("Channel send error"), "{row}");
    eprintln!("fleetprune, 8 unrelated agent keys: {}", message(&row));
    // OpenSSH's verdict on the same agent.
    let ssh = setup.ssh(
        &["-o", "IdentitiesOnly=no", "-o", "IdentityFile=none"],
        Some(&agent),
        None,
    );
    assert!(!ssh.status.success());
    assert!(
        stderr(&ssh).contains("Too many authentication failures"),
        "{}",
        stderr(&ssh)
    );

    // The lab key in the agent too, after the others: with no IdentityFile both ssh and
    // fleetprune offer the agent's keys in its order and are cut off before reaching it.
    agent.add(std::slice::from_ref(&lab_key));
    let run = setup.ping(&inventory, Some(&agent), None);
    let row = host_row(&run, 3, "host01");
    assert!(message(&row).contains("MaxAuthTries"), "{row}");
    let ssh = setup.ssh(
        &["-o", "IdentitiesOnly=no", "-o", "IdentityFile=none"],
        Some(&agent),
        None,
    );
    assert!(stderr(&ssh).contains("Too many authentication failures"));

    // Naming the key as the host's IdentityFile puts its agent copy first: reached, as ssh -i
    // reaches it (ssh also offers an -i key the agent holds first).
    let own = setup.inventory("own.yaml", &[("host01", &key_var(&lab_key))]);
    let run = setup.ping(&own, Some(&agent), None);
    assert_eq!(host_row(&run, 0, "host01")["status"], "ok");
    let lab_key_arg = lab_key.to_str().unwrap();
    let ssh = setup.ssh(
        &["-o", "IdentitiesOnly=no", "-i", lab_key_arg],
        Some(&agent),
        None,
    );
    assert!(ssh.status.success(), "{}", stderr(&ssh));

    // When the agent does not hold it, fleetprune still offers the key file first and is let
    // in; here it goes further than ssh, which offers every agent key before key files the
    // agent lacks, and is cut off.
    let only_strangers = Agent::start(&setup.lab.dir);
    only_strangers.add(&strangers);
    let run = setup.ping(&own, Some(&only_strangers), None);
    assert_eq!(host_row(&run, 0, "host01")["status"], "ok");
    let ssh = setup.ssh(&["-i", lab_key_arg], Some(&only_strangers), None);
    assert!(
        stderr(&ssh).contains("Too many authentication failures"),
        "{}",
        stderr(&ssh)
    );
}

#[test]
fn identities_only_keeps_agent_keys_back() {
    let setup = Setup::start("auth-only");
    let agent = Agent::start(&setup.home);
    let lab_key = setup.lab.key();
    agent.add(std::slice::from_ref(&lab_key));
    let wrong = setup.stranger("wrong");
    let wrong_arg = wrong.to_str().unwrap();

    let inventory = setup.inventory(
        "only.yaml",
        &[
            (
                "only",
                &format!(
                    "{}\nansible_ssh_common_args: -o IdentitiesOnly=yes",
                    key_var(&wrong)
                ),
            ),
            ("open", &key_var(&wrong)),
        ],
    );
    let run = setup.ping(&inventory, Some(&agent), None);
    let report = {
        assert_eq!(run.status.code(), Some(1), "{}", stderr(&run)); // one host failed
        json(&run)
    };
    // IdentitiesOnly: only the wrong key file is offered; the agent's right key is not.
    let only = json_host(&report, "only");
    assert_eq!(only["status"], "failed", "{only}");
    assert_eq!(only["error"]["stage"], "auth", "{only}");
    assert_eq!(only["error"]["class"], "auth_failed", "{only}");
    assert_eq!(
        message(only),
        format!("permission denied (publickey) for fplab@127.0.0.1: tried {wrong_arg}")
    );
    let ssh = setup.ssh(
        &["-o", "IdentitiesOnly=yes", "-i", wrong_arg],
        Some(&agent),
        None,
    );
    assert!(!ssh.status.success());
    assert!(
        stderr(&ssh).contains("Permission denied"),
        "{}",
        stderr(&ssh)
    );
    // Without it, the agent's key is offered after the wrong file and logs in, as with ssh.
    assert_eq!(json_host(&report, "open")["status"], "ok");
    let ssh = setup.ssh(
        &["-o", "IdentitiesOnly=no", "-i", wrong_arg],
        Some(&agent),
        None,
    );
    assert!(ssh.status.success(), "{}", stderr(&ssh));
}

#[test]
fn a_locked_key_file_is_used_through_the_agents_copy() {
    let setup = Setup::start("auth-locked");
    let agent = Agent::start(&setup.home);
    // The agent gets the key before its file is locked with a passphrase, as `ssh-add` would
    // after asking for it; the file's `.pub` goes, so its public half comes from the file.
    let locked = setup.stranger("locked");
    setup.authorize(&locked);
    agent.add(std::slice::from_ref(&locked));
    let relock = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "", "-N", PASSPHRASE, "-f"])
        .arg(&locked)
        .output()
        .unwrap();
    assert!(relock.status.success(), "{}", stderr(&relock));
    std::fs::remove_file(locked.with_extension("pub")).unwrap();
    let locked_arg = locked.to_str().unwrap();

    let inventory = setup.inventory(
        "locked.yaml",
        &[
            ("locked", &key_var(&locked)),
            ("plain", &key_var(&setup.lab.key())),
        ],
    );
    // With the agent: no prompt (stdin is not a terminal), no passphrase, connected.
    let run = setup.ping(&inventory, Some(&agent), None);
    assert_eq!(host_row(&run, 0, "locked")["status"], "ok");
    let ssh = setup.ssh(
        &["-o", "BatchMode=yes", "-i", locked_arg],
        Some(&agent),
        None,
    );
    assert!(ssh.status.success(), "{}", stderr(&ssh));

    // On a terminal too: the agent holds the key, so fleetprune does not ask for its passphrase
    // (before, it prompted at start-up whenever stdin was a terminal).
    let (on_terminal, report) = setup.ping_on_terminal(&inventory, &agent);
    assert!(on_terminal.status.success(), "{}", stdout(&on_terminal));
    assert!(
        !stdout(&on_terminal).contains("passphrase"),
        "{}",
        stdout(&on_terminal)
    );
    assert_eq!(json_host(&report, "locked")["status"], "ok", "{report}");

    // Without it: that host fails, saying why; the other host of the run is still reached.
    let run = setup.ping(&inventory, None, None);
    let row = host_row(&run, 1, "locked");
    assert_eq!(row["status"], "failed", "{row}");
    assert_eq!(row["error"]["stage"], "auth", "{row}");
    assert_eq!(row["error"]["class"], "key_unusable", "{row}");
    assert_eq!(
        message(&row),
        format!(
            "identity file {locked_arg} is encrypted: set FLEETPRUNE_KEY_PASSPHRASE or run on a terminal to be asked"
        )
    );
    assert_eq!(json_host(&json(&run), "plain")["status"], "ok");
    let ssh = setup.ssh(&["-o", "BatchMode=yes", "-i", locked_arg], None, None);
    assert!(!ssh.status.success());
    assert!(
        stderr(&ssh).contains("Permission denied"),
        "{}",
        stderr(&ssh)
    );
}

/// A key made by `program args` in `dir`, as `name`, with its `.pub` written by ssh-keygen.
fn make_key(dir: &Path, name: &str, program: &str, args: &[&str], passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let output = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(output.status.success(), "{program}: {}", stderr(&output));
    let public = Command::new("ssh-keygen")
        .args(["-y", "-P", passphrase, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(public.status.success(), "ssh-keygen -y {name}");
    std::fs::write(path.with_extension("pub"), &public.stdout).unwrap();
    path
}

#[test]
fn every_key_format_openssh_reads_logs_in() {
    let setup = Setup::start("auth-formats");
    let dir = setup.home.clone();
    let keygen_args = |name: &'static str, options: &[&'static str], passphrase: &'static str| {
        let mut args = vec!["-q", "-N", passphrase, "-f", name];
        args.extend_from_slice(options);
        args
    };
    // (host name, key file, its first line, passphrase)
    let keys: Vec<(&str, PathBuf, &str, &str)> = vec![
        (
            "pkcs8-rsa",
            make_key(
                &dir,
                "pkcs8-rsa",
                "openssl",
                &["genpkey", "-algorithm", "RSA", "-out", "pkcs8-rsa"],
                "",
            ),
            "-----BEGIN PRIVATE KEY-----",
            "",
        ),
        (
            "pem-rsa",
            make_key(
                &dir,
                "pem-rsa",
                "ssh-keygen",
                &keygen_args("pem-rsa", &["-t", "rsa", "-b", "2048", "-m", "PEM"], ""),
                "",
            ),
            "-----BEGIN RSA PRIVATE KEY-----",
            "",
        ),
        (
            "pem-ecdsa-locked",
            make_key(
                &dir,
                "pem-ecdsa-locked",
                "ssh-keygen",
                &keygen_args(
                    "pem-ecdsa-locked",
                    &["-t", "ecdsa", "-m", "PEM"],
                    PASSPHRASE,
                ),
                PASSPHRASE,
            ),
            "-----BEGIN EC PRIVATE KEY-----",
            PASSPHRASE,
        ),
        (
            "openssh-ed25519",
            make_key(
                &dir,
                "openssh-ed25519",
                "ssh-keygen",
                &keygen_args("openssh-ed25519", &["-t", "ed25519"], ""),
                "",
            ),
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "",
        ),
        (
            "openssh-ecdsa",
            make_key(
                &dir,
                "openssh-ecdsa",
                "ssh-keygen",
                &keygen_args("openssh-ecdsa", &["-t", "ecdsa"], ""),
                "",
            ),
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "",
        ),
        (
            "openssh-rsa",
            make_key(
                &dir,
                "openssh-rsa",
                "ssh-keygen",
                &keygen_args("openssh-rsa", &["-t", "rsa", "-b", "2048"], ""),
                "",
            ),
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "",
        ),
    ];
    let mut hosts = Vec::new();
    for (name, path, first_line, passphrase) in &keys {
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(text.lines().next(), Some(*first_line), "{name}");
        setup.authorize(path);
        // The oracle: OpenSSH logs in with this key file alone.
        let passphrase = Some(*passphrase).filter(|p| !p.is_empty());
        let ssh = setup.ssh(
            &["-o", "IdentitiesOnly=yes", "-i", path.to_str().unwrap()],
            None,
            passphrase,
        );
        assert!(ssh.status.success(), "ssh -i {name}: {}", stderr(&ssh));
        hosts.push((*name, key_var(path)));
    }
    let hosts: Vec<(&str, &str)> = hosts.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let inventory = setup.inventory("formats.yaml", &hosts);

    // The passphrase of the encrypted key given: every host is reached with its own key.
    let run = setup.ping(&inventory, None, Some(PASSPHRASE));
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    for (name, ..) in &keys {
        let row = json_host(&report, name);
        assert_eq!(row["status"], "ok", "{name}: {row}");
    }

    // None (and no terminal): the encrypted key's host says it needs one; the others are
    // reached.
    let run = setup.ping(&inventory, None, None);
    let row = host_row(&run, 1, "pem-ecdsa-locked");
    assert_eq!(row["error"]["class"], "key_unusable", "{row}");
    assert!(
        message(&row).ends_with(
            "is encrypted: set FLEETPRUNE_KEY_PASSPHRASE or run on a terminal to be asked"
        ),
        "{row}"
    );
    let report = json(&run);
    for (name, ..) in keys.iter().filter(|(name, ..)| *name != "pem-ecdsa-locked") {
        assert_eq!(json_host(&report, name)["status"], "ok", "{name}");
    }

    // A wrong one: the encrypted key's host says so; the others are unaffected.
    let run = setup.ping(&inventory, None, Some("not the passphrase"));
    let row = host_row(&run, 1, "pem-ecdsa-locked");
    assert_eq!(row["error"]["class"], "key_unusable", "{row}");
    assert_eq!(row["error"]["stage"], "auth", "{row}");
    assert_eq!(
        message(&row),
        format!(
            "identity file {}: wrong passphrase",
            dir.join("pem-ecdsa-locked").display()
        )
    );
    let report = json(&run);
    for (name, ..) in keys.iter().filter(|(name, ..)| *name != "pem-ecdsa-locked") {
        assert_eq!(json_host(&report, name)["status"], "ok", "{name}");
    }
    let ssh = setup.ssh(
        &[
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            dir.join("pem-ecdsa-locked").to_str().unwrap(),
        ],
        None,
        Some("not the passphrase"),
    );
    assert!(!ssh.status.success());
}
