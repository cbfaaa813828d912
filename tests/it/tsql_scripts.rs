//! The T-SQL scripts the Azure adapters run (`sql/azure_sql/`, `sql/synapse/`): every
//! statement parses as T-SQL, and every `{{placeholder}}` and `@Pn` parameter they use is
//! part of the contract written down here ([`SCRIPTS`], [`PLACEHOLDERS`]), which the
//! adapters in `src/azure/` follow when they `include_str!` the files.
//!
//! What is parsed, and how. The parser is `sqlparser` (crates.io, Apache DataFusion's SQL
//! parser) with its `MsSqlDialect`. Each file is first given sample placeholder values (the
//! adapters' substitution) and split into batches on lines that hold only `GO` (the
//! adapters' split). Then:
//! - parsed strictly by sqlparser, every batch as a whole: CREATE TABLE with its
//!   constraints, CREATE DATABASE ... COLLATE, CREATE OR ALTER VIEW, GRANT, the IF guards
//!   and their conditions, DECLARE / SELECT @v = ... / EXEC sp_executesql, OPENJSON ... WITH,
//!   and every query: the view bodies and the report's SELECT (07), CTEs included;
//! - not supported by sqlparser (no other T-SQL parser for Rust exists on crates.io; the
//!   complete one, Microsoft's ScriptDom, is .NET): `CREATE MASTER KEY`, `CREATE DATABASE
//!   SCOPED CREDENTIAL`, `CREATE EXTERNAL DATA SOURCE`, `CREATE EXTERNAL FILE FORMAT`,
//!   `CREATE USER ... FROM EXTERNAL PROVIDER`, `CREATE EXTERNAL TABLE ... (...) WITH (...)`
//!   and the `OPENROWSET(BULK ...) WITH (...)` rowset. For these the test
//!   checks the statement's shape itself, token by token on sqlparser's T-SQL tokenizer,
//!   against the documented grammar (keywords in order, string literals where literals go,
//!   only known options, each once), then hands the rest to sqlparser: the DDL statement is
//!   replaced by a `PRINT` so the IF around it is still parsed, an OPENROWSET becomes a
//!   table name so the query around it is parsed, and the column lists of OPENROWSET and of
//!   an external table are parsed as the column list of a CREATE TABLE, with T-SQL type
//!   names only. The OPENROWSET columns are also checked against the lake's Parquet schema
//!   (`src/lake/parquet.rs`) and the population CSV header, and the external table's
//!   against the report file the report core writes (`summary::report_schema`).
//!
//! The unit tests at the end show the check failing on broken SQL, both hand-written and
//! obtained by breaking each real script. `TSQL_SCRIPTS_SHOW=1` prints what sqlparser is
//! given.

use pizza_pipeline::sql_script::{batches, placeholders};
use sqlparser::ast::{SetExpr, Statement};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use std::collections::{BTreeMap, BTreeSet};

/// One script: where it runs and what the adapter must give it.
pub struct Script {
    /// Path from the crate root.
    pub path: &'static str,
    /// The database the adapter connects to before running it.
    pub database: &'static str,
    /// Batches, split on lines that contain only `GO`, run in order on one connection.
    pub batches: usize,
    /// `{{name}}` placeholders the adapter replaces (see [`PLACEHOLDERS`]).
    pub placeholders: &'static [&'static str],
    /// Positional parameters the adapter binds (tiberius names them @P1, @P2, ...).
    pub parameters: &'static [&'static str],
}

/// Every script, in the order a deployment runs them (lookup_customers.sql is the query
/// run per enrichment batch; 05 is run per report build, 07 per verification).
pub const SCRIPTS: &[Script] = &[
    Script {
        path: "sql/azure_sql/customers.sql",
        database: "customers database (Azure SQL Database)",
        batches: 1,
        placeholders: &[],
        parameters: &[],
    },
    Script {
        path: "sql/azure_sql/grant_function_identity.sql",
        database: "customers database (Azure SQL Database), as its Microsoft Entra admin",
        batches: 1,
        placeholders: &["function_app_name"],
        parameters: &[],
    },
    Script {
        path: "sql/azure_sql/lookup_customers.sql",
        database: "customers database (Azure SQL Database), as the Function App identity",
        batches: 1,
        placeholders: &[],
        parameters: &["@P1"],
    },
    Script {
        path: "sql/synapse/01_database.sql",
        database: "master (Synapse serverless SQL pool)",
        batches: 1,
        placeholders: &[],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/02_lake_access.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 5,
        placeholders: &["master_key_password", "lake_url", "reference_url"],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/03_orders_enriched.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 2,
        placeholders: &[],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/04_adult_population.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 1,
        placeholders: &[],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/05_publish_state_summary.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 5,
        placeholders: &["run_id"],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/06_ledger.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 1,
        placeholders: &[],
        parameters: &[],
    },
    Script {
        path: "sql/synapse/07_verify_state_summary.sql",
        database: "pizza_warehouse (Synapse serverless SQL pool)",
        batches: 1,
        placeholders: &["window_start", "window_end", "first_day", "last_day"],
        parameters: &[],
    },
];

/// A `{{name}}` placeholder: what the adapter puts there, and the validation the value
/// must pass before it is substituted (none of the valid values can contain a quote, a
/// bracket or a brace, so none can leave the literal or identifier it is placed in).
pub struct Placeholder {
    pub name: &'static str,
    pub rule: &'static str,
    /// A valid value, used to parse the scripts.
    pub sample: &'static str,
    pub is_valid: fn(&str) -> bool,
}

pub const PLACEHOLDERS: &[Placeholder] = &[
    Placeholder {
        name: "function_app_name",
        rule: "the Function App's name: 2-60 of [A-Za-z0-9-], not starting or ending with '-'",
        sample: "pizza-pipeline-prod",
        is_valid: is_function_app_name,
    },
    Placeholder {
        name: "master_key_password",
        rule: "32-128 of [A-Za-z0-9] with an upper-case letter, a lower-case letter and a \
               digit; generated at random by the adapter, never logged",
        sample: "Sample0Password0For0Parsing0Only",
        is_valid: is_master_key_password,
    },
    Placeholder {
        name: "lake_url",
        rule: "https://<3-24 of [a-z0-9]>.dfs.core.windows.net/<container: 3-63 of [a-z0-9-], \
               no leading, trailing or double '-'>, no trailing slash",
        sample: "https://pizzalake.dfs.core.windows.net/lake",
        is_valid: is_adls_container_url,
    },
    Placeholder {
        name: "reference_url",
        rule: "as lake_url: the container holding reference/adult_population_by_state.csv",
        sample: "https://pizzalake.dfs.core.windows.net/lake",
        is_valid: is_adls_container_url,
    },
    Placeholder {
        name: "run_id",
        rule: "the run's UTC start as YYYYMMDDTHHMMSS[ffffff]Z (only [0-9A-Z]; one fixed \
               width per deployment, so run names sort by time)",
        sample: "20261125T020000123456Z",
        is_valid: is_run_id,
    },
    Placeholder {
        name: "window_start",
        rule: "UTC instant as YYYY-MM-DDTHH:MM:SS.ffffff (6 decimals)",
        sample: "2025-11-25T00:00:00.000000",
        is_valid: is_utc_timestamp,
    },
    Placeholder {
        name: "window_end",
        rule: "UTC instant as YYYY-MM-DDTHH:MM:SS.ffffff (6 decimals), exclusive",
        sample: "2026-11-25T00:00:00.000000",
        is_valid: is_utc_timestamp,
    },
    Placeholder {
        name: "first_day",
        rule: "YYYY-MM-DD: the first UTC day of ReportWindow::utc_days()",
        sample: "2025-11-25",
        is_valid: is_utc_day,
    },
    Placeholder {
        name: "last_day",
        rule: "YYYY-MM-DD: the last UTC day of ReportWindow::utc_days()",
        sample: "2026-11-24",
        is_valid: is_utc_day,
    },
];

fn is_function_app_name(v: &str) -> bool {
    (2..=60).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

fn is_master_key_password(v: &str) -> bool {
    (32..=128).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric())
        && v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes().any(|b| b.is_ascii_digit())
}

fn is_adls_container_url(v: &str) -> bool {
    let Some((account, container)) = v
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once(".dfs.core.windows.net/"))
    else {
        return false;
    };
    (3..=24).contains(&account.len())
        && account
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && (3..=63).contains(&container.len())
        && container
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !container.starts_with('-')
        && !container.ends_with('-')
        && !container.contains("--")
}

fn is_run_id(v: &str) -> bool {
    let format = match v.len() {
        16 => "%Y%m%dT%H%M%SZ",
        22 => "%Y%m%dT%H%M%S%6fZ",
        _ => return false,
    };
    v.bytes()
        .all(|b| b.is_ascii_digit() || b == b'T' || b == b'Z')
        && chrono::NaiveDateTime::parse_from_str(v, format).is_ok()
}

fn is_utc_timestamp(v: &str) -> bool {
    v.len() == 26
        && v.bytes()
            .all(|b| b.is_ascii_digit() || b"-:T.".contains(&b))
        && chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.6f").is_ok()
}

fn is_utc_day(v: &str) -> bool {
    v.len() == 10
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
}

fn placeholder(name: &str) -> Option<&'static Placeholder> {
    PLACEHOLDERS.iter().find(|p| p.name == name)
}

fn read_script(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

// ---------------------------------------------------------------------------------------
// Placeholders, batches and parameters
// ---------------------------------------------------------------------------------------

/// The leading comment block (the header every script starts with).
fn header(text: &str) -> String {
    text.lines()
        .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks the placeholders against the script's contract (those used in the code are
/// exactly the declared ones, each described in the header comment and in
/// [`PLACEHOLDERS`]) and substitutes the sample values, as the adapter does with real ones.
fn substitute(text: &str, declared: &[&str]) -> Result<String, String> {
    let head = header(text);
    // The adapters' own reading of a script: `sql_script::placeholders` and `batches`.
    let used = placeholders(&text[head.len()..]).map_err(|e| e.to_string())?;
    let described = placeholders(&head).map_err(|e| e.to_string())?;
    let declared: BTreeSet<String> = declared.iter().map(|s| s.to_string()).collect();
    if used != declared || described != declared {
        return Err(format!(
            "placeholders used {used:?} and described in the header {described:?} must both \
             be the contract's {declared:?}"
        ));
    }
    let mut out = text.to_string();
    for name in &used {
        let p = placeholder(name).ok_or_else(|| format!("{{{{{name}}}}} is not documented"))?;
        out = out.replace(&format!("{{{{{name}}}}}"), p.sample);
    }
    Ok(out)
}

fn tokenize(sql: &str) -> Result<Vec<Token>, String> {
    Tokenizer::new(&MsSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| format!("tokenizer: {e}"))
}

fn is_code(token: &Token) -> bool {
    !matches!(token, Token::Whitespace(_))
}

/// `@P1`, `@P2`, ... used as words (not inside strings or comments).
fn parameters_in(tokens: &[Token]) -> BTreeSet<String> {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w)
                if w.quote_style.is_none()
                    && w.value.len() > 2
                    && w.value
                        .get(..2)
                        .is_some_and(|p| p.eq_ignore_ascii_case("@P"))
                    && w.value[2..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(w.value.to_ascii_uppercase())
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Shapes of the statements sqlparser does not know
// ---------------------------------------------------------------------------------------

/// An OPENROWSET rowset: its BULK path, FORMAT and WITH columns (name, T-SQL type).
#[derive(Debug)]
struct Rowset {
    path: String,
    format: String,
    columns: Vec<(String, String)>,
}

/// A column list: (name, T-SQL type) in order.
type Columns = Vec<(String, String)>;

/// What the shape checks saw, for cross-file checks.
#[derive(Debug, Default)]
struct Findings {
    data_sources_created: BTreeSet<String>,
    file_formats_created: BTreeSet<String>,
    credentials_created: BTreeSet<String>,
    data_sources_used: BTreeSet<String>,
    file_formats_used: BTreeSet<String>,
    credentials_used: BTreeSet<String>,
    rowsets: Vec<Rowset>,
    /// External tables: (table, LOCATION, columns).
    external_tables: Vec<(String, String, Columns)>,
}

/// A cursor over tokens that skips whitespace and comments.
struct Cursor<'a> {
    tokens: &'a [Token],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(tokens: &'a [Token], pos: usize) -> Self {
        Cursor { tokens, pos }
    }

    fn skip_blanks(&mut self) {
        while self.tokens.get(self.pos).is_some_and(|t| !is_code(t)) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<&'a Token> {
        self.skip_blanks();
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let token = self.peek();
        self.pos += 1;
        token
    }

    fn peek_keyword(&mut self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w))
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(keyword))
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), String> {
        if self.peek_keyword(keyword) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {keyword}, found {:?}", self.peek()))
        }
    }

    fn keywords(&mut self, keywords: &[&str]) -> Result<(), String> {
        keywords.iter().try_for_each(|k| self.keyword(k))
    }

    fn punct(&mut self, expected: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if *t == expected => Ok(()),
            other => Err(format!("expected {expected}, found {other:?}")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::SingleQuotedString(s) | Token::NationalStringLiteral(s)) => Ok(s.clone()),
            other => Err(format!("expected a string literal, found {other:?}")),
        }
    }

    fn identifier(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) if !w.value.starts_with('@') => Ok(w.value.clone()),
            other => Err(format!("expected an identifier, found {other:?}")),
        }
    }

    /// `name` or `schema.name`.
    fn object_name(&mut self) -> Result<String, String> {
        let mut name = self.identifier()?;
        while self.peek() == Some(&Token::Period) {
            self.pos += 1;
            name.push('.');
            name.push_str(&self.identifier()?);
        }
        Ok(name)
    }

    /// `( ... )` with balanced parentheses; the tokens inside.
    fn parenthesized(&mut self) -> Result<&'a [Token], String> {
        self.punct(Token::LParen)?;
        let start = self.pos;
        let mut depth = 1;
        while let Some(token) = self.tokens.get(self.pos) {
            self.pos += 1;
            match token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(&self.tokens[start..self.pos - 1]);
                    }
                }
                _ => {}
            }
        }
        Err("unbalanced parentheses".into())
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }
}

/// An option value: a string literal or a bare word (PARQUET, TRUE, an object name).
#[derive(Debug, Clone, PartialEq)]
enum OptionValue {
    Text(String),
    Word(String),
}

/// `NAME = value [, NAME = value ...]`: names upper-cased, each at most once, all in
/// `allowed`. Stops at the first token after a value that is not a comma.
fn options(cursor: &mut Cursor, allowed: &[&str]) -> Result<BTreeMap<String, OptionValue>, String> {
    let mut found = BTreeMap::new();
    loop {
        let name = cursor.identifier()?.to_ascii_uppercase();
        if !allowed.contains(&name.as_str()) {
            return Err(format!("unknown option {name} (allowed: {allowed:?})"));
        }
        cursor.punct(Token::Eq)?;
        let value = match cursor.next() {
            Some(Token::SingleQuotedString(s) | Token::NationalStringLiteral(s)) => {
                OptionValue::Text(s.clone())
            }
            Some(Token::Word(w)) if !w.value.starts_with('@') => OptionValue::Word(w.value.clone()),
            other => {
                return Err(format!(
                    "{name}: expected a literal or a name, found {other:?}"
                ))
            }
        };
        if found.insert(name.clone(), value).is_some() {
            return Err(format!("option {name} given twice"));
        }
        if cursor.peek() != Some(&Token::Comma) {
            return Ok(found);
        }
        cursor.pos += 1;
    }
}

fn require_text(opts: &BTreeMap<String, OptionValue>, name: &str) -> Result<String, String> {
    match opts.get(name) {
        Some(OptionValue::Text(s)) if !s.is_empty() => Ok(s.clone()),
        other => Err(format!(
            "{name} must be a non-empty string literal, found {other:?}"
        )),
    }
}

fn require_word(opts: &BTreeMap<String, OptionValue>, name: &str) -> Result<String, String> {
    match opts.get(name) {
        Some(OptionValue::Word(s)) => Ok(s.clone()),
        other => Err(format!("{name} must be a name, found {other:?}")),
    }
}

/// `WITH ( options )` as a whole.
fn with_options(
    cursor: &mut Cursor,
    allowed: &[&str],
) -> Result<BTreeMap<String, OptionValue>, String> {
    cursor.keyword("WITH")?;
    let mut inner = Cursor::new(cursor.parenthesized()?, 0);
    let found = options(&mut inner, allowed)?;
    if !inner.at_end() {
        return Err(format!("expected , or ), found {:?}", inner.peek()));
    }
    Ok(found)
}

/// T-SQL type names the WITH column lists of OPENROWSET may use.
const TSQL_TYPES: &[&str] = &[
    "BIGINT",
    "INT",
    "SMALLINT",
    "TINYINT",
    "BIT",
    "DECIMAL",
    "NUMERIC",
    "FLOAT",
    "REAL",
    "CHAR",
    "VARCHAR",
    "NCHAR",
    "NVARCHAR",
    "DATE",
    "DATETIME2",
    "DATETIMEOFFSET",
    "VARBINARY",
];

/// Parses an OPENROWSET WITH column list as the column list of a CREATE TABLE.
fn column_list(tokens: &[Token]) -> Result<Vec<(String, String)>, String> {
    let text: String = tokens.iter().map(|t| t.to_string()).collect();
    let sql = format!("CREATE TABLE openrowset_columns ({text})");
    let parsed = Parser::parse_sql(&MsSqlDialect {}, &sql).map_err(|e| format!("{e}: {sql}"))?;
    let [Statement::CreateTable(table)] = parsed.as_slice() else {
        return Err(format!("not a column list: {text}"));
    };
    if !table.constraints.is_empty() {
        return Err(format!("constraints in a column list: {text}"));
    }
    let mut names = BTreeSet::new();
    let mut columns = Vec::new();
    for column in &table.columns {
        let data_type = column.data_type.to_string().to_ascii_uppercase();
        let base = data_type.split('(').next().unwrap_or_default();
        if !TSQL_TYPES.contains(&base) {
            return Err(format!("{}: {data_type} is not a T-SQL type", column.name));
        }
        if !column.options.is_empty() {
            return Err(format!("{}: column options are not allowed", column.name));
        }
        if !names.insert(column.name.value.clone()) {
            return Err(format!("{}: listed twice", column.name));
        }
        columns.push((column.name.value.clone(), data_type));
    }
    Ok(columns)
}

/// The replacement text for a statement whose shape was checked here.
fn surrogate(what: &str) -> String {
    format!("PRINT 'shape checked: {what}'")
}

/// If a statement sqlparser does not know starts at `tokens[at]`, checks its shape and
/// returns where it ends and what to give sqlparser instead.
fn synapse_only(
    tokens: &[Token],
    at: usize,
    findings: &mut Findings,
) -> Result<Option<(usize, String)>, String> {
    let mut c = Cursor::new(tokens, at);
    if c.peek_keyword("OPENROWSET") {
        c.pos += 1;
        let args = c.parenthesized()?;
        let mut a = Cursor::new(args, 0);
        a.keyword("BULK")?;
        let path = a.string()?;
        if path.contains("://") || path.starts_with('/') {
            return Err(format!("BULK {path:?} must be relative to the DATA_SOURCE"));
        }
        a.punct(Token::Comma)?;
        let opts = options(
            &mut a,
            &["DATA_SOURCE", "FORMAT", "PARSER_VERSION", "HEADER_ROW"],
        )?;
        if !a.at_end() {
            return Err(format!("OPENROWSET: expected , or ), found {:?}", a.peek()));
        }
        let data_source = require_text(&opts, "DATA_SOURCE")?;
        let format = require_text(&opts, "FORMAT")?.to_ascii_uppercase();
        match format.as_str() {
            "PARQUET" => {
                if opts.contains_key("PARSER_VERSION") || opts.contains_key("HEADER_ROW") {
                    return Err("PARSER_VERSION and HEADER_ROW are CSV options".into());
                }
            }
            "CSV" => {
                if opts.get("PARSER_VERSION") != Some(&OptionValue::Text("2.0".into())) {
                    return Err("CSV is read with PARSER_VERSION = '2.0'".into());
                }
                match opts.get("HEADER_ROW") {
                    None => {}
                    Some(OptionValue::Word(w))
                        if w.eq_ignore_ascii_case("TRUE") || w.eq_ignore_ascii_case("FALSE") => {}
                    other => return Err(format!("HEADER_ROW must be TRUE or FALSE: {other:?}")),
                }
            }
            other => return Err(format!("FORMAT {other:?} is neither PARQUET nor CSV")),
        }
        c.keyword("WITH")?;
        let columns = column_list(c.parenthesized()?)?;
        findings.data_sources_used.insert(data_source);
        findings.rowsets.push(Rowset {
            path,
            format,
            columns,
        });
        // `AS alias` stays for sqlparser: the rowset becomes a table name.
        return Ok(Some((c.pos, "openrowset_rowset".into())));
    }
    if !c.peek_keyword("CREATE") {
        return Ok(None);
    }
    c.pos += 1;
    if c.peek_keyword("MASTER") {
        c.keywords(&["MASTER", "KEY", "ENCRYPTION", "BY", "PASSWORD"])?;
        c.punct(Token::Eq)?;
        c.string()?;
        return Ok(Some((c.pos, surrogate("CREATE MASTER KEY"))));
    }
    if c.peek_keyword("USER") {
        c.keyword("USER")?;
        c.identifier()?;
        c.keywords(&["FROM", "EXTERNAL", "PROVIDER"])?;
        return Ok(Some((
            c.pos,
            surrogate("CREATE USER FROM EXTERNAL PROVIDER"),
        )));
    }
    if c.peek_keyword("DATABASE") {
        c.pos += 1;
        if !c.peek_keyword("SCOPED") {
            return Ok(None); // CREATE DATABASE: sqlparser's
        }
        c.keywords(&["SCOPED", "CREDENTIAL"])?;
        let name = c.identifier()?;
        c.keyword("WITH")?;
        let opts = options(&mut c, &["IDENTITY", "SECRET"])?;
        require_text(&opts, "IDENTITY")?;
        findings.credentials_created.insert(name);
        return Ok(Some((
            c.pos,
            surrogate("CREATE DATABASE SCOPED CREDENTIAL"),
        )));
    }
    if !c.peek_keyword("EXTERNAL") {
        return Ok(None);
    }
    c.pos += 1;
    if c.peek_keyword("DATA") {
        c.keywords(&["DATA", "SOURCE"])?;
        let name = c.identifier()?;
        let opts = with_options(&mut c, &["LOCATION", "CREDENTIAL"])?;
        require_text(&opts, "LOCATION")?;
        if opts.contains_key("CREDENTIAL") {
            findings
                .credentials_used
                .insert(require_word(&opts, "CREDENTIAL")?);
        }
        findings.data_sources_created.insert(name);
        return Ok(Some((c.pos, surrogate("CREATE EXTERNAL DATA SOURCE"))));
    }
    if c.peek_keyword("FILE") {
        c.keywords(&["FILE", "FORMAT"])?;
        let name = c.identifier()?;
        let opts = with_options(&mut c, &["FORMAT_TYPE", "DATA_COMPRESSION"])?;
        let format_type = require_word(&opts, "FORMAT_TYPE")?.to_ascii_uppercase();
        if format_type != "PARQUET" && format_type != "DELIMITEDTEXT" {
            return Err(format!("FORMAT_TYPE {format_type} unknown"));
        }
        if opts.contains_key("DATA_COMPRESSION") {
            require_text(&opts, "DATA_COMPRESSION")?;
        }
        findings.file_formats_created.insert(name);
        return Ok(Some((c.pos, surrogate("CREATE EXTERNAL FILE FORMAT"))));
    }
    // CREATE EXTERNAL TABLE name (columns) WITH (LOCATION, DATA_SOURCE, FILE_FORMAT): over
    // files already in the lake, so no AS SELECT.
    c.keyword("TABLE")?;
    let name = c.object_name()?;
    let columns = column_list(c.parenthesized()?)?;
    let opts = with_options(&mut c, &["LOCATION", "DATA_SOURCE", "FILE_FORMAT"])?;
    let location = require_text(&opts, "LOCATION")?;
    if !location.ends_with('/') || location.contains("://") {
        return Err(format!(
            "external table LOCATION {location:?} must be a folder (trailing /) of the data source"
        ));
    }
    if c.peek_keyword("AS") {
        return Err(format!("{name}: reads existing files, so no AS SELECT"));
    }
    findings
        .data_sources_used
        .insert(require_word(&opts, "DATA_SOURCE")?);
    findings
        .file_formats_used
        .insert(require_word(&opts, "FILE_FORMAT")?);
    findings.external_tables.push((name, location, columns));
    Ok(Some((c.pos, surrogate("CREATE EXTERNAL TABLE"))))
}

/// Checks one batch: shapes first, then sqlparser on the result.
fn check_batch(batch: &str, findings: &mut Findings) -> Result<Vec<Statement>, String> {
    let tokens = tokenize(batch)?;
    if !tokens.iter().any(is_code) {
        return Err("empty batch".into());
    }
    let mut sql = String::with_capacity(batch.len());
    let mut at = 0;
    while at < tokens.len() {
        if is_code(&tokens[at]) {
            if let Some((end, replacement)) = synapse_only(&tokens, at, findings)? {
                sql.push_str(&replacement);
                at = end;
                continue;
            }
        }
        sql.push_str(&tokens[at].to_string());
        at += 1;
    }
    if std::env::var_os("TSQL_SCRIPTS_SHOW").is_some() {
        eprintln!("--- given to sqlparser:\n{sql}");
    }
    let statements = Parser::parse_sql(&MsSqlDialect {}, &sql)
        .map_err(|e| format!("{e}\n--- as given to sqlparser:\n{sql}"))?;
    if statements.is_empty() {
        return Err("no statement".into());
    }
    Ok(statements)
}

/// Checks a whole script against its contract; the statements of each batch.
fn check_script(
    text: &str,
    script: &Script,
    findings: &mut Findings,
) -> Result<Vec<Vec<Statement>>, String> {
    let text = substitute(text, script.placeholders)?;
    let batches = batches(&text);
    if batches.len() != script.batches {
        return Err(format!(
            "{} batches, the contract says {}",
            batches.len(),
            script.batches
        ));
    }
    let mut parameters = BTreeSet::new();
    let mut parsed = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        parameters.extend(parameters_in(&tokenize(batch)?));
        parsed.push(check_batch(batch, findings).map_err(|e| format!("batch {}: {e}", i + 1))?);
    }
    let declared: BTreeSet<String> = script.parameters.iter().map(|p| p.to_string()).collect();
    if parameters != declared {
        return Err(format!(
            "parameters used {parameters:?} differ from the contract {declared:?}"
        ));
    }
    Ok(parsed)
}

fn script(path: &str) -> &'static Script {
    SCRIPTS
        .iter()
        .find(|s| s.path == path)
        .unwrap_or_else(|| panic!("{path} is not in SCRIPTS"))
}

// ---------------------------------------------------------------------------------------
// The scripts
// ---------------------------------------------------------------------------------------

#[test]
fn every_script_is_in_the_contract_and_every_statement_parses() {
    let mut on_disk = BTreeSet::new();
    for dir in ["sql/azure_sql", "sql/synapse"] {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&full).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            on_disk.insert(format!("{dir}/{name}"));
        }
    }
    let listed: BTreeSet<String> = SCRIPTS.iter().map(|s| s.path.to_string()).collect();
    assert_eq!(on_disk, listed, "every script has its line in SCRIPTS");

    let mut findings = Findings::default();
    let mut statements = 0;
    for s in SCRIPTS {
        let parsed = check_script(&read_script(s.path), s, &mut findings)
            .unwrap_or_else(|e| panic!("{} (runs in {}): {e}", s.path, s.database));
        assert!(
            header(&read_script(s.path)).lines().count() >= 3,
            "{}: a header comment says what the script is for",
            s.path
        );
        statements += parsed.iter().map(Vec::len).sum::<usize>();
    }
    assert!(statements >= 15, "{statements} statements parsed");

    // Everything used is created by 02_lake_access.sql.
    assert_eq!(
        findings.data_sources_created,
        BTreeSet::from(["pizza_lake".to_string(), "pizza_reference".to_string()])
    );
    assert!(
        findings
            .data_sources_used
            .is_subset(&findings.data_sources_created),
        "{findings:?}"
    );
    assert_eq!(findings.file_formats_created, findings.file_formats_used);
    assert_eq!(findings.credentials_created, findings.credentials_used);
    assert_eq!(
        findings.external_tables.len(),
        2,
        "05's tables over a run: the report and the books"
    );
    assert_eq!(
        findings.rowsets.len(),
        2,
        "03 (dbo.orders_first_received) and 04 read the lake; 07 and the view read through 03's function"
    );
    for path in [
        "sql/synapse/03_orders_enriched.sql",
        "sql/synapse/07_verify_state_summary.sql",
    ] {
        let text = read_script(path);
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect();
        assert!(code.contains("FROM dbo.orders_first_received("), "{path}");
        assert_eq!(
            code.matches("ROW_NUMBER() OVER (PARTITION BY r.order_id")
                .count()
                + code
                    .matches("ROW_NUMBER() OVER (PARTITION BY order_id")
                    .count(),
            usize::from(path.contains("03_")),
            "{path}: first received wins is written once, in dbo.orders_first_received"
        );
    }
}

#[test]
fn the_lookup_is_one_parameterised_query_over_openjson() {
    let s = script("sql/azure_sql/lookup_customers.sql");
    let parsed = check_script(&read_script(s.path), s, &mut Findings::default()).unwrap();
    let [batch] = parsed.as_slice() else { panic!() };
    let [Statement::Query(query)] = batch.as_slice() else {
        panic!("one query, nothing else: {batch:?}")
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        panic!("a plain SELECT")
    };
    let columns: Vec<String> = select.projection.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        columns,
        [
            "c.customer_id",
            "c.name",
            "c.address",
            "c.city",
            "c.state",
            "c.zip_code"
        ],
        "the adapter reads the columns by position"
    );
    let text = query.to_string();
    assert!(
        text.contains("OPENJSON(@P1) WITH (customer_id BIGINT '$')"),
        "{text}"
    );
}

#[test]
fn the_views_and_the_report_are_create_or_alter() {
    for path in [
        "sql/synapse/03_orders_enriched.sql",
        "sql/synapse/04_adult_population.sql",
        "sql/synapse/05_publish_state_summary.sql",
        "sql/synapse/06_ledger.sql",
    ] {
        let s = script(path);
        let parsed = check_script(&read_script(path), s, &mut Findings::default()).unwrap();
        let views: Vec<String> = parsed
            .iter()
            .flatten()
            .filter_map(|statement| match statement {
                Statement::CreateView(v) if v.or_alter => Some(v.name.to_string()),
                _ => None,
            })
            .collect();
        let expected: &[&str] = match path {
            "sql/synapse/03_orders_enriched.sql" => &["dbo.orders_enriched"],
            "sql/synapse/04_adult_population.sql" => &["dbo.adult_population"],
            "sql/synapse/06_ledger.sql" => &[],
            // the switches to the run's report and books
            _ => &["dbo.state_top_pizzas", "dbo.ledger"],
        };
        assert_eq!(views, expected, "{path}");
    }
}

/// The OPENROWSET WITH clauses declare the lake's real Parquet columns with matching types
/// (binding is by name, case-sensitively) and the population CSV's columns in file order.
#[test]
fn openrowset_columns_match_the_lake_schema_and_the_population_csv() {
    use arrow::datatypes::{DataType, TimeUnit};
    let mut findings = Findings::default();
    for s in SCRIPTS {
        check_script(&read_script(s.path), s, &mut findings).unwrap();
    }
    let schema = pizza_pipeline::lake::parquet::schema();
    for Rowset {
        path,
        format,
        columns,
    } in &findings.rowsets
    {
        match format.as_str() {
            "PARQUET" => {
                assert_eq!(path, "orders_enriched/order_date=*/*.parquet");
                for (name, tsql) in columns {
                    let field = schema
                        .field_with_name(name)
                        .unwrap_or_else(|_| panic!("{name} is not a lake column"));
                    let ok = match field.data_type() {
                        DataType::Int64 => tsql == "BIGINT",
                        DataType::Int32 => tsql == "INT",
                        DataType::Boolean => tsql == "BIT",
                        DataType::Utf8 => tsql.starts_with("VARCHAR("),
                        DataType::Decimal128(18, 2) => tsql == "DECIMAL(18,2)",
                        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => {
                            &**tz == "UTC" && tsql == "DATETIME2(6)"
                        }
                        _ => false,
                    };
                    assert!(ok, "{name}: {tsql} for {:?}", field.data_type());
                }
            }
            "CSV" => {
                assert_eq!(path, "reference/adult_population_by_state.csv");
                let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, pizza_pipeline::population::CSV_HEADER, "file order");
            }
            other => panic!("{other}"),
        }
    }
    // 05's tables declare the report file's and the books file's columns, with their types.
    let [(_, report_location, report_columns), (_, books_location, books_columns)] =
        findings.external_tables.as_slice()
    else {
        panic!("two external tables: {:?}", findings.external_tables)
    };
    for (location, columns, file, folder) in [
        (
            report_location,
            report_columns,
            pizza_pipeline::summary::report_schema(),
            "reports/state_top_pizzas/run=",
        ),
        (
            books_location,
            books_columns,
            pizza_pipeline::ledger::books_schema(),
            "reports/ledger/run=",
        ),
    ] {
        assert!(location.starts_with(folder), "{location}");
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let fields: Vec<&str> = file.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, fields, "the file's columns, in order");
        for ((name, tsql), field) in columns.iter().zip(file.fields()) {
            let ok = match field.data_type() {
                DataType::Int64 => tsql == "BIGINT",
                DataType::Int32 => tsql == "INT",
                DataType::Date32 => tsql == "DATE",
                DataType::Utf8 => tsql.starts_with("VARCHAR("),
                DataType::Decimal128(18, 2) => tsql == "DECIMAL(18,2)",
                DataType::Decimal128(18, 6) => tsql == "DECIMAL(18,6)",
                DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => {
                    &**tz == "UTC" && tsql == "DATETIME2(6)"
                }
                _ => false,
            };
            assert!(ok, "{name}: {tsql} for {:?}", field.data_type());
        }
    }
    // The view exposes every lake column (plus order_date from the folder).
    let view = findings
        .rowsets
        .iter()
        .find(|rowset| rowset.columns.len() == schema.fields().len())
        .expect("03 declares every lake column");
    assert_eq!(view.columns.len(), 16);
}

#[test]
fn placeholder_rules_accept_the_samples_and_refuse_injection() {
    let used: BTreeSet<&str> = SCRIPTS
        .iter()
        .flat_map(|s| s.placeholders.iter().copied())
        .collect();
    let documented: BTreeSet<&str> = PLACEHOLDERS.iter().map(|p| p.name).collect();
    assert_eq!(used, documented, "every documented placeholder is used");
    let hostile = [
        "",
        "x' OR 1=1 --",
        "a]b",
        "a}}b",
        "2026-11-25T00:00:00.000000'; DROP VIEW dbo.state_top_pizzas; --",
        "https://evil.dfs.core.windows.net/lake'",
        "20261125T020000Z; DROP",
        "pizza pipeline",
        "https://pizzalake.dfs.core.windows.net/lake/../x",
    ];
    let malformed: &[(&str, &[&str])] = &[
        (
            "function_app_name",
            &["-pizza", "pizza-", "p", "pizza_pipeline"],
        ),
        (
            "master_key_password",
            &[
                "Short0ne",
                "alllowercaseand0digitsbutnoupper1234",
                "With space 0Aaaaaaaaaaaaaaaaaaaaaaaaaa",
            ],
        ),
        (
            "lake_url",
            &[
                "https://pizzalake.blob.core.windows.net/lake",
                "https://pizzalake.dfs.core.windows.net/lake/",
                "http://pizzalake.dfs.core.windows.net/lake",
                "https://PizzaLake.dfs.core.windows.net/lake",
                "https://pizzalake.dfs.core.windows.net/-lake",
            ],
        ),
        (
            "run_id",
            &[
                "20261125T020000",
                "20261125T02000Z",
                "20261325T020000Z",
                "20261125t020000z",
                "20261125T020000123Z",
            ],
        ),
        (
            "window_start",
            &[
                "2026-11-25T00:00:00",
                "2026-11-25 00:00:00.000000",
                "2026-11-25T25:00:00.000000",
                "2026-11-25T00:00:00.000000Z",
            ],
        ),
        ("first_day", &["2026-13-01", "2026-1-01", "20261101"]),
    ];
    for (name, values) in malformed {
        let p = placeholder(name).unwrap();
        for value in *values {
            assert!(
                !(p.is_valid)(value),
                "{name} accepts {value:?} ({})",
                p.rule
            );
        }
    }
    for p in PLACEHOLDERS {
        assert!(
            (p.is_valid)(p.sample),
            "{}: sample {:?} breaks its own rule: {}",
            p.name,
            p.sample,
            p.rule
        );
        assert!(
            !p.sample.contains(['\'', '[', ']', '{', '}', ';']),
            "{}",
            p.name
        );
        for value in hostile {
            assert!(!(p.is_valid)(value), "{} accepts {value:?}", p.name);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The check fails on broken SQL
// ---------------------------------------------------------------------------------------

fn check_alone(sql: &str) -> Result<Vec<Statement>, String> {
    check_batch(sql, &mut Findings::default())
}

#[test]
fn the_check_accepts_well_formed_statements() {
    for sql in [
        "SELECT a FROM t;",
        "IF NOT EXISTS (SELECT * FROM sys.symmetric_keys) CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Aa1';",
        "CREATE EXTERNAL DATA SOURCE d WITH (LOCATION = 'https://a.dfs.core.windows.net/c', CREDENTIAL = c);",
        "SELECT r.a FROM OPENROWSET(BULK 'x/*.parquet', DATA_SOURCE = 'd', FORMAT = 'PARQUET') WITH (a BIGINT) AS r;",
        "CREATE EXTERNAL TABLE dbo.t (a BIGINT, b DECIMAL(18, 2)) WITH (LOCATION = 'f/', DATA_SOURCE = d, FILE_FORMAT = f);",
    ] {
        check_alone(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn broken_statements_are_rejected() {
    let broken = [
        // strictly parsed by sqlparser
        ("trailing comma", "SELECT a, FROM t;"),
        ("no predicate", "SELECT a FROM t WHERE;"),
        ("misspelt keyword", "CREATE OR ALTER VIEW v AS SELEC 1;"),
        ("unclosed CAST", "SELECT CAST(a AS INT FROM t;"),
        ("two aliases", "SELECT a b c FROM t;"),
        (
            "broken IF condition",
            "IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE) CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'x';",
        ),
        // shapes checked here
        ("master key without password", "CREATE MASTER KEY ENCRYPTION BY PASSWORD;"),
        ("master key password not a literal", "CREATE MASTER KEY ENCRYPTION BY PASSWORD = @p;"),
        ("garbage after a shape", "CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'x' NOW;"),
        ("credential without identity", "CREATE DATABASE SCOPED CREDENTIAL c WITH SECRET = 'x';"),
        (
            "misspelt data source option",
            "CREATE EXTERNAL DATA SOURCE d WITH (LOCATON = 'https://x');",
        ),
        (
            "data source option twice",
            "CREATE EXTERNAL DATA SOURCE d WITH (LOCATION = 'a', LOCATION = 'b');",
        ),
        ("unknown file format", "CREATE EXTERNAL FILE FORMAT f WITH (FORMAT_TYPE = ORC);"),
        ("user without provider", "CREATE USER [x] FROM EXTERNAL;"),
        (
            "external table without file format",
            "CREATE EXTERNAL TABLE t (a BIGINT) WITH (LOCATION = 'f/', DATA_SOURCE = d);",
        ),
        (
            "external table location not a folder",
            "CREATE EXTERNAL TABLE t (a BIGINT) WITH (LOCATION = 'f', DATA_SOURCE = d, FILE_FORMAT = f);",
        ),
        (
            "external table without columns",
            "CREATE EXTERNAL TABLE t WITH (LOCATION = 'f/', DATA_SOURCE = d, FILE_FORMAT = f);",
        ),
        (
            "external table column type typo",
            "CREATE EXTERNAL TABLE t (a BIGNT) WITH (LOCATION = 'f/', DATA_SOURCE = d, FILE_FORMAT = f);",
        ),
        (
            "external table as a CETAS",
            "CREATE EXTERNAL TABLE t (a BIGINT) WITH (LOCATION = 'f/', DATA_SOURCE = d, FILE_FORMAT = f) AS SELECT 1 AS a;",
        ),
        (
            "OPENROWSET without FORMAT",
            "SELECT r.a FROM OPENROWSET(BULK 'x', DATA_SOURCE = 'd') WITH (a BIGINT) AS r;",
        ),
        (
            "OPENROWSET with an absolute path",
            "SELECT r.a FROM OPENROWSET(BULK 'https://a/x', DATA_SOURCE = 'd', FORMAT = 'PARQUET') WITH (a BIGINT) AS r;",
        ),
        (
            "OPENROWSET column type typo",
            "SELECT r.a FROM OPENROWSET(BULK 'x', DATA_SOURCE = 'd', FORMAT = 'PARQUET') WITH (a VARCHR(2)) AS r;",
        ),
        (
            "OPENROWSET column list broken",
            "SELECT r.a FROM OPENROWSET(BULK 'x', DATA_SOURCE = 'd', FORMAT = 'PARQUET') WITH (a BIGINT,, b INT) AS r;",
        ),
        (
            "CSV without parser 2.0",
            "SELECT r.a FROM OPENROWSET(BULK 'x', DATA_SOURCE = 'd', FORMAT = 'CSV', HEADER_ROW = TRUE) WITH (a BIGINT) AS r;",
        ),
        (
            "OPENROWSET in a broken query",
            "SELECT r.a FROM OPENROWSET(BULK 'x', DATA_SOURCE = 'd', FORMAT = 'PARQUET') WITH (a BIGINT) AS r WHERE;",
        ),
        ("empty batch", "-- nothing\n"),
    ];
    for (what, sql) in broken {
        assert!(check_alone(sql).is_err(), "{what} was accepted: {sql}");
    }
}

/// Each real script, broken in a few ways, fails its check.
#[test]
fn every_script_fails_the_check_once_broken() {
    for s in SCRIPTS {
        let text = read_script(s.path);
        let code_start = header(&text).len();
        let last_paren = text.rfind(')').expect("every script has a )");
        let mut breaks: Vec<(&str, String)> = vec![
            (
                "last ) removed",
                format!("{}{}", &text[..last_paren], &text[last_paren + 1..]),
            ),
            (
                "first statement cut in half",
                format!("{}\n", &text[..code_start + (text.len() - code_start) / 2]),
            ),
            ("an extra GO", format!("{text}\nGO\nSELECT 1;\n")),
            (
                "an unknown placeholder",
                format!("{text}\n-- {{{{unknown}}}}\n"),
            ),
            (
                "an unclosed placeholder",
                format!("{text}\n-- {{{{unknown\n"),
            ),
            ("a stray }}", format!("{text}\n-- unknown}}}}\n")),
            (
                "a malformed placeholder",
                format!("{text}\n-- {{{{Un Known}}}}\n"),
            ),
        ];
        if let Some(first) = s.placeholders.first() {
            let marker = format!("{{{{{first}}}}}");
            let code = text[code_start..].replace(&marker, placeholder(first).unwrap().sample);
            breaks.push((
                "a placeholder no longer used",
                format!("{}{code}", &text[..code_start]),
            ));
            breaks.push((
                "a placeholder not described",
                format!(
                    "{}{}",
                    text[..code_start].replace(&marker, "it"),
                    &text[code_start..]
                ),
            ));
        }
        if s.parameters.is_empty() {
            breaks.push((
                "an undeclared parameter",
                format!("{text}\nSELECT @P9 AS p9;\n"),
            ));
        } else {
            breaks.push(("its parameter gone", text.replace("@P1", "N'[1]'")));
        }
        for (what, broken) in breaks {
            assert_ne!(broken, text, "{}: {what} changed nothing", s.path);
            assert!(
                check_script(&broken, s, &mut Findings::default()).is_err(),
                "{}: {what} still passes",
                s.path
            );
        }
    }
}
