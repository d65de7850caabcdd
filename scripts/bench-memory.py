#!/usr/bin/env python3
"""Memory of large inputs: RSS and database growth of `harmonia serve`.

Starts `harmonia serve` on a fresh SQLite file, then executes a workflow with N
concurrent requests whose inputs are each SIZE MiB of JSON, and reports, as medians of
several rounds (each on a fresh server):
  - the peak RSS growth of the server over its idle RSS (VmHWM - idle VmRSS), also as a
    multiple of the total input size;
  - the growth of the database file per execution, as a multiple of the input size
    (its write-ahead log, which SQLite reuses and truncates after checkpoints, is
    reported apart: at most its size limit).
Two input shapes: one long string, and an array of small objects.

Usage: scripts/bench-memory.py [--binary target/release/harmonia] [--size 8] [--n 4]
       [--rounds 3]
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time

from served import get, post, serve

WORKFLOW = {
    "name": "big-inputs",
    "tasks": {
        "measure": {"type": "set", "with": {"n": "${ $inputs.data | length }"}},
        "again": {"type": "set", "needs": ["measure"], "with": {"n": "${ $tasks.measure.output.n }"}},
    },
    "outputs": {"n": "${ $tasks.again.output.n }"},
}


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def inputs(shape, size_mib):
    target = size_mib * 1024 * 1024
    if shape == "string":
        data = "x" * target
    else:
        item = {"id": 0, "name": "item-name", "tags": ["a", "b"], "v": 1.5}
        one = len(json.dumps(item)) + 2
        data = [dict(item, id=i) for i in range(target // one)]
    return json.dumps({"inputs": {"data": data}}).encode()


def file_mib(path):
    return os.path.getsize(path) / 2**20 if os.path.exists(path) else 0.0


def one_round(binary, shape, size_mib, n):
    with serve(binary, "--max-body-bytes", str(64 << 20)) as (base, proc, db):
        post(base, "/api/workflows", WORKFLOW)
        body = inputs(shape, size_mib)
        time.sleep(0.5)
        idle = status_kb(proc.pid, "VmRSS")
        db_before = file_mib(db)
        ids, errors = [], []

        def run():
            try:
                ids.append(post(base, "/api/workflows/big-inputs/execute", body)["execution_id"])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise SystemExit(f"execute failed: {errors[0]}")
        for i in ids:
            for _ in range(600):
                x = get(base, f"/api/executions/{i}")
                if x["status"] in ("succeeded", "failed", "cancelled"):
                    break
                time.sleep(0.1)
            if x["status"] != "succeeded":
                raise SystemExit(f"execution {i} ended {x['status']}: {x.get('error')}")
        time.sleep(0.5)
        peak = status_kb(proc.pid, "VmHWM")
        growth_mib = (peak - idle) / 1024
        db_growth = file_mib(db) - db_before
        wal = file_mib(db + "-wal")
        return growth_mib, db_growth / n, len(body) / (1024 * 1024), wal


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default="target/release/harmonia")
    p.add_argument("--size", type=int, default=8, help="MiB of JSON per input")
    p.add_argument("--n", type=int, default=4, help="concurrent executions")
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    print(f"{a.n} concurrent executions of {a.size} MiB inputs, median of {a.rounds} rounds")
    for shape in ("string", "objects"):
        rounds = [one_round(a.binary, shape, a.size, a.n) for _ in range(a.rounds)]
        rss = statistics.median(r[0] for r in rounds)
        db = statistics.median(r[1] for r in rounds)
        wal = statistics.median(r[3] for r in rounds)
        size = rounds[0][2]
        print(
            f"  {shape:8} input {size:5.1f} MiB: peak RSS growth {rss:7.1f} MiB "
            f"({rss / (size * a.n):4.1f}x the {a.n} inputs); "
            f"database file +{db:5.1f} MiB per execution ({db / size:3.1f}x its input), "
            f"WAL {wal:5.1f} MiB"
        )


if __name__ == "__main__":
    sys.exit(main())
