//! The embedded warehouse: DuckDB (`DIR/warehouse.duckdb`) over the Parquet lake.
//!
//! It holds the `orders_enriched` view (each `order_id` once), the `adult_population`
//! reference table, the `state_top_pizzas` report table and `refresh_log`, made by the SQL
//! in `sql/duckdb/`. In Azure, Synapse serverless SQL plays this part over the same lake.
//!
//! It is the DuckDB adapter of the report warehouse port (`summary::ReportWarehouse`, in
//! `engine.rs`): it publishes the report core's file as `state_top_pizzas`, and
//! recomputes the report with its own SQL definition (`state_top_pizzas_check.sql`) as
//! the independent check of `--verify`. It sees the lake only through `LakeStore`: it
//! lists partitions there, and hands DuckDB the files' local paths
//! (`LakeStore::local_path`).
//!
//! DuckDB is opened on first use, not at start-up: opening it and binding its catalog
//! costs about 100 ms and 30 MiB, which a process that only ingests or serves the report
//! never needs. The report itself is served from a JSON copy of the tiny report table
//! (`warehouse.report.json`, written after every build), so start-up reads a few
//! kilobytes instead. A lock file beside the database keeps a second process (another
//! `dev`, or `refresh` while `dev` runs) out, as DuckDB's own lock did when it was
//! opened eagerly.

mod engine;
mod report;

pub use report::report_row;

use crate::files::{lock_exclusively, read_if_present, write_atomically, FileLock, LockError};
use crate::lake::parquet::{schema, write_parquet};
use crate::lake::{day_partitions, LakeError, LakeGate, LakeStore, ORDERS_TABLE};
use crate::ledger::LakeDay;
use crate::population::StatePopulation;
use crate::sql_script::{fill, ScriptError, ValueRule};
use crate::summary::{report_file, BuiltReport, RefreshReport, ReportRow, ReportWindow};
use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{params, Connection};
use futures::executor::block_on;
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

const ORDERS_ENRICHED_SQL: &str = include_str!("../../sql/duckdb/orders_enriched.sql");
const ADULT_POPULATION_SQL: &str = include_str!("../../sql/duckdb/adult_population.sql");
const STATE_TOP_PIZZAS_SQL: &str = include_str!("../../sql/duckdb/state_top_pizzas.sql");
const STATE_TOP_PIZZAS_CHECK_SQL: &str =
    include_str!("../../sql/duckdb/state_top_pizzas_check.sql");
const REFRESH_LOG_SQL: &str = include_str!("../../sql/duckdb/refresh_log.sql");
const LEDGER_SQL: &str = include_str!("../../sql/duckdb/ledger.sql");

/// A zero-row file of the lake schema, beside the database (`DB.schema/`): what the view
/// and the summary read when there is nothing (yet) to read, so their columns always bind.
const EMPTY_SCHEMA_FILE: &str = "orders_enriched/order_date=1970-01-01/empty.parquet";
/// A zero-row report file: what a new warehouse's `state_top_pizzas` is made from.
const EMPTY_REPORT_FILE: &str = "reports/state_top_pizzas/empty.parquet";

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {context}")]
    DuckDb {
        context: String,
        #[source]
        source: duckdb::Error,
    },
    #[error("warehouse file {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("warehouse {} is in use by another process (is `pizza-pipeline dev` still running on this data dir?)", .0.display())]
    InUse(PathBuf),
    #[error("warehouse: the lake")]
    Lake(#[from] LakeError),
    /// The embedded warehouse reads lake files on this machine only.
    #[error("warehouse: lake file {0} has no copy on this machine for DuckDB to read")]
    NotLocal(String),
    #[error("warehouse SQL")]
    Script(#[from] ScriptError),
}

impl WarehouseError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WarehouseError + '_ {
        move |source| WarehouseError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn db_error(context: impl Into<String>) -> impl FnOnce(duckdb::Error) -> WarehouseError {
    let context = context.into();
    move |source| WarehouseError::DuckDb { context, source }
}

/// The report table as served, and the `as_of` of the last build (the timer's
/// past-due check): what `warehouse.report.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedReport {
    pub last_as_of: Option<DateTime<Utc>>,
    pub rows: Vec<ReportRow>,
}

pub struct Warehouse {
    db_path: PathBuf,
    population: Vec<StatePopulation>,
    /// `None` until first use; then the first connection, of which every operation
    /// works on its own clone.
    conn: Mutex<Option<Connection>>,
    /// Held (locked) for the warehouse's lifetime.
    _lock: FileLock,
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
    view_reads_lake: AtomicBool,
    /// The report as served, once read or built, with how many times it has changed.
    served: RwLock<Option<(u64, Arc<ServedReport>)>>,
}

impl Warehouse {
    /// Opens (creating) `db_path` over `lake`, (re)loads the population reference and
    /// makes sure every object exists.
    pub fn open(
        db_path: &Path,
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
        population: &[StatePopulation],
    ) -> Result<Self, WarehouseError> {
        let warehouse = Self::open_deferred(db_path, lake, gate, population)?;
        warehouse.connection()?;
        Ok(warehouse)
    }

    /// Claims `db_path` for this process but opens DuckDB only on first use.
    pub fn open_deferred(
        db_path: &Path,
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
        population: &[StatePopulation],
    ) -> Result<Self, WarehouseError> {
        let lock = lock_beside(db_path)?;
        let warehouse = Warehouse {
            db_path: db_path.to_path_buf(),
            population: population.to_vec(),
            conn: Mutex::new(None),
            _lock: lock,
            lake,
            gate,
            view_reads_lake: AtomicBool::new(false),
            served: RwLock::new(None),
        };
        warehouse.write_empty_files()?;
        Ok(warehouse)
    }

    /// A connection of its own, opening the database on first use.
    fn connection(&self) -> Result<Connection, WarehouseError> {
        let mut first = self.conn.lock().unwrap();
        if first.is_none() {
            let started = Instant::now();
            *first = Some(self.open_database()?);
            tracing::debug!(
                ms = started.elapsed().as_millis() as u64,
                "warehouse opened"
            );
        }
        first
            .as_ref()
            .expect("opened above")
            .try_clone()
            .map_err(db_error("connect"))
    }

    fn open_database(&self) -> Result<Connection, WarehouseError> {
        let path = &self.db_path;
        let mut conn =
            Connection::open(path).map_err(db_error(format!("open {}", path.display())))?;
        pin_time_zone_to_utc(&conn)?;
        self.load_population(&mut conn)?;
        conn.execute_batch(REFRESH_LOG_SQL)
            .map_err(db_error("create refresh_log"))?;
        // The view's file also defines `first_received`, which the report reads with.
        self.ensure_orders_view(&conn)?;
        if !self.has_report_table(&conn)? {
            self.create_report_table(&conn, &self.empty_file(EMPTY_REPORT_FILE))?;
        }
        Ok(conn)
    }

    fn load_population(&self, conn: &mut Connection) -> Result<(), WarehouseError> {
        let population = &self.population;
        let tx = conn
            .transaction()
            .map_err(db_error("begin population load"))?;
        tx.execute_batch(ADULT_POPULATION_SQL)
            .map_err(db_error("create adult_population"))?;
        {
            let mut insert = tx
                .prepare("INSERT INTO adult_population VALUES (?, ?, ?, ?, ?, ?)")
                .map_err(db_error("prepare population insert"))?;
            for p in population {
                insert
                    .execute(params![
                        p.state_fips,
                        p.state_code,
                        p.state_name,
                        p.adult_population,
                        p.year,
                        p.source
                    ])
                    .map_err(db_error(format!("insert population of {}", p.state_code)))?;
            }
        }
        tx.commit().map_err(db_error("commit population load"))
    }

    fn has_report_table(&self, conn: &Connection) -> Result<bool, WarehouseError> {
        conn.query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'state_top_pizzas'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(db_error("look for state_top_pizzas"))
    }

    /// Points `orders_enriched` at the lake once the lake has a file (DuckDB refuses a
    /// pattern that matches nothing, so until then it reads the empty schema file).
    fn ensure_orders_view(&self, conn: &Connection) -> Result<(), WarehouseError> {
        if self.view_reads_lake.load(Ordering::Acquire) {
            return Ok(());
        }
        let has_files = !block_on(day_partitions(self.lake.as_ref(), None))?.is_empty();
        let source = if has_files {
            let table = self
                .lake
                .local_path(ORDERS_TABLE)
                .ok_or_else(|| WarehouseError::NotLocal(ORDERS_TABLE.into()))?;
            format!("{}/*/*.parquet", table.display())
        } else {
            self.empty_file(EMPTY_SCHEMA_FILE)
        };
        let ddl = fill(
            ORDERS_ENRICHED_SQL,
            &[("lake_glob", &sql_string(&source), ValueRule::SqlStrings)],
        )?;
        conn.execute_batch(&ddl)
            .map_err(db_error("create orders_enriched"))?;
        self.view_reads_lake.store(has_files, Ordering::Release);
        Ok(())
    }

    /// Folder beside the database for the zero-row files (`DB.schema/`).
    fn empty_files_dir(&self) -> PathBuf {
        self.db_path.with_extension("schema")
    }

    fn empty_file(&self, relative: &str) -> String {
        self.empty_files_dir().join(relative).display().to_string()
    }

    fn write_empty_files(&self) -> Result<(), WarehouseError> {
        let empty_orders = || write_parquet(&RecordBatch::new_empty(schema()));
        let empty_report = || report_file(&[]);
        for (relative, bytes) in [
            (
                EMPTY_SCHEMA_FILE,
                empty_orders as fn() -> Result<_, LakeError>,
            ),
            (EMPTY_REPORT_FILE, empty_report),
        ] {
            let path = self.empty_files_dir().join(relative);
            if read_if_present(&path)
                .map_err(WarehouseError::io(&path))?
                .is_some()
            {
                continue;
            }
            write_atomically(&path, &bytes()?).map_err(WarehouseError::io(&path))?;
        }
        Ok(())
    }

    /// Where DuckDB finds the lake file `path`.
    fn local(&self, path: &str) -> Result<String, WarehouseError> {
        self.lake
            .local_path(path)
            .map(|local| local.display().to_string())
            .ok_or_else(|| WarehouseError::NotLocal(path.to_string()))
    }

    /// Where DuckDB finds each of the lake files `paths`.
    fn local_files(&self, paths: &[String]) -> Result<Vec<String>, WarehouseError> {
        paths.iter().map(|path| self.local(path)).collect()
    }

    /// Makes the report core's file `report` (a lake file) the `state_top_pizzas` table in
    /// one statement (`sql/duckdb/state_top_pizzas.sql`), then the served report.
    pub fn publish(&self, report: &BuiltReport) -> Result<(), WarehouseError> {
        let conn = self.connection()?;
        let file = self.local(&report.file)?;
        self.create_report_table(&conn, &file)?;
        self.ensure_orders_view(&conn)?;
        self.serve_report(ServedReport {
            last_as_of: Some(report.window.as_of),
            rows: report.rows.clone(),
        })
    }

    /// `state_top_pizzas` from a report file: one statement, so readers see the old table
    /// or the new one.
    fn create_report_table(&self, conn: &Connection, file: &str) -> Result<(), WarehouseError> {
        let sql = fill(
            STATE_TOP_PIZZAS_SQL,
            &[("report_file", &sql_string(file), ValueRule::SqlStrings)],
        )?;
        conn.execute_batch(&sql)
            .map_err(db_error("publish state_top_pizzas"))
    }

    /// Adds a build to `refresh_log`.
    pub fn log_refresh(&self, report: &RefreshReport) -> Result<(), WarehouseError> {
        let conn = self.connection()?;
        conn.execute(
            "INSERT INTO refresh_log VALUES ($1::TIMESTAMPTZ, $2::TIMESTAMPTZ, $3::TIMESTAMPTZ, $4::TIMESTAMPTZ, $5, $6, $7)",
            params![
                report.as_of,
                report.window_start,
                report.window_end,
                report.refreshed_at,
                report.files_read as i64,
                report.report_rows as i64,
                report.duration_ms as i64
            ],
        )
        .map_err(db_error("log the refresh"))?;
        Ok(())
    }

    /// The report of `window` by its SQL definition (`sql/duckdb/state_top_pizzas_check.sql`)
    /// over `order_files` (lake paths), each `order_id` once: the independent check of
    /// the report core.
    pub fn recompute(
        &self,
        window: &ReportWindow,
        order_files: &[String],
    ) -> Result<Vec<ReportRow>, WarehouseError> {
        let conn = self.connection()?;
        let files = self.local_files(order_files)?;
        let day_files = list_literal(&files, &self.empty_file(EMPTY_SCHEMA_FILE));
        let sql = fill(
            STATE_TOP_PIZZAS_CHECK_SQL,
            &[("day_files", &day_files, ValueRule::SqlStrings)],
        )?;
        let mut statement = conn
            .prepare(&sql)
            .map_err(db_error("prepare the report check"))?;
        let rows = statement
            .query_map(params![sql_ts(&window.start), sql_ts(&window.end)], |r| {
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
            .map_err(db_error("run the report check"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_error("read the report check"))
    }

    /// When the last summary was built, for the timer's past-due check.
    pub fn last_refresh_as_of(&self) -> Result<Option<DateTime<Utc>>, WarehouseError> {
        let conn = self.connection()?;
        let micros: Option<i64> = conn
            .query_row(
                "SELECT epoch_us(max(as_of)::TIMESTAMP) FROM refresh_log",
                [],
                |r| r.get(0),
            )
            .map_err(db_error("read refresh_log"))?;
        Ok(micros.and_then(DateTime::from_timestamp_micros))
    }

    /// The warehouse row of one order as JSON, or `None` if it has not landed. `day` (the
    /// order's UTC day, when known) limits the read to that one partition.
    pub fn find_order(
        &self,
        order_id: i64,
        day: Option<NaiveDate>,
    ) -> Result<Option<serde_json::Value>, WarehouseError> {
        let conn = self.connection()?;
        let _readers = self.gate.read();
        self.ensure_orders_view(&conn)?;
        let source = match day {
            Some(day) => {
                let days = day..=day;
                let Some(partition) =
                    block_on(day_partitions(self.lake.as_ref(), Some(&days)))?.pop()
                else {
                    return Ok(None);
                };
                let files = self.local_files(&partition.files)?;
                format!("first_received({})", list_literal(&files, ""))
            }
            None => "orders_enriched".to_string(),
        };
        report::order_as_json(&conn, &source, order_id)
    }

    /// The served report: kept in memory once read or built; at first from
    /// `warehouse.report.json` when it is there (no DuckDB needed), else read from the
    /// database and written there for the next start.
    pub fn served_report(&self) -> Result<Arc<ServedReport>, WarehouseError> {
        Ok(self.served_report_and_version()?.1)
    }

    /// The served report, and its version: how many times it has changed in this
    /// process (from 1). A copy of it is current while the version has not moved.
    pub fn served_report_and_version(&self) -> Result<(u64, Arc<ServedReport>), WarehouseError> {
        if let Some(served) = self.served.read().unwrap().clone() {
            return Ok(served);
        }
        let path = self.served_report_path();
        let copy = read_if_present(&path).map_err(WarehouseError::io(&path))?;
        if let Some(bytes) = copy {
            match serde_json::from_slice::<ServedReport>(&bytes) {
                Ok(served) => return Ok(self.keep_served_report(served)),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %crate::errors::Chain(&e), "unreadable report copy; reading the warehouse instead")
                }
            }
        }
        let served = ServedReport {
            last_as_of: self.last_refresh_as_of()?,
            rows: self.report_rows()?,
        };
        self.write_served_report(&served)?;
        Ok(self.keep_served_report(served))
    }

    /// Makes `served` the served report: written to the copy first, so a restart
    /// never serves an older report than this process did.
    fn serve_report(&self, served: ServedReport) -> Result<(), WarehouseError> {
        self.write_served_report(&served)?;
        self.keep_served_report(served);
        Ok(())
    }

    fn keep_served_report(&self, served: ServedReport) -> (u64, Arc<ServedReport>) {
        let mut kept = self.served.write().unwrap();
        let version = kept.as_ref().map_or(1, |(version, _)| version + 1);
        let served = (version, Arc::new(served));
        *kept = Some(served.clone());
        served
    }

    fn served_report_path(&self) -> PathBuf {
        self.db_path.with_extension("report.json")
    }

    /// Replaces the served copy atomically (write, fsync, rename). Should a crash leave
    /// an older copy behind, its older `last_as_of` makes the timer rebuild at start.
    fn write_served_report(&self, served: &ServedReport) -> Result<(), WarehouseError> {
        let path = self.served_report_path();
        let bytes = serde_json::to_vec(served).expect("report rows serialise");
        write_atomically(&path, &bytes).map_err(WarehouseError::io(&path))
    }

    pub fn report_rows(&self) -> Result<Vec<ReportRow>, WarehouseError> {
        report::read_report(&self.connection()?, None)
    }

    pub fn report_for_state(&self, state: &str) -> Result<Vec<ReportRow>, WarehouseError> {
        report::read_report(&self.connection()?, Some(state))
    }

    /// The lake's half of the ledger for `days` (`sql/duckdb/ledger.sql`), counting
    /// `in_report` against the report window `[start, end)`.
    pub fn lake_ledger(
        &self,
        days: &RangeInclusive<NaiveDate>,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<LakeDay>, WarehouseError> {
        let conn = self.connection()?;
        let _readers = self.gate.read();
        let mut files = Vec::new();
        for partition in block_on(day_partitions(self.lake.as_ref(), Some(days)))? {
            files.extend(self.local_files(&partition.files)?);
        }
        let day_files = list_literal(&files, &self.empty_file(EMPTY_SCHEMA_FILE));
        let sql = fill(
            LEDGER_SQL,
            &[("day_files", &day_files, ValueRule::SqlStrings)],
        )?;
        let mut statement = conn.prepare(&sql).map_err(db_error("prepare the ledger"))?;
        let rows = statement
            .query_map(params![sql_ts(&window.0), sql_ts(&window.1)], |r| {
                Ok(LakeDay {
                    day: r.get(0)?,
                    landed: r.get(1)?,
                    generated: r.get(2)?,
                    unknown_customer: r.get(3)?,
                    no_population_row: r.get(4)?,
                    outside_report_window: r.get(5)?,
                    in_report: r.get(6)?,
                })
            })
            .map_err(db_error("read the ledger"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_error("read the ledger"))
    }

    /// Leaves the database ready for other readers: opens it if this process never did
    /// and points `orders_enriched` at the lake once the lake has files. `dev` calls it
    /// when it stops, so any DuckDB client sees every landed order afterwards.
    pub fn settle(&self) -> Result<(), WarehouseError> {
        let conn = self.connection()?;
        self.ensure_orders_view(&conn)
    }

    /// Runs a query, for tests and operators (`DIR/warehouse.duckdb` is also readable by
    /// any DuckDB client once the process has stopped).
    pub fn query_i64(&self, sql: &str) -> Result<i64, WarehouseError> {
        let conn = self.connection()?;
        let _readers = self.gate.read();
        self.ensure_orders_view(&conn)?;
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(db_error(sql.to_string()))
    }
}

/// A DuckDB list literal of `files`, or of `empty` alone when there are none.
fn list_literal(files: &[String], empty: &str) -> String {
    let empty = [empty.to_string()];
    let files = if files.is_empty() { &empty[..] } else { files };
    let quoted: Vec<String> = files.iter().map(|f| sql_string(f)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Takes `DB.lock` beside the database, exclusively, for the warehouse's lifetime.
fn lock_beside(db_path: &Path) -> Result<FileLock, WarehouseError> {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    lock_exclusively(Path::new(&name)).map_err(|e| match e {
        LockError::Held(_) => WarehouseError::InUse(db_path.into()),
        LockError::Io { path, source } => WarehouseError::Io { path, source },
    })
}

/// A SQL string literal (paths are ours, but quote them properly anyway).
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// DuckDB's ICU extension (built into the prebuilt library) reads TIMESTAMPTZ values in the
/// session's time zone, which defaults to the machine's. Every instant this warehouse
/// stores or returns is UTC (CONTRACT §5, §6), so the whole database is pinned to UTC: the same
/// report on a laptop in Chicago and on CI. A DuckDB built without ICU is UTC already and
/// has no such setting.
fn pin_time_zone_to_utc(conn: &Connection) -> Result<(), WarehouseError> {
    let has_time_zone_setting: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM duckdb_settings() WHERE name = 'TimeZone'",
            [],
            |row| row.get(0),
        )
        .map_err(db_error("read settings"))?;
    if has_time_zone_setting {
        conn.execute_batch("SET GLOBAL TimeZone = 'UTC'")
            .map_err(db_error("set TimeZone"))?;
    }
    Ok(())
}

/// A timestamp as DuckDB casts it to TIMESTAMPTZ.
fn sql_ts(ts: &DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}
