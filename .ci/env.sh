# Shared by .ci/dev, .ci/test, .ci/run and bench/run.sh, and by plain `cargo` commands of
# the embedded build: the target directory (.ci/cargo-env.sh) and DuckDB's library.
source "$(dirname "${BASH_SOURCE[0]}")/cargo-env.sh"
# DuckDB's official prebuilt C library, which the embedded mode links (fetched once into
# the cache by .ci/libduckdb/ensure; build.rs records its folder in the binaries).
if [ -z "${DUCKDB_LIB_DIR:-}" ]; then
  DUCKDB_LIB_DIR="$(bash "$(dirname "${BASH_SOURCE[0]}")/libduckdb/ensure")"
  export DUCKDB_LIB_DIR
fi
