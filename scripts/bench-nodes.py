"""Scale-out benchmark: throughput of 1, 2 and 3 `harmonia serve` nodes on one
PostgreSQL database, with one node on SQLite measured in the same run as the baseline,
and the time the survivors take to take over a node killed with SIGKILL.

SQLite runs with its default durability (`process`: a commit survives the process
being killed) and with `fsync` (also a power loss), which is what PostgreSQL's default
`synchronous_commit = on` gives: the like-for-like baseline.

Throughput: EXECUTIONS executions of a workflow of 3 sequential `http` tasks (each a
POST to a local HTTP service on 127.0.0.1 that answers at once) are started by
CLIENTS client threads, spread over the nodes round-robin; the time is from the first
start request to the moment none is unfinished. Printed: executions per second and
tasks per second, the median of RUNS runs each, and the ratio to SQLite's median.

Takeover: three nodes with `--lease LEASE`; 30 executions that sleep are started on
node 1, which is then killed with SIGKILL; the time is from the kill to the moment the
killed node owns nothing (`GET /api/nodes?all=true` on a survivor, polled every 50 ms).
Printed: median and max over TAKEOVERS kills (a new node 1 each time).

Usage: python3 scripts/bench-nodes.py BINARY   (env: RUNS=3 EXECUTIONS=300 CLIENTS=12
       TAKEOVERS=5 LEASE=10s PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres)
"""

import http.server
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

RUNS = int(os.environ.get("RUNS", "3"))
EXECUTIONS = int(os.environ.get("EXECUTIONS", "300"))
CLIENTS = int(os.environ.get("CLIENTS", "12"))
TAKEOVERS = int(os.environ.get("TAKEOVERS", "5"))
LEASE = os.environ.get("LEASE", "10s")
PG_ADMIN = os.environ.get("PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")

WORKFLOW = """name: three-calls
inputs:
  type: object
  required: [url]
  properties: {url: {type: string}}
tasks:
  a:
    type: http
    with: {method: POST, url: "${ $inputs.url }", json: {key: "${ $execution.id }/a"}}
  b:
    type: http
    needs: [a]
    with: {method: POST, url: "${ $inputs.url }", json: {key: "${ $execution.id }/b"}}
  c:
    type: http
    needs: [b]
    with: {method: POST, url: "${ $inputs.url }", json: {key: "${ $execution.id }/c"}}
"""

SLEEPER = """name: sleeper
tasks:
  nap:
    type: sleep
    with: {duration: 10m}
"""


class Service(http.server.BaseHTTPRequestHandler):
    """Answers every POST at once with `{"ok": true}`."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Service)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/call"


def psql(sql, url=PG_ADMIN):
    subprocess.run(["psql", "-q", url, "-c", sql], check=True, capture_output=True)


class Database:
    """A fresh database: a SQLite file in a temporary directory, or a PostgreSQL
    database dropped afterwards."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "sqlite":
            self.dir = tempfile.mkdtemp()
            self.url = os.path.join(self.dir, "bench.db")
        else:
            self.name = "harmonia_bench_" + uuid.uuid4().hex[:12]
            psql(f"CREATE DATABASE {self.name}")
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.name

    def drop(self):
        if self.kind == "sqlite":
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Node:
    def __init__(self, binary, db, node_id, lease, extra=()):
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", "0", "--db", db, "--node-id", node_id,
             "--lease", lease, "--shutdown-grace", "1s", *extra],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("HARMONIA_")},
        )
        self.base = None
        for line in self.proc.stderr:
            if "listening on http://" in line:
                self.base = line.split("listening on ")[1].split(" ")[0]
                break
        if self.base is None:
            raise SystemExit(f"node {node_id} did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def call(method, url, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": content_type})
    for attempt in range(50):
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read() or b"null")
        except (urllib.error.URLError, ConnectionError):
            if attempt == 49:
                raise
            time.sleep(0.1)


def unfinished(base):
    page = call("GET", base + "/api/executions?status=pending,running,paused&limit=500")
    return len(page.get("executions") or page.get("items") or [])


def throughput(binary, kind, nodes_n, url):
    db = Database("sqlite" if kind.startswith("sqlite") else "postgres")
    extra = ("--durability", "fsync") if kind == "sqlite-fsync" else ()
    nodes = []
    try:
        for i in range(nodes_n):
            nodes.append(Node(binary, db.url, f"n{i + 1}", "10s", extra))
        call("POST", nodes[0].base + "/api/workflows", WORKFLOW.encode(), "application/yaml")
        started = time.monotonic()

        def start(i):
            base = nodes[i % nodes_n].base
            call("POST", base + "/api/workflows/three-calls/execute", {"inputs": {"url": url}})

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(start, range(EXECUTIONS)))
        while unfinished(nodes[0].base) > 0:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        done = call("GET", nodes[0].base + "/api/executions?status=succeeded&limit=500")
        ok = len(done.get("executions") or done.get("items") or [])
        if ok != EXECUTIONS:
            raise SystemExit(f"{kind} x{nodes_n}: {ok} of {EXECUTIONS} succeeded")
        return EXECUTIONS / elapsed
    finally:
        for n in nodes:
            n.stop()
        db.drop()


def takeover(binary):
    db = Database("postgres")
    nodes = []
    times = []
    try:
        for i in range(3):
            nodes.append(Node(binary, db.url, f"n{i + 1}", LEASE))
        call("POST", nodes[0].base + "/api/workflows", SLEEPER.encode(), "application/yaml")
        for k in range(TAKEOVERS):
            victim = nodes[0]
            for _ in range(30):
                call("POST", victim.base + "/api/workflows/sleeper/execute", {})
            survivor = nodes[1].base
            victim_id = f"n1-{k}" if k else "n1"
            victim.kill()
            killed = time.monotonic()
            while True:
                listed = call("GET", survivor + "/api/nodes?all=true")["nodes"]
                owned = sum(n["owned"] for n in listed if n["id"] == victim_id)
                if owned == 0:
                    break
                time.sleep(0.05)
            times.append(time.monotonic() - killed)
            nodes[0] = Node(binary, db.url, f"n1-{k + 1}", LEASE)
        return times
    finally:
        for n in nodes:
            n.stop()
        db.drop()


def main():
    binary = sys.argv[1]
    url = service()
    print(f"{EXECUTIONS} executions of 3 http tasks each, {CLIENTS} clients, "
          f"median of {RUNS} runs; {os.cpu_count()} CPUs on this machine run the nodes, "
          "PostgreSQL and the load alike")
    configs = [("sqlite", 1), ("sqlite-fsync", 1), ("postgres", 1), ("postgres", 2),
               ("postgres", 3)]
    results = {c: [] for c in configs}
    for run in range(RUNS):
        for c in configs:
            rate = throughput(binary, c[0], c[1], url)
            results[c].append(rate)
            print(f"  run {run + 1}: {c[0]} x{c[1]}: {rate:.1f} executions/s", flush=True)
    base = statistics.median(results[("sqlite", 1)])
    print(f"{'backend':<13} {'nodes':>5} {'executions/s':>13} {'tasks/s':>9} {'vs SQLite':>10}")
    for c in configs:
        m = statistics.median(results[c])
        print(f"{c[0]:<13} {c[1]:>5} {m:>13.1f} {3 * m:>9.1f} {m / base:>9.2f}x")
    times = takeover(binary)
    print(f"takeover after SIGKILL (lease {LEASE}, {len(times)} kills): "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
