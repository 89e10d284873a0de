//! The command-line contract of `plan`, `apply` and `rmi`: input errors found before any host is
//! contacted, with exit code 2 and a message naming what is wrong. No lab needed.

mod common;

use common::{fleetprune, stderr, stdout, write_file};

const FARM: &str = "tests/fixtures/farm.yaml";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("fleetprune-plan-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A plan file for `hosts`, made `age_hours` ago.
fn plan_file(dir: &std::path::Path, hosts: &[&str], age_hours: i64) -> String {
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(age_hours);
    let hosts: Vec<serde_json::Value> = hosts
        .iter()
        .map(|name| {
            serde_json::json!({
                "name": name, "address": "127.0.0.1:22", "host_key_fingerprint": "SHA256:x",
                "engine_id": "E", "image_store": "graphdriver",
                "daemon_time": created.to_string(), "description": "images (all)",
                "plan": { "kinds": [] }
            })
        })
        .collect();
    let file = serde_json::json!({
        "plan_file_version": 1, "created_at": created.to_string(), "hosts": hosts
    });
    let path = write_file(dir, "plan.json", &file.to_string());
    path.to_str().unwrap().to_string()
}

#[test]
fn apply_refuses_an_old_plan_before_contacting_anything() {
    let dir = temp_dir("old");
    let plan = plan_file(&dir, &["build-01"], 30);
    let run = fleetprune(&["apply", &plan, "-i", FARM, "--yes"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    let message = stderr(&run);
    assert!(message.contains("more than --max-age 24h"), "{message}");
    assert!(message.contains("make a new plan"), "{message}");
    // A larger --max-age accepts it (and then the confirmation is what stops it).
    let run = fleetprune(&[
        "apply",
        &plan,
        "-i",
        FARM,
        "--max-age",
        "2d",
        "--known-hosts",
        "/dev/null",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("refusing to prune without confirmation"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn apply_refuses_a_plan_for_hosts_the_inventory_does_not_have() {
    let dir = temp_dir("missing");
    let plan = plan_file(&dir, &["build-01", "elsewhere"], 0);
    let run = fleetprune(&["apply", &plan, "-i", FARM, "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("the plan names host elsewhere, which the inventory does not have"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn apply_refuses_a_file_that_is_not_a_plan() {
    let dir = temp_dir("garbage");
    let path = write_file(&dir, "plan.json", r#"{"hosts": 3}"#);
    let run = fleetprune(&["apply", path.to_str().unwrap(), "-i", FARM, "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("not a fleetprune plan file"),
        "{}",
        stderr(&run)
    );
    let run = fleetprune(&["apply", "/nonexistent/plan.json", "-i", FARM, "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("cannot read the plan file"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn plan_only_flags_and_bad_policies_are_input_errors() {
    let run = fleetprune(&["prune", "-i", FARM, "--images", "--save", "p.json", "--yes"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        stderr(&run),
        "fleetprune: --save needs `fleetprune plan` or `prune --dry-run`\n"
    );
    let run = fleetprune(&["plan", "-i", FARM, "--images", "--protect", "a["]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).starts_with("fleetprune: keep policy: invalid glob \"a[\""),
        "{}",
        stderr(&run)
    );
    let run = fleetprune(&["plan", "-i", FARM, "--images", "--min-age", "soon"]);
    assert_eq!(run.status.code(), Some(2));
    for bad in ["101%", "85", "70%:85%"] {
        let run = fleetprune(&["plan", "-i", FARM, "--images", "--threshold", bad]);
        assert_eq!(run.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&run).contains(&format!(
                "invalid value '{bad}' for '--threshold <HIGH%[:LOW%]>'"
            )),
            "{}",
            stderr(&run)
        );
    }
    let run = fleetprune(&["rmi", "-i", FARM]);
    assert_eq!(run.status.code(), Some(2), "rmi needs references");
}

#[test]
fn inventory_keep_policies_show_in_the_effective_plan() {
    let dir = temp_dir("policy");
    let inventory = write_file(
        &dir,
        "farm.yaml",
        "all:
  vars:
    fleetprune:
      prune:
        images: { all: true }
        keep_last: 2
        protect_containers: [\"db-*\"]
        max_usage: { high: 50GB, low: 40GB }
        threshold: { high: 85%, low: 70% }
  hosts:
    build-01: { ansible_host: 127.0.0.1 }
",
    );
    let run = fleetprune(&["inventory", "-i", inventory.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(
        stdout(&run).contains(
            "images (all) keep(keep_last=2, protect_container=db-*, max_usage=50000000000:40000000000, threshold=85%:70%)"
        ),
        "{}",
        stdout(&run)
    );
    let bad = write_file(
        &dir,
        "bad.yaml",
        "all:\n  hosts:\n    h:\n      fleetprune:\n        prune:\n          images: true\n          keep_lats: 2\n",
    );
    let run = fleetprune(&["inventory", "-i", bad.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("unknown key \"keep_lats\" (did you mean \"keep_last\"?)"),
        "{}",
        stderr(&run)
    );
}
