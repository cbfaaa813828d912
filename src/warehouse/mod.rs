//! The embedded warehouse: DuckDB (`DIR/warehouse.duckdb`) over the Parquet lake.
//!
//! It holds the `orders_enriched` view (each `order_id` once), the `adult_population`
//! reference table and the `state_top_pizzas` report table, built by the SQL in
//! `sql/duckdb/`. In Azure, Synapse serverless SQL plays this part over the same lake.
//!
//! DuckDB is opened on first use, not at start-up: opening it and binding its catalog
//! costs about 100 ms and 30 MiB, which a process that only ingests or serves the report
//! never needs. The report itself is served from a JSON copy of the tiny report table
//! (`warehouse.report.json`, written after every build), so start-up reads a few
//! kilobytes instead. A lock file beside the database keeps a second process (another
//! `dev`, or `refresh` while `dev` runs) out, as DuckDB's own lock did when it was
//! opened eagerly.

mod report;

pub use report::{report_row, ReportRow, ReportWindowInfo};

use crate::lake::parquet::{schema, write_parquet};
use crate::lake::rollup::{rollup_path_for, rollup_schema};
use crate::lake::{LakeGate, COMPACTED_PREFIX, ORDERS_TABLE};
use crate::population::StatePopulation;
use crate::summary::ReportWindow;
use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use duckdb::{params, Connection};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const ORDERS_ENRICHED_SQL: &str = include_str!("../../sql/duckdb/orders_enriched.sql");
const ADULT_POPULATION_SQL: &str = include_str!("../../sql/duckdb/adult_population.sql");
const STATE_TOP_PIZZAS_SQL: &str = include_str!("../../sql/duckdb/state_top_pizzas.sql");
const REFRESH_LOG_SQL: &str = include_str!("../../sql/duckdb/refresh_log.sql");

/// A zero-row file of the lake schema, outside the table folder: what the view and the
/// summary read when there is nothing (yet) to read, so their columns always bind.
const EMPTY_SCHEMA_FILE: &str = "_schema/orders_enriched/order_date=1970-01-01/empty.parquet";
/// The same for the daily customer roll-ups.
const EMPTY_ROLLUP_FILE: &str =
    "_schema/orders_daily_customers/order_date=1970-01-01/empty.parquet";

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse {context}: {source}")]
    DuckDb {
        context: String,
        #[source]
        source: duckdb::Error,
    },
    #[error("warehouse: {0}")]
    Io(String),
    #[error("warehouse {} is in use by another process (is `pizza-pipeline dev` still running on this data dir?)", .0.display())]
    InUse(PathBuf),
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
    _lock: File,
    lake_root: PathBuf,
    gate: LakeGate,
    view_reads_lake: AtomicBool,
}

impl Warehouse {
    /// Opens (creating) `db_path` over the lake at `lake_root`, (re)loads the population
    /// reference and makes sure every object exists.
    pub fn open(
        db_path: &Path,
        lake_root: &Path,
        gate: LakeGate,
        population: &[StatePopulation],
    ) -> Result<Self, WarehouseError> {
        let warehouse = Self::open_deferred(db_path, lake_root, gate, population)?;
        warehouse.connection()?;
        Ok(warehouse)
    }

    /// Claims `db_path` for this process but opens DuckDB only on first use.
    pub fn open_deferred(
        db_path: &Path,
        lake_root: &Path,
        gate: LakeGate,
        population: &[StatePopulation],
    ) -> Result<Self, WarehouseError> {
        let lock = lock_beside(db_path)?;
        std::fs::create_dir_all(lake_root)
            .map_err(|e| WarehouseError::Io(format!("{}: {e}", lake_root.display())))?;
        write_empty_schema_file(lake_root)?;
        Ok(Warehouse {
            db_path: db_path.to_path_buf(),
            population: population.to_vec(),
            conn: Mutex::new(None),
            _lock: lock,
            lake_root: lake_root.to_path_buf(),
            gate,
            view_reads_lake: AtomicBool::new(false),
        })
    }

    pub fn lake_root(&self) -> &Path {
        &self.lake_root
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
        if !self.has_report_table(&conn)? {
            self.build_report(
                &conn,
                &ReportWindow::empty(),
                &WindowFiles::default(),
                Utc::now(),
            )?;
        }
        self.ensure_orders_view(&conn)?;
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
        let has_files = self.partition_days()?.into_iter().next().is_some();
        let source = if has_files {
            sql_string(&format!(
                "{}/{ORDERS_TABLE}/*/*.parquet",
                self.lake_root.display()
            ))
        } else {
            sql_string(&self.empty_schema_file())
        };
        let ddl = ORDERS_ENRICHED_SQL.replace("{{lake_glob}}", &source);
        conn.execute_batch(&ddl)
            .map_err(db_error("create orders_enriched"))?;
        self.view_reads_lake.store(has_files, Ordering::Release);
        Ok(())
    }

    fn empty_schema_file(&self) -> String {
        self.lake_root.join(EMPTY_SCHEMA_FILE).display().to_string()
    }

    /// Days that have a partition folder, sorted.
    fn partition_days(&self) -> Result<Vec<NaiveDate>, WarehouseError> {
        let table = self.lake_root.join(ORDERS_TABLE);
        let entries = match std::fs::read_dir(&table) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(WarehouseError::Io(format!("{}: {e}", table.display()))),
        };
        let mut days: Vec<NaiveDate> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| crate::lake::day_of(&e.file_name().to_string_lossy()))
            .collect();
        days.sort_unstable();
        Ok(days)
    }

    /// The Parquet files of the partitions that overlap `window`.
    fn window_files(&self, window: &ReportWindow) -> Result<WindowFiles, WarehouseError> {
        let days = window.utc_days();
        let mut files = WindowFiles::default();
        for day in self
            .partition_days()?
            .into_iter()
            .filter(|d| days.contains(d))
        {
            let dir = self.lake_root.join(crate::lake::partition_dir(day));
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| WarehouseError::Io(format!("{}: {e}", dir.display())))?;
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|name| name.ends_with(".parquet") && !name.starts_with('.'))
                .collect();
            names.sort();
            let compacted = names.len() == 1 && names[0].starts_with(COMPACTED_PREFIX);
            let whole = window.covers_utc_day(day);
            if compacted && whole {
                if let Some(rollup) = self.rollup_of(day, &names[0]) {
                    files.rollups.push(rollup);
                    continue;
                }
            }
            let list = match (compacted, whole) {
                (true, true) => &mut files.whole_days,
                (true, false) => &mut files.edge_days,
                (false, _) => &mut files.mixed,
            };
            list.extend(
                names
                    .iter()
                    .map(|name| dir.join(name).display().to_string()),
            );
        }
        Ok(files)
    }

    /// The roll-up of the compacted file `compacted` of `day`, if it has been written.
    fn rollup_of(&self, day: NaiveDate, compacted: &str) -> Option<String> {
        let lake_path = format!("{}/{compacted}", crate::lake::partition_dir(day));
        let path = self.lake_root.join(rollup_path_for(&lake_path)?);
        path.is_file().then(|| path.display().to_string())
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
        self.write_served_report(&ServedReport {
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
        let sql = STATE_TOP_PIZZAS_SQL
            .replace("{{rollup_files}}", &self.rollup_list(&files.rollups))
            .replace("{{whole_day_files}}", &self.file_list(&files.whole_days))
            .replace("{{edge_day_files}}", &self.file_list(&files.edge_days))
            .replace("{{mixed_files}}", &self.file_list(&files.mixed));
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

    /// A DuckDB list literal of order files; an empty list reads the zero-row schema file.
    fn file_list(&self, files: &[String]) -> String {
        list_literal(files, &self.empty_schema_file())
    }

    /// A DuckDB list literal of roll-up files (or of the zero-row roll-up file).
    fn rollup_list(&self, files: &[String]) -> String {
        let empty = self.lake_root.join(EMPTY_ROLLUP_FILE);
        list_literal(files, &empty.display().to_string())
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
                let dir = self.lake_root.join(crate::lake::partition_dir(day));
                if !dir.exists() {
                    return Ok(None);
                }
                let pattern = sql_string(&format!("{}/*.parquet", dir.display()));
                let cte = ORDERS_ENRICHED_SQL
                    .split_once("VIEW orders_enriched AS")
                    .map(|(_, select)| select.trim_end().trim_end_matches(';').to_string())
                    .expect("orders_enriched.sql is a CREATE VIEW … AS SELECT");
                format!("({})", cte.replace("{{lake_glob}}", &pattern))
            }
            None => "orders_enriched".to_string(),
        };
        report::order_as_json(&conn, &source, order_id)
    }

    /// The report as served: from `warehouse.report.json` when it is there (no DuckDB
    /// needed), else read from the database and written there for the next start.
    pub fn served_report(&self) -> Result<ServedReport, WarehouseError> {
        let path = self.served_report_path();
        match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(served) => return Ok(served),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "unreadable report copy; reading the warehouse instead")
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(WarehouseError::Io(format!("{}: {e}", path.display()))),
        }
        let served = ServedReport {
            last_as_of: self.last_refresh_as_of()?,
            rows: self.report_rows()?,
        };
        self.write_served_report(&served)?;
        Ok(served)
    }

    fn served_report_path(&self) -> PathBuf {
        self.db_path.with_extension("report.json")
    }

    /// Replaces the served copy atomically (write, fsync, rename). Should a crash leave
    /// an older copy behind, its older `last_as_of` makes the timer rebuild at start.
    fn write_served_report(&self, served: &ServedReport) -> Result<(), WarehouseError> {
        let path = self.served_report_path();
        let staging = path.with_extension("json.tmp");
        let io = |e: std::io::Error| WarehouseError::Io(format!("{}: {e}", path.display()));
        let bytes = serde_json::to_vec(served).expect("report rows serialise");
        let mut file = File::create(&staging).map_err(io)?;
        std::io::Write::write_all(&mut file, &bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&staging, &path).map_err(io)
    }

    pub fn report_rows(&self) -> Result<Vec<ReportRow>, WarehouseError> {
        report::read_report(&self.connection()?, None)
    }

    pub fn report_for_state(&self, state: &str) -> Result<Vec<ReportRow>, WarehouseError> {
        report::read_report(&self.connection()?, Some(state))
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

/// Takes `DB.lock` beside the database, exclusively, for as long as the file stays open.
fn lock_beside(db_path: &Path) -> Result<File, WarehouseError> {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    if let Some(parent) = lock_path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| WarehouseError::Io(format!("{}: {e}", parent.display())))?;
    }
    let file = File::create(&lock_path)
        .map_err(|e| WarehouseError::Io(format!("{}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(WarehouseError::InUse(db_path.into())),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(WarehouseError::Io(format!("{}: {e}", lock_path.display())))
        }
    }
}

fn write_empty_schema_file(lake_root: &Path) -> Result<(), WarehouseError> {
    write_empty_file(lake_root, EMPTY_SCHEMA_FILE, schema())?;
    write_empty_file(lake_root, EMPTY_ROLLUP_FILE, rollup_schema())
}

fn write_empty_file(
    lake_root: &Path,
    relative: &str,
    schema: arrow::datatypes::SchemaRef,
) -> Result<(), WarehouseError> {
    let path = lake_root.join(relative);
    if path.exists() {
        return Ok(());
    }
    let bytes = write_parquet(&RecordBatch::new_empty(schema))
        .map_err(|e| WarehouseError::Io(e.to_string()))?;
    let io = |e: std::io::Error| WarehouseError::Io(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(path.parent().unwrap()).map_err(io)?;
    std::fs::write(&path, bytes).map_err(io)
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
