# Shared by every script that runs cargo: one build profile (release) and one target
# directory outside the clone, so every clone, test run and CI run reuses one build of the
# dependencies. Nothing here needs Node.js, npm or DuckDB: `.ci/package` (the static
# handler for Azure, without the embedded mode) sources only this file.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/pizza-pipeline/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
