//! The embedded mode links DuckDB's prebuilt C library (libduckdb.so) from DUCKDB_LIB_DIR,
//! which `.ci/env.sh` sets after fetching the library once (`.ci/libduckdb/ensure`). This
//! script records that folder in every binary this package links (the `pizza-pipeline`
//! binary, tests, benchmarks), so they start without LD_LIBRARY_PATH, and stops a build
//! that would otherwise fail at link time with a bare "cannot find -lduckdb".
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    let links_prebuilt_duckdb = env::var_os("CARGO_FEATURE_EMBEDDED").is_some()
        && env::var_os("CARGO_FEATURE_BUNDLED_DUCKDB").is_none();
    if !links_prebuilt_duckdb {
        return;
    }
    match env::var("DUCKDB_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => {
            if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
                println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
            }
        }
        _ => panic!(
            "the embedded mode links DuckDB's C library from DUCKDB_LIB_DIR, which is not set: \
             run `source .ci/env.sh` first (it fetches the library once), or compile DuckDB \
             from source with `--features bundled-duckdb`, or build the Azure handler alone \
             with `--no-default-features`"
        ),
    }
}
