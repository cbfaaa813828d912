# Shared by .ci/dev, .ci/test and .ci/run: one build profile (release) and one target
# directory outside the clone, so every clone, test run and CI run reuses one build of
# the heavy C/C++ dependencies (bundled DuckDB and SQLite).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/pizza-pipeline/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
