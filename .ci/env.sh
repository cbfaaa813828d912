# Shared by .ci/dev, .ci/test, .ci/run, .ci/package and bench/run.sh: one build profile
# (release) and one target directory outside the clone, so every clone, test run and CI
# run reuses one build of the dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/pizza-pipeline/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# DuckDB's official prebuilt C library, which the embedded mode links (fetched once into
# the cache by .ci/libduckdb/ensure; build.rs records its folder in the binaries).
if [ -z "${DUCKDB_LIB_DIR:-}" ]; then
  DUCKDB_LIB_DIR="$(bash "$(dirname "${BASH_SOURCE[0]}")/libduckdb/ensure")"
  export DUCKDB_LIB_DIR
fi
