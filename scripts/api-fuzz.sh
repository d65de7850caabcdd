#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI description: starts a
# server on a fresh SQLite file with auth on, gives it a workflow and an execution to
# work with, and runs Schemathesis (every check, a fixed seed, bounded examples) against
# /openapi.json. Fails on any failure Schemathesis reports.
#
# Usage: scripts/api-fuzz.sh [path/to/harmonia [schemathesis options]]
#        (default: target/debug/harmonia)
# Schemathesis is installed into target/api-fuzz-venv (HARMONIA_SCHEMATHESIS names
# another `st` to use instead).
# HARMONIA_FUZZ_EXAMPLES sets the examples per operation (default 30), HARMONIA_FUZZ_SEED
# the seed. The whole run is bounded: 10 minutes at most.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-target/debug/harmonia}"
examples="${HARMONIA_FUZZ_EXAMPLES:-30}"
seed="${HARMONIA_FUZZ_SEED:-20261124}"
version="4.32.5"

st="${HARMONIA_SCHEMATHESIS:-}"
if [ -z "$st" ]; then
    venv="${CARGO_TARGET_DIR:-target}/api-fuzz-venv"
    if [ ! -x "$venv/bin/st" ]; then
        echo "installing schemathesis $version into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
    fi
    st="$venv/bin/st"
fi

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    [ -n "${HARMONIA_FUZZ_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

db="$work/api.db"
token="$("$bin" token create --db "$db" --role admin --name api-fuzz)"

# A free port: bind 0 and read what the server chose from its log.
# Workers' long polls are held at most 100 ms: generated polls would otherwise wait
# up to a minute each for work that never comes.
"$bin" serve --db "$db" --port 0 --worker-poll-max-wait 100ms >"$work/server.log" 2>&1 &
server=$!
base=""
for _ in $(seq 1 100); do
    base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 || true)"
    if [ -n "$base" ] && curl -sf "$base/health" >/dev/null; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then cat "$work/server.log"; exit 1; fi
    sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

auth=(-H "Authorization: Bearer $token")
curl -sf "${auth[@]}" -H 'Content-Type: application/yaml' --data-binary @- "$base/api/workflows" >/dev/null <<'YAML'
name: fuzz-target
inputs:
  type: object
  properties:
    n: { type: integer, default: 1 }
triggers:
  - event: { type: fuzz.never, filter: "${ false }" }
tasks:
  wait:
    type: sleep
    with: { duration: 1h }
YAML
execution="$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d '{}' \
    "$base/api/workflows/fuzz-target/execute" | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')"

export HARMONIA_FUZZ_WORKFLOW=fuzz-target HARMONIA_FUZZ_EXECUTION="$execution" HARMONIA_FUZZ_TEMPLATE=etl
# Every check runs: that is Schemathesis' default, and the config file's per-operation
# exceptions (each with its reason) only hold without `--checks` on the command line,
# which would override them.
fuzz() {
    timeout 600 "$st" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
        --header "Authorization: Bearer $token" \
        --seed "$seed" --max-examples "$examples" --no-color \
        --request-timeout 10 --max-failures 20 "$@"
}
# Deletes go last and alone: the stateful phase follows links from responses that name
# `fuzz-target` or `etl` and would delete them under the other operations.
status=0
fuzz --exclude-name "DELETE /api/workflows/{id}" --exclude-name "DELETE /api/templates/{id}" "${@:2}" || status=$?
fuzz --include-name "DELETE /api/workflows/{id}" --include-name "DELETE /api/templates/{id}" "${@:2}" || status=$?
exit "$status"
