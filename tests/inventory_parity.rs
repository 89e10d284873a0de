//! Ansible is the oracle for inventory semantics: over a corpus of inventories
//! (tests/fixtures/inventories/), `ansible-inventory --list` and `ansible all --list-hosts
//! --limit` must agree with `fleetprune inventory --output json` on which hosts exist, their
//! groups, addresses, ports, users, keys and whether they are reached over ssh. For ssh
//! arguments, Ansible's ssh command line resolved by `ssh -G` is the oracle.
//!
//! Needs ansible-core (`pip install ansible-core`; lab/install-deps.sh installs it). Without it
//! the test fails, saying so: it never skips.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// One inventory of the corpus: its `-i` sources and the `--limit` values to compare.
struct Case {
    sources: &'static [&'static str],
    limits: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        sources: &["yaml-shapes/hosts.yaml"],
        limits: &[
            "all:!ungrouped",
            "builders:!gpu-box",
            "~build-0[12]",
            "builders:&bastioned",
            "all,!build-0l",
            "@RETRY",
            "2001:db8::30",
            "step*",
            "web1,nope",
            "dual",
            "all:!dual",
            "special:&dual",
            "d*",
        ],
    },
    Case {
        sources: &["ini-twin/hosts"],
        limits: &[
            "prod:!db",
            "web-[1:2]",
            "~web-[23]",
            "ungrouped",
            "prod:&web",
        ],
    },
    Case {
        sources: &["yaml-twin/hosts.yml"],
        limits: &["prod:!db", "ungrouped"],
    },
    Case {
        sources: &["directory"],
        limits: &["web", "all:!db", "stage"],
    },
    Case {
        sources: &["multi/a.yaml", "multi/b.ini"],
        limits: &["extra", "web:!extra"],
    },
    Case {
        sources: &["deep/hosts.yaml"],
        limits: &["l3", "all:!deep-l"],
    },
];

/// `$USER` in both tools' environment: ssh (and so fleetprune) ignores it for the default login.
const USER_VARIABLE: &str = "parity";

/// The login ssh uses when nothing names one: the password database's name for this uid.
fn local_user() -> String {
    let output = Command::new("id").arg("-un").output().expect("run id -un");
    text(&output.stdout).trim().to_string()
}

/// Connection plugins fleetprune treats as ssh.
const SSH_CONNECTIONS: [&str; 5] = [
    "ssh",
    "smart",
    "paramiko",
    "paramiko_ssh",
    "ansible.builtin.ssh",
];

/// What is compared per host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    address: String,
    port: u64,
    user: String,
    key: Option<String>,
    over_ssh: bool,
    groups: BTreeSet<String>,
}

/// A scratch HOME and working directory, and an empty ansible.cfg, shared by both tools.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
        std::fs::write(dir.path().join("ansible.cfg"), "").expect("ansible.cfg");
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env("USER", USER_VARIABLE)
            .env("ANSIBLE_CONFIG", self.dir.path().join("ansible.cfg"))
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
            .env("RUST_LOG", "warn")
            .env_remove("ANSIBLE_INVENTORY")
            .env_remove("FLEETPRUNE_INVENTORY")
            .stdin(std::process::Stdio::null());
        command
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventories")
}

fn source_args(case: &Case) -> Vec<String> {
    case.sources
        .iter()
        .flat_map(|s| ["-i".to_string(), fixtures().join(s).display().to_string()])
        .collect()
}

/// The limit with `@RETRY` pointing at the corpus' retry file.
fn limit_arg(limit: &str) -> String {
    limit.replace(
        "RETRY",
        &fixtures().join("retry-hosts").display().to_string(),
    )
}

fn ansible_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(path) => path,
        None => panic!(
            "{name} is not on PATH: the inventory parity test needs ansible-core as its oracle; install it with `pip install ansible-core` (lab/install-deps.sh does)"
        ),
    }
}

fn run(mut command: Command) -> Output {
    command.output().expect("run command")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Ansible's view: `ansible-inventory --list`, resolved as its ssh plugin would.
fn ansible_hosts(sandbox: &Sandbox, case: &Case) -> BTreeMap<String, Resolved> {
    let mut command = sandbox.command(&ansible_tool("ansible-inventory"));
    command.args(source_args(case)).arg("--list");
    let output = run(command);
    assert!(
        output.status.success(),
        "ansible-inventory failed on {:?}: {}",
        case.sources,
        text(&output.stderr)
    );
    let list: Value = serde_json::from_slice(&output.stdout).expect("ansible-inventory JSON");
    let memberships = ansible_groups(&list);
    let home = sandbox.home().display().to_string();
    let mut hosts = BTreeMap::new();
    // `_meta.hostvars` leaves out hosts without variables; every host is in some group.
    let no_vars = serde_json::Map::new();
    for name in memberships.keys() {
        let vars = list["_meta"]["hostvars"]
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or(&no_vars);
        let var = |plain: &str| {
            vars.get(&format!("ansible_ssh_{plain}"))
                .or_else(|| vars.get(&format!("ansible_{plain}")))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        };
        let key = var("private_key_file").map(|key| {
            if let Some(rest) = key.strip_prefix("~/") {
                format!("{home}/{rest}")
            } else if let Some(rest) = key.strip_prefix("~root/") {
                format!("/root/{rest}")
            } else {
                key
            }
        });
        let connection = vars
            .get("ansible_connection")
            .and_then(Value::as_str)
            .unwrap_or("ssh");
        hosts.insert(
            name.clone(),
            Resolved {
                address: var("host").unwrap_or_else(|| name.clone()),
                port: var("port").map_or(22, |p| p.parse().expect("numeric port")),
                user: var("user").unwrap_or_else(local_user),
                key,
                over_ssh: SSH_CONNECTIONS.contains(&connection),
                groups: memberships.get(name).cloned().unwrap_or_default(),
            },
        );
    }
    hosts
}

/// Every group each host belongs to, through children, from `ansible-inventory --list`.
fn ansible_groups(list: &Value) -> BTreeMap<String, BTreeSet<String>> {
    fn hosts_under(list: &Value, group: &str, into: &mut BTreeSet<String>) {
        let entry = &list[group];
        for host in entry["hosts"].as_array().into_iter().flatten() {
            into.insert(host.as_str().unwrap_or_default().to_string());
        }
        for child in entry["children"].as_array().into_iter().flatten() {
            hosts_under(list, child.as_str().unwrap_or_default(), into);
        }
    }
    let mut memberships: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for group in list.as_object().expect("groups").keys() {
        if group == "_meta" {
            continue;
        }
        let mut hosts = BTreeSet::new();
        hosts_under(list, group, &mut hosts);
        for host in hosts {
            memberships.entry(host).or_default().insert(group.clone());
        }
    }
    memberships
}

/// fleetprune's view: `fleetprune inventory --output json`.
fn fleetprune_hosts(
    sandbox: &Sandbox,
    case: &Case,
    limit: Option<&str>,
) -> Result<BTreeMap<String, Resolved>, String> {
    let mut command = sandbox.command(Path::new(env!("CARGO_BIN_EXE_fleetprune")));
    command
        .arg("inventory")
        .args(source_args(case))
        .args(["--output", "json"]);
    if let Some(limit) = limit {
        command.args(["--limit", &limit_arg(limit)]);
    }
    let output = run(command);
    if !output.status.success() {
        return Err(text(&output.stderr));
    }
    let report: Value = serde_json::from_slice(&output.stdout).expect("fleetprune JSON");
    let mut hosts = BTreeMap::new();
    for host in report["hosts"].as_array().expect("hosts") {
        let field = |name: &str| host[name].as_str().unwrap_or_default().to_string();
        hosts.insert(
            field("name"),
            Resolved {
                address: field("address"),
                port: host["port"].as_u64().expect("port"),
                user: field("user"),
                key: host["identity"].as_str().map(str::to_string),
                over_ssh: host["refused"].is_null(),
                groups: host["groups"]
                    .as_array()
                    .expect("groups")
                    .iter()
                    .map(|g| g.as_str().unwrap_or_default().to_string())
                    .collect(),
            },
        );
    }
    Ok(hosts)
}

/// `ansible all --list-hosts --limit`: the selected hosts and the terms Ansible warned about.
fn ansible_limit(sandbox: &Sandbox, case: &Case, limit: &str) -> (BTreeSet<String>, Vec<String>) {
    let mut command = sandbox.command(&ansible_tool("ansible"));
    command
        .arg("all")
        .args(source_args(case))
        .args(["--list-hosts", "--limit", &limit_arg(limit)]);
    let output = run(command);
    let stdout = text(&output.stdout);
    let hosts = stdout
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("hosts ("))
        .skip(1)
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    let unmatched = text(&output.stderr)
        .lines()
        .filter_map(|line| {
            line.split("Could not match supplied host pattern, ignoring: ")
                .nth(1)
        })
        .map(|term| term.trim().to_string())
        .collect();
    (hosts, unmatched)
}

#[test]
fn inventories_resolve_as_ansible_resolves_them() {
    let sandbox = Sandbox::new();
    let mut mismatches = Vec::new();
    for case in CASES {
        let expected = ansible_hosts(&sandbox, case);
        let actual = match fleetprune_hosts(&sandbox, case, None) {
            Ok(hosts) => hosts,
            Err(stderr) => {
                mismatches.push(format!("{:?}: fleetprune failed: {stderr}", case.sources));
                continue;
            }
        };
        let names = |m: &BTreeMap<String, Resolved>| m.keys().cloned().collect::<Vec<_>>();
        if names(&expected) != names(&actual) {
            mismatches.push(format!(
                "{:?}: hosts differ\n  ansible:    {:?}\n  fleetprune: {:?}",
                case.sources,
                names(&expected),
                names(&actual)
            ));
        }
        for (name, want) in &expected {
            if let Some(got) = actual.get(name)
                && got != want
            {
                mismatches.push(format!(
                    "{:?}: host {name}\n  ansible:    {want:?}\n  fleetprune: {got:?}",
                    case.sources
                ));
            }
        }
        for limit in case.limits {
            let (selected, unmatched) = ansible_limit(&sandbox, case, limit);
            // Ansible names an unmatched `!term` without its `!`.
            let refused: Vec<&String> = unmatched
                .iter()
                .filter(|t| !limit.contains(&format!("!{t}")))
                .collect();
            match fleetprune_hosts(&sandbox, case, Some(limit)) {
                // Ansible ignores an unmatched plain term with a warning; fleetprune refuses it.
                Err(stderr) if !refused.is_empty() => {
                    for term in refused {
                        if !stderr.contains(term.as_str()) {
                            mismatches.push(format!(
                                "{:?} --limit {limit}: the error does not name {term:?}: {stderr}",
                                case.sources
                            ));
                        }
                    }
                }
                // Selecting nothing is an input error in fleetprune; Ansible runs on no host.
                Err(stderr) if selected.is_empty() && stderr.contains("no host matches") => {}
                Err(stderr) => mismatches.push(format!(
                    "{:?} --limit {limit}: fleetprune failed: {stderr}",
                    case.sources
                )),
                Ok(hosts) if !refused.is_empty() => mismatches.push(format!(
                    "{:?} --limit {limit}: Ansible could not match {refused:?}, fleetprune selected {:?}",
                    case.sources,
                    hosts.keys().collect::<Vec<_>>()
                )),
                Ok(hosts) => {
                    let got: BTreeSet<String> = hosts.into_keys().collect();
                    if got != selected {
                        mismatches.push(format!(
                            "{:?} --limit {limit}\n  ansible:    {selected:?}\n  fleetprune: {got:?}",
                            case.sources
                        ));
                    }
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "fleetprune differs from Ansible:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn ini_inventory_resolves_like_its_yaml_twin() {
    let sandbox = Sandbox::new();
    let twin = |source: &'static [&'static str]| {
        fleetprune_hosts(
            &sandbox,
            &Case {
                sources: source,
                limits: &[],
            },
            None,
        )
        .expect("fleetprune inventory")
    };
    assert_eq!(twin(&["ini-twin/hosts"]), twin(&["yaml-twin/hosts.yml"]));
}

#[test]
fn limit_term_matching_nothing_is_refused_where_ansible_only_warns() {
    let sandbox = Sandbox::new();
    let case = &CASES[0];
    let (_, unmatched) = ansible_limit(&sandbox, case, "web1,nope");
    assert_eq!(unmatched, ["nope"]);
    let error = fleetprune_hosts(&sandbox, case, Some("web1,nope")).unwrap_err();
    assert!(error.contains("term \"nope\" selects no host"), "{error}");
    let output = common::fleetprune(&[
        "inventory",
        "-i",
        &fixtures()
            .join("yaml-shapes/hosts.yaml")
            .display()
            .to_string(),
        "--limit",
        "web1,nope",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// What `ssh -G` says about one ssh command line, for the options fleetprune resolves.
#[derive(Debug, Default)]
struct SshResolution {
    port: u64,
    user: String,
    identity_files: Vec<String>,
    strict_host_key_checking: String,
    known_hosts_files: Vec<String>,
    jumps: bool,
}

/// Runs `ssh -G` on the arguments Ansible gave ssh (without the remote command), ignoring the
/// machine's ssh config.
fn ssh_resolve(sandbox: &Sandbox, ansible_args: &[String]) -> SshResolution {
    let mut command = sandbox.command(Path::new("ssh"));
    command.args(["-G", "-F", "/dev/null"]).args(ansible_args);
    let output = run(command);
    assert!(
        output.status.success(),
        "ssh -G {ansible_args:?}: {}",
        text(&output.stderr)
    );
    let mut resolution = SshResolution::default();
    for line in text(&output.stdout).lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key.to_ascii_lowercase().as_str() {
            "port" => resolution.port = value.parse().expect("ssh -G port"),
            "user" => resolution.user = value.to_string(),
            "identityfile" => resolution.identity_files.push(value.to_string()),
            "stricthostkeychecking" => resolution.strict_host_key_checking = value.to_string(),
            "userknownhostsfile" => {
                resolution.known_hosts_files = value.split(' ').map(str::to_string).collect();
            }
            "proxyjump" | "proxycommand" => resolution.jumps |= value != "none",
            _ => {}
        }
    }
    resolution
}

/// The ssh command Ansible runs for each address, from `ansible -m ping -vvvv` (every host of
/// the fixture is on a closed loopback port, so each attempt fails at once).
fn ansible_ssh_commands(sandbox: &Sandbox, source: &Path) -> BTreeMap<String, Vec<String>> {
    let mut command = sandbox.command(&ansible_tool("ansible"));
    command
        .arg("all")
        .arg("-i")
        .arg(source)
        .args(["-m", "ping", "-vvvv"])
        .env("ANSIBLE_TIMEOUT", "3");
    let output = run(command);
    let mut commands = BTreeMap::new();
    for line in text(&output.stdout).lines() {
        let Some((address, rest)) = line
            .strip_prefix('<')
            .and_then(|l| l.split_once("> SSH: EXEC "))
        else {
            continue;
        };
        let mut words = shlex::split(rest).expect("Ansible's ssh command is shell-quoted");
        // `ssh ... DESTINATION 'remote command'`: keep the options and the destination.
        words.pop();
        words.remove(0);
        commands.entry(address.to_string()).or_insert(words);
    }
    commands
}

/// Ansible builds each host's ssh command line from its variables and ssh arguments, and
/// OpenSSH resolves that line (`ssh -G`): fleetprune must reach the same port, user, first
/// identity and host key policy, and refuse exactly the hosts that would go through a jump.
#[test]
fn ssh_arguments_resolve_as_ssh_resolves_ansibles_command() {
    let sandbox = Sandbox::new();
    let keys = Path::new("/tmp/fleetprune-parity-keys");
    std::fs::create_dir_all(keys).expect("key dir");
    for key in ["extra", "from-var", "from-args", "from-config"] {
        // `ssh -G` drops identity files it cannot stat.
        std::fs::write(keys.join(key), "").expect("key file");
    }
    std::fs::write(
        keys.join("ssh_config"),
        "Host 127.0.0.10 127.0.0.12\n  Port 9\n  IdentityFile /tmp/fleetprune-parity-keys/from-config\n\
         Host 127.0.0.11\n  Port 9\n  ProxyJump nobody@127.0.0.7:9\n\
         Host *\n  UserKnownHostsFile /tmp/fleetprune-parity-kh-f\n",
    )
    .expect("ssh config for -F");
    let case = Case {
        sources: &["ssh-args/hosts.yaml"],
        limits: &[],
    };
    let commands = ansible_ssh_commands(&sandbox, &fixtures().join(case.sources[0]));
    let mut command = sandbox.command(Path::new(env!("CARGO_BIN_EXE_fleetprune")));
    command
        .arg("inventory")
        .args(source_args(&case))
        .args(["--output", "json"]);
    let output = run(command);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("fleetprune JSON");
    let hosts = report["hosts"].as_array().expect("hosts");
    assert_eq!(
        commands.len(),
        hosts.len(),
        "one ssh command per host: {commands:?}"
    );
    let mut mismatches = Vec::new();
    for host in hosts {
        let name = host["name"].as_str().unwrap_or_default();
        let address = host["address"].as_str().unwrap_or_default();
        let Some(args) = commands.get(address) else {
            mismatches.push(format!("{name}: Ansible ran no ssh command for {address}"));
            continue;
        };
        let ssh = ssh_resolve(&sandbox, args);
        let refused = !host["refused"].is_null();
        // A jump host or a proxy command: the route is not direct.
        let jumps = host["route"]["via"] != "direct";
        if jumps != ssh.jumps {
            mismatches.push(format!(
                "{name}: fleetprune jumps={jumps}, ssh would jump={}",
                ssh.jumps
            ));
        }
        if refused {
            continue;
        }
        let checking = match ssh.strict_host_key_checking.as_str() {
            "false" => Some("no"),
            "accept-new" => Some("accept-new"),
            "true" => Some("yes"),
            _ => None,
        };
        let got = (
            host["port"].as_u64().unwrap_or_default(),
            host["user"].as_str().unwrap_or_default().to_string(),
            host["identity"].as_str().map(str::to_string),
            host["host_key_checking"].as_str(),
            host["known_hosts"][0].as_str().map(str::to_string),
        );
        let custom_known_hosts = ssh
            .known_hosts_files
            .first()
            .filter(|f| !f.ends_with("/.ssh/known_hosts"))
            .cloned();
        let first_identity = ssh
            .identity_files
            .first()
            .filter(|f| !f.starts_with("~/.ssh/id_"))
            .cloned();
        let want = (
            ssh.port,
            ssh.user.clone(),
            first_identity,
            checking,
            custom_known_hosts,
        );
        if got != want {
            mismatches.push(format!(
                "{name}: (port, user, identity, host key checking, known_hosts)\n  ssh -G of Ansible's command: {want:?}\n  fleetprune:                  {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "fleetprune differs from ssh -G of Ansible's commands:\n{}",
        mismatches.join("\n")
    );
}
