#!/usr/bin/env python3
"""Load client for scripts/bench-events.sh: keeps CONNECTIONS HTTP/1.1 connections
busy for SECONDS, each request a new event (a unique id), and prints one JSON line:
{"kind", "requests", "seconds", "rps", "p50_ms", "p99_ms", "errors"}.

Usage: bench-events.py BASE TOKEN KIND CONNECTIONS SECONDS
KIND: health (GET /health, the baseline), intake (an event no trigger or wait takes),
      trigger (an event whose trigger starts a 3-task workflow), hook (a GitHub-signed
      webhook delivery, a new delivery id each, that starts the same workflow; the
      secret is HOOK_SECRET from the environment).
"""
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
import uuid
from urllib.parse import urlparse

base, token, kind, connections, seconds = sys.argv[1:6]
connections, seconds = int(connections), float(seconds)
url = urlparse(base)
latencies, errors, lock = [], [0], threading.Lock()
deadline = time.perf_counter() + seconds


def worker():
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    mine, bad = [], 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.perf_counter() < deadline:
        if kind == "health":
            method, path, body = "GET", "/health", None
        elif kind == "hook":
            body = json.dumps({"repository": {"full_name": "bench/repo"}, "n": 3})
            signature = hmac.new(os.environ["HOOK_SECRET"].encode(), body.encode(), hashlib.sha256).hexdigest()
            method, path = "POST", "/hooks/bench-push"
            headers = {"Content-Type": "application/json", "X-GitHub-Delivery": uuid.uuid4().hex,
                       "X-Hub-Signature-256": "sha256=" + signature}
        else:
            ty = "bench.ignored" if kind == "intake" else "bench.order"
            body = json.dumps({"specversion": "1.0", "id": uuid.uuid4().hex,
                               "source": "bench", "type": ty, "data": {"n": 3}})
            method, path = "POST", "/api/events"
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            ok = r.status in (200, 202)
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        mine.append(time.perf_counter() - t0)
        bad += 0 if ok else 1
    with lock:
        latencies.extend(mine)
        errors[0] += bad


start = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(connections)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
print(json.dumps({"kind": kind, "requests": len(latencies), "seconds": round(elapsed, 2),
                  "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(0.50), 2),
                  "p99_ms": round(pct(0.99), 2), "errors": errors[0]}))
