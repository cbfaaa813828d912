#!/usr/bin/env bash
# Schemathesis, an independent HTTP client, against `pizza-pipeline dev`, generated from
# the published OpenAPI document (docs/openapi.json, which dev serves at /openapi.json).
#
#   bash tests/schemathesis/run.sh [MAX_EXAMPLES]     (default 25 per route; .ci/run)
#
# Every check is on (`--checks all`: status codes, content types, response schemas and
# headers, server errors, schema-valid data accepted and schema-violating data refused,
# authentication, undeclared methods); schemathesis.toml holds the one exception JSON
# Schema cannot express, and hooks.py keeps the orders and report windows drawn within the rules of the clock. dev runs with an API key, on a fresh data dir with the demo
# history, so the report routes answer real rows. The seed is fixed so CI is repeatable;
# ST_SEED=N draws other cases. Schemathesis comes from PyPI at the versions pinned in
# requirements.txt, into a virtualenv in ~/.cache/pizza-pipeline.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/env.sh
here=tests/schemathesis
max_examples="${1:-25}"
seed="${ST_SEED:-20261202}"

venv="${HOME:-/root}/.cache/pizza-pipeline/schemathesis-$(sha256sum "$here/requirements.txt" | cut -c1-12)"
# A virtualenv cannot move once made (its scripts name their interpreter by path), so it
# is made in place and marked complete last: an interrupted install is redone.
if [ ! -f "$venv/.installed" ]; then
  echo "schemathesis: installing the pinned requirements into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  touch "$venv/.installed"
fi

cargo build --release --locked --bin pizza-pipeline
bin="$CARGO_TARGET_DIR/release/pizza-pipeline"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
key="schemathesis-$RANDOM$RANDOM"
"$bin" dev --data-dir "$work/data" --listen "127.0.0.1:$port" --api-key "$key" --demo-history \
  >"$work/dev.log" 2>&1 &
dev_pid=$!
stop_dev() {
  kill "$dev_pid" 2>/dev/null || true
  wait "$dev_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap stop_dev EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$dev_pid" 2>/dev/null || { echo "schemathesis: dev exited; its log:" >&2; cat "$work/dev.log" >&2; exit 1; }
  sleep 0.5
done

# The document dev serves is the repository's. Schemathesis reads the file: given the
# served URL instead, it leaves out the operation that serves the document itself.
curl -sf "http://127.0.0.1:$port/openapi.json" | cmp - docs/openapi.json || {
  echo "schemathesis: GET /openapi.json differs from docs/openapi.json (rebuild dev)" >&2; exit 1; }
status=0
# hooks.py: well-formed order dates move to yesterday, and report windows into their years (its header says why).
PYTHONPATH="$PWD/$here" SCHEMATHESIS_HOOKS=hooks \
"$venv/bin/st" --no-color --config-file "$here/schemathesis.toml" run docs/openapi.json \
  --url "http://127.0.0.1:$port" --checks all --max-examples "$max_examples" --seed "$seed" \
  --header "x-functions-key: $key" 2>&1 | tee "$work/st.log" || status=$?
if [ "$status" != 0 ]; then
  echo "schemathesis: failures (above); dev's log ends:" >&2
  tail -n 30 "$work/dev.log" >&2
fi
exit "$status"
