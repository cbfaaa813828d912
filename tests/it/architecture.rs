//! The layout rules of `docs/ARCHITECTURE.md` §10, checked on the source itself.
//!
//! A module here is a top-level module of `src/` (`src/lake/` and everything in it is
//! `lake`); what it imports is every `crate::<module>` path written in it. The rules:
//!
//! - no module imports a module that imports it back, directly or round a longer loop:
//!   the imports form a graph without cycles, so the core sits below its adapters and
//!   the hosts sit on top;
//! - the two hosts, `host` (embedded) and `azure`, never import each other;
//! - the warehouse reads the lake only through `LakeStore` (no `std::fs` in it);
//! - the core names no vendor crate: the Azure SDKs, the TDS client (`tiberius` and the
//!   crate's `tds` module), DuckDB and SQLite appear only in the adapter files of
//!   [`ADAPTERS`], each behind its cargo feature;
//! - errors are typed: no `Result<_, String>` anywhere in `src/`;
//! - one place writes the HTTP API's error bodies (`src/api_error.rs`) and one the
//!   invocation answers (`invocation_reply` in `src/functions/mod.rs`).
//!
//! `cargo test --release --test it architecture:: -- --nocapture` also prints the module
//! map, which `docs/ARCHITECTURE.md` §10 shows as it is (a test holds them to each other).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

/// The node of the graph a file belongs to: its top-level module (`src/lake/` and
/// everything in it is `lake`), except an adapter file inside a core module, which is a
/// node of its own (`summary/synapse.rs`), so the map shows what the core itself imports.
/// `None` for `lib.rs` and `main.rs`.
fn module_of(path: &Path) -> Option<String> {
    let relative = relative(path);
    if let Some((place, _, _)) = adapter_of(&relative) {
        if !place.ends_with('/') && place.contains('/') {
            return Some(place.to_string());
        }
    }
    let first = relative.split('/').next()?;
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The text without `//` comments (doc comments name modules without importing them).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in paths that matter here:
            // only text after it is dropped, which can only hide an import, not add one.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named by `crate::…` paths in `code`, including every name of a
/// `crate::{a, b::c}` group.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut name = String::new();
            let mut at_name_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => at_name_start = true,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && at_name_start {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        name.push(c);
                    } else if !name.is_empty() {
                        found.insert(std::mem::take(&mut name));
                        at_name_start = false;
                    }
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
        rest = after;
    }
    found
}

fn import_graph() -> Graph {
    let mut graph = Graph::new();
    for (path, text) in sources(&src()) {
        let Some(module) = module_of(&path) else {
            continue;
        };
        let imports = imported_modules(&without_comments(&text));
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imports.into_iter().filter(|m| *m != module));
    }
    graph
}

/// A cycle of the graph, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_import_each_other_without_cycles() {
    let graph = import_graph();
    println!("module map (a module -> what it imports):");
    for (module, imports) in &graph {
        let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
        println!("  {module} -> {}", imports.join(", "));
    }
    assert!(graph.len() >= 15, "the scan found the modules: {graph:?}");
    assert!(
        graph["warehouse"].contains("summary") && graph["host"].contains("warehouse"),
        "the scan sees imports: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn a_cycle_is_found_where_there_is_one() {
    let mut graph = Graph::new();
    let edge = |graph: &mut Graph, a: &str, b: &str| {
        graph.entry(a.into()).or_default().insert(b.into());
    };
    edge(&mut graph, "summary", "lake");
    edge(&mut graph, "lake", "order");
    assert_eq!(find_cycle(&graph), None);
    edge(&mut graph, "order", "summary");
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["lake", "order", "summary", "lake"]
    );
    assert_eq!(
        imported_modules("use crate::{lake::{a, b}, summary::X};\nlet x = crate::order::f();"),
        ["lake", "order", "summary"].map(String::from).into()
    );
}

#[test]
fn the_two_hosts_never_import_each_other() {
    let graph = import_graph();
    assert!(!graph["host"].contains("azure"), "{:?}", graph["host"]);
    assert!(!graph["azure"].contains("host"), "{:?}", graph["azure"]);
}

#[test]
fn the_warehouse_reads_the_lake_only_through_its_port() {
    for (path, text) in sources(&src().join("warehouse")) {
        assert!(
            !text.contains("std::fs"),
            "{} touches files directly",
            path.display()
        );
    }
}

/// Each `Result<…>` whose error type is `String`.
fn string_errors(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("Result<") {
        let after = &rest[at + "Result<".len()..];
        let mut depth = 1;
        let mut last_arg_start = 0;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 1 => last_arg_start = i + 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        if last_arg_start > 0 && after[last_arg_start..end].trim() == "String" {
            found.push(format!("Result<{}>", &after[..end]));
        }
        rest = after;
    }
    found
}

#[test]
fn errors_are_typed() {
    assert_eq!(
        string_errors("fn f() -> Result<Vec<(u8, u8)>, String> {} fn g() -> Result<(), E> {}"),
        ["Result<Vec<(u8, u8)>, String>"]
    );
    for (path, text) in sources(&src()) {
        let found = string_errors(&without_comments(&text));
        assert!(found.is_empty(), "{}: {found:?}", path.display());
    }
}

#[test]
fn one_place_writes_each_kind_of_error_answer() {
    for (path, text) in sources(&src()) {
        let code = without_comments(&text);
        let relative = path.strip_prefix(src()).unwrap().to_string_lossy();
        if relative != "api_error.rs" {
            assert!(
                !code.contains(r#""error":"#) && !code.contains(r#""error" :"#),
                "{relative} writes an HTTP error body of its own"
            );
        }
        if relative != "functions/mod.rs" && relative != "functions/invocation.rs" {
            assert!(
                !code.contains("InvocationResponse {"),
                "{relative} writes an invocation answer of its own"
            );
        }
    }
}

/// The vendor crates: the core must not name them.
const VENDOR_CRATES: [&str; 7] = [
    "azure_core",
    "azure_identity",
    "azure_messaging_eventhubs",
    "azure_storage_blob",
    "tiberius",
    "duckdb",
    "rusqlite",
];

/// The adapters: the files (or folders) of `src/` that may name vendor crates, the cargo
/// feature each sits behind, and what it adapts.
const ADAPTERS: [(&str, &str, &str); 9] = [
    (
        "azure/",
        "azure",
        "the Azure host: settings, identity, `serve`",
    ),
    (
        "tds.rs",
        "azure",
        "the TDS session Azure SQL and Synapse share",
    ),
    (
        "lake/adls.rs",
        "azure",
        "the lake on ADLS Gen2 / Blob Storage",
    ),
    (
        "stream/event_hubs.rs",
        "azure",
        "the order stream on Event Hubs",
    ),
    (
        "customers/azure_sql.rs",
        "azure",
        "the customer table on Azure SQL",
    ),
    (
        "summary/synapse.rs",
        "azure",
        "the report published and checked in Synapse",
    ),
    (
        "warehouse/",
        "embedded",
        "the report published and checked in DuckDB",
    ),
    (
        "stream/embedded_log.rs",
        "embedded",
        "the order stream in SQLite",
    ),
    (
        "customers/sqlite.rs",
        "embedded",
        "the customer table in SQLite",
    ),
];

fn relative(path: &Path) -> String {
    path.strip_prefix(src())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn adapter_of(relative: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    ADAPTERS.iter().find(|(place, _, _)| {
        relative == *place || (place.ends_with('/') && relative.starts_with(place))
    })
}

/// The vendor crates (and the `tds` module) that `code` names as paths.
fn vendor_names(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let names = VENDOR_CRATES.iter().copied().chain(["tds"]);
    for name in names {
        let path = format!("{name}::");
        let mut rest = code;
        while let Some(at) = rest.find(&path) {
            let before = rest[..at].chars().next_back();
            // `foo_duckdb::` is another name; `crate::tds::` and `super::tds::` are the module.
            let starts_a_name = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if starts_a_name {
                named.insert(name.to_string());
            }
            rest = &rest[at + path.len()..];
        }
    }
    named
}

#[test]
fn the_core_names_no_vendor_crate() {
    assert_eq!(
        vendor_names("use duckdb::Connection; let w = \"warehouse.duckdb\"; crate::tds::X"),
        ["duckdb", "tds"].map(String::from).into()
    );
    assert!(vendor_names("my_duckdb::x").is_empty());
    println!(
        "vendor crates the core may not name: {} (and the crate's `tds` module)",
        VENDOR_CRATES.join(", ")
    );
    let mut adapters_seen = BTreeSet::new();
    for (path, text) in sources(&src()) {
        let relative = relative(&path);
        let named = vendor_names(&without_comments(&text));
        match adapter_of(&relative) {
            Some(adapter) => {
                adapters_seen.insert(adapter.0);
            }
            None => assert!(
                named.is_empty(),
                "{relative} is core and names {named:?}: only the adapters may ({:?})",
                ADAPTERS.map(|a| a.0)
            ),
        }
    }
    assert_eq!(adapters_seen.len(), ADAPTERS.len(), "every adapter exists");
}

/// Each adapter is compiled only with its feature: the `mod` that declares it (in
/// `lib.rs` for a top-level module, else in its parent's `mod.rs`) carries the `cfg`.
#[test]
fn every_adapter_sits_behind_its_cargo_feature() {
    for (place, feature, _) in ADAPTERS {
        let place = place.trim_end_matches('/').trim_end_matches(".rs");
        let (parent, name) = match place.rsplit_once('/') {
            Some((parent, name)) => (format!("{parent}/mod.rs"), name),
            None => ("lib.rs".to_string(), place),
        };
        let text = std::fs::read_to_string(src().join(&parent)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let declared = lines
            .iter()
            .position(|l| {
                l.trim_start_matches("pub ")
                    .starts_with(&format!("mod {name};"))
            })
            .unwrap_or_else(|| panic!("{parent} declares no `mod {name};`"));
        let gate = format!("#[cfg(feature = \"{feature}\")]");
        assert!(
            declared > 0 && lines[declared - 1].trim() == gate,
            "{parent}: `mod {name};` is not behind {gate}"
        );
    }
}

/// The module map of `docs/ARCHITECTURE.md` §10, as the import graph draws it: a node per
/// module (an adapter file inside a core module by its path), an edge per import.
fn module_map(graph: &Graph) -> String {
    let id = |node: &str| node.trim_end_matches(".rs").replace('/', "_");
    let mut map = String::from("flowchart LR\n");
    for node in graph.keys().filter(|n| n.contains('/')) {
        map.push_str(&format!("    {}[\"{node}\"]\n", id(node)));
    }
    for (module, imports) in graph {
        for import in imports.iter().filter(|i| graph.contains_key(*i)) {
            map.push_str(&format!("    {} --> {}\n", id(module), id(import)));
        }
    }
    map
}

#[test]
fn the_documented_module_map_is_the_import_graph() {
    let map = module_map(&import_graph());
    println!("```mermaid\n{map}```");
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"))
            .unwrap();
    assert!(
        doc.contains(&format!("```mermaid\n{map}```")),
        "docs/ARCHITECTURE.md's module map is not the import graph; paste this:\n```mermaid\n{map}```"
    );
}

/// The code of a file without its `#[cfg(test)]` module (the unit tests at its end).
fn production_code(text: &str) -> String {
    let code = without_comments(text);
    match code.find("#[cfg(test)]\nmod tests") {
        Some(at) => code[..at].to_string(),
        None => code,
    }
}

/// `map_err` closures that turn their error into text: a cause flattened into a string
/// instead of kept as the new error's `source()`.
fn causes_turned_into_text(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("map_err(|") {
        let after = &rest[at + "map_err(|".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let body: String = after.chars().take(160).collect();
        let body = body.split(".map_err(").next().unwrap_or_default();
        if !name.is_empty()
            && (body.contains(&format!("{name}.to_string()"))
                || body.contains(&format!("{{{name}}}")))
        {
            found.push(body.lines().next().unwrap_or_default().trim().to_string());
        }
        rest = after;
    }
    found
}

#[test]
fn errors_keep_their_cause() {
    assert_eq!(
        causes_turned_into_text("x.map_err(|e| Error::Io(e.to_string()))"),
        ["e| Error::Io(e.to_string()))"]
    );
    assert!(causes_turned_into_text("x.map_err(|source| Error::Io { source })").is_empty());
    // Refusals whose text is the answer a client reads (CONTRACT §3), not a cause.
    let refusal_text = ["order/parse.rs"];
    for (path, text) in sources(&src()) {
        let relative = relative(&path);
        if refusal_text.contains(&relative.as_str()) || relative.starts_with("cli") {
            continue;
        }
        let found = causes_turned_into_text(&production_code(&text));
        assert!(found.is_empty(), "{relative}: {found:?}");
    }
}
