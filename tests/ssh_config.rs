//! OpenSSH client configuration, with OpenSSH itself as the oracle: `ssh -G` resolves a corpus
//! of hosts against a config, and `fleetprune inventory` must contact the same address, port
//! and user with the same key, host key policy and route (jump hosts, proxy command), or refuse
//! the host where it cannot honour an option (`Match exec`). Then, on the real lab: an alias, and
//! hosts reachable only through a bastion (lab/bastion.sh).

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Lab, json, json_host, stderr, stdout, write_file};

const CONFIG: &str = "\
Include INCLUDED

Host alias-web
    HostName 127.0.0.7
    Port 2201
    User deploy

Host web-* !web-9
    User farm
    Port 2222
    IdentityFile ~/.ssh/id_farm

Host short-*
    HostName %h.example.net

Match host *.example.net
    User netops

Match originalhost tagged-*
    Port 2300

Host pinned
    StrictHostKeyChecking accept-new
    UserKnownHostsFile /etc/fleet/known_hosts /etc/fleet/known_hosts.extra
    GlobalKnownHostsFile /etc/fleet/global_known_hosts

Host behind-*
    ProxyJump bastion.example.net

Host piped
    ProxyCommand nc %h %p

Host tokens
    HostName 10.1.1.1
    User deploy
    HostKeyAlias farm-alias
    IdentityAgent /run/agent-%u.sock
    UserKnownHostsFile ~/.ssh/kh-%h-%p %d/.ssh/kh2
    ServerAliveInterval 7
    ServerAliveCountMax 2

Host algos-set
    KexAlgorithms diffie-hellman-group14-sha256,curve25519-sha256
    Ciphers aes128-ctr,aes256-gcm@openssh.com
    MACs hmac-sha2-256

Host algos-edit
    KexAlgorithms -diffie-hellman-group*,ecdh-*
    Ciphers ^aes128-ctr
    MACs +hmac-sha1

Host first
    Port 2400
    Include CONDITIONAL
Host first
    Port 2500

Host *
    ServerAliveInterval 30
    HashKnownHosts yes
";

const INCLUDED: &str = "\
Host included
    User from-include
    Port 2600
";

/// Included inside `Host first`: read only for that host.
const CONDITIONAL: &str = "\
Host *
    User conditional
";

const HOSTS: [&str; 15] = [
    "algos-set",
    "algos-edit",
    "alias-web",
    "web-1",
    "web-9",
    "short-a",
    "tagged-1",
    "pinned",
    "behind-1",
    "piped",
    "tokens",
    "first",
    "included",
    "plain",
    "WEB-2",
];

/// `KexAlgorithms`, `Ciphers`, `MACs`: a list set outright is offered as ssh offers it; an
/// edited one starts where ssh's does, and keeps nothing ssh's edit removed from its default.
/// (The defaults themselves differ: ssh's has algorithms russh lacks.)
fn algorithms_agree(host: &str, oracle: &HashMap<String, Vec<String>>, ours: &serde_json::Value) {
    for (keyword, key) in [
        ("kexalgorithms", "kex"),
        ("ciphers", "ciphers"),
        ("macs", "macs"),
    ] {
        let theirs: Vec<&str> = oracle[keyword][0].split(',').collect();
        let Some(list) = ours[key].as_array() else {
            assert!(
                !host.starts_with("algos-"),
                "{host}: {keyword} not read: {ours}"
            );
            continue;
        };
        let list: Vec<&str> = list.iter().map(|n| n.as_str().unwrap()).collect();
        if host == "algos-set" {
            assert_eq!(list, theirs, "{host}: {keyword}");
        } else {
            let ssh_default = ssh_default_list(keyword);
            for removed in ssh_default.iter().filter(|n| !theirs.contains(&n.as_str())) {
                assert!(
                    !list.contains(&removed.as_str()),
                    "{host}: {keyword} kept {removed}"
                );
            }
            for added in theirs
                .iter()
                .filter(|n| !ssh_default.iter().any(|d| d == *n))
            {
                assert!(list.contains(added), "{host}: {keyword} lacks {added}");
            }
            if theirs[0] != ssh_default[0] {
                assert_eq!(list[0], theirs[0], "{host}: {keyword} first");
            }
        }
    }
}

/// ssh's own default list for a keyword (`ssh -G` of a host the config leaves alone).
fn ssh_default_list(keyword: &str) -> Vec<String> {
    let output = Command::new("ssh")
        .args(["-G", "-F", "/dev/null", "default.invalid"])
        .output()
        .expect("ssh -G runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{keyword} ")))
        .unwrap_or_else(|| panic!("ssh -G prints no {keyword}"))
        .split(',')
        .map(str::to_string)
        .collect()
}

/// `ssh -G` for one host: keyword -> values in order.
fn ssh_g(config: &std::path::Path, host: &str) -> HashMap<String, Vec<String>> {
    let output = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .arg(host)
        .output()
        .expect("run ssh -G");
    assert!(
        output.status.success(),
        "ssh -G {host}: {}",
        stderr(&output)
    );
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some((key, value)) = line.split_once(' ') {
            values
                .entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
    }
    values
}

fn first_user(config: &std::path::Path, host: &str) -> String {
    ssh_g(config, host)["user"][0].clone()
}

/// Every host of the corpus in `report` resolves as `ssh -G -F config` resolves it.
fn agrees_with_ssh_g(report: &serde_json::Value, config: &std::path::Path) {
    let home = std::env::var("HOME").unwrap_or_default();
    for host in HOSTS {
        let oracle = ssh_g(config, host);
        let first = |key: &str| oracle[key][0].clone();
        let ours = json_host(report, host);
        let refused = &ours["refused"];
        if let Some(jump) = oracle.get("proxyjump") {
            let hops: Vec<String> = ours["route"]["hops"]
                .as_array()
                .unwrap_or_else(|| panic!("{host}: a bastion must be a jump route: {ours}"))
                .iter()
                .map(|hop| hop["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(hops.join(","), jump[0], "{host}: jump hosts");
            // Each hop as `ssh -G` resolves it through the same file (ssh passes its -F on).
            for hop in ours["route"]["hops"].as_array().unwrap() {
                let name = hop["name"].as_str().unwrap();
                let theirs = ssh_g(config, name);
                assert_eq!(
                    (
                        hop["address"].as_str().unwrap().to_string(),
                        hop["port"].to_string(),
                        hop["user"].as_str().unwrap().to_string()
                    ),
                    (
                        theirs["hostname"][0].clone(),
                        theirs["port"][0].clone(),
                        theirs["user"][0].clone()
                    ),
                    "{host}: jump host {name}"
                );
            }
        } else if let Some(command) = oracle.get("proxycommand") {
            let expected = command[0]
                .replace("%h", &first("hostname"))
                .replace("%p", &first("port"));
            assert_eq!(ours["route"]["command"], expected, "{host}: proxy command");
        } else {
            assert_eq!(ours["route"]["via"], "direct", "{host}: route");
        }
        assert!(refused.is_null(), "{host}: {ours}");
        assert_eq!(
            ours["address"].as_str().unwrap().to_ascii_lowercase(),
            first("hostname"),
            "{host}: address"
        );
        assert_eq!(ours["port"].to_string(), first("port"), "{host}: port");
        assert_eq!(ours["user"], first("user"), "{host}: user");
        // Only web-* name a key; elsewhere ssh -G lists its default files.
        if ours["identity"].is_string() {
            assert_eq!(
                ours["identity"],
                first("identityfile").replacen('~', &home, 1),
                "{host}: identity"
            );
        }
        assert_eq!(
            ours["hash_known_hosts"].to_string(),
            first("hashknownhosts")
                .replace("yes", "true")
                .replace("no", "false"),
            "{host}: HashKnownHosts"
        );
        assert_eq!(
            ours["host_key_alias"].as_str().map(str::to_string),
            oracle.get("hostkeyalias").map(|v| v[0].clone()),
            "{host}: HostKeyAlias"
        );
        assert_eq!(
            ours["identity_agent"].as_str().map(str::to_string),
            oracle.get("identityagent").map(|v| v[0].clone()),
            "{host}: IdentityAgent"
        );
        assert_eq!(
            ours["server_alive"][0].as_u64().unwrap_or(0).to_string(),
            first("serveraliveinterval"),
            "{host}: ServerAliveInterval"
        );
        assert_eq!(
            ours["server_alive"][1].as_u64().unwrap_or(3).to_string(),
            first("serveralivecountmax"),
            "{host}: ServerAliveCountMax"
        );
        if ours["known_hosts"]
            .as_array()
            .is_some_and(|files| !files.is_empty())
        {
            let files: Vec<&str> = ours["known_hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            assert_eq!(
                files.join(" "),
                first("userknownhostsfile"),
                "{host}: UserKnownHostsFile"
            );
        }
        algorithms_agree(host, &oracle, &ours["algorithms"]);
        if host == "pinned" {
            assert_eq!(first("stricthostkeychecking"), "accept-new");
            assert_eq!(ours["host_key_checking"], "accept-new");
            let files: Vec<&str> = ours["known_hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            assert_eq!(files.join(" "), first("userknownhostsfile"));
            assert_eq!(ours["global_known_hosts"][0], first("globalknownhostsfile"));
        }
    }
}

#[test]
fn hosts_resolve_as_ssh_dash_g_resolves_them() {
    let dir = tempfile::tempdir().unwrap();
    let included = write_file(dir.path(), "included.conf", INCLUDED);
    let conditional = write_file(dir.path(), "conditional.conf", CONDITIONAL);
    let config = write_file(
        dir.path(),
        "config",
        &CONFIG
            .replace("INCLUDED", included.to_str().unwrap())
            .replace("CONDITIONAL", conditional.to_str().unwrap()),
    );
    let inventory = format!("{},", HOSTS.join(","));
    let run = common::fleetprune(&[
        "-F",
        config.to_str().unwrap(),
        "-i",
        &inventory,
        "inventory",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);

    agrees_with_ssh_g(&report, &config);
    // The corpus really exercises what it claims.
    assert_eq!(json_host(&report, "web-1")["port"], 2222);
    assert_eq!(json_host(&report, "web-9")["port"], 22);
    assert_eq!(json_host(&report, "short-a")["user"], "netops");
    assert_eq!(json_host(&report, "first")["port"], 2400);
    assert_eq!(json_host(&report, "first")["user"], "conditional");
    assert_eq!(json_host(&report, "included")["user"], "from-include");
    assert_eq!(
        json_host(&report, "plain")["user"],
        first_user(&config, "plain")
    );
}

/// Ansible's bastion pattern: hosts whose `ansible_ssh_common_args` carry `-F FILE` resolve
/// as `ssh -G -F FILE` resolves them, jump hosts included, whatever `--ssh-config` says for
/// the hosts without one.
#[test]
fn hosts_with_dash_f_in_their_ssh_arguments_resolve_as_ssh_dash_g_dash_f() {
    let dir = tempfile::tempdir().unwrap();
    let included = write_file(dir.path(), "included.conf", INCLUDED);
    let conditional = write_file(dir.path(), "conditional.conf", CONDITIONAL);
    let config = write_file(
        dir.path(),
        "generated by terraform",
        &CONFIG
            .replace("INCLUDED", included.to_str().unwrap())
            .replace("CONDITIONAL", conditional.to_str().unwrap()),
    );
    let decoy = write_file(dir.path(), "decoy", "Host *\n    Port 1\n    User decoy\n");
    let mut inventory = String::from("all:\n  hosts:\n");
    for host in HOSTS {
        inventory.push_str(&format!(
            "    {host}:\n      ansible_ssh_common_args: -F '{}'\n",
            config.display()
        ));
    }
    inventory.push_str("    elsewhere:\n");
    let inventory = write_file(dir.path(), "inventory.yaml", &inventory);
    let run = common::fleetprune(&[
        "--ssh-config",
        decoy.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
        "inventory",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    agrees_with_ssh_g(&report, &config);
    for host in HOSTS {
        assert_eq!(
            json_host(&report, host)["ssh_config"],
            config.to_str().unwrap()
        );
    }
    // The jump host too is resolved through the file: its user comes from a Match there.
    assert_eq!(
        json_host(&report, "behind-1")["route"]["hops"][0]["user"],
        "netops"
    );
    let elsewhere = json_host(&report, "elsewhere");
    assert_eq!(
        (&elsewhere["port"], &elsewhere["user"]),
        (&1.into(), &"decoy".into())
    );
    assert!(elsewhere.get("ssh_config").is_none(), "{elsewhere}");
}

/// A relative `Include` in a `-F` file is looked up under ~/.ssh, as ssh reads every file it
/// is given with -F as the user's own, and a file that cannot be read stops the run before any
/// host is contacted, naming the host, the setting and the file.
#[test]
fn dash_f_files_include_relative_to_home_and_unreadable_ones_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    write_file(&home.join(".ssh"), "farm.conf", "Host web\n    Port 2345\n");
    let config = write_file(dir.path(), "ssh_config", "Include farm.conf\n");
    let oracle = Command::new("ssh")
        .env("HOME", &home)
        .args(["-G", "-F"])
        .arg(&config)
        .arg("web")
        .output()
        .unwrap();
    let oracle = String::from_utf8_lossy(&oracle.stdout).to_string();
    assert!(oracle.lines().any(|l| l == "port 2345"), "{oracle}");
    let inventory = write_file(
        dir.path(),
        "inventory.yaml",
        &format!(
            "all:\n  hosts:\n    web:\n      ansible_ssh_extra_args: -F {}\n",
            config.display()
        ),
    );
    let run = common::fleetprune_command(&[
        "-i",
        inventory.to_str().unwrap(),
        "inventory",
        "--output",
        "json",
    ])
    .env("HOME", &home)
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(json_host(&json(&run), "web")["port"], 2345);

    let missing = dir.path().join("missing_config");
    let inventory = write_file(
        dir.path(),
        "missing.yaml",
        &format!(
            "all:\n  hosts:\n    web:\n      ansible_ssh_common_args: -F {}\n",
            missing.display()
        ),
    );
    let run = common::fleetprune(&["-i", inventory.to_str().unwrap(), "ping"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!(
            "{}:3:5: host web: ansible_ssh_common_args -F {1}: cannot read ssh config {1}: No such file or directory",
            inventory.display(),
            missing.display()
        )),
        "{}",
        stderr(&run)
    );
}

/// Docker's `ssh://[user@]host[:port][/socket]` where a host is named: `ssh -G` (which takes
/// the URL without its path) is the oracle for the destination, user and port, the inventory's
/// user and the ssh arguments winning over the URL's, and the path becomes the socket.
#[test]
fn ssh_urls_resolve_as_ssh_dash_g_resolves_them_and_their_path_is_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "config",
        "Host web-*\n    HostName 10.0.0.9\n    User farm\n    Port 2222\n",
    );
    // (inventory host, ssh -G arguments; ssh 9.2 takes no bracketed IPv6 in a URL, docker does)
    let cases: [(&str, &[&str]); 4] = [
        (
            "ssh://ops@web-1:2200/run/user/1000/docker.sock",
            &["ssh://ops@web-1:2200"],
        ),
        ("ssh://web-2", &["ssh://web-2"]),
        (
            "ssh://ops@web-3:2201/",
            &["-o", "User=inv", "-p", "2300", "ssh://ops@web-3:2201"],
        ),
        (
            "ssh://[2001:db8::1]:2202/run/podman/podman.sock",
            &["-p", "2202", "2001:db8::1"],
        ),
    ];
    let inventory = write_file(
        dir.path(),
        "inventory.yaml",
        &format!(
            "all:\n  hosts:\n    \"{}\":\n    \"{}\":\n    third:\n      ansible_host: \"{}\"\n      ansible_user: inv\n      ansible_ssh_common_args: -p 2300\n    v6:\n      ansible_host: \"{}\"\n",
            cases[0].0, cases[1].0, cases[2].0, cases[3].0
        ),
    );
    let run = common::fleetprune(&[
        "-F",
        config.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
        "inventory",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let sockets = [
        "/run/user/1000/docker.sock",
        "/var/run/docker.sock",
        "/var/run/docker.sock",
        "/run/podman/podman.sock",
    ];
    for (index, (name, ssh_args)) in cases.iter().enumerate() {
        // In an inventory key, `[...]` is a host range: an IPv6 URL goes in ansible_host.
        let name = match index {
            2 => "third",
            3 => "v6",
            _ => name,
        };
        let ours = json_host(&report, name);
        let oracle = Command::new("ssh")
            .arg("-G")
            .arg("-F")
            .arg(&config)
            .args(*ssh_args)
            .output()
            .unwrap();
        assert!(
            oracle.status.success(),
            "ssh -G {ssh_args:?}: {}",
            stderr(&oracle)
        );
        let oracle = String::from_utf8_lossy(&oracle.stdout).to_string();
        let value = |key: &str| {
            oracle
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} ")))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            (
                ours["address"].as_str().unwrap().to_string(),
                ours["port"].to_string(),
                ours["user"].as_str().unwrap().to_string()
            ),
            (value("hostname"), value("port"), value("user")),
            "{name}"
        );
        assert_eq!(ours["docker_socket"], sockets[index], "{name}");
    }
    // One ssh:// destination given to -i needs no trailing comma.
    let run = common::fleetprune(&[
        "-F",
        config.to_str().unwrap(),
        "-i",
        cases[0].0,
        "inventory",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(json_host(&json(&run), cases[0].0)["port"], 2200);
}

/// Aliases of one lab host, each with other algorithm lists: (alias, options, does OpenSSH 9.2's
/// sshd share one of each list). `None`: names ssh 9.2 itself does not know, so no `ssh` oracle.
const ALGORITHM_ALIASES: [(&str, &str, Option<bool>); 5] = [
    ("lab-alias", "", Some(true)),
    (
        "lab-classic",
        "KexAlgorithms diffie-hellman-group14-sha256\n    Ciphers aes128-ctr\n    MACs hmac-sha2-256",
        Some(true),
    ),
    ("lab-cbc", "Ciphers aes128-cbc", Some(false)),
    (
        "lab-group1",
        "KexAlgorithms diffie-hellman-group1-sha1",
        Some(false),
    ),
    ("lab-mlkem", "KexAlgorithms mlkem768x25519-sha256", None),
];

#[test]
fn ssh_config_aliases_reach_their_lab_host_with_the_algorithms_they_name() {
    let lab = Lab::start("sshconfig", 1, &[]);
    let (mut config, mut openssh_config) = (String::new(), String::new());
    for (alias, options, shared) in ALGORITHM_ALIASES {
        let entry = format!(
            "Host {alias}\n    HostName 127.0.0.1\n    Port {port}\n    User fplab\n    IdentityFile {key}\n    {options}\n",
            port = lab.port("host01"),
            key = lab.key().display()
        );
        config.push_str(&entry);
        if shared.is_some() {
            openssh_config.push_str(&entry);
        }
    }
    let config = write_file(&lab.dir, "ssh_config", &config);
    let openssh_config = write_file(&lab.dir, "ssh_config.openssh", &openssh_config);
    let aliases: Vec<&str> = ALGORITHM_ALIASES.iter().map(|(a, _, _)| *a).collect();
    let run = lab.fleetprune_raw(&[
        "-F",
        config.to_str().unwrap(),
        "-i",
        &format!("{},", aliases.join(",")),
        "ping",
        "--output",
        "json",
    ]);
    let report = json(&run);
    for (alias, _, shared) in ALGORITHM_ALIASES {
        let host = json_host(&report, alias);
        assert_eq!(host["address"], format!("127.0.0.1:{}", lab.port("host01")));
        let ok = host["status"] == "ok";
        if let Some(shared) = shared {
            let ssh = Command::new("ssh")
                .args([
                    "-F",
                    openssh_config.to_str().unwrap(),
                    "-o",
                    "BatchMode=yes",
                ])
                .arg("-o")
                .arg(format!(
                    "UserKnownHostsFile={}",
                    lab.known_hosts().display()
                ))
                .args([alias, "true"])
                .output()
                .expect("run ssh");
            assert_eq!(
                ssh.status.success(),
                shared,
                "{alias}: ssh {}",
                String::from_utf8_lossy(&ssh.stderr)
            );
            assert_eq!(ok, shared, "{alias}: {host}");
        } else {
            // The post-quantum kex russh offers and OpenSSH 9.2 lacks: honoured, so no session.
            assert!(!ok, "{alias}: {host}");
        }
        if !ok {
            assert_eq!(host["error"]["stage"], "connect", "{alias}: {host}");
            assert_eq!(
                host["error"]["class"], "no_common_algorithm",
                "{alias}: {host}"
            );
        }
    }
}

/// `NAME=value` lines of a lab file.
fn lab_vars(path: &std::path::Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Lines of a host's private sshd log saying a login was accepted.
fn accepted_logins(lab: &Lab, host: &str) -> Vec<String> {
    let log = lab.dir.join(format!("hosts/{host}/sshd-private.log"));
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("Accepted publickey"))
        .map(str::to_string)
        .collect()
}

#[test]
fn hosts_behind_a_bastion_are_reached_through_it_and_never_directly() {
    let lab = Lab::start("bastion", 3, &[]);
    let setup = Command::new(common::repo_root().join("lab/bastion.sh"))
        .arg(&lab.dir)
        .args(["host01", "host02", "host03"])
        .output()
        .expect("run lab/bastion.sh");
    assert!(setup.status.success(), "lab/bastion.sh: {}", stderr(&setup));
    let config = lab.dir.join("bastion/ssh_config");
    let config = config.to_str().unwrap();
    let vars = lab_vars(&lab.dir.join("bastion/env"));
    let (bastion, host02) = (&vars["BASTION_ADDRESS"], &vars["TARGET_host02"]);

    // The oracle: OpenSSH reaches the target through the bastion with this config.
    let ssh = Command::new("ssh")
        .args([
            "-F",
            config,
            "-o",
            "BatchMode=yes",
            "host02-private",
            "true",
        ])
        .output()
        .unwrap();
    assert!(ssh.status.success(), "ssh: {}", stderr(&ssh));
    let before = accepted_logins(&lab, "host02").len();

    // fleetprune goes the same way, for several hosts behind one bastion.
    let run = lab.fleetprune_raw(&[
        "-F",
        config,
        "-i",
        "host02-private,host03-private,",
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let target = json_host(&report, "host02-private");
    assert_eq!(target["status"], "ok", "{target}");
    assert_eq!(target["address"], format!("{host02}:22"));
    assert_eq!(json_host(&report, "host03-private")["status"], "ok");
    // The target saw the login come from the bastion's side of their link.
    let logins = accepted_logins(&lab, "host02");
    assert_eq!(logins.len(), before + 1, "{logins:?}");
    let bastion_side = {
        let (net, last) = host02.rsplit_once('.').unwrap();
        format!("{net}.{}", last.parse::<u8>().unwrap() - 1)
    };
    assert!(
        logins
            .last()
            .unwrap()
            .contains(&format!("from {bastion_side} ")),
        "{logins:?}"
    );

    // Without the bastion the target cannot be reached at all from here...
    let inventory = write_file(
        &lab.dir,
        "direct.yaml",
        "all:\n  hosts:\n    host02-private:\n      ansible_ssh_common_args: -o ProxyJump=none\n",
    );
    let direct = lab.fleetprune_raw(&[
        "-F",
        config,
        "-i",
        inventory.to_str().unwrap(),
        "--connect-timeout",
        "5",
        "ping",
        "--output",
        "json",
    ]);
    assert_ne!(direct.status.code(), Some(0), "{}", stdout(&direct));
    let failed = json_host(&json(&direct), "host02-private").clone();
    assert_eq!(failed["status"], "failed", "{failed}");

    // ...and a ProxyCommand (OpenSSH's own `ssh -W` through the bastion) is followed too.
    let piped = write_file(
        &lab.dir,
        "piped.yaml",
        &format!(
            "all:\n  hosts:\n    host03-private:\n      ansible_ssh_common_args: \"-o ProxyCommand='ssh -F {config} -W %h:%p lab-bastion'\"\n"
        ),
    );
    let run = lab.fleetprune_raw(&[
        "-F",
        config,
        "-i",
        piped.to_str().unwrap(),
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));

    // Ansible's bastion pattern: no fleetprune -F, the hosts' own `-F FILE` in
    // ansible_ssh_common_args, as Terraform-generated inventories write it. Ansible itself (the
    // oracle) reaches them through the file; so does fleetprune, through the bastion.
    let ansible_inventory = write_file(
        &lab.dir,
        "dash-f.yaml",
        &format!(
            "all:\n  vars:\n    ansible_ssh_common_args: -F {config}\n  hosts:\n    host02-private:\n    host03-private:\n"
        ),
    );
    let ansible = Command::new("ansible")
        .args(["all", "-i"])
        .arg(&ansible_inventory)
        .args(["-m", "raw", "-a", "true"])
        .env("ANSIBLE_CONFIG", write_file(&lab.dir, "ansible.cfg", ""))
        .env("ANSIBLE_HOST_KEY_CHECKING", "true")
        .output()
        .expect("run ansible (lab/install-deps.sh installs ansible-core)");
    assert!(
        ansible.status.success(),
        "ansible through -F: {}{}",
        stdout(&ansible),
        stderr(&ansible)
    );
    let before = accepted_logins(&lab, "host02").len();
    let run = lab.fleetprune_raw(&[
        "-i",
        ansible_inventory.to_str().unwrap(),
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    for host in ["host02-private", "host03-private"] {
        assert_eq!(json_host(&report, host)["status"], "ok", "{report}");
    }
    let logins = accepted_logins(&lab, "host02");
    assert_eq!(logins.len(), before + 1, "{logins:?}");
    assert!(
        logins
            .last()
            .unwrap()
            .contains(&format!("from {bastion_side} ")),
        "{logins:?}"
    );

    // With the bastion down, hosts behind it fail naming it; none is reached some other way.
    let pid = std::fs::read_to_string(lab.dir.join("hosts/host01/sshd-private.pid")).unwrap();
    let killed = Command::new("kill").arg(pid.trim()).status().unwrap();
    assert!(killed.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = accepted_logins(&lab, "host02").len();
    let down = lab.fleetprune_raw(&[
        "-F",
        config,
        "-i",
        "host02-private,",
        "ping",
        "--output",
        "json",
    ]);
    assert_ne!(down.status.code(), Some(0), "{}", stdout(&down));
    let failed = json_host(&json(&down), "host02-private").clone();
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("jump host {bastion}:22: cannot connect")),
        "{failed}"
    );
    assert_eq!(failed["error"]["class"], "connect_refused", "{failed}");
    assert_eq!(accepted_logins(&lab, "host02").len(), before);
}
