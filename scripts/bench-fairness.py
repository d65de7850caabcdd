#!/usr/bin/env python3
"""Latency of a small execution beside heavy ones (no execution may hold the others).

Starts `harmonia serve` on a fresh SQLite file and measures the time of
`POST /api/workflows/small/execute` (two `set` tasks: the answer comes once the
execution has ended) in three situations, each as the median and the worst of many
requests:
  - alone (the baseline);
  - beside a fan-out of 20 items whose expressions each run to their 1 s deadline
    (CPU-bound: 20 s of work);
  - beside the execution of a 20,000-task workflow.
Ratios are against the baseline measured in the same run.

Usage: scripts/bench-fairness.py [--binary target/release/harmonia] [--samples 30]
"""

import argparse
import statistics
import sys
import threading
import time

from served import get, post, serve

SMALL = {
    "name": "small",
    "tasks": {
        "a": {"type": "set", "with": {"x": 1}},
        "b": {"type": "set", "needs": ["a"], "with": {"y": "${ $tasks.a.output.x + 1 }"}},
    },
    "outputs": {"y": "${ $tasks.b.output.y }"},
}
SLOW = {
    "name": "slow",
    "tasks": {
        "spin": {
            "type": "set",
            "for_each": "${ [range(20)] }",
            "with": {"n": "${ [repeat(1)] | length }"},
        }
    },
}
HUGE = {
    "name": "huge",
    "tasks": {f"t{i}": {"type": "set", "with": {"i": i}} for i in range(20000)},
}


def small(base):
    started = time.perf_counter()
    out = post(base, "/api/workflows/small/execute", {})
    if out["status"] != "succeeded":
        i = out["execution_id"]
        while get(base, f"/api/executions/{i}")["status"] not in ("succeeded", "failed"):
            time.sleep(0.001)
    return (time.perf_counter() - started) * 1000


def wait(base, i):
    while get(base, f"/api/executions/{i}")["status"] not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.05)


def beside(base, start, samples):
    """Small executions while `start()` runs (and what it started, until it ends)."""
    done = threading.Event()
    ids = []

    def heavy():
        ids.append(start())
        wait(base, ids[0])
        done.set()

    t = threading.Thread(target=heavy)
    t.start()
    time.sleep(0.05)
    times = []
    while not done.is_set() or len(times) < 3:
        times.append(small(base))
        if len(times) >= samples and done.is_set():
            break
        time.sleep(0.02)
    t.join()
    return times


def report(name, times, base_ms):
    med, worst = statistics.median(times), max(times)
    print(
        f"  {name:34} median {med:8.1f} ms ({med / base_ms:6.1f}x)   "
        f"worst {worst:8.1f} ms ({worst / base_ms:7.1f}x)   n={len(times)}"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default="target/release/harmonia")
    p.add_argument("--samples", type=int, default=30)
    a = p.parse_args()
    with serve(a.binary) as (base, _proc, _db):
        for wf in (SMALL, SLOW, HUGE):
            post(base, "/api/workflows", wf)
        for _ in range(5):
            small(base)
        alone = [small(base) for _ in range(a.samples)]
        base_ms = statistics.median(alone)
        print("latency of a small execution (execute until it ended)")
        report("alone", alone, base_ms)
        slow = beside(
            base, lambda: post(base, "/api/workflows/slow/execute", {})["execution_id"], a.samples
        )
        report("beside a CPU-bound fan-out", slow, base_ms)
        huge = beside(
            base, lambda: post(base, "/api/workflows/huge/execute", {})["execution_id"], a.samples
        )
        report("beside a 20,000-task execution", huge, base_ms)


if __name__ == "__main__":
    sys.exit(main())
