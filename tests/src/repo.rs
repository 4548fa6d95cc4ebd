//! Files of the repository that tests check against each other.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// The repository's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A repository file's text.
pub fn file(name: &str) -> String {
    std::fs::read_to_string(root().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The code block that follows `<!-- example: <name> -->` in the README,
/// so tests can run the documentation's examples as they are written.
pub fn readme_example(name: &str) -> String {
    let readme = file("README.md");
    let marker = format!("<!-- example: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let block = after
        .split_once("```")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map(|(_, body)| body)
        .and_then(|body| body.split_once("\n```"))
        .unwrap_or_else(|| panic!("no code block after {marker}"))
        .0;
    format!("{block}\n")
}

/// Every key of `config/default.toml`, set or shown commented out
/// (`# key = ...`), as its environment variable (`SWITCHYARD_NATS__URL`).
pub fn config_variables() -> BTreeSet<String> {
    let mut section = String::new();
    let mut variables = BTreeSet::new();
    for line in file("config/default.toml").lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.replace('.', "__").to_uppercase() + "__";
            continue;
        }
        let setting = line.strip_prefix("# ").unwrap_or(line);
        let Some((key, _)) = setting.split_once(" = ") else {
            continue;
        };
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            variables.insert(format!("SWITCHYARD_{section}{}", key.to_uppercase()));
        }
    }
    variables
}
