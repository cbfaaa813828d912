//! The report core, the two SQL definitions of the report and the published Synapse view
//! all give the same rows.
//!
//! On a generated lake with the awkward cases, for windows in UTC and across daylight-
//! saving changes, before and after compaction:
//! - the report core (`summary::build_report_as_is`, from the daily roll-ups) must equal DuckDB's
//!   SQL definition (`sql/duckdb/state_top_pizzas_check.sql`, `Warehouse::recompute`) and
//!   Synapse's (`sql/synapse/07_verify_state_summary.sql`), both over the order rows;
//! - `sql/synapse/05_publish_state_summary.sql`, run over the core's report file, must make
//!   `dbo.state_top_pizzas` give exactly the core's rows;
//! - the books from the roll-ups (`ledger::lake_days`) must equal DuckDB's
//!   (`sql/duckdb/ledger.sql`) and Synapse's (`dbo.ledger_between`,
//!   `sql/synapse/06_ledger.sql`); the books the core publishes with the report (batches 2
//!   and 4 of 05, `dbo.ledger`) must equal them on the window's days, and their repeats
//!   (duplicates and conflicts) must equal a count in SQL over every copy the lake keeps;
//! - the views of 03 and 04 must equal `sql/duckdb/orders_enriched.sql` and the shipped
//!   population table.
//!
//! Synapse cannot run here, so the T-SQL is translated, mechanically and only as far as the
//! dialects differ. Everything that differs is in [`to_duckdb`]:
//!
//! | T-SQL (Synapse serverless)                          | DuckDB                                        |
//! |-----------------------------------------------------|-----------------------------------------------|
//! | `/` on integers truncates                           | `SET integer_division = true`                 |
//! | schema `dbo` exists                                 | `CREATE SCHEMA dbo`                           |
//! | `CREATE OR ALTER VIEW`                              | `CREATE OR REPLACE VIEW`                      |
//! | `CREATE OR ALTER FUNCTION f(@a T, ...) RETURNS TABLE AS RETURN (<select>)` (inline table-valued) | `CREATE OR REPLACE MACRO f(a, ...) AS TABLE (<select>)`, `@a` -> `a` |
//! | `CREATE EXTERNAL TABLE t (c type, ...) WITH (LOCATION = 'p', DATA_SOURCE = ds, ...)` | `CREATE VIEW t AS SELECT CAST(c AS type'), ... FROM read_parquet('<folder of ds>/p*.parquet')` |
//! | `OPENROWSET(BULK 'p', DATA_SOURCE = 'ds', FORMAT = 'PARQUET') WITH (c type, ...) AS r` | `(SELECT CAST(c AS type'), ... FROM read_parquet('<folder of ds>/p', filename = true)) AS r` (columns bound by name) |
//! | the same with `FORMAT = 'CSV', HEADER_ROW = TRUE`   | `read_csv(..., header = true, all_varchar = true, names = [c, ...])` (bound by position) |
//! | `r.filepath(k)`: the k-th `*` of the BULK path      | `r.filepath_k`: `regexp_extract(filename, <the path as a regex>, k)` |
//! | `DATETIME2(6)` (UTC by convention)                  | `TIMESTAMP` (a UTC Parquet timestamp cast to it is UTC wall time) |
//! | `BIT`, `INT`, `VARCHAR(n)`                          | `INTEGER` (0/1), `INTEGER`, `VARCHAR`         |
//! | `{{placeholders}}`                                  | the values the adapter substitutes            |
//!
//! Batch 5 of 05 (dropping older runs' external tables via `sys.external_tables` and
//! `sp_executesql`) is catalog upkeep with no DuckDB counterpart and is not run.
//!
//! The lake holds generated history plus the awkward cases: the same order_id landed in
//! several files (first received wins, by received_at then stream_seq, whatever the file
//! order), a re-landed version of a generated (compacted) order, unknown customers,
//! customers in a state outside the population table, orders exactly on and 1 µs around
//! the window edges, and ties broken by gross sales and then by pizza type. Each window is
//! compared before and after compaction (before it, generated days are read from their
//! roll-ups and the days landed since as orders).

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use pizza_pipeline::customers::{demo_customers, Customer};
use pizza_pipeline::enrich::EnrichedOrder;
use pizza_pipeline::generate::{generate_lake, LakeSpec};
use pizza_pipeline::lake::{compact_lake, land_batch, LakeGate, LocalLake};
use pizza_pipeline::ledger::{books_file, BooksContext, StreamBooksDay};
use pizza_pipeline::order::{OrderEvent, PizzaType};
use pizza_pipeline::sql_script::batches;
use pizza_pipeline::summary::{
    build_report_as_is, first_difference, ledger_file, publish_batches, report_file, run_file,
    run_id, verify_query, BuiltReport, CoreReport, ReportRow, ReportWindow,
};
use pizza_pipeline::warehouse::{report_row, Warehouse};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SYNAPSE_ORDERS: &str = include_str!("../../sql/synapse/03_orders_enriched.sql");
const SYNAPSE_POPULATION: &str = include_str!("../../sql/synapse/04_adult_population.sql");
const SYNAPSE_LEDGER: &str = include_str!("../../sql/synapse/06_ledger.sql");
const DUCKDB_ORDERS: &str = include_str!("../../sql/duckdb/orders_enriched.sql");
const POPULATION_CSV: &str = include_str!("../../data/census/adult_population_by_state.csv");

// ---------------------------------------------------------------------------------------
// T-SQL -> DuckDB
// ---------------------------------------------------------------------------------------

/// Where the external data sources of 02_lake_access.sql point in this test.
struct DataSources {
    /// `pizza_lake`: the lake root.
    lake: PathBuf,
    /// `pizza_reference`: a folder holding reference/adult_population_by_state.csv.
    reference: PathBuf,
}

/// One batch of T-SQL, with its placeholders already filled, as DuckDB SQL.
fn to_duckdb(tsql: &str, sources: &DataSources) -> String {
    let sql = strip_comments(tsql);
    let sql = sql.replace("CREATE OR ALTER VIEW", "CREATE OR REPLACE VIEW");
    let sql = inline_function_to_macro(&sql);
    let sql = external_table_to_view(&sql, sources);
    let sql = openrowsets_to_duckdb(&sql, sources);
    let sql = sql.replace("DATETIME2(6)", "TIMESTAMP");
    for tsql_only in [
        "OPENROWSET",
        "EXTERNAL",
        "DATETIME2",
        "filepath(",
        "{{",
        "@",
        "FUNCTION",
    ] {
        assert!(!sql.contains(tsql_only), "{tsql_only} left in:\n{sql}");
    }
    sql
}

/// Drops `--` comments (the scripts' string literals hold no `--`).
fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| match line.find("--") {
            Some(at) => {
                assert_eq!(
                    line[..at].matches('\'').count() % 2,
                    0,
                    "-- in a literal: {line}"
                );
                &line[..at]
            }
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(sql: &str, open: usize) -> usize {
    assert_eq!(&sql[open..open + 1], "(");
    let (mut depth, mut in_string) = (0, false);
    for (i, ch) in sql[open..].char_indices() {
        match ch {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return open + i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses from {open}")
}

/// Splits on commas outside parentheses and string literals.
fn split_top_level(list: &str) -> Vec<String> {
    let (mut parts, mut current) = (Vec::new(), String::new());
    let (mut depth, mut in_string) = (0, false);
    for ch in list.chars() {
        match ch {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current.trim().to_string());
    parts
}

/// `CREATE OR ALTER FUNCTION f(@a T, @b T) RETURNS TABLE AS RETURN (<select>)` ->
/// `CREATE OR REPLACE MACRO f(a, b) AS TABLE (<select>)`, each `@a` in the body -> `a`.
fn inline_function_to_macro(sql: &str) -> String {
    const HEAD: &str = "CREATE OR ALTER FUNCTION ";
    let Some(start) = sql.find(HEAD) else {
        return sql.to_string();
    };
    let name_start = start + HEAD.len();
    let open = name_start + sql[name_start..].find('(').expect("parameters");
    let name = sql[name_start..open].trim();
    let close = matching_paren(sql, open);
    let parameters: Vec<String> = split_top_level(&sql[open + 1..close])
        .iter()
        .map(|p| {
            let (name, _type) = p
                .trim()
                .split_once(char::is_whitespace)
                .expect("@name type");
            name.strip_prefix('@').expect("@name").to_string()
        })
        .collect();
    let words: Vec<&str> = sql[close + 1..].split_whitespace().take(4).collect();
    assert_eq!(
        words,
        ["RETURNS", "TABLE", "AS", "RETURN"],
        "an inline table-valued function"
    );
    let after_returns = close + 1 + sql[close + 1..].find("RETURNS").unwrap() + "RETURNS".len();
    let body_at = after_returns + sql[after_returns..].find("RETURN").unwrap() + "RETURN".len();
    let mut body = sql[body_at..].to_string();
    for parameter in &parameters {
        body = body.replace(&format!("@{parameter}"), parameter);
    }
    format!(
        "{}CREATE OR REPLACE MACRO {name}({}) AS TABLE{body}",
        &sql[..start],
        parameters.join(", ")
    )
}

/// `CREATE EXTERNAL TABLE t (c type, ...) WITH (LOCATION = 'p', DATA_SOURCE = ds, ...)`
/// -> `CREATE VIEW t AS SELECT CAST(c AS type), ... FROM read_parquet('<ds>/p*.parquet')`:
/// the table's files are what is in its folder, bound by column name.
fn external_table_to_view(sql: &str, sources: &DataSources) -> String {
    const HEAD: &str = "CREATE EXTERNAL TABLE ";
    let Some(start) = sql.find(HEAD) else {
        return sql.to_string();
    };
    let name_start = start + HEAD.len();
    let open = name_start + sql[name_start..].find('(').expect("a column list");
    let name = sql[name_start..open].trim();
    let close = matching_paren(sql, open);
    let columns: Vec<String> = split_top_level(&sql[open + 1..close])
        .iter()
        .map(|c| {
            let (column, tsql_type) = c.split_once(char::is_whitespace).expect("name type");
            format!(
                "CAST({column} AS {}) AS {column}",
                duckdb_type(tsql_type.trim())
            )
        })
        .collect();
    let rest = sql[close + 1..].trim_start();
    let options_at = sql.len() - rest.len() + "WITH ".len();
    assert!(rest.starts_with("WITH ("), "WITH (...) after the columns");
    let options_close = matching_paren(sql, options_at);
    let options = split_top_level(&sql[options_at + 1..options_close]);
    let option = |key: &str| -> String {
        options
            .iter()
            .find_map(|o| {
                let (k, v) = o.split_once('=')?;
                (k.trim() == key).then(|| v.trim().trim_matches('\'').to_string())
            })
            .unwrap_or_else(|| panic!("{key} in the external table's options"))
    };
    let folder = match option("DATA_SOURCE").as_str() {
        "pizza_lake" => &sources.lake,
        other => panic!("unknown data source {other:?}"),
    };
    assert_eq!(option("FILE_FORMAT"), "parquet_snappy");
    let files = quoted(&format!(
        "{}/{}*.parquet",
        folder.display(),
        option("LOCATION")
    ));
    format!(
        "{}CREATE VIEW {name} AS SELECT {} FROM read_parquet({files}){}",
        &sql[..start],
        columns.join(", "),
        &sql[options_close + 1..]
    )
}

/// T-SQL column type of an OPENROWSET WITH clause -> DuckDB type.
fn duckdb_type(tsql: &str) -> String {
    let t = tsql.to_ascii_uppercase().replace(' ', "");
    match t.as_str() {
        "DATETIME2(6)" => "TIMESTAMP".into(),
        "DATE" => "DATE".into(),
        "BIT" | "INT" => "INTEGER".into(),
        "BIGINT" => "BIGINT".into(),
        _ if t.starts_with("VARCHAR(") => "VARCHAR".into(),
        _ if t.starts_with("DECIMAL(") => t,
        other => panic!("no DuckDB type for {other}"),
    }
}

/// A BULK path with `*` wildcards as an anchored regular expression, one group per `*`.
fn path_regex(path: &str) -> String {
    let mut regex = String::new();
    for ch in path.chars() {
        match ch {
            '*' => regex.push_str("([^/]*)"),
            '.' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\' => {
                regex.push('\\');
                regex.push(ch);
            }
            _ => regex.push(ch),
        }
    }
    regex.push('$');
    regex
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Every `OPENROWSET(...) WITH (...) AS alias` -> a DuckDB subquery `AS alias`.
fn openrowsets_to_duckdb(sql: &str, sources: &DataSources) -> String {
    let mut sql = sql.to_string();
    while let Some(start) = sql.find("OPENROWSET(") {
        let args_open = start + "OPENROWSET".len();
        let args_close = matching_paren(&sql, args_open);
        let args = split_top_level(&sql[args_open + 1..args_close]);
        let after = sql[args_close + 1..].trim_start();
        let with_at = sql.len() - after.len();
        assert!(after.starts_with("WITH ("), "WITH (...) after OPENROWSET");
        let cols_open = with_at + "WITH ".len();
        let cols_close = matching_paren(&sql, cols_open);
        let alias_part = sql[cols_close + 1..].trim_start();
        let alias_part = alias_part.strip_prefix("AS ").expect("AS alias");
        let alias: String = alias_part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let end = sql.len() - alias_part.len() + alias.len();

        // BULK 'path', NAME = 'value', ...
        let path = args[0]
            .strip_prefix("BULK ")
            .and_then(|p| p.trim().strip_prefix('\''))
            .and_then(|p| p.strip_suffix('\''))
            .expect("BULK 'path' first");
        let option = |name: &str| -> Option<String> {
            args[1..].iter().find_map(|a| {
                let (key, value) = a.split_once('=')?;
                (key.trim() == name).then(|| value.trim().trim_matches('\'').to_string())
            })
        };
        let folder = match option("DATA_SOURCE").as_deref() {
            Some("pizza_lake") => &sources.lake,
            Some("pizza_reference") => &sources.reference,
            other => panic!("unknown data source {other:?}"),
        };
        let file = quoted(&format!("{}/{path}", folder.display()));
        let columns: Vec<(String, String)> = split_top_level(&sql[cols_open + 1..cols_close])
            .iter()
            .map(|c| {
                let (name, tsql_type) = c.split_once(char::is_whitespace).expect("name type");
                (name.to_string(), duckdb_type(tsql_type.trim()))
            })
            .collect();
        let reader = match option("FORMAT").as_deref() {
            Some("PARQUET") => {
                format!("read_parquet({file}, filename = true, hive_partitioning = false)")
            }
            Some("CSV") => {
                assert_eq!(option("HEADER_ROW").as_deref(), Some("TRUE"));
                let names: Vec<String> = columns.iter().map(|(n, _)| quoted(n)).collect();
                format!(
                    "read_csv({file}, header = true, all_varchar = true, filename = true, \
                     names = [{}])",
                    names.join(", ")
                )
            }
            other => panic!("unknown format {other:?}"),
        };
        let mut select: Vec<String> = columns
            .iter()
            .map(|(name, ty)| format!("CAST({name} AS {ty}) AS {name}"))
            .collect();
        let regex = path_regex(path);
        let wildcards = path.matches('*').count();
        for k in 1..=wildcards {
            select.push(format!(
                "regexp_extract(filename, {}, {k}) AS filepath_{k}",
                quoted(&regex)
            ));
        }
        let subquery = format!("(SELECT {} FROM {reader}) AS {alias}", select.join(", "));
        sql.replace_range(start..end, &subquery);
        for k in 1..=wildcards {
            sql = sql.replace(
                &format!("{alias}.filepath({k})"),
                &format!("{alias}.filepath_{k}"),
            );
        }
    }
    sql
}

/// A DuckDB database playing pizza_warehouse: schema dbo with the views of 03 and 04.
fn synapse_twin(sources: &DataSources) -> duckdb::Connection {
    let db = duckdb::Connection::open_in_memory().unwrap();
    db.execute_batch("SET integer_division = true; CREATE SCHEMA dbo;")
        .unwrap();
    // The translation maps DATETIME2(6) to TIMESTAMP: a UTC Parquet timestamp must then
    // become its UTC wall time, as Synapse reads it.
    let utc: bool = db
        .query_row(
            "SELECT CAST(TIMESTAMPTZ '2026-01-01 12:00:00+00' AS TIMESTAMP) = TIMESTAMP '2026-01-01 12:00:00'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(utc, "DuckDB casts TIMESTAMPTZ to UTC wall time");
    for script in [SYNAPSE_ORDERS, SYNAPSE_POPULATION, SYNAPSE_LEDGER] {
        for batch in batches(script) {
            db.execute_batch(&to_duckdb(&batch, sources))
                .unwrap_or_else(|e| panic!("{e}\n{}", to_duckdb(&batch, sources)));
        }
    }
    db
}

/// Writes the core's report and books into their run folders as the refresh does, runs
/// batches 1-4 of 05 over them (the two external tables and the two view switches), and
/// reads dbo.state_top_pizzas and dbo.ledger the way Power BI does.
fn synapse_publish(
    db: &duckdb::Connection,
    sources: &DataSources,
    window: &ReportWindow,
    core: &CoreReport,
    refreshed_at: DateTime<Utc>,
) -> (Vec<ReportRow>, Vec<StreamBooksDay>) {
    let run_id = run_id(refreshed_at);
    let file = run_file(&run_id);
    let write = |path: &str, bytes: bytes::Bytes| {
        let path = sources.lake.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    };
    write(&file, report_file(&core.rows).unwrap());
    let context = BooksContext {
        window_start: window.start,
        window_end: window.end,
        stream_backlog: Some(7),
        written_at: refreshed_at,
    };
    write(
        &ledger_file(&run_id),
        books_file(&core.books, context).unwrap(),
    );
    let report = BuiltReport {
        window: *window,
        refreshed_at,
        run_id,
        file,
        rows: core.rows.clone(),
        books: core.books.clone(),
    };
    // exactly the batches the Synapse adapter runs: its fill, its split
    let [table, books_table, switch, books_switch, drop_older] = publish_batches(&report)
        .unwrap()
        .try_into()
        .expect("five batches");
    assert!(
        drop_older.contains("DROP EXTERNAL TABLE"),
        "batch 5 is upkeep"
    );
    for batch in [table, books_table, switch, books_switch] {
        let sql = to_duckdb(&batch, sources);
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    }
    let mut stmt = db
        .prepare(
            "SELECT state, state_name, rank, pizza_type, pizzas_sold,
                    CAST(gross_sales_usd * 100 AS BIGINT),
                    CAST(gross_sales_per_capita_usd * 1000000 AS BIGINT),
                    unique_customers, adult_population,
                    epoch_us(window_start), epoch_us(window_end), epoch_us(refreshed_at)
             FROM dbo.state_top_pizzas
             ORDER BY state, rank",
        )
        .unwrap();
    let rows = stmt
        .query_map([], report_row)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (rows, published_books(db))
}

/// dbo.ledger as Power BI reads it: the door's per-day columns are NULL (unknown in
/// Azure), the repeats and the backlog are there.
fn published_books(db: &duckdb::Connection) -> Vec<StreamBooksDay> {
    let mut stmt = db
        .prepare(
            "SELECT order_date, accepted, duplicates, conflicts, not_yet_landed, landed,
                    generated, unknown_customer, no_population_row, outside_report_window,
                    in_report, stream_backlog
             FROM dbo.ledger
             ORDER BY order_date",
        )
        .unwrap();
    stmt.query_map([], |r| {
        assert_eq!(
            r.get::<_, Option<i64>>(1)?,
            None,
            "accepted per day is unknown"
        );
        assert_eq!(
            r.get::<_, Option<i64>>(4)?,
            None,
            "not yet landed per day is unknown"
        );
        assert_eq!(
            r.get::<_, Option<i64>>(11)?,
            Some(7),
            "the backlog of the build"
        );
        Ok(StreamBooksDay {
            lake: pizza_pipeline::ledger::LakeDay {
                day: r.get(0)?,
                landed: r.get(5)?,
                generated: r.get(6)?,
                unknown_customer: r.get(7)?,
                no_population_row: r.get(8)?,
                outside_report_window: r.get(9)?,
                in_report: r.get(10)?,
            },
            repeats: pizza_pipeline::lake::repeats::Repeats {
                duplicates: r.get(2)?,
                conflicts: r.get(3)?,
            },
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// 07, the report's definition in T-SQL, as the Synapse adapter fills it.
fn synapse_recount(
    db: &duckdb::Connection,
    sources: &DataSources,
    window: &ReportWindow,
) -> Vec<ReportRow> {
    let query = to_duckdb(&verify_query(window).unwrap(), sources);
    let mut stmt = db
        .prepare(&query)
        .unwrap_or_else(|e| panic!("{e}\n{query}"));
    stmt.query_map([], |r| {
        Ok(ReportRow {
            state: r.get(0)?,
            state_name: r.get(1)?,
            rank: r.get(2)?,
            pizza_type: r.get(3)?,
            pizzas_sold: r.get(4)?,
            gross_sales_cents: r.get(5)?,
            per_capita_micro_usd: r.get(6)?,
            unique_customers: r.get(7)?,
            adult_population: r.get(8)?,
            window_start: window.start,
            window_end: window.end,
            refreshed_at: window.end,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

// ---------------------------------------------------------------------------------------
// The lake
// ---------------------------------------------------------------------------------------

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn customer(id: i64, state: &str) -> Arc<Customer> {
    Arc::new(Customer {
        customer_id: id,
        name: format!("Customer {id}"),
        address: format!("{id} Main St"),
        city: "Some City".into(),
        state: state.into(),
        zip_code: "05401".into(),
    })
}

/// One landed version of an order.
#[allow(clippy::too_many_arguments)]
fn version(
    order_id: i64,
    customer: Option<&Arc<Customer>>,
    pizza_type: PizzaType,
    qty: i32,
    cents: i64,
    order_ts: &str,
    received_at: &str,
    stream_seq: i64,
) -> EnrichedOrder {
    let received_at = utc(received_at);
    EnrichedOrder {
        event: OrderEvent {
            order_id,
            customer_id: customer.map(|c| c.customer_id).unwrap_or(999_999),
            pizza_type,
            qty,
            retail_price_cents: cents,
            order_ts: utc(order_ts),
            received_at,
        },
        customer: customer.cloned(),
        stream_partition: "0".into(),
        stream_seq,
        enriched_at: received_at + Duration::seconds(1),
    }
}

/// A generated order of `day` read back from its compacted file, as landed.
fn generated_order(lake_root: &Path, day: &str, customers: &[Customer]) -> EnrichedOrder {
    let db = duckdb::Connection::open_in_memory().unwrap();
    let file = format!(
        "{}/orders_enriched/order_date={day}/*.parquet",
        lake_root.display()
    );
    let sql = format!(
        "SELECT order_id, customer_id, pizza_type, qty, CAST(retail_price * 100 AS BIGINT),
                epoch_us(CAST(order_ts AS TIMESTAMP)),
                epoch_us(CAST(received_at AS TIMESTAMP)), stream_seq
         FROM read_parquet({}) ORDER BY order_id LIMIT 1",
        quoted(&file)
    );
    db.query_row(&sql, [], |r| {
        let customer_id: i64 = r.get(1)?;
        let pizza: String = r.get(2)?;
        let ts = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap();
        let received_at = ts(r.get(6)?);
        Ok(EnrichedOrder {
            event: OrderEvent {
                order_id: r.get(0)?,
                customer_id,
                pizza_type: PizzaType::ALL
                    .into_iter()
                    .find(|p| p.as_str() == pizza)
                    .unwrap(),
                qty: r.get(3)?,
                retail_price_cents: r.get(4)?,
                order_ts: ts(r.get(5)?),
                received_at,
            },
            customer: customers
                .iter()
                .find(|c| c.customer_id == customer_id)
                .cloned()
                .map(Arc::new),
            stream_partition: "0".into(),
            stream_seq: r.get(7)?,
            enriched_at: received_at + Duration::seconds(1),
        })
    })
    .unwrap()
}

/// Generated history (TX, CA, NY, FL, WY, PR, DC) plus the awkward cases, landed as the
/// enrichment function lands batches.
async fn fill_lake(lake: &LocalLake, lake_root: &Path) {
    let customers = demo_customers(400, &["TX", "CA", "NY", "FL", "WY", "PR", "DC"], 7);
    generate_lake(
        lake_root,
        &customers,
        &LakeSpec {
            orders: 30_000,
            days: 420,
            end: "2026-03-01".parse().unwrap(),
            seed: 11,
        },
    )
    .unwrap();
    let vt: Vec<Arc<Customer>> = (900_001..=900_004).map(|id| customer(id, "VT")).collect();
    let ri = customer(900_010, "RI");
    let me = customer(900_020, "ME");
    let zz = customer(900_030, "ZZ"); // not in the population table
    let day = "2025-06-15T12:00:00Z";
    let later = "2025-06-15T12:00:01Z";
    let mut seq = 1_000_000;
    let mut land = |rows: Vec<EnrichedOrder>| {
        seq += 10;
        let first = seq;
        async move {
            land_batch(lake, &rows, "7", first, first + 1)
                .await
                .unwrap()
        }
    };

    // VT ties: meat lover sells most; supreme and cheese sell 5 each, supreme grosses
    // more; cheese and pepperoni tie on both, cheese wins by name and pepperoni is 4th.
    land(vec![
        version(
            700_001,
            Some(&vt[0]),
            PizzaType::MeatLover,
            6,
            6000,
            day,
            later,
            1,
        ),
        version(
            700_002,
            Some(&vt[1]),
            PizzaType::Supreme,
            5,
            6000,
            day,
            later,
            2,
        ),
        version(
            700_003,
            Some(&vt[0]),
            PizzaType::Cheese,
            2,
            2000,
            day,
            later,
            3,
        ),
        version(
            700_004,
            Some(&vt[2]),
            PizzaType::Cheese,
            3,
            3000,
            day,
            later,
            4,
        ),
        version(
            700_005,
            Some(&vt[3]),
            PizzaType::Pepperoni,
            5,
            5000,
            day,
            later,
            5,
        ),
        version(
            700_006,
            Some(&vt[3]),
            PizzaType::Veggie,
            4,
            10_000,
            day,
            later,
            6,
        ),
    ])
    .await;

    // RI: one order_id, several versions, several files; the first received wins.
    let rid = |q: i32, o: i64, received: &str, s: i64| {
        version(
            o,
            Some(&ri),
            PizzaType::Cheese,
            q,
            1000 * q as i64,
            "2025-07-01T10:00:00Z",
            received,
            s,
        )
    };
    land(vec![rid(1, 800_001, "2025-07-01T10:00:01Z", 100)]).await;
    land(vec![rid(9, 800_001, "2025-07-01T11:00:00Z", 200)]).await; // later: ignored
    land(vec![rid(7, 800_002, "2025-07-01T12:00:00Z", 300)]).await; // landed first, received last
    land(vec![rid(2, 800_002, "2025-07-01T09:00:00Z", 400)]).await; // received first: wins
    land(vec![rid(3, 800_003, "2025-07-01T10:30:00Z", 500)]).await; // same time, lower seq: wins
    land(vec![rid(8, 800_003, "2025-07-01T10:30:00Z", 501)]).await;
    let redelivered = vec![rid(4, 800_004, "2025-07-01T10:45:00Z", 600)];
    land(redelivered.clone()).await;
    land(redelivered).await; // the same batch again, as another file
    land(vec![rid(5, 800_005, "2025-07-01T10:50:00Z", 700)]).await;
    land(vec![rid(5, 800_005, "2025-07-01T10:51:00Z", 701)]).await; // a client's retry: a duplicate

    // ME: on and 1 µs around the edges of the windows ending 2026-02-01 00:00 and 13:45.
    for (o, qty, at) in [
        (810_001, 10, "2025-01-31T23:59:59.999999Z"),
        (810_002, 1, "2025-02-01T00:00:00Z"),
        (810_003, 7, "2025-02-01T13:44:59.999999Z"),
        (810_004, 3, "2025-02-01T13:45:00Z"),
        (810_005, 100, "2026-01-31T23:59:59.999999Z"),
        (810_006, 1000, "2026-02-01T00:00:00Z"),
        (810_007, 10_000, "2026-02-01T13:44:59.999999Z"),
        (810_008, 100_000, "2026-02-01T13:45:00Z"),
    ] {
        let at_later = (utc(at) + Duration::seconds(1)).to_rfc3339();
        land(vec![version(
            o,
            Some(&me),
            PizzaType::Supreme,
            qty,
            1,
            at,
            &at_later,
            o,
        )])
        .await;
    }

    // Unknown customers (landed with customer_found = false) and a state without population.
    land(vec![
        version(
            820_001,
            None,
            PizzaType::Pepperoni,
            500,
            50_000,
            day,
            later,
            1,
        ),
        version(
            820_002,
            None,
            PizzaType::Veggie,
            500,
            50_000,
            "2025-08-01T18:00:00Z",
            "2025-08-01T18:00:01Z",
            2,
        ),
        version(
            820_003,
            Some(&zz),
            PizzaType::Cheese,
            500,
            50_000,
            day,
            later,
            3,
        ),
    ])
    .await;

    // Generated (compacted) orders landed again: a later version loses, an earlier-received
    // one wins; both days now hold a compacted file and a batch file.
    let mut loser = generated_order(lake_root, "2025-08-01", &customers);
    loser.event.qty += 5;
    loser.event.received_at += Duration::hours(1);
    let mut winner = generated_order(lake_root, "2025-09-01", &customers);
    winner.event.qty += 7;
    winner.event.retail_price_cents += 700;
    winner.event.received_at -= Duration::milliseconds(500);
    land(vec![loser, winner]).await;
}

fn rows_of<'a>(rows: &'a [ReportRow], state: &str) -> Vec<(&'a str, i32, i64, i64, i64)> {
    rows.iter()
        .filter(|r| r.state == state)
        .map(|r| {
            (
                r.pizza_type.as_str(),
                r.rank,
                r.pizzas_sold,
                r.gross_sales_cents,
                r.unique_customers,
            )
        })
        .collect()
}

#[test]
fn the_core_the_sql_definitions_and_the_published_view_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let lake_root = tmp.path().join("lake");
    let lake = Arc::new(LocalLake::new(&lake_root));
    let gate = LakeGate::default();
    // LocalLake writes with block_in_place: a multi-threaded runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(fill_lake(&lake, &lake_root));

    // The deployment uploads the shipped CSV unchanged to the reference container.
    let reference = tmp.path().join("reference-container");
    std::fs::create_dir_all(reference.join("reference")).unwrap();
    std::fs::write(
        reference.join("reference/adult_population_by_state.csv"),
        POPULATION_CSV,
    )
    .unwrap();
    let sources = DataSources {
        lake: lake_root.clone(),
        reference,
    };

    let population = pizza_pipeline::population::shipped();
    let warehouse = Warehouse::open(
        &tmp.path().join("warehouse.duckdb"),
        lake.clone(),
        gate.clone(),
        &population,
    )
    .unwrap();
    let synapse = synapse_twin(&sources);

    // 04: the population view reads the CSV exactly.
    let mut stmt = synapse
        .prepare(
            "SELECT state_fips, state_code, state_name, adult_population, year, source
             FROM dbo.adult_population ORDER BY state_code",
        )
        .unwrap();
    let read: Vec<(String, String, String, i64, i32, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut shipped: Vec<_> = population
        .iter()
        .map(|p| {
            (
                p.state_fips.clone(),
                p.state_code.clone(),
                p.state_name.clone(),
                p.adult_population,
                p.year,
                p.source.clone(),
            )
        })
        .collect();
    shipped.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(read, shipped);

    let windows = [
        ReportWindow::ending_at(utc("2026-02-01T00:00:00Z"), Tz::UTC),
        ReportWindow::ending_at(utc("2026-02-01T13:45:00Z"), Tz::UTC),
        ReportWindow::nightly(utc("2026-02-01T08:00:00Z"), Tz::America__Chicago),
        // The nights after both daylight-saving changes: 23- and 25-hour edge days.
        ReportWindow::nightly(utc("2025-11-03T08:00:00Z"), Tz::America__New_York),
        ReportWindow::nightly(utc("2025-03-10T08:00:00Z"), Tz::America__Los_Angeles),
        ReportWindow::ending_at(utc("2026-03-01T00:00:00Z"), Tz::UTC),
        ReportWindow::ending_at(utc("2024-06-01T00:00:00Z"), Tz::UTC), // before any order
        ReportWindow::empty(),
    ];
    let mut repeats_seen = pizza_pipeline::lake::repeats::Repeats::default();
    for compacted in [false, true] {
        if compacted {
            let report = runtime
                .block_on(compact_lake(lake.as_ref(), &gate, None))
                .unwrap();
            assert!(report.duplicates_dropped >= 6, "{report:?}");
        }
        assert_orders_view_matches(&synapse, &lake_root);
        for window in &windows {
            let case = format!("window {window:?}, compacted: {compacted}");
            let refreshed_at = Utc::now();
            let core = runtime
                .block_on(build_report_as_is(
                    lake.as_ref(),
                    window,
                    &population,
                    refreshed_at,
                ))
                .unwrap();
            let by_duckdb = warehouse.recompute(window, &core.order_files).unwrap();
            let by_synapse = synapse_recount(&synapse, &sources, window);
            for (engine, recount) in [("DuckDB", &by_duckdb), ("Synapse", &by_synapse)] {
                assert_eq!(
                    first_difference(&core.rows, recount, engine),
                    None,
                    "{case}"
                );
            }
            let (published, books) =
                synapse_publish(&synapse, &sources, window, &core, refreshed_at);
            assert_eq!(published, core.rows, "{case}");
            assert_eq!(books, core.books, "the published books, {case}");
            check_cases(window, &core.rows);

            let all_days = "1970-01-01".parse().unwrap()..="2100-12-31".parse().unwrap();
            let bounds = pizza_pipeline::ledger::ReportWindowBounds {
                window_start: window.start,
                window_end: window.end,
            };
            let from_rollups = runtime
                .block_on(pizza_pipeline::ledger::lake_days(
                    lake.as_ref(),
                    &all_days,
                    Some(bounds),
                    &population,
                ))
                .unwrap();
            let by_sql = warehouse
                .lake_ledger(&all_days, (window.start, window.end))
                .unwrap();
            assert_eq!(from_rollups, by_sql, "the books by DuckDB, {case}");
            let window_days: Vec<_> = core.books.iter().map(|d| d.lake.clone()).collect();
            let in_window = |day: &pizza_pipeline::ledger::LakeDay| {
                window_days.iter().any(|d| d.day == day.day)
            };
            let by_synapse: Vec<_> = synapse_ledger(&synapse, window)
                .into_iter()
                .filter(in_window)
                .collect();
            assert_eq!(by_synapse, window_days, "the books by Synapse's 06, {case}");
            assert_eq!(
                core.books.iter().map(|d| d.repeats).collect::<Vec<_>>(),
                repeats_by_sql(&lake_root, &window_days),
                "the repeats, counted from every copy landed, {case}"
            );
            for day in &core.books {
                repeats_seen.add(day.repeats);
            }
            check_books(window, &by_sql);
        }
    }
    assert!(
        repeats_seen.duplicates > 0 && repeats_seen.conflicts > 0,
        "the lake has both kinds of repeat: {repeats_seen:?}"
    );
}

/// 06's dbo.ledger_between over `window`: the SQL definition of the books' lake half.
fn synapse_ledger(
    db: &duckdb::Connection,
    window: &ReportWindow,
) -> Vec<pizza_pipeline::ledger::LakeDay> {
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let mut stmt = db
        .prepare(&format!(
            "SELECT order_date, accepted, duplicates, conflicts, not_yet_landed, landed,
                    generated, unknown_customer, no_population_row, outside_report_window,
                    in_report
             FROM dbo.ledger_between(TIMESTAMP '{}', TIMESTAMP '{}')
             ORDER BY order_date",
            at(window.start),
            at(window.end)
        ))
        .unwrap();
    stmt.query_map([], |r| {
        for door in 1..=4 {
            assert_eq!(
                r.get::<_, Option<i64>>(door)?,
                None,
                "the lake sees each order once"
            );
        }
        Ok(pizza_pipeline::ledger::LakeDay {
            day: r.get(0)?,
            landed: r.get(5)?,
            generated: r.get(6)?,
            unknown_customer: r.get(7)?,
            no_population_row: r.get(8)?,
            outside_report_window: r.get(9)?,
            in_report: r.get(10)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Each day's copies beyond the first of each order, counted in DuckDB from every copy
/// the lake keeps (order files and superseded orders): a copy is a distinct stream event
/// (partition, sequence number); a duplicate has the first received copy's payload, a
/// conflict another.
fn repeats_by_sql(
    lake_root: &Path,
    days: &[pizza_pipeline::ledger::LakeDay],
) -> Vec<pizza_pipeline::lake::repeats::Repeats> {
    let db = duckdb::Connection::open_in_memory().unwrap();
    let glob = |table: &str| quoted(&format!("{}/{table}/*/*.parquet", lake_root.display()));
    let superseded_exists = lake_root.join("orders_superseded").exists();
    let sources = if superseded_exists {
        format!(
            "[{}, {}]",
            glob("orders_enriched"),
            glob("orders_superseded")
        )
    } else {
        format!("[{}]", glob("orders_enriched"))
    };
    let sql = format!(
        "WITH copies AS (
             SELECT DISTINCT order_id, received_at, stream_partition, stream_seq,
                    customer_id, pizza_type, qty, retail_price, order_ts,
                    CAST(regexp_extract(filename, 'order_date=([0-9-]+)', 1) AS DATE) AS day
             FROM read_parquet({sources}, filename = true, union_by_name = true)),
         ranked AS (
             SELECT *, row_number() OVER (PARTITION BY day, order_id
                                          ORDER BY received_at, stream_seq) AS n,
                    first_value(customer_id || '|' || pizza_type || '|' || qty || '|' ||
                                retail_price || '|' || order_ts)
                        OVER (PARTITION BY day, order_id ORDER BY received_at, stream_seq)
                        AS first_payload
             FROM copies)
         SELECT day,
                count(*) FILTER (WHERE n > 1 AND first_payload = customer_id || '|' || pizza_type
                                 || '|' || qty || '|' || retail_price || '|' || order_ts),
                count(*) FILTER (WHERE n > 1 AND first_payload <> customer_id || '|' || pizza_type
                                 || '|' || qty || '|' || retail_price || '|' || order_ts)
         FROM ranked GROUP BY day"
    );
    let mut stmt = db.prepare(&sql).unwrap();
    let counted: std::collections::HashMap<chrono::NaiveDate, (i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    days.iter()
        .map(|day| {
            let (duplicates, conflicts) = counted.get(&day.day).copied().unwrap_or((0, 0));
            pizza_pipeline::lake::repeats::Repeats {
                duplicates,
                conflicts,
            }
        })
        .collect()
}

/// The books hold every kind of line (so the equality above means something), and each
/// day balances.
fn check_books(window: &ReportWindow, days: &[pizza_pipeline::ledger::LakeDay]) {
    for day in days {
        assert_eq!(
            day.landed,
            day.in_report
                + day.unknown_customer
                + day.no_population_row
                + day.outside_report_window,
            "{day:?}"
        );
    }
    let total = |f: fn(&pizza_pipeline::ledger::LakeDay) -> i64| days.iter().map(f).sum::<i64>();
    assert!(total(|d| d.generated) > 0 && total(|d| d.generated) < total(|d| d.landed));
    assert!(total(|d| d.unknown_customer) > 0 && total(|d| d.no_population_row) > 0);
    if *window == ReportWindow::ending_at(utc("2026-02-01T00:00:00Z"), Tz::UTC) {
        assert!(total(|d| d.in_report) > 0 && total(|d| d.outside_report_window) > 0);
    }
}

/// The awkward cases are really in the data (so the equality above means something).
fn check_cases(window: &ReportWindow, rows: &[ReportRow]) {
    assert!(
        rows.iter().all(|r| r.state != "ZZ"),
        "no population, no row"
    );
    assert!(rows.iter().all(|r| (1..=3).contains(&r.rank)));
    if *window == ReportWindow::ending_at(utc("2026-02-01T00:00:00Z"), Tz::UTC) {
        assert_eq!(
            rows_of(rows, "VT"),
            [
                ("meat lover", 1, 6, 6000, 1),
                ("supreme", 2, 5, 6000, 1),
                ("cheese", 3, 5, 5000, 2),
            ]
        );
        assert_eq!(rows_of(rows, "RI"), [("cheese", 1, 15, 15_000, 1)]);
        assert_eq!(rows_of(rows, "ME"), [("supreme", 1, 1 + 7 + 3 + 100, 4, 1)]);
        assert!(rows.len() > 20, "the generated states are reported too");
    }
    if *window == ReportWindow::ending_at(utc("2026-02-01T13:45:00Z"), Tz::UTC) {
        assert_eq!(
            rows_of(rows, "ME"),
            [("supreme", 1, 3 + 100 + 1000 + 10_000, 4, 1)]
        );
    }
    if window.end <= utc("2024-06-01T00:00:00Z") {
        assert!(rows.is_empty());
    }
}

/// 03's view equals sql/duckdb/orders_enriched.sql over the same lake, row for row.
fn assert_orders_view_matches(db: &duckdb::Connection, lake_root: &Path) {
    let glob = quoted(&format!(
        "{}/orders_enriched/*/*.parquet",
        lake_root.display()
    ));
    db.execute_batch(&DUCKDB_ORDERS.replace("{{lake_glob}}", &glob))
        .unwrap();
    let columns = "order_id, customer_id, pizza_type, qty, retail_price,
                   epoch_us(CAST(order_ts AS TIMESTAMP)), CAST(customer_found AS INTEGER),
                   customer_name, address, city, state, zip_code,
                   epoch_us(CAST(received_at AS TIMESTAMP)),
                   epoch_us(CAST(enriched_at AS TIMESTAMP)),
                   order_date, stream_partition, stream_seq";
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let synapse_rows = count("SELECT count(*) FROM dbo.orders_enriched");
    assert_eq!(
        synapse_rows,
        count("SELECT count(*) FROM main.orders_enriched")
    );
    assert_eq!(
        synapse_rows,
        count("SELECT count(DISTINCT order_id) FROM dbo.orders_enriched")
    );
    assert!(synapse_rows > 30_000);
    for (a, b) in [("dbo", "main"), ("main", "dbo")] {
        let only_in_a = count(&format!(
            "SELECT count(*) FROM (SELECT {columns} FROM {a}.orders_enriched
                                   EXCEPT ALL
                                   SELECT {columns} FROM {b}.orders_enriched)"
        ));
        assert_eq!(only_in_a, 0, "rows of {a}.orders_enriched missing from {b}");
    }
}
