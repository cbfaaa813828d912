#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of the order parser and of the admin body.
#
#   bash fuzz/run.sh [SECONDS]      (default 60 per target; run from anywhere)
#
# Installs cargo-fuzz if missing, builds fuzz_targets/parse_orders.rs and
# admin_refresh.rs (which include src/order/ and src/summary/{request,window}.rs by path,
# NOT the pizza-pipeline crate and its many dependencies), fuzzes each for SECONDS,
# prints the execution counts, and exits non-zero if libFuzzer found a crash (a panic or a
# broken property; the input is saved under fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds="${1:-60}"
case "$fuzz_seconds" in
'' | *[!0-9]* | 0)
    # (libFuzzer reads -max_total_time=0 as "no limit")
    echo "fuzz: SECONDS must be a whole number ≥ 1, got '$fuzz_seconds'" >&2
    exit 2
    ;;
esac

# Pinned: a new cargo-fuzz may change flags or the libFuzzer output this script reads.
cargo_fuzz_version=0.13.2
# Its own target dir: never waits on (or invalidates) the main build's lock.
fuzz_target_dir="${FUZZ_TARGET_DIR:-${HOME:-/root}/.cache/pizza-pipeline/fuzz-target}"
# cargo-fuzz needs nightly-only rustc flags; the machines have stable Rust only.
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
    echo "fuzz: installing cargo-fuzz $cargo_fuzz_version"
    start=$(date +%s)
    # Not in CARGO_TARGET_DIR (.ci/env.sh points it at the main build's target dir).
    CARGO_TARGET_DIR="$fuzz_target_dir/cargo-fuzz-install" \
        cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
    echo "fuzz: cargo-fuzz installed in $(($(date +%s) - start)) s"
fi
cargo fuzz --version

# The committed fuzz/Cargo.lock must be up to date (cargo fuzz has no --locked flag).
cargo fetch --locked --manifest-path fuzz/Cargo.toml

# -a: debug assertions and overflow checks on (an overflow is a crash, not a wrap).
# -s none: no sanitizer; the code under test is safe Rust, and ASan would only slow it.
fuzz_flags=(--fuzz-dir fuzz -a -s none --target-dir "$fuzz_target_dir")

start=$(date +%s)
cargo fuzz build "${fuzz_flags[@]}"   # every target
echo "fuzz: fuzz target built in $(($(date +%s) - start)) s"

mkdir -p "$fuzz_target_dir"

# fuzz_one TARGET [libFuzzer flags...]: fuzzes TARGET for SECONDS from its corpus and its
# regressions; fails on a crash or a broken property.
fuzz_one() {
    local target="$1"; shift
    local log="$fuzz_target_dir/$target.log"
    echo "fuzz: fuzzing $target for ${fuzz_seconds} s (full libFuzzer log: $log)"
    # First directory: the corpus libFuzzer reads and grows (seeds committed, growth
    # ignored); then inputs that once broke a property, replayed at start-up on every run.
    local corpora=("fuzz/corpus/$target")
    if [ -d "fuzz/regressions/$target" ]; then
        corpora+=("fuzz/regressions/$target")
    fi
    local status=0
    cargo fuzz run "$target" "${fuzz_flags[@]}" "${corpora[@]}" -- \
        -max_total_time="$fuzz_seconds" \
        -timeout=10 \
        -print_final_stats=1 "$@" >"$log" 2>&1 || status=$?

    # Keep CI's log short: libFuzzer's progress lines (NEW, REDUCE, pulse) and its
    # recommended dictionary stay in $log.
    sed '/^###### Recommended dictionary/,/^###### End of recommended dictionary/d' "$log" |
        grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)[[:space:]]' | tail -n 60 || true

    local done_line executions
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    executions=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n 1)
    if [ "$status" -ne 0 ]; then
        grep -A 1 'panicked at' "$log" >&2 || true
        echo "fuzz: FAILED (exit $status): $target crashed or broke a property;" \
            "the input is in fuzz/artifacts/$target/ (see fuzz/README.md to reproduce)" >&2
        ls -l "fuzz/artifacts/$target/" >&2 2>/dev/null || true
        exit 1
    fi
    if [ -z "$done_line" ] || [ -z "$executions" ]; then
        echo "fuzz: FAILED: libFuzzer did not report a finished run of $target" >&2
        exit 1
    fi
    echo "fuzz: $done_line"
    echo "fuzz: $target: ${executions} executions in ${fuzz_seconds} s, no crash"
}

fuzz_one parse_orders -dict=fuzz/parse_orders.dict
fuzz_one admin_refresh
