//! On the real lab fleet: an INI inventory whose connection settings and prune plan come from
//! `group_vars/` and `host_vars/` runs exactly as its YAML twin does.

mod common;

use common::{Lab, fleetprune, json, json_host, stderr, write_file};

/// The lab's login user, as lab/up.sh wrote it into its YAML inventory.
fn lab_user(lab: &Lab) -> String {
    let text = std::fs::read_to_string(lab.inventory()).expect("lab inventory");
    text.lines()
        .find_map(|line| line.trim().strip_prefix("ansible_user: "))
        .expect("ansible_user in the lab inventory")
        .to_string()
}

#[test]
fn ini_inventory_with_vars_files_prunes_like_its_yaml_twin() {
    let lab = Lab::start("ini-twin", 2, &[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let user = lab_user(&lab);
    let key = lab.key().display().to_string();
    let (port1, port2) = (lab.port("host01"), lab.port("host02"));

    // INI: ports from host_vars/ and from the host name, user, key and plan from group_vars/.
    let ini = dir.path().join("ini");
    std::fs::create_dir_all(ini.join("group_vars")).unwrap();
    std::fs::create_dir_all(ini.join("host_vars")).unwrap();
    write_file(
        &ini,
        "hosts",
        &format!("[lab]\nhost01 ansible_host=127.0.0.1\nhost02:{port2} ansible_host=127.0.0.1\n"),
    );
    write_file(
        &ini.join("group_vars"),
        "all.yml",
        &format!(
            "ansible_user: {user}\nansible_ssh_private_key_file: {key}\nfleetprune:\n  prune:\n    containers: true\n    images: {{ all: true }}\n"
        ),
    );
    write_file(
        &ini.join("host_vars"),
        "host01",
        &format!("ansible_port: {port1}\n"),
    );
    let yaml = write_file(
        dir.path(),
        "twin.yml",
        &format!(
            "all:\n  vars:\n    ansible_user: {user}\n    ansible_ssh_private_key_file: {key}\n    fleetprune:\n      prune:\n        containers: true\n        images: {{ all: true }}\n  children:\n    lab:\n      hosts:\n        host01: {{ ansible_host: 127.0.0.1, ansible_port: {port1} }}\n        \"host02:{port2}\": {{ ansible_host: 127.0.0.1 }}\n"
        ),
    );
    let known_hosts = lab.known_hosts().display().to_string();
    let run = |source: &str, args: &[&str]| {
        let mut all = vec![
            "-i",
            source,
            "--known-hosts",
            &known_hosts,
            "--output",
            "json",
        ];
        all.extend_from_slice(args);
        fleetprune(&all)
    };
    let ini_source = ini.join("hosts").display().to_string();
    let yaml_source = yaml.display().to_string();

    let resolved = |source: &str| {
        let output = run(source, &["inventory"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        json(&output)["hosts"].clone()
    };
    assert_eq!(resolved(&ini_source), resolved(&yaml_source));

    // The INI inventory prunes host01, its YAML twin host02: same plan, same result.
    let ini_run = run(&ini_source, &["prune", "--yes", "--limit", "host01"]);
    assert_eq!(ini_run.status.code(), Some(0), "{}", stderr(&ini_run));
    let yaml_run = run(&yaml_source, &["prune", "--yes", "--limit", "host02"]);
    assert_eq!(yaml_run.status.code(), Some(0), "{}", stderr(&yaml_run));
    let (ini_report, yaml_report) = (json(&ini_run), json(&yaml_run));
    let (one, two) = (
        json_host(&ini_report, "host01"),
        json_host(&yaml_report, "host02"),
    );
    assert_eq!(one["status"], "ok");
    assert_eq!(two["status"], "ok");
    assert_eq!(one["address"], format!("127.0.0.1:{port1}"));
    assert_eq!(two["address"], format!("127.0.0.1:{port2}"));
    assert_eq!(
        ini_report["totals"]["reclaimed_bytes"],
        yaml_report["totals"]["reclaimed_bytes"]
    );
    assert_eq!(lab.image_tags("host01"), lab.image_tags("host02"));
    assert_eq!(lab.container_names("host01"), lab.container_names("host02"));
    assert_eq!(lab.image_tags("host01"), ["lab/inuse-running:1"]);
}
