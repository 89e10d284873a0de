//! Stamps the build with its git revision (`fleetprune --version`), or "unknown" when built
//! outside a git checkout (a crate tarball) or without git; and with the russh version locked in
//! Cargo.lock, so `--version` names the SSH implementation actually built in.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let revision =
        git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FLEETPRUNE_GIT_REVISION={revision}");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let russh = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"russh\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FLEETPRUNE_RUSSH_VERSION={russh}");
    println!("cargo:rerun-if-changed=Cargo.lock");
    // Rebuilt when HEAD moves (a commit, a checkout).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        println!("cargo:rerun-if-changed={dir}/refs/heads");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
