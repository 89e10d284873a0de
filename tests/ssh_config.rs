//! OpenSSH client configuration, with OpenSSH itself as the oracle: `ssh -G` resolves a corpus
//! of hosts against a config, and `fleetprune inventory` must contact the same address, port
//! and user with the same key and host key policy, or refuse the host where it cannot honour an
//! option (a bastion, `ProxyCommand`, `Match exec`). Then an alias on the real lab.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Lab, json, json_host, stderr, write_file};

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
    UserKnownHostsFile /etc/fleet/known_hosts

Host behind-*
    ProxyJump bastion.example.net

Host piped
    ProxyCommand nc %h %p

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

const HOSTS: [&str; 12] = [
    "alias-web",
    "web-1",
    "web-9",
    "short-a",
    "tagged-1",
    "pinned",
    "behind-1",
    "piped",
    "first",
    "included",
    "plain",
    "WEB-2",
];

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

#[test]
fn hosts_resolve_as_ssh_dash_g_resolves_them_or_are_refused() {
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
    let home = std::env::var("HOME").unwrap_or_default();
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

    for host in HOSTS {
        let oracle = ssh_g(&config, host);
        let first = |key: &str| oracle[key][0].clone();
        let ours = json_host(&report, host);
        let refused = &ours["refused"];
        if oracle.contains_key("proxyjump") || oracle.contains_key("proxycommand") {
            assert!(
                !refused.is_null(),
                "{host}: a bastion must refuse the host: {ours}"
            );
            let option = refused["option"].as_str().unwrap();
            assert!(option.starts_with("Proxy"), "{host}: {refused}");
            assert!(
                refused["setting"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("ssh config {}:", config.display())),
                "{host}: {refused}"
            );
            continue;
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
        if host == "pinned" {
            assert_eq!(first("stricthostkeychecking"), "accept-new");
            assert_eq!(ours["host_key_checking"], "accept-new");
            assert_eq!(ours["known_hosts"], first("userknownhostsfile"));
        }
    }
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

#[test]
fn an_ssh_config_alias_reaches_its_lab_host_and_a_configured_bastion_is_never_bypassed() {
    let lab = Lab::start("sshconfig", 1, &[]);
    let config = write_file(
        &lab.dir,
        "ssh_config",
        &format!(
            "Host lab-alias\n    HostName 127.0.0.1\n    Port {port}\n    User fplab\n    IdentityFile {key}\n\nHost lab-behind\n    HostName 127.0.0.1\n    Port {port}\n    User fplab\n    IdentityFile {key}\n    ProxyJump fplab@127.0.0.1:1\n",
            port = lab.port("host01"),
            key = lab.key().display()
        ),
    );
    let run = lab.fleetprune_raw(&[
        "-F",
        config.to_str().unwrap(),
        "-i",
        "lab-alias,lab-behind,",
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let report = json(&run);
    let alias = json_host(&report, "lab-alias");
    assert_eq!(alias["status"], "ok", "{alias}");
    assert_eq!(
        alias["address"],
        format!("127.0.0.1:{}", lab.port("host01"))
    );
    let behind = json_host(&report, "lab-behind");
    assert_eq!(behind["status"], "failed");
    let message = behind["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ProxyJump") && message.contains("ssh config"),
        "{message}"
    );
    // Refused before contact: the host key was never even looked at.
    assert!(behind["host_key"].is_null(), "{behind}");
}
