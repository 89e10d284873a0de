//! The packages users install, proved on the lab: the .deb of `packaging/deb.sh` installed with
//! `dpkg -i` into a clean Debian 12 root filesystem (an overlay of the one
//! `packaging/debian-rootfs.sh` caches), where `fleetprune --version`, `man fleetprune`, a bash
//! completion and a `ping` of a lab host run; and the image of `packaging/image.sh` built into a
//! lab host's engine, running the Kubernetes Indexed Job of `examples/kubernetes/cronjob.yaml` as
//! Kubernetes would (a rehearsal: one container per JOB_COMPLETION_INDEX, no Kubernetes here)
//! against lab hosts it reaches over a real network (`lab/bastion.sh`'s links), whose merged
//! report must equal one unsharded run's. Both package the binary under test (`--binary`), so
//! no release build is made here.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Lab, lines, repo_root, stderr, stdout, write_file};
use serde_json::Value;

/// Where `packaging/debian-rootfs.sh clean` keeps the clean Debian 12 root filesystem.
const CLEAN_ROOTFS: &str = "/var/cache/fleetprune-lab/rootfs/clean/rootfs";
/// The image's unprivileged user (packaging/Containerfile).
const IMAGE_UID: u32 = 10001;

fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed (exit {:?}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

fn crate_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A throwaway overlay of the clean Debian 12 rootfs, entered once per command through a private
/// mount namespace, so nothing is mounted on the machine and the cached rootfs stays clean.
struct CleanDebian {
    dir: tempfile::TempDir,
    /// Bind-mounted at the same path inside (the lab's inventory, key and known_hosts).
    shared: PathBuf,
}

impl CleanDebian {
    fn new(shared: &Path) -> CleanDebian {
        if !Path::new(CLEAN_ROOTFS).join("usr/bin/man").exists() {
            run(
                Command::new("bash")
                    .arg(repo_root().join("packaging/debian-rootfs.sh"))
                    .arg("clean"),
                "packaging/debian-rootfs.sh clean",
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["upper", "work", "root"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        CleanDebian {
            dir,
            shared: shared.to_path_buf(),
        }
    }

    /// Runs `script` with /bin/sh inside the rootfs, as root.
    fn sh(&self, script: &str) -> Output {
        let setup = r#"set -e
            mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root"
            mount -t proc proc "$2/root/proc"
            mount --rbind /dev "$2/root/dev"
            mkdir -p "$2/root$3"
            mount --bind "$3" "$2/root$3"
            exec chroot "$2/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                /bin/sh -c "$4""#;
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "bash", "-c"])
            .arg(setup)
            .arg("clean-debian")
            .arg(CLEAN_ROOTFS)
            .arg(self.dir.path())
            .arg(&self.shared)
            .arg(script)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run unshare")
    }

    fn sh_ok(&self, script: &str) -> String {
        let output = self.sh(script);
        assert!(
            output.status.success(),
            "in the clean Debian 12 rootfs, `{script}` failed (exit {:?}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status.code(),
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }
}

#[test]
fn deb_installs_in_clean_debian_12_with_man_page_completions_and_units_and_pings_a_lab_host() {
    let lab = Lab::start("packaging-deb", 1, &[]);
    let out = tempfile::tempdir().expect("tempdir");
    let built = run(
        Command::new("bash")
            .arg(repo_root().join("packaging/deb.sh"))
            .args([
                "--fast",
                "--binary",
                env!("CARGO_BIN_EXE_fleetprune"),
                "--out",
            ])
            .arg(out.path()),
        "packaging/deb.sh",
    );
    let deb = PathBuf::from(stdout(&built).trim());
    let arch = stdout(&run(
        Command::new("dpkg").arg("--print-architecture"),
        "dpkg",
    ));
    assert_eq!(
        deb.file_name().unwrap().to_str().unwrap(),
        format!("fleetprune_{}-1_{}.deb", crate_version(), arch.trim())
    );

    // lintian: no error or warning left unanswered (the answers are the package's overrides).
    let lint = run(
        Command::new("lintian")
            .args(["--fail-on", "error,warning"])
            .arg(&deb),
        "lintian",
    );
    assert!(stdout(&lint).trim().is_empty(), "{}", stdout(&lint));

    let debian = CleanDebian::new(&lab.dir);
    std::fs::copy(&deb, lab.dir.join("fleetprune.deb")).expect("copy the .deb");
    assert!(
        debian
            .sh("command -v fleetprune")
            .status
            .code()
            .is_some_and(|c| c != 0),
        "the clean rootfs already has a fleetprune"
    );
    debian.sh_ok(&format!("dpkg -i {}/fleetprune.deb", lab.dir.display()));

    let version = debian.sh_ok("fleetprune --version");
    assert!(
        version.starts_with(&format!("fleetprune {}", crate_version())),
        "{version}"
    );
    let man = debian.sh_ok("MANPAGER=cat MANWIDTH=100 man fleetprune");
    assert!(man.contains("fleetprune"), "{man}");
    assert!(man.contains("--inventory"), "{man}");
    // bash-completion's own loader finds the completion by command name, as an interactive shell
    // does on the first TAB; the candidates after `fleetprune pi` are the subcommand `ping`.
    write_file(
        &lab.dir,
        "complete.bash",
        r#". /usr/share/bash-completion/bash_completion
__load_completion fleetprune
function=$(complete -p fleetprune | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_WORDS=(fleetprune pi) COMP_CWORD=1 COMP_LINE="fleetprune pi" COMP_POINT=13
"$function" fleetprune pi fleetprune
printf '%s\n' "${COMPREPLY[@]}"
"#,
    );
    let completion = debian.sh_ok(&format!("bash {}/complete.bash", lab.dir.display()));
    assert_eq!(lines(&completion), ["ping"], "{completion}");
    for path in [
        "/usr/share/zsh/vendor-completions/_fleetprune",
        "/usr/share/fish/vendor_completions.d/fleetprune.fish",
        "/usr/share/doc/fleetprune/examples/example.yaml",
        "/etc/fleetprune/fleetprune.env",
        "/etc/fleetprune/inventory.yaml",
    ] {
        debian.sh_ok(&format!("test -s {path}"));
    }
    let conffiles = debian.sh_ok("dpkg-query -W -f='${Conffiles}' fleetprune");
    assert!(
        conffiles.contains("/etc/fleetprune/fleetprune.env"),
        "{conffiles}"
    );
    // The units are installed, and nothing enabled them.
    let units = debian.sh_ok("ls /lib/systemd/system/fleetprune.*");
    assert_eq!(
        lines(&units),
        [
            "/lib/systemd/system/fleetprune.service",
            "/lib/systemd/system/fleetprune.timer"
        ]
    );
    let enabled = debian.sh_ok("ls /etc/systemd/system/timers.target.wants 2>/dev/null || true");
    assert!(!enabled.contains("fleetprune"), "{enabled}");
    // The package's inventory is one fleetprune reads, with no hosts until the admin adds them.
    let empty = debian.sh("fleetprune inventory -i /etc/fleetprune/inventory.yaml");
    assert_eq!(
        stderr(&empty).trim(),
        "fleetprune: /etc/fleetprune/inventory.yaml: the inventory defines no hosts"
    );

    // A lab host, from the installed binary: the chroot shares the machine's network namespace,
    // where the lab's sshd listen.
    let ping = debian.sh_ok(&format!(
        "fleetprune ping -i {} --known-hosts {}",
        lab.inventory().display(),
        lab.known_hosts().display()
    ));
    assert!(
        ping.lines()
            .any(|l| l.starts_with("host01") && l.contains(" ok ")),
        "{ping}"
    );
}

#[test]
fn deb_units_pass_systemd_analyze_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = repo_root().join("packaging/debian");
    let service = std::fs::read_to_string(source.join("fleetprune.service")).expect("service");
    // systemd checks that the program exists: the fleetprune just built stands in for /usr/bin's.
    write_file(
        dir.path(),
        "fleetprune.service",
        &service.replace("/usr/bin/fleetprune", env!("CARGO_BIN_EXE_fleetprune")),
    );
    std::fs::copy(
        source.join("fleetprune.timer"),
        dir.path().join("fleetprune.timer"),
    )
    .expect("timer");
    // --man=no: Documentation=man:fleetprune(1) is the package's page, not on this machine.
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(["fleetprune.service", "fleetprune.timer"].map(|u| dir.path().join(u)))
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .expect("systemd-analyze is installed (lab/install-deps.sh)");
    let messages = stderr(&output);
    assert!(
        output.status.success(),
        "systemd-analyze verify: {messages}"
    );
    assert!(
        !messages.contains("fleetprune"),
        "systemd-analyze verify: {messages}"
    );
}

/// The Indexed Job's container of examples/kubernetes/cronjob.yaml: image, args, mount paths by
/// volume name.
struct IndexedJob {
    image: String,
    args: Vec<String>,
    completions: usize,
    mounts: Vec<(String, String)>,
}

fn indexed_job() -> IndexedJob {
    let text = std::fs::read_to_string(repo_root().join("examples/kubernetes/cronjob.yaml"))
        .expect("cronjob.yaml");
    let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("cronjob.yaml parses");
    let cron = documents
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("a CronJob");
    let job = &cron["spec"]["jobTemplate"]["spec"];
    let container = &job["template"]["spec"]["containers"][0];
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|a| a.as_str().expect("a string").to_string())
            .collect()
    };
    IndexedJob {
        image: container["image"].as_str().expect("image").to_string(),
        args: strings(&container["args"]),
        completions: usize::try_from(job["completions"].as_u64().expect("completions"))
            .expect("small"),
        mounts: container["volumeMounts"]
            .as_array()
            .expect("volumeMounts")
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().expect("name").to_string(),
                    m["mountPath"].as_str().expect("mountPath").to_string(),
                )
            })
            .collect(),
    }
}

/// `fleetprune report`'s table without its first line (which names the files and times).
fn merged_table(report: &str) -> String {
    report.lines().skip(1).collect::<Vec<_>>().join("\n")
}

#[test]
fn image_runs_the_kubernetes_indexed_job_against_lab_hosts_and_its_shards_merge_like_one_run() {
    // host01 is the node: its engine runs the containers, in its network namespace, which
    // lab/bastion.sh links to host02..host04's (their second sshd, on 10.X.Y.Z:22). The lab's
    // usual sshd listen on the machine's 127.0.0.1, which no namespace of a lab host reaches.
    let lab = Lab::start("packaging-image", 4, &[]);
    run(
        Command::new("bash")
            .arg(repo_root().join("lab/bastion.sh"))
            .arg(&lab.dir)
            .args(["host01", "host02", "host03", "host04"]),
        "lab/bastion.sh",
    );
    let env = std::fs::read_to_string(lab.dir.join("bastion/env")).expect("bastion/env");
    let address = |host: &str| -> String {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("TARGET_{host}=")))
            .unwrap_or_else(|| panic!("no address of {host} in bastion/env"))
            .to_string()
    };
    let socket = format!("unix://{}/hosts/host01/run/docker.sock", lab.dir.display());
    let built = run(
        Command::new("bash")
            .arg(repo_root().join("packaging/image.sh"))
            .arg(&socket)
            .args(["--binary", env!("CARGO_BIN_EXE_fleetprune")]),
        "packaging/image.sh",
    );
    let image = format!("fleetprune:{}", crate_version());
    assert_eq!(stdout(&built).trim(), image);
    let user = lab.docker(
        "host01",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/usr/bin/id",
            &image,
            "-u",
        ],
    );
    assert_eq!(
        user.trim(),
        IMAGE_UID.to_string(),
        "the image runs as non-root"
    );

    // The manifest's image name, as the docs have users tag and push it.
    let job = indexed_job();
    assert!(
        job.image
            .ends_with(&format!("/fleetprune:{}", crate_version())),
        "{}",
        job.image
    );
    lab.docker("host01", &["tag", &image, &job.image]);

    // The volumes: a ConfigMap's inventory (the lab's targets, with the ConfigMap's plan but no
    // `until`, which would spare a freshly seeded lab), the Secret's key and known_hosts
    // readable by the pod's fsGroup only, and the reports volume.
    let volumes = tempfile::tempdir().expect("tempdir");
    let inventory = volumes.path().join("inventory");
    let ssh = volumes.path().join("ssh");
    let reports = volumes.path().join("reports");
    for dir in [&inventory, &ssh, &reports] {
        std::fs::create_dir(dir).expect("mkdir");
    }
    let targets = ["host02", "host03", "host04"];
    let mut yaml = String::from(
        "all:\n  vars:\n    ansible_user: fplab\n    ansible_port: 22\n    fleetprune:\n      prune:\n        containers: true\n        images: { all: true }\n        filter: [label!=keep=true]\n  hosts:\n",
    );
    for host in targets {
        yaml.push_str(&format!(
            "    {host}: {{ ansible_host: {} }}\n",
            address(host)
        ));
    }
    write_file(&inventory, "inventory.yaml", &yaml);
    std::fs::copy(lab.key(), ssh.join("id_ed25519")).expect("key");
    let known: String = std::fs::read_to_string(lab.known_hosts())
        .expect("known_hosts")
        .lines()
        .filter(|l| l.starts_with("10."))
        .map(|l| format!("{l}\n"))
        .collect();
    write_file(&ssh, "known_hosts", &known);
    run(
        Command::new("chown")
            .arg("-R")
            .arg(format!("0:{IMAGE_UID}"))
            .arg(&ssh),
        "chown",
    );
    run(
        Command::new("chmod")
            .arg("0440")
            .arg(ssh.join("id_ed25519"))
            .arg(ssh.join("known_hosts")),
        "chmod",
    );
    run(
        Command::new("chown")
            .arg(format!("{IMAGE_UID}:{IMAGE_UID}"))
            .arg(&reports),
        "chown",
    );
    let source_of = |volume: &str| -> &Path {
        match volume {
            "inventory" => &inventory,
            "ssh" => &ssh,
            "reports" => &reports,
            other => panic!("a volume the rehearsal does not provide: {other}"),
        }
    };
    let docker_run = |env: &[(&str, String)], args: &[String]| -> Command {
        let mut command = Command::new("bash");
        command
            .arg(repo_root().join("lab/docker.sh"))
            .arg(&lab.dir)
            .arg("host01")
            .args(["run", "--rm", "--network", "host"]);
        for (volume, path) in &job.mounts {
            command.arg("-v").arg(format!(
                "{}:{path}{}",
                source_of(volume).display(),
                if volume == "reports" { "" } else { ":ro" }
            ));
        }
        for (key, value) in env {
            command.arg("-e").arg(format!("{key}={value}"));
        }
        command.arg(&job.image).args(args);
        command
    };
    let before: Vec<Vec<String>> = targets.iter().map(|h| lab.image_tags(h)).collect();
    assert!(
        before
            .iter()
            .all(|tags| tags.contains(&"lab/old:1".to_string()))
    );

    // The Indexed Job: all N pods at once, each with its JOB_COMPLETION_INDEX, and the
    // $(VAR) references in args expanded from the container's environment, as the kubelet does.
    let job_name = "fleetprune-rehearsal";
    let expand = |index: usize| -> Vec<String> {
        job.args
            .iter()
            .map(|a| {
                a.replace("$(JOB_NAME)", job_name)
                    .replace("$(JOB_COMPLETION_INDEX)", &index.to_string())
            })
            .collect()
    };
    let pods: Vec<_> = (0..job.completions)
        .map(|index| {
            docker_run(
                &[
                    ("JOB_COMPLETION_INDEX", index.to_string()),
                    ("JOB_NAME", job_name.to_string()),
                ],
                &expand(index),
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start a pod")
        })
        .collect();
    for (index, pod) in pods.into_iter().enumerate() {
        let output = pod.wait_with_output().expect("wait for a pod");
        assert_eq!(
            output.status.code(),
            Some(0),
            "pod {index}:\n{}\n{}",
            stdout(&output),
            stderr(&output)
        );
    }
    for (host, before) in targets.iter().zip(&before) {
        let after = lab.image_tags(host);
        assert!(
            !after.contains(&"lab/old:1".to_string()),
            "{host}: {after:?}"
        );
        assert!(
            after.contains(&"lab/keep:1".to_string()),
            "{host}: {after:?}"
        );
        assert!(
            after.contains(&"lab/inuse-running:1".to_string()),
            "{host}: {after:?}"
        );
        assert!(
            after.len() < before.len(),
            "{host}: {before:?} -> {after:?}"
        );
    }
    let shard_files: Vec<String> = (0..job.completions)
        .map(|i| format!("/reports/{job_name}-{i}.json"))
        .collect();
    let mut report_args = vec!["report".to_string()];
    report_args.extend(shard_files);
    let merged = run(
        &mut docker_run(&[], &report_args),
        "fleetprune report (shards)",
    );
    let merged = stdout(&merged);

    // The same fleet reseeded, pruned by one unsharded run.
    run(
        Command::new("bash")
            .arg(repo_root().join("lab/seed.sh"))
            .arg(&lab.dir)
            .args(targets),
        "lab/seed.sh",
    );
    let mut once: Vec<String> = expand(0)
        .into_iter()
        .filter(|a| !a.starts_with("--shard"))
        .map(|a| {
            if a.starts_with("--report=") {
                "--report=/reports/unsharded.json".to_string()
            } else {
                a
            }
        })
        .collect();
    once.retain(|a| !a.is_empty());
    run(&mut docker_run(&[], &once), "the unsharded run");
    let single = run(
        &mut docker_run(
            &[],
            &["report".to_string(), "/reports/unsharded.json".to_string()],
        ),
        "fleetprune report (unsharded)",
    );
    let single = stdout(&single);
    eprintln!("merged shards:\n{merged}\nunsharded:\n{single}");
    assert!(
        merged.starts_with(&format!("{} report(s)", job.completions)),
        "{merged}"
    );
    assert_eq!(merged_table(&merged), merged_table(&single));
    for host in targets {
        assert!(merged.lines().any(|l| l.starts_with(host)), "{merged}");
    }
}
