//! The documentation stays true to the tree: every relative link in README.md, docs/ and the
//! lab, bench and examples READMEs reaches a file (and, with `#anchor`, a heading in it); the
//! module map in docs/architecture.md names every top-level module of src/ and nothing that is
//! gone; docs/README.md links every page in docs/; and every `fleetprune` command line in a
//! shell block of README.md or docs/ is accepted by fleetprune's own command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use fleetprune::cli::Cli;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Markdown pages of docs/, sorted.
fn docs_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo_root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// Every Markdown file whose links must resolve.
fn markdown_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files: Vec<PathBuf> = [
        "README.md",
        "lab/README.md",
        "bench/README.md",
        "examples/README.md",
    ]
    .iter()
    .map(|path| root.join(path))
    .collect();
    files.extend(docs_pages());
    files
}

/// Lines outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose_lines(text)
        .into_iter()
        .filter_map(|line| {
            let hashes = line.len() - line.trim_start_matches('#').len();
            ((1..=6).contains(&hashes) && line[hashes..].starts_with(' '))
                .then(|| slug(&line[hashes..]))
        })
        .collect()
}

/// The targets of `[text](target)` links in prose.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    targets
}

#[test]
fn every_relative_link_resolves() {
    let root = repo_root();
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = read(&file);
        let place = file.strip_prefix(&root).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{place}: {target}: no such file"));
            } else if !anchor.is_empty() && !anchors(&read(&resolved)).contains(anchor) {
                broken.push(format!("{place}: {target}: no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn architecture_map_names_every_top_level_module() {
    let root = repo_root();
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            modules.insert(format!("src/{name}/"));
        } else if name.ends_with(".rs") {
            modules.insert(format!("src/{name}"));
        }
    }
    // The first cell of each row of the map: `src/a.rs`, `src/b/`, ...
    let map = read(&root.join("docs/architecture.md"));
    let mut named = BTreeSet::new();
    for line in map.lines().filter(|l| l.starts_with("| `src/")) {
        let first_cell = line.split('|').nth(1).unwrap();
        for piece in first_cell.split('`').filter(|p| p.starts_with("src/")) {
            named.insert(piece.to_string());
        }
    }
    let missing: Vec<_> = modules.difference(&named).collect();
    let gone: Vec<_> = named.difference(&modules).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "docs/architecture.md's module map is out of date: not named {missing:?}; not in src/ {gone:?}"
    );
}

#[test]
fn docs_map_links_every_page() {
    let map = read(&repo_root().join("docs/README.md"));
    let linked: BTreeSet<String> = link_targets(&map).into_iter().collect();
    let unlisted: Vec<String> = docs_pages()
        .iter()
        .map(|page| page.file_name().unwrap().to_str().unwrap().to_string())
        .filter(|name| name != "README.md" && !linked.contains(name))
        .collect();
    assert!(
        unlisted.is_empty(),
        "docs/README.md does not link {unlisted:?}"
    );
}

/// The words after `fleetprune` in a shell command line, up to a pipe or redirection; a
/// command substitution `$(...)` stands for the word it makes. None when the line does not run
/// fleetprune.
fn fleetprune_words(line: &str, place: &str) -> Option<Vec<String>> {
    let mut line = line.to_string();
    while let Some(start) = line.find("$(") {
        let end = line[start..].find(')').expect("a closed $(") + start;
        line.replace_range(start..=end, "SUBSTITUTED");
    }
    let words = shlex::split(&line).unwrap_or_else(|| panic!("{place}: cannot split {line:?}"));
    let start = words.iter().position(|w| w == "fleetprune")?;
    // `man fleetprune`, `dpkg -L fleetprune`: the word names the package, not a command line.
    if start > 0
        && !matches!(
            words[start - 1].as_str(),
            "|" | "&&" | ";" | "sudo" | "exec"
        )
    {
        return None;
    }
    Some(
        words[start + 1..]
            .iter()
            .take_while(|w| !matches!(w.as_str(), "|" | ">" | ">>" | "&&" | "||" | ";"))
            .take_while(|w| !w.starts_with("2>"))
            .cloned()
            .collect(),
    )
}

/// Shell command lines in ```sh blocks, with `\` continuations joined and comments dropped.
fn shell_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut pending = String::new();
    for line in text.lines() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            in_shell = !in_shell && fence == "```sh";
            continue;
        }
        if !in_shell || line.trim_start().starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

#[test]
fn every_documented_command_line_is_accepted() {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    files.extend(docs_pages());
    let mut checked = 0;
    for file in files {
        let place = file.strip_prefix(&root).unwrap().display().to_string();
        for line in shell_lines(&read(&file)) {
            // A trailing comment is no part of the command.
            let command = line.split("  #").next().unwrap();
            let Some(words) = fleetprune_words(command, &place) else {
                continue;
            };
            let mut argv = vec!["fleetprune".to_string()];
            argv.extend(words);
            match Cli::try_parse_from(&argv) {
                Ok(_) => {}
                // `--version` and `--help` end parsing by design: they are accepted.
                Err(e)
                    if matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayVersion
                            | clap::error::ErrorKind::DisplayHelp
                    ) => {}
                Err(error) => panic!("{place}: fleetprune refuses {line:?}: {error}"),
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 50,
        "only {checked} documented command lines found"
    );
}
