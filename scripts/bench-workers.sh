#!/usr/bin/env bash
# Throughput and latency of external workers, on a release server on a fresh SQLite
# file per round:
#   - a fan-out of N `worker` tasks on one queue, worked by WORKERS Python reference
#     workers answering an echo (examples/workers/worker.py used as a library, one
#     process and one polling loop each: the reference worker's own polling, heartbeat
#     and reporting code, with an echo handler that also notes each lease's
#     `enqueued_at` and `leased_at`): tasks/s from the first lease to the execution's
#     end, and from the execution's start to its end; the dispatch latency
#     (`leased_at - enqueued_at`) per task, p50/p99 (with N tasks ready at once and
#     WORKERS workers, most of it is the wait for a free worker: the backlog);
#   - the same workers on a fan-out of CHAIN items run one at a time (`concurrency: 1`),
#     so that every item becomes ready while the workers wait in a long poll: the
#     dispatch latency p50/p99 with idle workers (the cost of the hand-off itself);
#   - lease-expiry recovery: one `worker` task with `heartbeat_timeout: 1s` and a retry
#     (`initial_delay: 10ms`), leased by a poll that never heart-beats; the time from the
#     lease's expiry (`expires_at`, its `leased_at` + 1 s) to the retry being leased by
#     another poll that was already waiting (server timestamps, in ms; the expiry sweep
#     runs every 100 ms and the retry waits its 10 ms delay).
#   - the baseline, in each round: WORKERS Python processes making the two round trips
#     a task costs a worker (an empty queue's poll, a heartbeat answered 409) N times in
#     all, with no engine work behind them; the throughput is also given as a ratio to it.
# Each figure is the median of R rounds. The workers and the client are Python: on a
# small machine they may be what limits the throughput (the load is printed first).
#
# Usage: scripts/bench-workers.sh   (N=1000 R=3 WORKERS=4 CHAIN=200)
set -euo pipefail
cd "$(dirname "$0")/.."

tasks="${N:-1000}"
rounds="${R:-3}"
workers="${WORKERS:-4}"
chain="${CHAIN:-200}"

echo "load: $(uptime)"
cargo build --release --locked -p harmonia-cli --bin harmonia
bin="${CARGO_TARGET_DIR:-target}/release/harmonia"
echo "load after the build: $(uptime)"

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# One round against the server at argv[1]; `worker` as argv[1] is a bench worker.
cat >"$work/bench.py" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.error, urllib.request
from datetime import datetime

def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

if sys.argv[1] == "baseline":
    # The same two round trips a task costs a worker (a poll, then an answer), over the
    # same Python HTTP client, with no work behind them: an empty queue's poll
    # (`wait: 0`) and a heartbeat of an unknown lease (409).
    _, _, base, count = sys.argv
    def post(path, body):
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
        except urllib.error.HTTPError as e:
            e.read()
    for _ in range(int(count)):
        post("/api/workers/poll", {"worker_id": "b", "queues": ["baseline-empty"], "wait": 0})
        post("/api/workers/leases/ls_none/heartbeat", {})
    sys.exit(0)

if sys.argv[1] == "worker":
    # A reference worker (the library) with an echo handler that notes the lease's times.
    _, _, repo, base, queue, worker_id, out = sys.argv
    sys.path.insert(0, os.path.join(repo, "examples", "workers"))
    from worker import Worker
    seen = []
    def handle(lease):
        seen.append({"workflow": lease["workflow"], "item": lease.get("item"),
                     "attempt": lease["attempt"], "enqueued_at": lease["enqueued_at"],
                     "leased_at": lease["leased_at"]})
        return {"echo": lease.get("input"), "worker": worker_id}
    open(out + ".ready", "w").close()
    code = Worker(base, None, worker_id, [queue], handle, wait=1).run()
    with open(out, "w") as f:
        for s in seen:
            f.write(json.dumps(s) + "\n")
    sys.exit(code)

base, repo, work, tasks, workers, chain = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

def call(method, path, body=None, ctype="application/json", timeout=60):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")

def workflow(yaml):
    call("POST", "/api/workflows", yaml.encode(), "application/yaml")

def run(name):
    eid = call("POST", f"/api/workflows/{name}/execute", {"inputs": {}})["execution_id"]
    while True:
        x = call("GET", f"/api/executions/{eid}")
        if x["status"] in ("succeeded", "failed", "cancelled"):
            if x["status"] != "succeeded":
                sys.exit(f"{name}: the execution {x['status']}: {json.dumps(x)[:2000]}")
            return x
        time.sleep(0.01)

def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]

workflow(f"""name: fan
tasks:
  work:
    type: worker
    for_each: ${{ [range({tasks})] }}
    with: {{queue: bench, input: '${{ {{n: $item}} }}'}}
""")
workflow(f"""name: chain
tasks:
  work:
    type: worker
    for_each: ${{ [range({chain})] }}
    concurrency: 1
    with: {{queue: bench, input: '${{ {{n: $item}} }}'}}
""")
workflow("""name: expiry
tasks:
  work:
    type: worker
    retry: {max_attempts: 2, initial_delay: 10ms}
    with: {queue: bench-expiry, input: 1, heartbeat_timeout: 1s}
""")

procs = []
for i in range(workers):
    out = os.path.join(work, f"worker-{i}.jsonl")
    with open(out + ".log", "w") as log:  # the workers' own lines (SIGTERM...)
        procs.append((subprocess.Popen([sys.executable, __file__, "worker", repo, base, "bench", f"w{i}", out],
                                       stdout=subprocess.DEVNULL, stderr=log), out))
for _, out in procs:
    while not os.path.exists(out + ".ready"):
        time.sleep(0.01)
time.sleep(0.5)  # every worker is in its first long poll

fan = run("fan")
chained = run("chain")
for p, _ in procs:
    p.send_signal(signal.SIGTERM)
leases = []
for p, out in procs:
    if p.wait(timeout=30) != 0:
        sys.exit(f"a bench worker exited with {p.returncode}:\n" + open(out + ".log").read())
    leases += [json.loads(l) for l in open(out)]
    os.remove(out)
    os.remove(out + ".ready")
    os.remove(out + ".log")

by = {"fan": [], "chain": []}
for l in leases:
    by[l["workflow"]].append(l)
for name, want in (("fan", tasks), ("chain", chain)):
    if len(by[name]) != want:
        sys.exit(f"{name}: {len(by[name])} leases for {want} tasks")
first_lease = min(ts(l["leased_at"]) for l in by["fan"])
end = ts(fan["ended_at"])
start = ts(fan["started_at"] or fan["created_at"])
lat = lambda ls: [(ts(l["leased_at"]) - ts(l["enqueued_at"])) * 1000 for l in ls]
fan_lat, chain_lat = lat(by["fan"]), lat(by["chain"])

# Lease-expiry recovery: a poll takes attempt 1 and never heart-beats; another poll,
# already waiting, takes attempt 2 once the lease has expired.
eid = call("POST", "/api/workflows/expiry/execute", {"inputs": {}})["execution_id"]
silent = call("POST", "/api/workers/poll", {"worker_id": "silent", "queues": ["bench-expiry"], "max_tasks": 1, "wait": 10})["leases"]
if len(silent) != 1 or silent[0]["attempt"] != 1:
    sys.exit(f"expiry: the first poll got {silent}")
rescue = call("POST", "/api/workers/poll", {"worker_id": "rescuer", "queues": ["bench-expiry"], "max_tasks": 1, "wait": 10})["leases"]
if len(rescue) != 1 or rescue[0]["attempt"] != 2:
    sys.exit(f"expiry: the second poll got {rescue}")
recovery = (ts(rescue[0]["leased_at"]) - ts(silent[0]["expires_at"])) * 1000
call("POST", f"/api/workers/leases/{rescue[0]['lease_id']}/complete", {"output": 1})

# The baseline, in the same round: WORKERS processes making the two round trips of
# each of the N tasks, with nothing behind them.
t0 = time.monotonic()
base_procs = [subprocess.Popen([sys.executable, __file__, "baseline", base, str(tasks // workers)])
              for _ in range(workers)]
for p in base_procs:
    if p.wait(timeout=300) != 0:
        sys.exit("a baseline client failed")
baseline_tps = (tasks // workers) * workers / (time.monotonic() - t0)

print(json.dumps({
    "tasks": tasks,
    "baseline_tps": baseline_tps,
    "tps_lease": tasks / (end - first_lease),
    "tps_exec": tasks / (end - start),
    "seconds": end - start,
    "fan_p50": q(fan_lat, 0.5), "fan_p99": q(fan_lat, 0.99),
    "chain_p50": q(chain_lat, 0.5), "chain_p99": q(chain_lat, 0.99),
    "expiry_ms": recovery,
    "expiry_after_leased_ms": (ts(silent[0]["expires_at"]) - ts(silent[0]["leased_at"])) * 1000,
}))
PY

for round in $(seq 1 "$rounds"); do
    db="$work/bench-$round.db"
    "$bin" serve --db "$db" --port 0 >"$work/server-$round.log" 2>&1 &
    server=$!
    base=""
    for _ in $(seq 1 100); do
        base="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server-$round.log" | head -1 || true)"
        if [ -n "$base" ] && curl -sf "$base/health" >/dev/null; then break; fi
        sleep 0.1
    done
    [ -n "$base" ] || { echo "the server did not start"; cat "$work/server-$round.log"; exit 1; }
    python3 "$work/bench.py" "$base" "$PWD" "$work" "$tasks" "$workers" "$chain" >>"$work/results.jsonl"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
done

python3 - "$work/results.jsonl" "$rounds" "$tasks" "$workers" "$chain" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = lambda k: statistics.median(r[k] for r in rows)
print(f"medians of {sys.argv[2]} rounds; {sys.argv[3]} worker tasks, {sys.argv[4]} Python reference workers (echo)")
print(f"{'':<60}{'value':>12}")
print(f"{'tasks/s, first lease -> execution end':<60}{m('tps_lease'):>12.0f}")
print(f"{'baseline: the same 2 round trips per task, no work (tasks/s)':<60}{m('baseline_tps'):>12.0f}")
print(f"{'ratio to the baseline (first lease -> end)':<60}{statistics.median(r['tps_lease'] / r['baseline_tps'] for r in rows):>12.2f}")
print(f"{'tasks/s, execution start -> end':<60}{m('tps_exec'):>12.0f}")
print(f"{'fan-out of ' + sys.argv[3] + ', start -> end (s)':<60}{m('seconds'):>12.2f}")
print(f"{'':<60}{'p50 ms':>12}{'p99 ms':>10}")
print(f"{'dispatch ready -> leased, all ready at once':<60}{m('fan_p50'):>12.1f}{m('fan_p99'):>10.1f}")
print(f"{'dispatch ready -> leased, idle workers (' + sys.argv[5] + ', one at a time)':<60}{m('chain_p50'):>12.1f}{m('chain_p99'):>10.1f}")
per_round = ", ".join("%.0f" % r["expiry_ms"] for r in rows)
print(f"lease-expiry recovery, expiry -> retry leased: {m('expiry_ms'):.0f} ms "
      f"(per round: {per_round}; lease held {m('expiry_after_leased_ms'):.0f} ms without a heartbeat)")
PY
