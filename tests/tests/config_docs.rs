//! The README's configuration table and `config/default.toml` describe the
//! same keys, so neither drifts from the other.

use std::{collections::BTreeSet, path::Path};

fn repo_file(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// Every key of default.toml, set or shown commented out (`# key = ...`),
/// as its environment variable.
fn default_toml_variables() -> BTreeSet<String> {
    let mut section = String::new();
    let mut variables = BTreeSet::new();
    for line in repo_file("config/default.toml").lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.replace('.', "__").to_uppercase() + "__";
            continue;
        }
        let setting = line.strip_prefix("# ").unwrap_or(line);
        let Some((key, _)) = setting.split_once(" = ") else {
            continue;
        };
        if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !key.is_empty() {
            variables.insert(format!("SWITCHYARD_{section}{}", key.to_uppercase()));
        }
    }
    variables
}

/// Every variable the README's configuration table names. A row may name
/// several: `SWITCHYARD_A__B` / `__C` stands for `SWITCHYARD_A__C` too.
fn readme_variables() -> BTreeSet<String> {
    let mut variables = BTreeSet::new();
    for line in repo_file("README.md").lines() {
        let Some(first_cell) = line
            .strip_prefix("| ")
            .and_then(|rest| rest.split(" | ").next())
        else {
            continue;
        };
        if !first_cell.starts_with("`SWITCHYARD_") {
            continue;
        }
        let names: Vec<&str> = first_cell
            .split('`')
            .filter(|part| part.starts_with("SWITCHYARD_") || part.starts_with("__"))
            .collect();
        let Some(first) = names.first() else {
            continue;
        };
        let prefix = first
            .rsplit_once("__")
            .map_or("SWITCHYARD_", |(head, _)| head);
        for name in &names {
            match name.strip_prefix("__") {
                Some(suffix) => variables.insert(format!("{prefix}__{suffix}")),
                None => variables.insert((*name).to_owned()),
            };
        }
    }
    variables
}

#[test]
fn the_readme_table_lists_exactly_the_keys_of_default_toml() {
    let documented = readme_variables();
    let keys = default_toml_variables();
    // Not a key of the file: the variable that names another file.
    let extra: BTreeSet<String> = ["SWITCHYARD_CONFIG_FILE".to_owned()].into();
    let missing: Vec<&String> = keys.difference(&documented).collect();
    let unknown: Vec<&String> = documented
        .difference(&keys)
        .filter(|name| !extra.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "keys missing from the README table: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "README variables that are not keys: {unknown:?}"
    );
    assert!(keys.len() > 20, "parsed only {keys:?}");
}
