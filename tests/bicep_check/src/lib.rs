//! Syntax check for the project's Bicep templates.
//!
//! [`syntax_problems`] parses one file with the tree-sitter Bicep grammar and lists every
//! `ERROR` node (text the grammar could not place) and every `MISSING` node (a token the
//! parser had to invent to recover, e.g. an unclosed `}`), each with its line and column.
//! tree-sitter always returns a tree, even for garbage, so "it parsed" means nothing on
//! its own: only a tree without such nodes is a clean parse.

use std::fs;
use std::path::{Path, PathBuf};

/// The problems of one source text, one line each (`line:column: what`); empty when clean.
pub fn syntax_problems(source: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bicep::LANGUAGE.into())
        .expect("the tree-sitter-bicep grammar loads into this tree-sitter runtime");
    let Some(tree) = parser.parse(source, None) else {
        return vec!["1:1: the parser gave up (no tree)".to_string()];
    };
    let mut problems = Vec::new();
    let mut cursor = tree.walk();
    // Pre-order walk over every node, named or not (MISSING tokens are often anonymous).
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            let what = if node.is_missing() {
                format!("MISSING {}", node.kind())
            } else {
                let text = node.utf8_text(source.as_bytes()).unwrap_or("");
                let snippet: String = text.chars().take(60).collect();
                format!("ERROR near {:?}", snippet)
            };
            problems.push(format!("{}:{}: {}", at.row + 1, at.column + 1, what));
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    problems
}

/// Every `*.bicep` file under `root`, recursively, sorted.
pub fn bicep_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "bicep") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::syntax_problems;

    const GOOD: &str = r#"
@description('Region of every resource.')
param location string = resourceGroup().location

@minValue(1)
@maxValue(32)
param partitionCount int = 4

var names = {
  hub: 'orders'
}

resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'pizza-ehns'
  location: location
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: { disableLocalAuth: true }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: ns
  name: names.hub
  properties: { partitionCount: partitionCount }
}

output hubName string = hub.name
"#;

    #[test]
    fn a_valid_template_has_no_problems() {
        assert_eq!(syntax_problems(GOOD), Vec::<String>::new());
    }

    #[test]
    fn an_unclosed_object_is_rejected() {
        // The last resource's body is never closed.
        let broken = GOOD.replace(
            "properties: { partitionCount: partitionCount }\n}",
            "properties: { partitionCount: partitionCount }\n",
        );
        let problems = syntax_problems(&broken);
        assert!(!problems.is_empty(), "an unclosed object must not pass");

        // An unterminated string: the parser invents the closing quote.
        let problems = syntax_problems("param a string = 'unterminated\n");
        assert!(
            problems.iter().any(|p| p.contains("MISSING")),
            "{problems:?}"
        );
    }

    #[test]
    fn stray_tokens_are_rejected_as_errors() {
        let broken = GOOD.replace("location: location\n", "location: location location ===\n");
        let problems = syntax_problems(&broken);
        assert!(
            problems.iter().any(|p| p.contains("ERROR")),
            "stray tokens must give an ERROR node: {problems:?}"
        );
    }

    #[test]
    fn a_missing_token_is_reported_as_missing() {
        // A parameter decorator call that is never closed: the parser invents the `)`.
        let broken = "@minValue(1\nparam partitionCount int = 4\n";
        let problems = syntax_problems(broken);
        assert!(
            problems.iter().any(|p| p.contains("MISSING )")),
            "an unclosed call must give a MISSING node: {problems:?}"
        );
    }

    #[test]
    fn problems_name_their_line() {
        let broken = "param a string = 'x'\nparam b int = = 3\n";
        let problems = syntax_problems(broken);
        assert!(problems.iter().any(|p| p.starts_with("2:")), "{problems:?}");
    }
}
