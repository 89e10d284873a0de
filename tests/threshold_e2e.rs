//! End-to-end proof of the `threshold` and `inode_threshold` watermarks on Docker 28 with the
//! containerd image store, whose images live under containerd's root: host01 keeps that root
//! on a filesystem of its own (both are measured and the fuller decides), host02 on its docker
//! root's (measured once). The oracle for every figure is the host's own `df -P -k` and
//! `df -P -i`, run over ssh as the host's user.

mod common;

use common::{Engine, Lab, json, json_host, stderr};

/// The info lines of one host's plan, all kinds.
fn plan_info(report: &serde_json::Value, host: &str) -> Vec<String> {
    json_host(report, host)["kinds"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|k| k["info"].as_array().cloned().unwrap_or_default())
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// `(used, used + free, IUse%)` from the host's own `df -P -i -- DIR`.
fn df_inodes(lab: &Lab, host: &str, dir: &str) -> (u64, u64, u64) {
    let output = lab.ssh(host, &format!("df -P -i -- '{dir}'"));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "df -i on {host}: {}",
        stderr(&output)
    );
    let fields: Vec<&str> = text
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("df -i on {host} printed {text:?}"))
        .split_whitespace()
        .collect();
    let number = |i: usize| -> u64 { fields[i].trim_end_matches('%').parse().unwrap() };
    (number(2), number(2) + number(3), number(4))
}

/// The number a note states after `prefix` up to the next `%`.
fn percent_after(note: &str, prefix: &str) -> u64 {
    let rest = note
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("no {prefix:?} in {note}"));
    rest.split('%').next().unwrap().parse().unwrap()
}

fn plan(lab: &Lab, thresholds: &[&str]) -> serde_json::Value {
    let args = [&["plan", "-o", "json", "--images", "-a"], thresholds].concat();
    let run = lab.fleetprune(&args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    json(&run)
}

#[test]
fn thresholds_measure_containerd_root_beside_docker_root_and_act_on_the_fuller() {
    let lab = Lab::start_engines_with(
        "thresholds",
        &[Engine::Docker28Containerd, Engine::Docker28Containerd],
        &[],
        &[
            "--small-root",
            "host01=256m",
            "--small-containerd-root",
            "host01=96m",
            "--small-root",
            "host02=128m",
        ],
    );
    let root_of = |host| {
        lab.docker(host, &["info", "--format", "{{.DockerRootDir}}"])
            .trim()
            .to_string()
    };
    let (root1, root2) = (root_of("host01"), root_of("host02"));
    let (mount1, containerd1) = (
        format!("{root1}/containerd"),
        format!("{root1}/containerd/daemon"),
    );
    // The oracle: host01's images fill containerd's filesystem, not its docker root's.
    let (size_c, used_c, _, capacity_c) = lab.df("host01", &mount1);
    let (_, _, _, capacity_r) = lab.df("host01", &root1);
    assert!(
        capacity_c > capacity_r,
        "containerd's root should be the fuller: {capacity_c}% vs {capacity_r}%"
    );

    // Marks no host reaches: both measured, nothing selected, the fuller named.
    let report = plan(&lab, &["--threshold", "99%", "--inode-threshold", "100%"]);
    assert_eq!(report["totals"]["objects"], 0, "{report}");
    let facts = &json_host(&report, "host01")["facts"];
    assert_eq!(facts["filesystem"]["path"], root1.as_str(), "{facts}");
    let containerd = &facts["containerd_filesystems"][0];
    assert_eq!(containerd["path"], containerd1.as_str(), "{facts}");
    assert_eq!(containerd["mount_point"], mount1.as_str(), "{facts}");
    assert_eq!(containerd["size"], size_c, "{facts}");
    assert!(
        containerd["used"].as_u64().unwrap().abs_diff(used_c) < 1 << 20,
        "{containerd} vs {used_c}"
    );
    let (inodes_used, inodes_total, _) = df_inodes(&lab, "host01", &mount1);
    assert_eq!(
        containerd["inodes"]["used"].as_u64().unwrap()
            + containerd["inodes"]["free"].as_u64().unwrap(),
        inodes_total,
        "{containerd}"
    );
    assert!(
        containerd["inodes"]["used"]
            .as_u64()
            .unwrap()
            .abs_diff(inodes_used)
            <= 16,
        "{containerd} vs {inodes_used}"
    );
    let deciding = &facts["deciding_filesystems"];
    assert_eq!(deciding[0]["policy"], "threshold", "{deciding}");
    assert_eq!(deciding[0]["path"], containerd1.as_str(), "{deciding}");
    assert_eq!(deciding[1]["policy"], "inode_threshold", "{deciding}");
    let info = plan_info(&report, "host01");
    assert_eq!(info.len(), 2, "{info:?}");
    assert!(
        info[0].starts_with(&format!(
            "filesystem of {containerd1} (mounted on {mount1}) is {capacity_c}% used"
        )),
        "{info:?}"
    );
    assert!(
        info[0].contains("under threshold 99%: left alone; also measured: ")
            && info[0].ends_with(&format!("{root1} (mounted on {root1}) {capacity_r}% used")),
        "{info:?}"
    );
    // host02: containerd's root is on its docker root's filesystem, measured once.
    let facts = &json_host(&report, "host02")["facts"];
    assert_eq!(
        facts["filesystem"]["also_holds"],
        serde_json::json!([format!("{root2}/containerd/daemon")]),
        "{facts}"
    );
    assert!(facts.get("containerd_filesystems").is_none(), "{facts}");
    let (_, _, _, capacity2) = lab.df("host02", &root2);
    let info = plan_info(&report, "host02");
    assert!(
        info[0].starts_with(&format!(
            "filesystem of {root2} and {root2}/containerd/daemon (mounted on {root2}) is {capacity2}% used"
        )) && !info[0].contains("also measured"),
        "{info:?}"
    );

    // Bytes under their mark everywhere, inodes over a 0% mark: host01 acts on inodes alone.
    let report = plan(&lab, &["--threshold", "100%", "--inode-threshold", "0%"]);
    let host01 = json_host(&report, "host01");
    let info = plan_info(&report, "host01");
    let (_, _, iuse) = df_inodes(&lab, "host01", &mount1);
    let inode_note = info
        .iter()
        .find(|i| i.starts_with("inodes of the filesystem of "))
        .unwrap_or_else(|| panic!("{info:?}"));
    assert_eq!(percent_after(inode_note, " are "), iuse, "{inode_note}");
    assert!(
        inode_note.contains("over inode_threshold 0%"),
        "{inode_note}"
    );
    assert!(
        info.iter().any(|i| i.contains("under threshold 100%")),
        "{info:?}"
    );
    let planned: usize = host01["kinds"]
        .as_object()
        .unwrap()
        .values()
        .map(|k| k["doomed"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(planned > 0, "{host01}");

    // And for real: host01 loses its unused images, host02 with a 100% mark keeps everything.
    let before = (lab.image_tags("host01"), lab.image_tags("host02"));
    let run = lab.fleetprune(&[
        "prune",
        "--yes",
        "--images",
        "-a",
        "--inode-threshold",
        "0%",
        "--limit",
        "host01",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let run = lab.fleetprune(&[
        "prune",
        "--yes",
        "--images",
        "-a",
        "--inode-threshold",
        "100%",
        "--limit",
        "host02",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let after = (lab.image_tags("host01"), lab.image_tags("host02"));
    assert!(after.0.len() < before.0.len(), "{before:?} -> {after:?}");
    assert!(
        after.0.contains(&"lab/inuse-running:1".to_string()),
        "{after:?}"
    );
    assert_eq!(after.1, before.1, "host02 under its mark is left alone");
}
