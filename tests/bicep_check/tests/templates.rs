//! Every Bicep template of the project parses cleanly with the tree-sitter Bicep grammar.

use std::path::PathBuf;

use bicep_check::{bicep_files, syntax_problems};

/// The checkout's `bicep/`. `cargo test` names the manifest dir at run time too; that one
/// wins, because the test binary is cached outside the clone and may have been built
/// from another checkout of the same sources.
fn bicep_root() -> PathBuf {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    PathBuf::from(manifest_dir).join("../../bicep")
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
