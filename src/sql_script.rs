//! SQL scripts of `sql/` as the adapters run them: the one filler of `{{placeholders}}`
//! for every engine (Azure SQL, Synapse, DuckDB).
//!
//! A file is a sequence of batches separated by lines holding only `GO` (the separator
//! of sqlcmd and SSMS, so the same file runs by hand too). `{{name}}` placeholders stand
//! for names that T-SQL cannot take as parameters (object names, folder names, URLs);
//! each value is checked against what its placeholder may hold before it is pasted in,
//! and a script with a placeholder left unfilled is refused.

use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScriptError {
    #[error("placeholder {{{{{name}}}}} has no value")]
    Unfilled { name: String },
    #[error("the script's placeholders are malformed: {problem}")]
    Malformed { problem: String },
    #[error("value {value:?} for {{{{{name}}}}} is not allowed: {rule}")]
    BadValue {
        name: String,
        value: String,
        rule: &'static str,
    },
}

/// What a placeholder value may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    /// Letters, digits and `_` only (object names, run ids).
    Identifier,
    /// An `https://` URL without quotes, spaces, `;` or `--`.
    HttpsUrl,
    /// A UTC timestamp `YYYY-MM-DDTHH:MM:SS.ffffff` (six decimals).
    Timestamp,
    /// A day `YYYY-MM-DD`.
    Date,
    /// A single-quoted SQL string (quotes inside doubled), or a `[...]` list of them
    /// separated by commas: the file lists the DuckDB warehouse hands `read_parquet`.
    SqlStrings,
}

impl ValueRule {
    fn check(self, value: &str) -> Result<(), &'static str> {
        match self {
            ValueRule::Identifier => {
                if !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    Ok(())
                } else {
                    Err("letters, digits and _ only")
                }
            }
            ValueRule::HttpsUrl => {
                let clean =
                    !value.contains(['\'', '"', ' ', ';', '[', ']']) && !value.contains("--");
                if value.starts_with("https://") && clean {
                    Ok(())
                } else {
                    Err("an https:// URL without quotes, spaces, ; or --")
                }
            }
            ValueRule::Timestamp => {
                chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.6f")
                    .ok()
                    .filter(|_| value.len() == 26)
                    .map(|_| ())
                    .ok_or("a timestamp YYYY-MM-DDTHH:MM:SS.ffffff")
            }
            ValueRule::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .filter(|_| value.len() == 10)
                .map(|_| ())
                .ok_or("a day YYYY-MM-DD"),
            ValueRule::SqlStrings => is_string_list(value)
                .then_some(())
                .ok_or("a quoted SQL string, or a [...] list of them (quotes inside doubled)"),
        }
    }
}

/// Whether `value` is `'…'` or `['…', '…', …]`, every quote inside a string doubled, so
/// nothing in it can leave its literals.
fn is_string_list(value: &str) -> bool {
    let (inner, listed) = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => (inner, true),
        None => (value, false),
    };
    let mut rest = inner.trim_start();
    let mut strings = 0;
    loop {
        let Some(mut body) = rest.strip_prefix('\'') else {
            return false;
        };
        // The literal ends at the first quote that is not doubled.
        loop {
            let Some(quote) = body.find('\'') else {
                return false;
            };
            body = &body[quote + 1..];
            match body.strip_prefix('\'') {
                Some(after_doubled) => body = after_doubled,
                None => break,
            }
        }
        strings += 1;
        rest = body.trim_start();
        if rest.is_empty() {
            return listed || strings == 1;
        }
        match rest.strip_prefix(',') {
            Some(after) if listed => rest = after.trim_start(),
            _ => return false,
        }
    }
}

/// The placeholders a script uses. Braces that do not make a placeholder of lowercase
/// letters, digits and `_` (an unclosed `{{`, a stray `}}`, `{{Bad Name}}`) refuse the
/// script: a typo there would otherwise reach the engine as SQL text.
pub fn placeholders(script: &str) -> Result<BTreeSet<String>, ScriptError> {
    let malformed = |problem: String| ScriptError::Malformed { problem };
    let mut names = BTreeSet::new();
    let mut rest = script;
    while let Some(start) = rest.find("{{") {
        if let Some(stray) = rest[..start].find("}}") {
            return Err(malformed(format!(
                "a stray }}}} near {:?}",
                near(&rest[stray..])
            )));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            malformed(format!("an unclosed {{{{ near {:?}", near(&rest[start..])))
        })?;
        let name = &after[..end];
        let well_formed = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !well_formed {
            return Err(malformed(format!(
                "{{{{{name}}}}} is not a placeholder name"
            )));
        }
        names.insert(name.to_string());
        rest = &after[end + 2..];
    }
    match rest.find("}}") {
        Some(stray) => Err(malformed(format!(
            "a stray }}}} near {:?}",
            near(&rest[stray..])
        ))),
        None => Ok(names),
    }
}

/// The first characters of `text`, for an error message.
fn near(text: &str) -> &str {
    let end = text.char_indices().nth(24).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// Pastes checked values into the placeholders; every placeholder must get one.
pub fn fill(script: &str, values: &[(&str, &str, ValueRule)]) -> Result<String, ScriptError> {
    let used = placeholders(script)?;
    let mut text = script.to_string();
    for (name, value, rule) in values {
        rule.check(value).map_err(|rule| ScriptError::BadValue {
            name: name.to_string(),
            value: value.to_string(),
            rule,
        })?;
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    let unfilled = used
        .into_iter()
        .find(|name| !values.iter().any(|(given, _, _)| given == name));
    match unfilled {
        Some(name) => Err(ScriptError::Unfilled { name }),
        None => Ok(text),
    }
}

/// The batches of a script, in order, without empty ones.
pub fn batches(script: &str) -> Vec<String> {
    let mut batches = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        if line.trim().eq_ignore_ascii_case("GO") {
            batches.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    batches.push(current);
    batches
        .into_iter()
        .filter(|batch| has_code(batch))
        .collect()
}

/// Whether a batch holds anything besides comments and blank lines.
fn has_code(batch: &str) -> bool {
    batch.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with("--")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lists_are_quoted_strings_and_nothing_else() {
        let ok = ValueRule::SqlStrings;
        for value in [
            "'/lake/a.parquet'",
            "['/lake/a.parquet']",
            "['/lake/a.parquet', '/lake/o''brien/b.parquet']",
            "['']",
        ] {
            assert_eq!(ok.check(value), Ok(()), "{value}");
        }
        for value in [
            "",
            "[]",
            "'a', 'b'",
            "'a' OR 1=1",
            "['a'); DROP TABLE t; --']",
            "['a' 'b']",
            "['a',]",
            "'unterminated",
            "['a''']x",
        ] {
            assert!(ok.check(value).is_err(), "{value}");
        }
        let filled = fill(
            "SELECT * FROM read_parquet({{files}})",
            &[("files", "['x''y']", ok)],
        );
        assert_eq!(filled.unwrap(), "SELECT * FROM read_parquet(['x''y'])");
    }

    #[test]
    fn splits_on_go_lines_only() {
        let script = "-- header\nCREATE VIEW a AS SELECT 1 AS going;\ngo\n\n  GO  \nSELECT 'GO';\n-- trailing comment\n";
        let parts = batches(script);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].contains("CREATE VIEW a AS SELECT 1 AS going;"));
        assert!(parts[1].contains("SELECT 'GO';"));
    }

    #[test]
    fn braces_that_make_no_placeholder_refuse_the_script() {
        for (script, problem) in [
            ("SELECT 1 -- {{run_id", "an unclosed {{"),
            ("SELECT 1 -- run_id}}", "a stray }}"),
            ("SELECT {{run_id}} -- x}} {{lake_url}}", "a stray }}"),
            ("SELECT {{Run Id}}", "is not a placeholder name"),
            ("SELECT {{}}", "is not a placeholder name"),
        ] {
            let refused = placeholders(script).unwrap_err();
            assert!(
                refused.to_string().contains(problem),
                "{script:?}: {refused}"
            );
            assert_eq!(
                fill(script, &[("run_id", "1", ValueRule::Identifier)]).unwrap_err(),
                refused,
                "{script:?}"
            );
        }
    }

    #[test]
    fn fills_checked_values_and_refuses_the_rest() {
        let script = "CREATE EXTERNAL TABLE t_{{run_id}} WITH (LOCATION = 'run={{run_id}}/') AS SELECT 1; -- {{lake_url}}";
        assert_eq!(
            placeholders(script).unwrap(),
            BTreeSet::from(["run_id".to_string(), "lake_url".to_string()])
        );
        let filled = fill(
            script,
            &[
                ("run_id", "20261125T020000Z", ValueRule::Identifier),
                (
                    "lake_url",
                    "https://acct.dfs.core.windows.net/lake",
                    ValueRule::HttpsUrl,
                ),
            ],
        )
        .unwrap();
        assert!(filled.contains("t_20261125T020000Z"));
        assert!(ValueRule::Timestamp
            .check("2026-11-25T00:00:00.000000")
            .is_ok());
        assert!(ValueRule::Date.check("2026-11-25").is_ok());
        assert!(!filled.contains("{{"));

        let unfilled = fill(script, &[("run_id", "1", ValueRule::Identifier)]).unwrap_err();
        assert_eq!(
            unfilled,
            ScriptError::Unfilled {
                name: "lake_url".into()
            }
        );
        for (value, rule) in [
            ("x'; DROP TABLE y; --", ValueRule::Identifier),
            ("", ValueRule::Identifier),
            ("https://a/b'; DROP", ValueRule::HttpsUrl),
            ("http://plain", ValueRule::HttpsUrl),
            ("2026-11-25 00:00:00'", ValueRule::Timestamp),
            ("2026-11-25T00:00:00", ValueRule::Timestamp),
            ("2026-13-01", ValueRule::Date),
        ] {
            assert!(
                matches!(
                    fill(script, &[("run_id", value, rule)]),
                    Err(ScriptError::BadValue { .. })
                ),
                "{value:?} must be refused"
            );
        }
    }
}
