//! Writes one CustomResourceDefinition YAML per kind into the given directory (default `crds/`),
//! or with `--check`, fails when the files there differ from what the types generate.

use std::path::PathBuf;
use std::process::ExitCode;

use securecart_api::kinds;

/// One CRD file per kind of `securecart_api::kinds`.
fn generated() -> Vec<(String, String)> {
    let header = "# Generated from crates/api by `make crds`. Do not edit.\n";
    kinds::crds()
        .into_iter()
        .map(|crd| {
            let file = kinds::crd_file(&crd.spec.names.kind);
            (file, format!("{header}{}", serde_yaml::to_string(&crd).expect("CRDs serialize")))
        })
        .collect()
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    args.retain(|a| a != "--check");
    let dir = PathBuf::from(args.first().map_or("crds", String::as_str));
    let mut stale = Vec::new();
    for (file, content) in generated() {
        let path = dir.join(&file);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(&dir).expect("create CRD directory");
            std::fs::write(&path, content).expect("write CRD");
            println!("wrote {}", path.display());
        }
    }
    if check {
        // A CRD file for a kind the API no longer has is stale too.
        let wanted: Vec<String> = generated().into_iter().map(|(f, _)| f).collect();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") && !wanted.contains(&name) {
                stale.push(format!("{} (no such kind)", entry.path().display()));
            }
        }
    }
    if stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("stale CRDs (run `make crds` and commit): {}", stale.join(", "));
        ExitCode::FAILURE
    }
}
