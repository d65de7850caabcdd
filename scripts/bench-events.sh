#!/usr/bin/env bash
# Load benchmark of event and webhook intake: requests per second and p50/p99 latency of
#   - POST /api/events, an event nothing takes (checked, stored once, routed to nobody)
#   - POST /api/events, an event whose trigger starts a 3-task workflow
#   - POST /hooks/bench-push, a GitHub-signed delivery (verified, deduplicated by its
#     delivery id) that starts the same workflow
# and, as the baseline measured in the same run with the same client, GET /health.
# A release server on a fresh SQLite file, auth on; the client (bench-events.py) keeps
# CONNECTIONS connections busy, every event with a new id. Each figure is the median
# of RUNS runs; the ratio column is the median req/s over the baseline's. The client is
# Python: on a small machine it may be what limits the baseline (the ratio says so).
#
# Usage: scripts/bench-events.sh   (RUNS=3 SECONDS_EACH=5 CONNECTIONS=8)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
seconds="${SECONDS_EACH:-5}"
connections="${CONNECTIONS:-8}"

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
export HOOK_SECRET="bench-secret"
HARMONIA_SECRET_BENCH_HOOK="$HOOK_SECRET" "$bin" serve --db "$db" --port 0 >"$work/server.log" 2>&1 &
server=$!
base=""
for _ in $(seq 1 100); do
    base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 || true)"
    if [ -n "$base" ] && curl -sf "$base/health" >/dev/null; then break; fi
    sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }

curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/yaml' \
    --data-binary @- "$base/api/workflows" >/dev/null <<'YAML'
name: bench-order
inputs: {type: object, properties: {n: {type: integer}}}
triggers:
  - event: {type: bench.order, filter: "${ $event.data.n > 0 }", inputs: {n: "${ $event.data.n }"}}
  - webhook:
      name: bench-push
      verify: {preset: github, secret: "${ $secrets.BENCH_HOOK }"}
      dedup: ${ $request.headers["x-github-delivery"] }
      inputs: {n: "${ $request.body.n }"}
tasks:
  a: {type: set, with: "${ $inputs.n }"}
  b: {type: set, needs: [a], with: "${ $tasks.a.output + 1 }"}
  c: {type: set, needs: [b], with: "${ $tasks.b.output + 1 }"}
YAML

for run in $(seq 1 "$runs"); do
    for kind in health intake trigger hook; do
        python3 scripts/bench-events.py "$base" "$token" "$kind" "$connections" "$seconds" >>"$work/results.jsonl"
    done
done

python3 - "$work/results.jsonl" "$runs" "$connections" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["kind"], []).append(r)
base = statistics.median(r["rps"] for r in by["health"])
print(f"medians of {sys.argv[2]} runs, {sys.argv[3]} connections")
print(f"{'endpoint':<44}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'ratio':>8}")
names = {"health": "GET /health (baseline)", "intake": "POST /api/events (stored, nobody takes it)",
         "trigger": "POST /api/events (starts a 3-task workflow)",
         "hook": "POST /hooks (GitHub-signed, starts it)"}
for kind in ("health", "intake", "trigger", "hook"):
    rs = by[kind]
    rps = statistics.median(r["rps"] for r in rs)
    print(f"{names[kind]:<44}{rps:>10.0f}{statistics.median(r['p50_ms'] for r in rs):>10.2f}"
          f"{statistics.median(r['p99_ms'] for r in rs):>10.2f}{sum(r['errors'] for r in rs):>8}{rps / base:>8.2f}")
PY
curl -sf -H "Authorization: Bearer $token" "$base/api/executions?workflow=bench-order&limit=1" >/dev/null
