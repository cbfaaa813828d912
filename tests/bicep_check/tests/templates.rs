//! Every Bicep template of the project parses cleanly with the tree-sitter Bicep grammar.

use std::path::PathBuf;

use bicep_check::{bicep_files, syntax_problems};

fn bicep_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bicep")
}

#[test]
fn every_bicep_file_parses_without_error_or_missing_nodes() {
    let root = bicep_root();
    let files =
        bicep_files(&root).unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()));
    assert!(
        files.iter().any(|f| f.ends_with("main.bicep")),
        "bicep/main.bicep not found under {}: {files:?}",
        root.display()
    );
    let mut report = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for problem in syntax_problems(&source) {
            report.push(format!("{}:{problem}", file.display()));
        }
    }
    assert!(
        report.is_empty(),
        "Bicep syntax problems:\n{}",
        report.join("\n")
    );
    println!("{} Bicep files parsed cleanly", files.len());
}

#[test]
fn the_modules_are_there() {
    let files = bicep_files(&bicep_root().join("modules")).expect("bicep/modules");
    for module in [
        "storage",
        "eventhubs",
        "monitoring",
        "sql",
        "synapse",
        "functionapp",
        "roles",
    ] {
        assert!(
            files
                .iter()
                .any(|f| f.file_stem().is_some_and(|s| s == module)),
            "bicep/modules/{module}.bicep missing: {files:?}"
        );
    }
}
