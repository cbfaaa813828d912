//! The Function App package as the Functions host runs it: unzipped into an empty
//! folder, the handler named by host.json started from the app root with the host's
//! port variable and the app settings, then asked what the host asks.
//!
//! The package is the one `bash .ci/package` writes (`.ci/test` builds it before the
//! tests; `PIZZA_PACKAGE_ZIP` names another). Its handler must run on any Functions
//! Linux image: statically linked, or at least needing no glibc newer than 2.31 (Debian
//! 11, the oldest image) and no libstdc++. The lake is Azurite, through the real Blob
//! SDK; the other services are unreachable on purpose, so the answers show what the
//! handler does before and without them.

use crate::common::azurite::Azurite;
use pizza_pipeline::lake::{AdlsLake, LakeStore};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn package_zip() -> PathBuf {
    let zip = std::env::var_os("PIZZA_PACKAGE_ZIP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/pizza-pipeline-functionapp.zip")
        });
    assert!(
        zip.is_file(),
        "no package at {}: build it with `bash .ci/package` (`bash .ci/test` does)",
        zip.display()
    );
    zip
}

/// Unzips with the mode bits the zip carries (the exec bit of the handler among them).
fn unzip(zip: &Path, into: &Path) {
    let status = Command::new("python3")
        .args([
            "-c",
            "import os, sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1]) as z:\n\
             \x20   for info in z.infolist():\n\
             \x20       path = z.extract(info, sys.argv[2])\n\
             \x20       mode = info.external_attr >> 16\n\
             \x20       if mode: os.chmod(path, mode & 0o777)\n",
        ])
        .arg(zip)
        .arg(into)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "unzip failed: {status}");
}

/// What the ELF file needs from the system it runs on.
#[derive(Debug)]
struct Linkage {
    interpreter: bool,
    needed: Vec<String>,
}

/// Reads the program headers of a 64-bit little-endian ELF file: a PT_INTERP means the
/// kernel hands it to a dynamic loader; the PT_DYNAMIC entries DT_NEEDED name the shared
/// libraries it loads (a static-pie binary has PT_DYNAMIC but needs nothing).
fn linkage(elf: &[u8]) -> Linkage {
    assert_eq!(&elf[..4], b"\x7fELF", "an ELF file");
    assert_eq!((elf[4], elf[5]), (2, 1), "64-bit little-endian");
    let u16_at = |i: usize| u16::from_le_bytes([elf[i], elf[i + 1]]) as usize;
    let u64_at = |i: usize| u64::from_le_bytes(elf[i..i + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    let headers: Vec<(u32, usize, usize, usize)> = (0..phnum)
        .map(|i| {
            let at = phoff + i * phentsize;
            let kind = u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
            (kind, u64_at(at + 8), u64_at(at + 16), u64_at(at + 32))
        })
        .collect();
    let interpreter = headers.iter().any(|(kind, ..)| *kind == 3);
    let mut needed = Vec::new();
    if let Some(&(_, offset, _, size)) = headers.iter().find(|(kind, ..)| *kind == 2) {
        // DT_NEEDED values are offsets into the string table (DT_STRTAB, a virtual
        // address); map it back to the file through the PT_LOAD that holds it.
        let entries: Vec<(u64, usize)> = (0..size / 16)
            .map(|i| (u64_at(offset + i * 16) as u64, u64_at(offset + i * 16 + 8)))
            .take_while(|(tag, _)| *tag != 0)
            .collect();
        let strtab_addr = entries.iter().find(|(tag, _)| *tag == 5).map(|e| e.1);
        let file_offset = |addr: usize| {
            headers
                .iter()
                .filter(|(kind, _, vaddr, _)| *kind == 1 && addr >= *vaddr)
                .max_by_key(|(_, _, vaddr, _)| *vaddr)
                .map(|(_, off, vaddr, _)| addr - vaddr + off)
        };
        for (tag, value) in &entries {
            if *tag == 1 {
                let strtab = strtab_addr.and_then(file_offset).expect("a string table");
                let name = &elf[strtab + value..];
                let end = name.iter().position(|&b| b == 0).unwrap();
                needed.push(String::from_utf8_lossy(&name[..end]).to_string());
            }
        }
    }
    Linkage {
        interpreter,
        needed,
    }
}

/// The highest `GLIBC_2.N` symbol version named in the file.
fn highest_glibc(elf: &[u8]) -> Option<u32> {
    let text = String::from_utf8_lossy(elf);
    text.match_indices("GLIBC_2.")
        .filter_map(|(i, m)| {
            let digits: String = text[i + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .max()
}

#[test]
fn the_packaged_handler_needs_nothing_newer_than_the_oldest_functions_image() {
    let dir = tempfile::tempdir().unwrap();
    unzip(&package_zip(), dir.path());
    let elf = std::fs::read(dir.path().join("pizza-pipeline")).expect("the handler");
    let linkage = linkage(&elf);
    if linkage.interpreter || !linkage.needed.is_empty() {
        // Dynamic: then only glibc 2.31 or older, and no C++ runtime.
        let glibc = highest_glibc(&elf);
        assert!(
            glibc.is_none_or(|minor| minor <= 31),
            "the handler needs GLIBC_2.{glibc:?}, newer than Debian 11's 2.31: {linkage:?}"
        );
        assert!(
            !linkage.needed.iter().any(|lib| lib.contains("stdc++")),
            "the handler needs libstdc++: {linkage:?}"
        );
    }
    // The package is the static build: that is what .ci/package makes.
    assert!(
        !linkage.interpreter && linkage.needed.is_empty(),
        "the packaged handler is dynamically linked: {linkage:?}"
    );
    // No DuckDB inside: `serve` never uses it, and it is most of the full binary.
    assert!(
        !String::from_utf8_lossy(&elf).contains("duckdb_open"),
        "the package carries DuckDB"
    );
}

#[test]
fn the_package_ships_the_order_api_document() {
    let dir = tempfile::tempdir().unwrap();
    unzip(&package_zip(), dir.path());
    let shipped = std::fs::read_to_string(dir.path().join("openapi.json")).expect("openapi.json");
    assert_eq!(shipped, include_str!("../../docs/openapi.json"));
}

/// The packaged handler, started as the host starts it.
struct Packaged {
    child: Child,
    port: u16,
    stdout: PathBuf,
    stderr: PathBuf,
    _app_root: tempfile::TempDir,
}

impl Packaged {
    fn start(lake_url: &str) -> Packaged {
        let app_root = tempfile::tempdir().unwrap();
        unzip(&package_zip(), app_root.path());
        let host: serde_json::Value =
            serde_json::from_slice(&std::fs::read(app_root.path().join("host.json")).unwrap())
                .unwrap();
        let description = &host["customHandler"]["description"];
        let executable = description["defaultExecutablePath"].as_str().unwrap();
        let arguments: Vec<&str> = description["arguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let logs = app_root.path().with_extension("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let (stdout, stderr) = (logs.join("stdout"), logs.join("stderr"));
        // The host runs defaultExecutablePath relative to the app root, in the app root
        // (workingDirectory ""), with only its own environment and the app settings.
        let child = Command::new(app_root.path().join(executable))
            .args(&arguments)
            .current_dir(app_root.path())
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", app_root.path())
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .envs(crate::common::SERVE_SETTINGS)
            .envs([
                ("LAKE_URL", lake_url),
                ("SYNAPSE_DATABASE", "pizza_warehouse"),
                ("SUMMARY_SCHEDULE", "0 0 * * * *"),
            ])
            .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
            .spawn()
            .expect("the packaged handler starts");
        let mut packaged = Packaged {
            child,
            port,
            stdout,
            stderr,
            _app_root: app_root,
        };
        packaged.wait_until_listening();
        packaged
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the handler exited with {status}:\n{}", self.stderr_text());
            }
            assert!(Instant::now() < deadline, "the handler did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap()
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap()
    }
}

impl Drop for Packaged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/functions_host/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unzipped_package_answers_the_custom_handler_contract() {
    let azurite = Azurite::start();
    let lake_url = azurite.container_url("lake");
    let lake = AdlsLake::new(&lake_url, None).unwrap();
    lake.ensure_container().await.unwrap();
    let handler = Packaged::start(&lake_url);
    let http = crate::common::client();

    // The host's readiness probe: any answer means the handler is up.
    let probe = http.get(handler.url("/")).send().await.unwrap();
    assert!(probe.status().as_u16() < 500, "{}", probe.status());

    crate::common::assert_ingest_without_event_hubs(&http, &handler.url("")).await;

    // enrich_orders: a batch (as strings) of events none of which is an order lands
    // nothing and quarantines each, in the lake, through the Blob SDK.
    let mut batch = fixture("eventhub_many_request_datatype_string.json");
    let broken = ["not json", "{\"order_id\": \"x\"}", "<order/>"];
    batch["Data"]["orders"] = serde_json::to_string(&broken).unwrap().into();
    let answer = http
        .post(handler.url("/enrich_orders"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "application/json",
        "the host reads invocation answers as JSON only"
    );
    let quarantined = lake.list("quarantine/enrich").await.unwrap();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let kept = String::from_utf8(lake.get(&quarantined[0]).await.unwrap().to_vec()).unwrap();
    assert_eq!(kept.lines().count(), 3, "{kept}");

    // An invocation that cannot be read at all: kept raw, acknowledged.
    let garbage = http
        .post(handler.url("/enrich_orders"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 200);
    let raw = lake.list("quarantine/invocations").await.unwrap();
    assert!(
        raw.iter().any(|p| p.ends_with(".body")),
        "the raw invocation is in the lake: {raw:?}"
    );

    // A batch without its partition fails (and is retried by the host).
    let mut no_partition = fixture("eventhub_many_request.json");
    no_partition["Metadata"]
        .as_object_mut()
        .unwrap()
        .remove("PartitionContext");
    let failed = http
        .post(handler.url("/enrich_orders"))
        .json(&no_partition)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);

    // build_state_summary: a tick that finds today's report built does nothing (and
    // never reaches Synapse, which is unreachable here).
    let now = chrono::Utc::now();
    let due = pizza_pipeline::summary::ReportWindow::due_nightly(now, chrono_tz::America::Chicago);
    let report = pizza_pipeline::summary::RefreshReport {
        as_of: pizza_pipeline::order::format_ts(&due.as_of),
        window_start: String::new(),
        window_end: String::new(),
        refreshed_at: pizza_pipeline::order::format_ts(&now),
        report_rows: 0,
        files_read: 0,
        partitions_compacted: 0,
        days_from_month_rollups: 0,
        month_rollups_read: 0,
        days_from_rollups: 0,
        days_read_as_orders: 0,
        rollups_written: 0,
        month_rollups_written: 0,
        verified: false,
        duration_ms: 0,
    };
    pizza_pipeline::summary::write_last_build(&lake, &report)
        .await
        .unwrap();
    // One hourly tick of the timer, as the host sends it.
    let tick = || {
        http.post(handler.url("/build_state_summary"))
            .header("content-type", "application/json")
            .body(pizza_pipeline::functions::invocation::encode_timer(
                now, None, now, false,
            ))
            .send()
    };
    let ticked = tick().await.unwrap();
    assert_eq!(ticked.status(), 200);
    let ticked: serde_json::Value = ticked.json().await.unwrap();
    assert!(
        ticked["Logs"].to_string().contains("built already"),
        "{ticked}"
    );

    // POST /api/refresh (the operators' function): the due report is built already, so
    // without "force" nothing is done; with it, the build runs again. It does the report
    // core's work in the lake (Azurite here): the window's new day compacted and rolled
    // up, the report computed from the roll-ups and written as its run's file.
    // Publishing then needs Synapse, which cannot be reached here: 503, with an error id
    // and no back-end text, and the cause on stderr.
    let day = (due.end - chrono::Duration::days(2)).date_naive();
    land_two_batches(&lake, day).await;
    let refresh = |body: &'static str| {
        http.post(handler.url("/api/refresh"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let built: serde_json::Value = refresh("{}").await.unwrap().json().await.unwrap();
    assert_eq!(built["built_already"], true, "{built}");
    assert!(
        lake.list("orders_daily").await.unwrap().is_empty(),
        "nothing built"
    );
    let forced = refresh(r#"{"force": true}"#).await.unwrap();
    assert_eq!(forced.status(), 503, "Synapse is out of reach");
    let said: serde_json::Value = forced.json().await.unwrap();
    let error_id = said["error_id"].as_str().expect("an error id").to_string();
    assert!(
        !said.to_string().contains("tcp"),
        "no back-end text: {said}"
    );
    // The hourly tick, when the build is due, goes the same way.
    lake.delete(pizza_pipeline::summary::LAST_BUILD)
        .await
        .unwrap();
    let failed = tick().await.unwrap();
    assert_eq!(failed.status(), 500, "Synapse is out of reach");
    let rollups = lake.list("orders_daily").await.unwrap();
    assert_eq!(rollups.len(), 1, "{rollups:?}");
    let day_files = lake.list("orders_enriched").await.unwrap();
    assert_eq!(day_files.len(), 1, "compacted: {day_files:?}");
    let runs = lake
        .list(pizza_pipeline::summary::REPORT_RUNS)
        .await
        .unwrap();
    let run = runs
        .iter()
        .find(|p| p.ends_with(pizza_pipeline::summary::REPORT_FILE_NAME))
        .expect("the run's report file");
    let written = report_rows(lake.get(run).await.unwrap());
    let population = pizza_pipeline::population::shipped();
    let expected = pizza_pipeline::summary::build_report_as_is(&lake, &due, &population, now)
        .await
        .unwrap();
    assert_eq!(written.len(), 2, "Texas: cheese and veggie");
    assert_eq!(
        pizza_pipeline::summary::first_difference(&expected.rows, &written, "the run's file"),
        None
    );

    // Logs the host can read: no colour codes; information on stdout, errors on stderr.
    crate::common::sigterm(&handler.child);
    let mut handler = handler;
    let status = crate::common::exit_within(&mut handler.child, Duration::from_secs(30))
        .expect("the handler stops on SIGTERM");
    assert!(status.success(), "{status}");
    let (stdout, stderr) = (handler.stdout_text(), handler.stderr_text());
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !text.contains('\u{1b}'),
            "escape bytes on {name}:\n{text:?}"
        );
    }
    assert!(stdout.contains("custom handler ready"), "stdout:\n{stdout}");
    assert!(stdout.contains(" INFO "), "stdout:\n{stdout}");
    assert!(
        !stdout.contains(" ERROR ") && !stdout.contains(" WARN "),
        "stdout:\n{stdout}"
    );
    assert!(stderr.contains(" ERROR "), "stderr:\n{stderr}");
    assert!(
        stderr.contains("unreadable invocation"),
        "stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&error_id),
        "the refused refresh's cause, under its id:\n{stderr}"
    );
    assert!(!stderr.contains(" INFO "), "stderr:\n{stderr}");
}

/// Two landed batches of one day: Texan orders of two types, and one order landed twice.
async fn land_two_batches(lake: &AdlsLake, day: chrono::NaiveDate) {
    use pizza_pipeline::customers::Customer;
    use pizza_pipeline::enrich::EnrichedOrder;
    use pizza_pipeline::order::{OrderEvent, PizzaType};
    let texan = std::sync::Arc::new(Customer {
        customer_id: 42,
        name: "Ann".into(),
        address: "1 Main St".into(),
        city: "Austin".into(),
        state: "TX".into(),
        zip_code: "73301".into(),
    });
    let at = day.and_hms_opt(18, 30, 0).unwrap().and_utc();
    let order = |order_id: i64, pizza_type: PizzaType, seq: i64| EnrichedOrder {
        event: OrderEvent {
            order_id,
            customer_id: 42,
            pizza_type,
            qty: 2,
            retail_price_cents: 2598,
            order_ts: at,
            received_at: at,
        },
        customer: Some(texan.clone()),
        stream_partition: "3".into(),
        stream_seq: seq,
        enriched_at: at,
    };
    let first = [
        order(1, PizzaType::Cheese, 1),
        order(2, PizzaType::Veggie, 2),
    ];
    let second = [
        order(2, PizzaType::Veggie, 3),
        order(3, PizzaType::Cheese, 4),
    ];
    pizza_pipeline::lake::land_batch(lake, &first, "3", 1, 2)
        .await
        .unwrap();
    pizza_pipeline::lake::land_batch(lake, &second, "3", 3, 4)
        .await
        .unwrap();
}

/// The rows of a report run's file, as the report core wrote them.
fn report_rows(bytes: bytes::Bytes) -> Vec<pizza_pipeline::summary::ReportRow> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Decimal128Type, Int32Type, Int64Type, TimestampMicrosecondType};
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let text = |i: usize| batch.column(i).as_string::<i32>().clone();
        let int = |i: usize| batch.column(i).as_primitive::<Int64Type>().clone();
        let money = |i: usize| batch.column(i).as_primitive::<Decimal128Type>().clone();
        let at = |i: usize| {
            batch
                .column(i)
                .as_primitive::<TimestampMicrosecondType>()
                .clone()
        };
        let (state, name, kind) = (text(0), text(1), text(3));
        let rank = batch.column(2).as_primitive::<Int32Type>().clone();
        let (sold, customers, adults) = (int(4), int(7), int(8));
        let (gross, per_adult) = (money(5), money(6));
        let (start, end, refreshed) = (at(9), at(10), at(11));
        let time = |micros: i64| chrono::DateTime::from_timestamp_micros(micros).unwrap();
        for i in 0..batch.num_rows() {
            rows.push(pizza_pipeline::summary::ReportRow {
                state: state.value(i).into(),
                state_name: name.value(i).into(),
                rank: rank.value(i),
                pizza_type: kind.value(i).into(),
                pizzas_sold: sold.value(i),
                gross_sales_cents: gross.value(i) as i64,
                per_capita_micro_usd: per_adult.value(i) as i64,
                unique_customers: customers.value(i),
                adult_population: adults.value(i),
                window_start: time(start.value(i)),
                window_end: time(end.value(i)),
                refreshed_at: time(refreshed.value(i)),
            });
        }
    }
    rows
}
