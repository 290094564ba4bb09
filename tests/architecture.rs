//! The library's module structure, checked from its sources: no import
//! cycle between modules, `config` imports neither the driver nor the
//! linter, and the library depends on no command-line crate. A child using its ancestors' items is structure, not a
//! dependency; everything else (`crate::…`, `super::…`, a child's path)
//! counts, comments and unit tests excepted.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let root = crate::support::repository().join("src");
            let mut module: Module = path
                .strip_prefix(&root)
                .unwrap()
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.insert(module, text);
        }
    }
    let mut out = BTreeMap::new();
    walk(&crate::support::repository().join("src"), &mut out);
    out
}

/// The longest prefix of `path` that is a module.
fn resolve(modules: &BTreeMap<Module, String>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|m| modules.contains_key(m))
}

fn dependencies() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let comment = Regex::new(r"(?m)^\s*//.*$").unwrap();
    let crate_path = Regex::new(r"\bcrate((?:::\w+)+)").unwrap();
    let super_path = Regex::new(r"\bsuper((?:::\w+)+)").unwrap();
    let child_path = Regex::new(r"(?:^|[^:\w])(\w+)::").unwrap();
    let mut graph = BTreeMap::new();
    for (module, text) in &modules {
        let text = comment.replace_all(text, "");
        let text = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let mut targets = BTreeSet::new();
        let segments = |s: &str| -> Vec<String> {
            s.split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        };
        for m in crate_path.captures_iter(text) {
            targets.extend(resolve(&modules, &segments(&m[1])));
        }
        for m in super_path.captures_iter(text) {
            let mut path = module[..module.len().saturating_sub(1)].to_vec();
            path.extend(segments(&m[1]));
            targets.extend(resolve(&modules, &path));
        }
        for m in child_path.captures_iter(text) {
            let mut child = module.clone();
            child.push(m[1].to_string());
            if modules.contains_key(&child) {
                targets.insert(child);
            }
        }
        targets.retain(|t| !module.starts_with(t));
        graph.insert(module.clone(), targets);
    }
    graph
}

fn reaches(graph: &BTreeMap<Module, BTreeSet<Module>>, from: &Module, to: &Module) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.clone()];
    while let Some(next) = todo.pop() {
        for target in graph.get(&next).into_iter().flatten() {
            if target == to {
                return true;
            }
            if seen.insert(target.clone()) {
                todo.push(target.clone());
            }
        }
    }
    false
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let graph = dependencies();
    assert!(graph.len() > 50, "the sources were not found: {graph:?}");
    let cycles: Vec<String> = graph
        .iter()
        .flat_map(|(module, targets)| {
            targets
                .iter()
                .filter(|t| reaches(&graph, t, module))
                .map(move |t| format!("{} -> {}", module.join("::"), t.join("::")))
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles through: {cycles:#?}");
}

#[test]
fn config_imports_neither_the_driver_nor_the_linter() {
    let graph = dependencies();
    let config = &graph[&vec!["config".to_string()]];
    for forbidden in ["postgres", "lint", "mongo", "runner"] {
        assert!(
            !config.iter().any(|m| m[0] == forbidden),
            "config imports {forbidden}: {config:?}"
        );
    }
}

#[test]
fn the_checker_sees_a_cycle() {
    // The checker itself: the runner uses the driver; were the driver to
    // use the runner, that would be reported.
    let mut graph = dependencies();
    let migrator = vec!["runner".to_string()];
    let driver = vec!["postgres".to_string(), "driver".to_string()];
    assert!(reaches(&graph, &migrator, &driver));
    assert!(!reaches(&graph, &driver, &migrator));
    graph.get_mut(&driver).unwrap().insert(migrator.clone());
    assert!(reaches(&graph, &driver, &migrator) && reaches(&graph, &migrator, &migrator));
}

/// Every module under `subsystem` and what it imports from outside it.
fn imports_of(subsystem: &str) -> Vec<(String, String)> {
    dependencies()
        .into_iter()
        .filter(|(module, _)| module.first().is_some_and(|m| m == subsystem))
        .flat_map(|(module, targets)| {
            targets
                .into_iter()
                .filter(|t| t[0] != subsystem)
                .map(move |t| (module.join("::"), t.join("::")))
        })
        .collect()
}

#[test]
fn the_model_imports_nothing_but_the_error_types() {
    let outside: Vec<_> = imports_of("model")
        .into_iter()
        .filter(|(_, target)| !target.starts_with("error"))
        .collect();
    assert!(outside.is_empty(), "model imports: {outside:#?}");
}

#[test]
fn lint_reaches_a_database_only_through_its_table_sizes() {
    let modules = modules();
    let table_sizes = vec!["lint".to_string(), "table_sizes".to_string()];
    assert!(
        modules[&table_sizes].contains("tokio_postgres"),
        "the checker looks for the wrong name"
    );
    let offenders: Vec<String> = modules
        .iter()
        .filter(|(module, _)| {
            module.first().is_some_and(|m| m == "lint") && **module != table_sizes
        })
        .filter(|(_, text)| text.contains("tokio_postgres") || text.contains("crate::postgres"))
        .map(|(module, _)| module.join("::"))
        .collect();
    assert!(
        offenders.is_empty(),
        "lint modules that reach a database: {offenders:?}"
    );
}

#[test]
fn the_runner_names_postgresql_only_where_it_connects() {
    // Planning, locking, applying, baseline and repair go through the
    // `Driver` seam; only the connection (runner::session) and the choice of
    // driver for it (runner's mod.rs) know the database is PostgreSQL.
    let outside: Vec<_> = imports_of("runner")
        .into_iter()
        .filter(|(_, target)| target.starts_with("postgres"))
        .filter(|(module, _)| module != "runner" && module != "runner::session")
        .collect();
    assert!(
        outside.is_empty(),
        "runner modules importing postgres: {outside:#?}"
    );
    assert!(
        imports_of("runner")
            .iter()
            .any(|(module, target)| module == "runner" && target.starts_with("postgres")),
        "the checker no longer sees the one import that is allowed"
    );
}

/// The signatures of the functions in `text` that change their receiver
/// from a statement (`&mut self` and a parameter typed as a statement or
/// one of its DDL nodes): what a replay of DDL into a model looks like.
fn replays_statements(text: &str) -> Vec<String> {
    const NODES: [&str; 6] = [
        "Statement",
        "CreateTable",
        "AlterTable",
        "CreateIndex",
        "TableConstraint",
        "ColumnDef",
    ];
    text.split("fn ")
        .skip(1)
        .filter_map(|rest| {
            let signature = &rest[..rest.find(['{', ';']).unwrap_or(rest.len())];
            (signature.contains("&mut self") && NODES.iter().any(|n| signature.contains(n)))
                .then(|| signature.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn lint_has_one_schema_model() {
    let modules = modules();
    let in_model = |module: &Module| module.len() >= 2 && module[..2] == ["lint", "schema_model"];
    assert!(
        modules
            .iter()
            .any(|(module, text)| in_model(module) && !replays_statements(text).is_empty()),
        "the checker finds no replay in lint::schema_model"
    );
    let elsewhere: Vec<(String, Vec<String>)> = modules
        .iter()
        .filter(|(module, _)| module.first().is_some_and(|m| m == "lint") && !in_model(module))
        .map(|(module, text)| (module.join("::"), replays_statements(text)))
        .filter(|(_, signatures)| !signatures.is_empty())
        .collect();
    assert!(
        elsewhere.is_empty(),
        "lint modules that keep a model of their own (every rule reads lint::schema_model): {elsewhere:#?}"
    );
}

/// The command-line crates belong to the `schemactl-cli` package: a
/// library user builds none of them (the flags, `schemactl.toml` and their
/// resolution into `config::Settings` live there too).
#[test]
fn the_library_depends_on_no_command_line_crate() {
    let manifest =
        std::fs::read_to_string(crate::support::repository().join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("the library's [dependencies] table");
    let crate_names: Vec<&str> = dependencies
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
        .collect();
    assert!(crate_names.contains(&"tokio-postgres"), "{crate_names:?}");
    for cli_crate in [
        "clap",
        "serde_ignored",
        "clap_complete",
        "clap_mangen",
        "anyhow",
        "indicatif",
        "anstream",
    ] {
        assert!(
            !crate_names.contains(&cli_crate),
            "the library depends on {cli_crate}, a command-line crate: move it to cli/Cargo.toml"
        );
    }
}
