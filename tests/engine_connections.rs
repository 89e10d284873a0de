//! An ops laptop's existing engine endpoints as a fleet: `-i docker-contexts:` against the
//! docker CLI's own `docker context ls` (the oracle; the docker.io client is installed by
//! lab/install-deps.sh), `-i podman-connections:` on Podman's connections file, and
//! `docker_socket: auto` finding a per-user socket on a lab host.

mod common;

use std::process::Command;

use common::{json, json_host, stderr};

/// What `fleetprune inventory` says of one host: (address, port, user, socket, identity).
fn resolved(report: &serde_json::Value, name: &str) -> (String, u64, String, String, String) {
    let host = json_host(report, name);
    (
        host["address"].as_str().unwrap().to_string(),
        host["port"].as_u64().unwrap(),
        host["user"].as_str().unwrap().to_string(),
        host["docker_socket"].as_str().unwrap().to_string(),
        host["identity"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn docker_contexts_with_ssh_endpoints_are_the_fleet_docker_context_ls_lists() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("docker-config");
    let docker = |args: &[&str]| {
        let output = Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("run the docker CLI (lab/install-deps.sh installs docker.io's client)");
        assert!(
            output.status.success(),
            "docker {args:?}: {}",
            stderr(&output)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    for (name, host) in [
        ("build-1", "ssh://ops@10.0.0.5:2222"),
        ("local", "unix:///var/run/docker.sock"),
    ] {
        docker(&[
            "context",
            "create",
            name,
            "--docker",
            &format!("host={host}"),
        ]);
    }
    // A socket path in an ssh:// context: docker 23+ creates it; 20.10's CLI refuses to create
    // but lists it, so it is written as docker writes it (meta/sha256(name)/meta.json).
    let rootless = config
        .join("contexts/meta/12b961af5feb3e9d39f93b2cefb9a1a944f18d02cca0cac2f04f5a982240605f");
    std::fs::create_dir_all(&rootless).unwrap();
    std::fs::write(
        rootless.join("meta.json"),
        r#"{"Name":"rootless","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://dev@10.0.0.6/run/user/1000/docker.sock","SkipTLSVerify":false}}}"#,
    )
    .unwrap();
    let run = common::fleetprune_command(&[
        "-F",
        "/dev/null",
        "-i",
        "docker-contexts:",
        "inventory",
        "--output",
        "json",
    ])
    .env("DOCKER_CONFIG", &config)
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let ours: Vec<&str> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    // The oracle: every context docker lists with an ssh:// endpoint, in its order (`{{json .}}`
    // rather than `json`, which docker 20.10 does not know).
    let mut theirs = Vec::new();
    for line in docker(&["context", "ls", "--format", "{{json .}}"]).lines() {
        let context: serde_json::Value = serde_json::from_str(line).unwrap();
        let endpoint = context["DockerEndpoint"].as_str().unwrap();
        if endpoint.starts_with("ssh://") {
            theirs.push(context["Name"].as_str().unwrap().to_string());
            assert_eq!(
                json_host(&report, context["Name"].as_str().unwrap())["groups"],
                serde_json::json!(["all", "docker_contexts"])
            );
        }
    }
    assert_eq!(ours, theirs);
    assert_eq!(
        resolved(&report, "build-1"),
        (
            "10.0.0.5".into(),
            2222,
            "ops".into(),
            "/var/run/docker.sock".into(),
            String::new()
        )
    );
    assert_eq!(
        resolved(&report, "rootless"),
        (
            "10.0.0.6".into(),
            22,
            "dev".into(),
            "/run/user/1000/docker.sock".into(),
            String::new()
        )
    );
}

#[test]
fn podman_connections_are_a_fleet_with_their_keys_beside_other_sources() {
    let fixture = common::repo_root().join("tests/fixtures/engine-connections");
    let dir = tempfile::tempdir().unwrap();
    let config_home = dir.path().join("xdg");
    std::fs::create_dir_all(config_home.join("containers")).unwrap();
    std::fs::copy(
        fixture.join("podman-connections.json"),
        config_home.join("containers/podman-connections.json"),
    )
    .unwrap();
    let empty_docker = dir.path().join("no-docker-config");
    let inventory = common::write_file(dir.path(), "extra.yaml", "all:\n  hosts:\n    extra-1:\n");
    let run = common::fleetprune_command(&[
        "-F",
        "/dev/null",
        "-i",
        "podman-connections:",
        "-i",
        "docker-contexts:",
        "-i",
        inventory.to_str().unwrap(),
        "inventory",
        "--output",
        "json",
    ])
    .env("XDG_CONFIG_HOME", &config_home)
    .env_remove("PODMAN_CONNECTIONS_CONF")
    .env("DOCKER_CONFIG", &empty_docker)
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report = json(&run);
    let names: Vec<&str> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["farm-root", "farm-rootless", "extra-1"]);
    assert_eq!(
        resolved(&report, "farm-rootless"),
        (
            "10.0.0.7".into(),
            2222,
            "dev".into(),
            "/run/user/1000/podman/podman.sock".into(),
            "/keys/farm".into()
        )
    );
    assert_eq!(resolved(&report, "farm-root").3, "/run/podman/podman.sock");

    // PODMAN_CONNECTIONS_CONF names the file outright; a broken one stops the run naming it.
    let broken = common::write_file(
        dir.path(),
        "broken.json",
        "{\"Connection\": {\"Connections\": 3}}",
    );
    let run = common::fleetprune_command(&["-i", "podman-connections:", "inventory"])
        .env("PODMAN_CONNECTIONS_CONF", &broken)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!("{}: invalid type", broken.display())),
        "{}",
        stderr(&run)
    );
}

/// `docker_socket: auto` on the lab: a host whose engine listens only at the rootless path
/// (`/run/user/UID/docker.sock` of the login user) is found there, a host at the usual path
/// stays there, and without `auto` the moved socket is not looked for (auto is opt-in); an
/// `ssh://user@host:port/socket` given to `-i` reaches it too.
#[test]
fn docker_socket_auto_finds_an_engine_listening_only_at_the_rootless_path() {
    let lab = common::Lab::start("sockauto", 2, &[]);
    let uid = Command::new("id").args(["-u", "fplab"]).output().unwrap();
    assert!(uid.status.success(), "id -u fplab: {}", stderr(&uid));
    let uid = String::from_utf8(uid.stdout).unwrap().trim().to_string();
    // The host's /run is DIR/hosts/NAME/run (lab/up.sh): move its socket to the rootless path.
    let run = lab.dir.join("hosts/host01/run");
    let user_dir = run.join(format!("user/{uid}"));
    std::fs::create_dir_all(&user_dir).unwrap();
    let chown = Command::new("chown")
        .arg(&uid)
        .arg(&user_dir)
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::rename(run.join("docker.sock"), user_dir.join("docker.sock")).unwrap();

    let inventory = std::fs::read_to_string(lab.inventory()).unwrap();
    let auto = common::write_file(
        &lab.dir,
        "auto.yaml",
        &inventory.replacen(
            "  vars:\n",
            "  vars:\n    fleetprune: { docker_socket: auto }\n",
            1,
        ),
    );
    let found = lab.fleetprune_raw(&["-i", auto.to_str().unwrap(), "ping", "--output", "json"]);
    assert_eq!(found.status.code(), Some(0), "{}", stderr(&found));
    let report = json(&found);
    let host01 = json_host(&report, "host01");
    assert_eq!(host01["status"], "ok", "{host01}");
    assert_eq!(
        host01["docker_socket"],
        format!("/run/user/{uid}/docker.sock")
    );
    assert_eq!(
        json_host(&report, "host02")["docker_socket"],
        "/var/run/docker.sock"
    );

    // The table says it too, beside the transport (both hosts use auto).
    let table = lab.fleetprune_raw(&["-i", auto.to_str().unwrap(), "ping"]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let table = common::stdout(&table);
    let row = table.lines().find(|l| l.contains("host01")).unwrap();
    assert!(
        row.contains(&format!(" /run/user/{uid}/docker.sock")),
        "{table}"
    );
    let row = table.lines().find(|l| l.contains("host02")).unwrap();
    assert!(row.contains(" /var/run/docker.sock"), "{table}");

    // Docker's own form names the same socket, straight from the command line.
    let url = format!(
        "ssh://fplab@127.0.0.1:{}/run/user/{uid}/docker.sock",
        lab.port("host01")
    );
    let by_url = lab.fleetprune_raw(&[
        "-F",
        "/dev/null",
        "--identity",
        lab.key().to_str().unwrap(),
        "-i",
        &url,
        "ping",
        "--output",
        "json",
    ]);
    assert_eq!(by_url.status.code(), Some(0), "{}", stderr(&by_url));
    assert_eq!(json_host(&json(&by_url), &url)["status"], "ok");

    let named = lab.fleetprune(&["ping", "--output", "json"]);
    assert_ne!(named.status.code(), Some(0));
    let report = json(&named);
    assert_eq!(json_host(&report, "host01")["status"], "failed");
    assert!(json_host(&report, "host01").get("docker_socket").is_none());
    assert_eq!(json_host(&report, "host02")["status"], "ok");
}
