//! The README's configuration table and `config/default.toml` describe the
//! same keys, so neither drifts from the other.

use std::collections::BTreeSet;

use switchyard_e2e::repo;

/// Every variable the README's configuration table names. A row may name
/// several: `SWITCHYARD_A__B` / `__C` stands for `SWITCHYARD_A__C` too.
fn readme_variables() -> BTreeSet<String> {
    let mut variables = BTreeSet::new();
    for line in repo::file("README.md").lines() {
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
    let keys = repo::config_variables();
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
