//! The README and docs/*.md link only to files inside the repository, and every such link (and
//! the heading its `#anchor` names) exists. Users read these pages from a checkout or a release,
//! so a link that leaves the repository, or points at a moved file, is a broken page.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The text outside fenced code blocks, where link syntax is meant literally.
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every `[text](target)` target in the prose.
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            rest.find(')').map(|end| rest[..end].trim().to_string())
        })
        .collect()
}

/// GitHub's anchor for a heading: lowercase, spaces to hyphens, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
            ' ' | '-' => Some('-'),
            '_' => Some('_'),
            _ => None,
        })
        .collect()
}

fn anchors(page: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(page).expect("page");
    prose(&text).lines().filter(|l| l.starts_with('#')).map(|l| anchor(l.trim_start_matches('#').trim())).collect()
}

#[test]
fn anchors_follow_github() {
    assert_eq!(anchor("The emulator's known differences from AWS"), "the-emulators-known-differences-from-aws");
    assert_eq!(anchor("GitOps: kstatus, Flux and Argo CD"), "gitops-kstatus-flux-and-argo-cd");
    assert_eq!(anchor("After `make demo`"), "after-make-demo");
}

#[test]
fn every_link_stays_in_the_repository_and_resolves() {
    let root = repo_root();
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).expect("page");
        let name = page.strip_prefix(&root).expect("page in repo").display().to_string();
        for target in link_targets(&text) {
            checked += 1;
            if target.contains("://") || target.starts_with("mailto:") || target.starts_with("//") {
                problems.push(format!("{name}: {target} leaves the repository"));
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() { page.clone() } else { page.parent().expect("dir").join(path) };
            let Ok(file) = file.canonicalize() else {
                problems.push(format!("{name}: {target} does not exist"));
                continue;
            };
            if !file.starts_with(&root) {
                problems.push(format!("{name}: {target} points outside the repository"));
                continue;
            }
            if let Some(fragment) = fragment
                && file.extension().is_some_and(|e| e == "md")
                && !anchors(&file).contains(fragment)
            {
                problems.push(format!("{name}: {target} names no heading of {}", file.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} links found: is the link parser broken?");
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}
