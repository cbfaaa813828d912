//! The embedded warehouse: DuckDB (`DIR/warehouse.duckdb`) over the Parquet lake.
//!
//! It holds the `orders_enriched` view (each `order_id` once), the `adult_population`
//! reference table and the `state_top_pizzas` report table, built by the SQL in
//! `sql/duckdb/`. In Azure, Synapse serverless SQL plays this part over the same lake.
//!
//! It is the DuckDB adapter of the report engine port (`summary::ReportEngine`, in
//! `engine.rs`). It sees the lake only through `LakeStore`: it lists partitions there,
//! and hands DuckDB the files' local paths (`LakeStore::local_path`).
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

pub use report::{report_row, ReportRow, ReportWindowInfo};

use crate::files::{lock_exclusively, read_if_present, write_atomically, FileLock, LockError};
use crate::lake::parquet::{schema, write_parquet};
use crate::lake::rollup::{rollup_path_for, rollup_schema, ROLLUP_TABLE};
use crate::lake::{day_partitions, DayFiles, LakeError, LakeGate, LakeStore, ORDERS_TABLE};
use crate::ledger::LakeDay;
use crate::population::StatePopulation;
use crate::sql_script::{fill, ScriptError, ValueRule};
use crate::summary::ReportWindow;
use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{params, Connection};
use futures::executor::block_on;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

const ORDERS_ENRICHED_SQL: &str = include_str!("../../sql/duckdb/orders_enriched.sql");
const ADULT_POPULATION_SQL: &str = include_str!("../../sql/duckdb/adult_population.sql");
const STATE_TOP_PIZZAS_SQL: &str = include_str!("../../sql/duckdb/state_top_pizzas.sql");
const REFRESH_LOG_SQL: &str = include_str!("../../sql/duckdb/refresh_log.sql");
const LEDGER_SQL: &str = include_str!("../../sql/duckdb/ledger.sql");

/// A zero-row file of the lake schema, beside the database (`DB.schema/`): what the view
/// and the summary read when there is nothing (yet) to read, so their columns always bind.
const EMPTY_SCHEMA_FILE: &str = "orders_enriched/order_date=1970-01-01/empty.parquet";
/// The same for the daily customer roll-ups.
const EMPTY_ROLLUP_FILE: &str = "orders_daily_customers/order_date=1970-01-01/empty.parquet";

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {context}: {source}")]
    DuckDb {
        context: String,
        #[source]
        source: duckdb::Error,
    },
    #[error("warehouse file {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("warehouse {} is in use by another process (is `pizza-pipeline dev` still running on this data dir?)", .0.display())]
    InUse(PathBuf),
    #[error("warehouse: {0}")]
    Lake(#[from] LakeError),
    /// The embedded warehouse reads lake files on this machine only.
    #[error("warehouse: lake file {0} has no copy on this machine for DuckDB to read")]
    NotLocal(String),
    #[error("warehouse SQL: {0}")]
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

/// The window's files, in the four lists `state_top_pizzas.sql` reads.
#[derive(Debug, Default)]
struct WindowFiles {
    /// Daily customer roll-ups of compacted days wholly inside the window.
    rollups: Vec<String>,
    /// Compacted (already de-duplicated) days wholly inside the window, without a roll-up.
    whole_days: Vec<String>,
    /// Compacted days the window cuts.
    edge_days: Vec<String>,
    /// Days with several files, still to be de-duplicated.
    mixed: Vec<String>,
}

/// What one summary build did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildStats {
    pub files_read: usize,
    pub report_rows: usize,
    pub duration_ms: u64,
    pub refreshed_at: DateTime<Utc>,
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
            self.build_report(
                &conn,
                &ReportWindow::empty(),
                &WindowFiles::default(),
                Utc::now(),
            )?;
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
        for (relative, schema) in [
            (EMPTY_SCHEMA_FILE, schema()),
            (EMPTY_ROLLUP_FILE, rollup_schema()),
        ] {
            let path = self.empty_files_dir().join(relative);
            if read_if_present(&path)
                .map_err(WarehouseError::io(&path))?
                .is_some()
            {
                continue;
            }
            let bytes = write_parquet(&RecordBatch::new_empty(schema))?;
            write_atomically(&path, &bytes).map_err(WarehouseError::io(&path))?;
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

    /// The Parquet files of the partitions that overlap `window`, in the four lists the
    /// report reads.
    fn window_files(&self, window: &ReportWindow) -> Result<WindowFiles, WarehouseError> {
        let days = window.utc_days();
        let partitions = block_on(day_partitions(self.lake.as_ref(), Some(&days)))?;
        let whole_compacted = |p: &DayFiles| p.is_compacted() && window.covers_utc_day(p.day);
        let rollups: BTreeSet<String> = if partitions.iter().any(whole_compacted) {
            block_on(self.lake.list(ROLLUP_TABLE))?
                .into_iter()
                .collect()
        } else {
            BTreeSet::new()
        };
        let mut files = WindowFiles::default();
        for partition in &partitions {
            let compacted = partition.is_compacted();
            let whole = window.covers_utc_day(partition.day);
            if compacted && whole {
                let rollup = rollup_path_for(&partition.files[0]).filter(|r| rollups.contains(r));
                if let Some(rollup) = rollup {
                    files.rollups.push(self.local(&rollup)?);
                    continue;
                }
            }
            let list = match (compacted, whole) {
                (true, true) => &mut files.whole_days,
                (true, false) => &mut files.edge_days,
                (false, _) => &mut files.mixed,
            };
            list.extend(self.local_files(&partition.files)?);
        }
        Ok(files)
    }

    /// Builds `state_top_pizzas` for `window` and logs the run.
    pub fn build_summary(&self, window: &ReportWindow) -> Result<BuildStats, WarehouseError> {
        let started = Instant::now();
        let conn = self.connection()?;
        let _readers = self.gate.read();
        let files = self.window_files(window)?;
        let refreshed_at = crate::order::truncate_to_micros(Utc::now());
        let report_rows = self.build_report(&conn, window, &files, refreshed_at)?;
        let files_read = files.rollups.len()
            + files.whole_days.len()
            + files.edge_days.len()
            + files.mixed.len();
        let duration_ms = started.elapsed().as_millis() as u64;
        conn.execute(
            "INSERT INTO refresh_log VALUES ($1::TIMESTAMPTZ, $2::TIMESTAMPTZ, $3::TIMESTAMPTZ, $4::TIMESTAMPTZ, $5, $6, $7)",
            params![
                sql_ts(&window.as_of),
                sql_ts(&window.start),
                sql_ts(&window.end),
                sql_ts(&refreshed_at),
                files_read as i64,
                report_rows as i64,
                duration_ms as i64
            ],
        )
        .map_err(db_error("log the refresh"))?;
        self.ensure_orders_view(&conn)?;
        self.serve(ServedReport {
            last_as_of: Some(window.as_of),
            rows: report::read_report(&conn, None)?,
        })?;
        Ok(BuildStats {
            files_read,
            report_rows,
            duration_ms,
            refreshed_at,
        })
    }

    fn build_report(
        &self,
        conn: &Connection,
        window: &ReportWindow,
        files: &WindowFiles,
        refreshed_at: DateTime<Utc>,
    ) -> Result<usize, WarehouseError> {
        let order_files = |list: &[String]| list_literal(list, &self.empty_file(EMPTY_SCHEMA_FILE));
        let rollup_files = list_literal(&files.rollups, &self.empty_file(EMPTY_ROLLUP_FILE));
        let (whole, edge, mixed) = (
            order_files(&files.whole_days),
            order_files(&files.edge_days),
            order_files(&files.mixed),
        );
        let sql = fill(
            STATE_TOP_PIZZAS_SQL,
            &[
                ("rollup_files", &rollup_files, ValueRule::SqlStrings),
                ("whole_day_files", &whole, ValueRule::SqlStrings),
                ("edge_day_files", &edge, ValueRule::SqlStrings),
                ("mixed_files", &mixed, ValueRule::SqlStrings),
            ],
        )?;
        conn.execute(
            &sql,
            params![
                sql_ts(&window.start),
                sql_ts(&window.end),
                sql_ts(&refreshed_at)
            ],
        )
        .map_err(db_error("build state_top_pizzas"))?;
        // Counted, not taken from the statement: what CREATE TABLE … AS reports as rows
        // changed differs between DuckDB releases.
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM state_top_pizzas", [], |row| {
                row.get(0)
            })
            .map_err(db_error("count state_top_pizzas"))?;
        Ok(rows as usize)
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

    /// The report as served: kept in memory once read or built; at first from
    /// `warehouse.report.json` when it is there (no DuckDB needed), else read from the
    /// database and written there for the next start.
    pub fn served_report(&self) -> Result<ServedReport, WarehouseError> {
        Ok(self.served()?.as_ref().clone())
    }

    /// The report as served, shared.
    pub fn served(&self) -> Result<Arc<ServedReport>, WarehouseError> {
        Ok(self.served_versioned()?.1)
    }

    /// The report as served, and its version: how many times it has changed in this
    /// process (from 1). A copy of it is current while the version has not moved.
    pub fn served_versioned(&self) -> Result<(u64, Arc<ServedReport>), WarehouseError> {
        if let Some(served) = self.served.read().unwrap().clone() {
            return Ok(served);
        }
        let path = self.served_report_path();
        let copy = read_if_present(&path).map_err(WarehouseError::io(&path))?;
        if let Some(bytes) = copy {
            match serde_json::from_slice::<ServedReport>(&bytes) {
                Ok(served) => return Ok(self.keep_served(served)),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "unreadable report copy; reading the warehouse instead")
                }
            }
        }
        let served = ServedReport {
            last_as_of: self.last_refresh_as_of()?,
            rows: self.report_rows()?,
        };
        self.write_served_report(&served)?;
        Ok(self.keep_served(served))
    }

    /// Makes `served` the report as served: written to the copy first, so a restart
    /// never serves an older report than this process did.
    fn serve(&self, served: ServedReport) -> Result<(), WarehouseError> {
        self.write_served_report(&served)?;
        self.keep_served(served);
        Ok(())
    }

    fn keep_served(&self, served: ServedReport) -> (u64, Arc<ServedReport>) {
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
