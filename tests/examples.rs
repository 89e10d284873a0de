//! examples/ stays correct: every YAML file parses; every fleetprune command line in them is
//! accepted by fleetprune's own command line; the Kubernetes Indexed Job's completions match its
//! `--shard auto/N` and its inventory is valid; the systemd units pass `systemd-analyze verify`;
//! the playbook passes `ansible-playbook --syntax-check`. A missing tool fails the test (they are
//! installed by lab/install-deps.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use common::{fleetprune, repo_root, stderr, write_file};
use fleetprune::cli::Cli;
use serde_json::Value;

fn example(path: &str) -> PathBuf {
    repo_root().join("examples").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(example(path)).unwrap()
}

fn yaml_documents(path: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&read(path))
        .unwrap_or_else(|e| panic!("examples/{path} is not valid YAML: {e}"))
}

/// Parses `words` (a fleetprune command line without the program) as fleetprune would.
fn accepted(words: &[String], place: &str) {
    let mut argv = vec!["fleetprune".to_string()];
    argv.extend(words.iter().cloned());
    if let Err(error) = Cli::try_parse_from(&argv) {
        panic!("{place}: fleetprune refuses {words:?}: {error}");
    }
}

/// The words after `fleetprune` in a shell command line; a command substitution `$(...)` stands
/// for the word it makes.
fn fleetprune_words(line: &str, place: &str) -> Vec<String> {
    let mut line = line.to_string();
    while let Some(start) = line.find("$(") {
        let end = line[start..].find(')').expect("a closed $(") + start;
        line.replace_range(start..=end, "SUBSTITUTED");
    }
    let words = shlex::split(&line).unwrap_or_else(|| panic!("{place}: cannot split {line:?}"));
    let start = words
        .iter()
        .position(|w| w.ends_with("fleetprune"))
        .unwrap_or_else(|| panic!("{place}: no fleetprune in {line:?}"));
    words[start + 1..]
        .iter()
        .take_while(|w| !w.starts_with(">>"))
        .cloned()
        .collect()
}

#[test]
fn every_yaml_example_parses() {
    for path in [
        "kubernetes/cronjob.yaml",
        "kubernetes/indexed-job.yaml",
        "github-actions/fleetprune.yml",
        "ansible/prune-fleet.yml",
    ] {
        assert!(!yaml_documents(path).is_empty(), "{path}");
    }
}

#[test]
fn kubernetes_indexed_job_matches_its_shards_and_mounts_its_secrets() {
    let documents = yaml_documents("kubernetes/cronjob.yaml");
    let config = documents.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let cron = documents.iter().find(|d| d["kind"] == "CronJob").unwrap();
    let once = yaml_documents("kubernetes/indexed-job.yaml");
    for (job, place) in [
        (&cron["spec"]["jobTemplate"]["spec"], "cronjob.yaml"),
        (&once[0]["spec"], "indexed-job.yaml"),
    ] {
        indexed_job_matches_its_shards_and_mounts_its_secrets(job, place);
    }
    // The ConfigMap's inventory is one fleetprune reads.
    let dir = tempfile::tempdir().unwrap();
    let inventory = write_file(
        dir.path(),
        "inventory.yaml",
        config["data"]["inventory.yaml"].as_str().unwrap(),
    );
    let run = fleetprune(&["inventory", "-i", inventory.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(common::stdout(&run).contains("build16.example.com"));
}

/// An Indexed Job (of the CronJob or the one-off Job) runs one pod per shard, as the image's
/// non-root user, with the inventory, the ssh Secret and the reports at the image's mount points.
fn indexed_job_matches_its_shards_and_mounts_its_secrets(job: &Value, place: &str) {
    assert_eq!(job["completionMode"], "Indexed", "{place}");
    let pod = &job["template"]["spec"];
    let container = &pod["containers"][0];
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    accepted(&args, place);
    let shards = args
        .iter()
        .find_map(|a| a.strip_prefix("--shard=auto/"))
        .expect("--shard=auto/N");
    assert_eq!(job["completions"].to_string(), shards);
    assert_eq!(job["parallelism"].to_string(), shards);
    let secret = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["secret"]["secretName"] == "fleetprune-ssh")
        .expect("the ssh Secret as a volume");
    assert_eq!(secret["name"], "ssh");
    for file in ["known_hosts", "id_ed25519"] {
        assert!(
            args.iter().any(|a| a.ends_with(&format!("=/ssh/{file}"))),
            "{file} from the Secret"
        );
    }
    assert_eq!(pod["securityContext"]["runAsUser"], 10001, "{place}");
    assert_eq!(pod["securityContext"]["fsGroup"], 10001, "{place}");
    let mounts: Vec<&str> = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/inventory", "/ssh", "/reports"], "{place}");
}

#[test]
fn github_actions_matrix_runs_every_shard_and_merges() {
    let workflow = &yaml_documents("github-actions/fleetprune.yml")[0];
    let prune = &workflow["jobs"]["prune"];
    let shards = prune["strategy"]["matrix"]["shard"].as_array().unwrap();
    let count = shards.len();
    assert_eq!(
        shards
            .iter()
            .map(|s| s.as_u64().unwrap())
            .collect::<Vec<_>>(),
        (1..=count as u64).collect::<Vec<_>>()
    );
    for step in prune["steps"].as_array().unwrap() {
        if let Some(run) = step["run"].as_str().filter(|r| r.contains("fleetprune")) {
            let run = run.replace("${{ matrix.shard }}", "1");
            let words = fleetprune_words(&run, "github-actions");
            assert!(words.contains(&format!("1/{count}")), "{words:?}");
            accepted(&words, "github-actions");
        }
    }
    let merge = workflow["jobs"]["merge"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["run"].as_str())
        .unwrap();
    accepted(&fleetprune_words(merge, "github-actions merge"), "merge");
}

#[test]
fn crontab_line_is_five_fields_and_a_valid_command() {
    let text = read("cron/fleetprune.crontab");
    let line = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    let fields: Vec<&str> = line.splitn(6, ' ').collect();
    assert_eq!(fields.len(), 6, "{line}");
    for field in &fields[..5] {
        assert!(
            field
                .chars()
                .all(|c| c.is_ascii_digit() || "*/,-".contains(c)),
            "{field}"
        );
    }
    // cron turns `\%` into `%` before the shell sees it.
    let command = fields[5].replace("\\%", "%");
    accepted(&fleetprune_words(&command, "crontab"), "crontab");
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let service = read("systemd/fleetprune.service");
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    accepted(&fleetprune_words(exec, "fleetprune.service"), "ExecStart");
    // Verified with ExecStart pointing at the fleetprune just built (systemd checks that the
    // program exists), the units otherwise as shipped.
    let dir = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_fleetprune");
    write_file(
        dir.path(),
        "fleetprune.service",
        &service.replace("/usr/local/bin/fleetprune", binary),
    );
    write_file(
        dir.path(),
        "fleetprune.timer",
        &read("systemd/fleetprune.timer"),
    );
    let units: Vec<PathBuf> = ["fleetprune.service", "fleetprune.timer"]
        .iter()
        .map(|u| dir.path().join(u))
        .collect();
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .expect("systemd-analyze is installed (lab/install-deps.sh)");
    let messages = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "systemd-analyze verify: {messages}"
    );
    let about_ours: Vec<&str> = messages
        .lines()
        .filter(|l| l.contains("fleetprune"))
        .collect();
    assert!(about_ours.is_empty(), "{messages}");
}

#[test]
fn ansible_playbook_passes_syntax_check_and_runs_fleetprune_with_json() {
    let playbook = example("ansible/prune-fleet.yml");
    // From an empty directory, so no ansible.cfg of the machine is read.
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new("ansible-playbook")
        .args(["--syntax-check", "-i", "localhost,"])
        .arg(&playbook)
        .current_dir(empty.path())
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .expect("ansible-playbook is installed (lab/install-deps.sh)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let plays = &yaml_documents("ansible/prune-fleet.yml")[0];
    let task = &plays[0]["tasks"][0];
    let argv: Vec<String> = task["ansible.builtin.command"]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("{{ fleet_inventory }}", "x")
                .replace("{{ fleet_limit }}", "all")
        })
        .collect();
    assert_eq!(argv[0], "fleetprune");
    accepted(&argv[1..], "ansible");
    assert_eq!(task["register"], "fleetprune");
    assert_eq!(task["failed_when"], "fleetprune.rc not in [0, 1]");
    assert!(Path::new(&playbook).exists());
}
