#!/usr/bin/env bash
# Firing accuracy of schedules: how late a fire's execution is committed after the time
# it was scheduled for (its `created_at` minus `$trigger.scheduled_at`), with WORKFLOWS
# workflows each firing every second for SECONDS_EACH seconds, on a release server on a
# fresh SQLite file. The baseline, measured over the same seconds on the same machine,
# is how late a plain process wakes from a sleep until each whole second (the floor any
# timer here has). Each figure is the median of RUNS runs.
#
# Usage: scripts/bench-schedules.sh   (RUNS=3 SECONDS_EACH=20 WORKFLOWS=10)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
seconds="${SECONDS_EACH:-20}"
workflows="${WORKFLOWS:-10}"

cargo build --release --locked -p harmonia-cli --bin harmonia
bin="${CARGO_TARGET_DIR:-target}/release/harmonia"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

for run in $(seq 1 "$runs"); do
    db="$work/bench-$run.db"
    "$bin" serve --db "$db" --port 0 >"$work/server-$run.log" 2>&1 &
    server=$!
    base=""
    for _ in $(seq 1 100); do
        base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server-$run.log" | head -1 || true)"
        if [ -n "$base" ] && curl -sf "$base/health" >/dev/null; then break; fi
        sleep 0.1
    done
    [ -n "$base" ] || { echo "the server did not start"; cat "$work/server-$run.log"; exit 1; }
    python3 - "$base" "$workflows" "$seconds" >>"$work/results.jsonl" <<'PY'
import json, sys, time, urllib.request
base, workflows, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

def call(method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(base + path, data=body, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")

for i in range(workflows):
    call("POST", "/api/workflows", (
        f"name: tick-{i}\n"
        "inputs: {type: object, properties: {at: {type: string}}}\n"
        "triggers:\n"
        "  - schedule: {cron: '* * * * * *', overlap: allow, inputs: {at: '${ $trigger.scheduled_at }'}}\n"
        "tasks:\n  a: {type: set, with: 1}\n").encode(), "application/yaml")
# The baseline: a plain process sleeping until each whole second.
baseline, end = [], time.time() + seconds
while time.time() < end:
    target = int(time.time()) + 1
    time.sleep(max(0.0, target - time.time()))
    baseline.append((time.time() - target) * 1000)
for i in range(workflows):
    call("POST", f"/api/triggers/tick-{i}.0/pause")
time.sleep(0.5)
late = []
for i in range(workflows):
    page = call("GET", f"/api/executions?workflow=tick-{i}&limit=500")
    for e in page["executions"]:
        d = call("GET", f"/api/executions/{e['id']}")
        at = d["inputs"]["at"]
        sched = time.mktime(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        created = d["created_at"]
        secs, frac = created.rstrip("Z").split(".") if "." in created else (created.rstrip("Z"), "0")
        c = time.mktime(time.strptime(secs, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + frac)
        late.append((c - sched) * 1000)

def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]

print(json.dumps({"fires": len(late), "expected": int(seconds) * workflows,
                  "p50": q(late, 0.5), "p99": q(late, 0.99), "max": max(late),
                  "base_p50": q(baseline, 0.5), "base_p99": q(baseline, 0.99)}))
PY
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
done

python3 - "$work/results.jsonl" "$runs" "$workflows" "$seconds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = lambda k: statistics.median(r[k] for r in rows)
print(f"medians of {sys.argv[2]} runs; {sys.argv[3]} schedules firing every second for {sys.argv[4]} s")
print(f"fires committed per run: {m('fires'):.0f} (about {m('expected'):.0f} scheduled)")
print(f"{'':<34}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
print(f"{'schedule fire -> committed run':<34}{m('p50'):>10.1f}{m('p99'):>10.1f}{m('max'):>10.1f}")
print(f"{'baseline: sleep until the second':<34}{m('base_p50'):>10.1f}{m('base_p99'):>10.1f}")
print(f"p99 over the baseline's p99: {m('p99') - m('base_p99'):.1f} ms")
PY
