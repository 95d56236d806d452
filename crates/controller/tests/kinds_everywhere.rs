//! Every kind of `securecart_api::kinds` is registered on the engine, granted by RBAC in the chart
//! and in the kustomize base (the object and its status), and has Argo CD health; and nothing is
//! there for a kind that does not exist. Adding a kind without one of these fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| format!("cannot read {path}: {e}"))
}

/// The quoted names in the `resources: [...]` lists of the net.securecart.io rules.
fn rbac_resources(yaml: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_group = false;
    for line in yaml.lines() {
        if line.contains("apiGroups:") {
            in_group = line.contains("net.securecart.io");
        }
        if in_group && line.trim_start().starts_with("resources:") {
            out.extend(line.split('"').skip(1).step_by(2).map(str::to_string));
        }
    }
    out
}

fn expected_resources() -> BTreeSet<String> {
    securecart_api::kinds::names()
        .into_iter()
        .flat_map(|(_, plural)| [plural.clone(), format!("{plural}/status")])
        .collect()
}

#[test]
fn rbac_in_the_chart_and_the_kustomize_base_covers_exactly_the_kinds() {
    let want = expected_resources();
    assert_eq!(rbac_resources(&read("deploy/helm/securecart-operator/templates/_helpers.tpl")), want, "chart RBAC");
    assert_eq!(rbac_resources(&read("deploy/kustomize/base/rbac.yaml")), want, "kustomize RBAC");
}

#[test]
fn argo_cd_health_covers_exactly_the_kinds() {
    let config = read("deploy/argocd/argocd-cm-health.yaml");
    let got: BTreeSet<String> = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("resource.customizations.health.net.securecart.io_"))
        .map(|l| l.split(':').next().unwrap_or_default().to_string())
        .collect();
    let want: BTreeSet<String> = securecart_api::kinds::names().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(got, want);
}

#[test]
fn every_kind_is_registered_on_the_engine() {
    let main = read("crates/controller/src/main.rs");
    let got: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".kind(scope.api::<")?.split('>').next().map(str::to_string))
        .collect();
    let want: BTreeSet<String> = securecart_api::kinds::names().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(got, want, "crates/controller/src/main.rs registers every kind once");
}
