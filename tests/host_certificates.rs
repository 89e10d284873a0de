//! Host keys as OpenSSH trusts them, on a real lab sshd with OpenSSH's `ssh` as the oracle:
//! host certificates signed by a `@cert-authority` (valid, wrong principal, expired, revoked CA),
//! a key found only in the global known_hosts file, and keys learnt with `accept-new` recorded
//! under hashed names when `HashKnownHosts yes`; `ping --print-host-keys` beside `ssh-keyscan`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Lab, json, json_host, stderr, write_file};

fn ssh_keygen(args: &[&str]) {
    let output = Command::new("ssh-keygen").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "ssh-keygen {args:?}: {}",
        stderr(&output)
    );
}

/// Signs host01's host key with `ca` for `principal`, valid `validity`, and makes its sshd
/// present the certificate (SIGHUP: sshd re-executes and rereads its configuration).
fn certify(lab: &Lab, ca: &Path, principal: &str, validity: &str) {
    let hostdir = lab.dir.join("hosts/host01");
    let key = hostdir.join("ssh_host_ed25519_key.pub");
    ssh_keygen(&[
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "host01",
        "-h",
        "-n",
        principal,
        "-V",
        validity,
        key.to_str().unwrap(),
    ]);
    let config = hostdir.join("sshd_config");
    let text = std::fs::read_to_string(&config).unwrap();
    if !text.contains("HostCertificate") {
        let cert = hostdir.join("ssh_host_ed25519_key-cert.pub");
        std::fs::write(
            &config,
            format!("{text}HostCertificate {}\n", cert.display()),
        )
        .unwrap();
    }
    let pid = std::fs::read_to_string(hostdir.join("sshd.pid")).unwrap();
    assert!(
        Command::new("kill")
            .args(["-HUP", pid.trim()])
            .status()
            .unwrap()
            .success()
    );
    // Until the re-executed sshd listens again.
    let port = lab.port("host01");
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
    }
    panic!("host01's sshd did not come back after SIGHUP");
}

/// `ssh` with only `known_hosts` trusted; whether the login worked, and its stderr.
fn ssh_oracle(lab: &Lab, known_hosts: &Path) -> (bool, String) {
    let output = Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-i")
        .arg(lab.key())
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .args([
            "-p",
            &lab.port("host01").to_string(),
            "fplab@127.0.0.1",
            "true",
        ])
        .output()
        .unwrap();
    (output.status.success(), stderr(&output))
}

/// `fleetprune ping --output json` of the lab with only `known_hosts` trusted and `config` as
/// the ssh config, plus `extra` options.
fn ping_run(lab: &Lab, known_hosts: &Path, config: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--known-hosts",
        known_hosts.to_str().unwrap(),
        "-F",
        config.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let inventory = lab.inventory();
    args.extend_from_slice(&[
        "-i",
        inventory.to_str().unwrap(),
        "ping",
        "--output",
        "json",
    ]);
    common::fleetprune(&args)
}

/// `fleetprune ping` of host01 with only `known_hosts` trusted; the host's JSON row.
fn ping(lab: &Lab, known_hosts: &Path) -> serde_json::Value {
    let config = write_file(&lab.dir, "empty_ssh_config", "");
    json_host(&json(&ping_run(lab, known_hosts, &config, &[])), "host01").clone()
}

fn ca_line(lab: &Lab, marker: &str, ca: &Path) -> String {
    let ca_pub = std::fs::read_to_string(PathBuf::from(format!("{}.pub", ca.display()))).unwrap();
    format!(
        "{marker} [127.0.0.1]:{} {}\n",
        lab.port("host01"),
        ca_pub.trim()
    )
}

#[test]
fn host_certificates_are_trusted_through_their_authority_as_ssh_trusts_them() {
    let lab = Lab::start("hostcert", 1, &[]);
    let ca = lab.dir.join("host_ca");
    ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-f", ca.to_str().unwrap()]);
    let only_ca = write_file(
        &lab.dir,
        "ca_known_hosts",
        &ca_line(&lab, "@cert-authority", &ca),
    );

    // A valid certificate for 127.0.0.1: no plain key is known, the authority vouches for it.
    certify(&lab, &ca, "127.0.0.1", "-5m:+1h");
    assert!(
        ssh_oracle(&lab, &only_ca).0,
        "ssh: {}",
        ssh_oracle(&lab, &only_ca).1
    );
    let row = ping(&lab, &only_ca);
    assert_eq!(row["status"], "ok", "{row}");
    assert_eq!(row["host_key"]["status"], "certified", "{row}");

    // Signed for another name: both refuse.
    certify(&lab, &ca, "build-07.example", "-5m:+1h");
    assert!(!ssh_oracle(&lab, &only_ca).0);
    let row = ping(&lab, &only_ca);
    assert_eq!(row["error"]["class"], "host_certificate_invalid", "{row}");
    assert!(
        row["error"]["message"]
            .as_str()
            .unwrap()
            .contains("names build-07.example, not 127.0.0.1"),
        "{row}"
    );

    // Expired: both refuse.
    certify(&lab, &ca, "127.0.0.1", "20200101:20200102");
    assert!(!ssh_oracle(&lab, &only_ca).0);
    let row = ping(&lab, &only_ca);
    assert_eq!(row["error"]["class"], "host_certificate_invalid", "{row}");
    assert!(
        row["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{row}"
    );

    // A revoked authority: both refuse, even with a valid certificate.
    certify(&lab, &ca, "127.0.0.1", "-5m:+1h");
    let revoked = write_file(
        &lab.dir,
        "revoked_known_hosts",
        &format!(
            "{}{}",
            ca_line(&lab, "@cert-authority", &ca),
            ca_line(&lab, "@revoked", &ca)
        ),
    );
    assert!(!ssh_oracle(&lab, &revoked).0);
    let row = ping(&lab, &revoked);
    assert_eq!(row["error"]["class"], "host_key_revoked", "{row}");

    // Another authority's line does not vouch for this certificate.
    let other = lab.dir.join("other_ca");
    ssh_keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        other.to_str().unwrap(),
    ]);
    let wrong_ca = write_file(
        &lab.dir,
        "other_known_hosts",
        &ca_line(&lab, "@cert-authority", &other),
    );
    assert!(!ssh_oracle(&lab, &wrong_ca).0);
    let row = ping(&lab, &wrong_ca);
    assert_eq!(row["error"]["class"], "host_key_unknown", "{row}");
}

#[test]
fn global_known_hosts_hashed_appends_and_host_key_aliases_work_as_in_ssh() {
    let lab = Lab::start("knownhosts", 1, &[]);
    // The key only in a global file (GlobalKnownHostsFile), the user file empty.
    let global = write_file(
        &lab.dir,
        "global_known_hosts",
        &std::fs::read_to_string(lab.known_hosts()).unwrap(),
    );
    let empty = write_file(&lab.dir, "user_known_hosts", "");
    let config = write_file(
        &lab.dir,
        "ssh_config",
        &format!(
            "Host *\n  GlobalKnownHostsFile {}\n  HashKnownHosts yes\n",
            global.display()
        ),
    );
    let run = ping_run(&lab, &empty, &config, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(
        json_host(&json(&run), "host01")["host_key"]["status"],
        "verified"
    );

    // accept-new with HashKnownHosts yes: the name is hashed, and ssh trusts the line.
    let learnt = write_file(&lab.dir, "learnt_known_hosts", "");
    let no_global = write_file(
        &lab.dir,
        "hash_config",
        "Host *\n  HashKnownHosts yes\n  GlobalKnownHostsFile /dev/null\n",
    );
    let run = ping_run(
        &lab,
        &learnt,
        &no_global,
        &["--host-key-checking", "accept-new"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert_eq!(
        json_host(&json(&run), "host01")["host_key"]["status"],
        "added"
    );
    let text = std::fs::read_to_string(&learnt).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    assert!(!text.contains("127.0.0.1"), "{text}");
    let (ok, why) = ssh_oracle(&lab, &learnt);
    assert!(ok, "ssh does not trust the hashed line: {why}");

    // HostKeyAlias: the key is looked up under the alias, not the address.
    let known = std::fs::read_to_string(lab.known_hosts()).unwrap();
    let key = known.split_once(' ').unwrap().1;
    let aliased = write_file(
        &lab.dir,
        "aliased_known_hosts",
        &format!("farm-alias {key}"),
    );
    let alias_config = write_file(
        &lab.dir,
        "alias_config",
        "Host *\n  HostKeyAlias farm-alias\n  GlobalKnownHostsFile /dev/null\n",
    );
    let run = ping_run(&lab, &aliased, &alias_config, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let oracle = Command::new("ssh")
        .args(["-F", alias_config.to_str().unwrap(), "-o", "BatchMode=yes"])
        .arg("-i")
        .arg(lab.key())
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", aliased.display()))
        .args([
            "-p",
            &lab.port("host01").to_string(),
            "fplab@127.0.0.1",
            "true",
        ])
        .output()
        .unwrap();
    assert!(oracle.status.success(), "ssh: {}", stderr(&oracle));
}

#[test]
fn print_host_keys_prints_what_ssh_keyscan_prints_and_the_lines_pin_the_hosts() {
    let lab = Lab::start("keyscan", 2, &[]);
    let empty = write_file(&lab.dir, "empty_known_hosts", "");
    let scan = common::fleetprune(&[
        "--known-hosts",
        empty.to_str().unwrap(),
        "-F",
        "/dev/null",
        "-i",
        lab.inventory().to_str().unwrap(),
        "ping",
        "--print-host-keys",
    ]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let ours = String::from_utf8(scan.stdout).unwrap();
    // The oracle.
    let mut theirs = String::new();
    for host in ["host01", "host02"] {
        let keyscan = Command::new("ssh-keyscan")
            .args([
                "-t",
                "ed25519",
                "-p",
                &lab.port(host).to_string(),
                "127.0.0.1",
            ])
            .output()
            .unwrap();
        theirs.push_str(&String::from_utf8(keyscan.stdout).unwrap());
    }
    assert_eq!(ours, theirs);
    assert!(
        std::fs::read_to_string(&empty).unwrap().is_empty(),
        "nothing is written"
    );
    // The printed lines pin the hosts.
    let pinned = write_file(&lab.dir, "pinned_known_hosts", &ours);
    let run = common::fleetprune(&[
        "--known-hosts",
        pinned.to_str().unwrap(),
        "-F",
        "/dev/null",
        "-i",
        lab.inventory().to_str().unwrap(),
        "ping",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}
