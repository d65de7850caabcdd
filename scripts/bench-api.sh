#!/usr/bin/env bash
# Load benchmark of the HTTP API: requests per second and p99 latency of
#   - GET  /api/executions/{id}               (read one execution with its tasks)
#   - POST /api/workflows/{id}/execute        (start a 3-task workflow, durably)
# and, as the baseline measured in the same run, GET /health (the HTTP stack alone).
# A release server on a fresh SQLite file, auth on, load from oha on 127.0.0.1.
# Each figure is the median of RUNS runs; the ratio column is the endpoint's median
# req/s over the baseline's.
#
# Usage: scripts/bench-api.sh    (RUNS=3 SECONDS_EACH=5 CONNECTIONS="8 16 32": each
#                                 endpoint at each number of concurrent connections)
# oha is installed with `cargo install --locked oha` when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
seconds="${SECONDS_EACH:-5}"
connections="${CONNECTIONS:-8 16 32}"

if ! command -v oha >/dev/null 2>&1; then
    echo "installing oha (cargo install --locked oha)"
    cargo install --locked oha
fi

cargo build --release --locked -p harmonia-cli --bin harmonia
bin="${CARGO_TARGET_DIR:-target}/release/harmonia"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/bench.db"
token="$("$bin" token create --db "$db" --role admin --name bench 2>/dev/null)"
"$bin" serve --db "$db" --port 0 >"$work/server.log" 2>&1 &
server=$!
base=""
for _ in $(seq 1 100); do
    base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 || true)"
    if [ -n "$base" ] && curl -sf "$base/health" >/dev/null; then break; fi
    sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

auth="Authorization: Bearer $token"
curl -sf -H "$auth" -H 'Content-Type: application/yaml' --data-binary @- "$base/api/workflows" >/dev/null <<'YAML'
name: three-steps
description: Three dependent tasks, as the load benchmark starts them.
inputs:
  type: object
  properties:
    n: { type: integer, default: 2 }
tasks:
  fetch:
    type: set
    with:
      value: ${ $inputs.n }
  double:
    type: transform
    needs: [fetch]
    with:
      input: ${ $tasks.fetch.output.value }
      expr: . * 2
  report:
    type: set
    needs: [double]
    with:
      result: ${ $tasks.double.output }
YAML
execution="$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{}' \
    "$base/api/workflows/three-steps/execute" | python3 -c 'import json,sys; print(json.load(sys.stdin)["execution_id"])')"
sleep 0.5

# One oha run: prints "REQ_PER_SEC P99_MS SUCCESS_RATE".
load() {
    oha --no-tui --output-format json -z "${seconds}s" -c "$c" -H "$auth" "$@" |
        python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r["summary"]
p99 = r["latencyPercentiles"]["p99"]
codes = r.get("statusCodeDistribution", {})
ok = sum(v for k, v in codes.items() if k.startswith("2"))
total = sum(codes.values()) or 1
print("%.0f %.2f %.4f" % (s["requestsPerSec"], p99 * 1000, ok / total))'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A rps p99 ok
measure() {
    local name="$1"
    shift
    local results=()
    for _ in $(seq 1 "$runs"); do results+=("$(load "$@")"); done
    rps[$name]="$(printf '%s\n' "${results[@]}" | awk '{print $1}' | median)"
    p99[$name]="$(printf '%s\n' "${results[@]}" | awk '{print $2}' | median)"
    ok[$name]="$(printf '%s\n' "${results[@]}" | awk '{print $3}' | sort -n | head -1)"
}

for c in $connections; do
    measure "health $c" "$base/health"
    measure "get $c" "$base/api/executions/$execution"
    measure "execute $c" -m POST -T application/json -d '{"inputs": {"n": 3}}' \
        "$base/api/workflows/three-steps/execute"
done

started="$(curl -sf -H "$auth" "$base/metrics" | awk '/^harmonia_executions_started_total/ {print $2}')"
echo
echo "API load: medians of $runs runs of ${seconds}s each (release build, SQLite, auth on);"
echo "ratio: the endpoint's req/s over the baseline's at the same concurrency"
printf '%-34s %6s %10s %9s %7s %8s\n' endpoint conns "req/s" "p99 ms" ratio "2xx"
for c in $connections; do
    for row in "GET /health (baseline):health" "GET /api/executions/{id}:get" "POST /api/workflows/{id}/execute:execute"; do
        label="${row%:*}"
        key="${row##*:} $c"
        ratio="$(awk -v a="${rps[$key]}" -v b="${rps[health $c]}" 'BEGIN {printf "%.2f", a / b}')"
        printf '%-34s %6s %10s %9s %7s %8s\n' "$label" "$c" "${rps[$key]}" "${p99[$key]}" "$ratio" "${ok[$key]}"
    done
done
echo "executions started in all: ${started:-?}"
