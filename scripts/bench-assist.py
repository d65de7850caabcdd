#!/usr/bin/env python3
"""The assistant's repair loop, measured: `harmonia assist new` on a fixed set of 20
descriptions against the test model (scripts/llm-server.sh), each with up to
--rounds drafts. Prints, per description, the verdict, the drafts taken and the
error count of each, and the time; then the success rate, the mean drafts of the
valid ones, and the median time per request. Each valid draft is checked again with
`harmonia validate` (the verdicts must agree).

Then the `llm` task's response cache: a `harmonia serve` with the model runs a
workflow whose `llm` task asks about one of three cities, 12 times (the cities in
turn), and the hit rate is read from /metrics (`harmonia_llm_requests_total`).

Usage: scripts/bench-assist.sh [--rounds N] [--bin PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

DESCRIPTIONS = [
    "Fetch http://127.0.0.1:9000/status with GET",
    "Call http://127.0.0.1:9000/users and keep the body",
    "Wait 5 seconds",
    "Send a POST to http://127.0.0.1:9000/alerts",
    "Fetch http://127.0.0.1:9000/orders, then keep only the body's items",
    "Set a greeting to hello",
    "Get the weather from http://127.0.0.1:9000/weather and then wait 10 seconds",
    "Delete http://127.0.0.1:9000/cache",
    "Fetch http://127.0.0.1:9000/a and http://127.0.0.1:9000/b",
    "Sleep 1 minute and then call http://127.0.0.1:9000/ping",
    "PUT http://127.0.0.1:9000/config",
    "Download http://127.0.0.1:9000/report.json and count its rows",
    "Check http://127.0.0.1:9000/health every time it runs",
    "Call http://127.0.0.1:9000/start, wait 30 seconds, call http://127.0.0.1:9000/stop",
    "Fetch the price from http://127.0.0.1:9000/price and keep the body's amount",
    "Output the value done",
    "Post an event to http://127.0.0.1:9000/events",
    "Get http://127.0.0.1:9000/version",
    "Fetch http://127.0.0.1:9000/list and take the first element of the body",
    "Wait 2 seconds then set the result to ok",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default="target/release/harmonia")
    ap.add_argument("--url", default=os.environ.get("HARMONIA_TEST_LLM_URL"))
    ap.add_argument("--only-cache", action="store_true", help="measure only the llm task's cache")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if not a.url:
        sys.exit("no model server: set HARMONIA_TEST_LLM_URL (scripts/llm-server.sh start)")
    env = dict(os.environ, HARMONIA_LLM_PROVIDER="openai", HARMONIA_LLM_BASE_URL=a.url, HARMONIA_LLM_MODEL="smollm2")
    env.pop("HARMONIA_DB", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, d in enumerate([] if a.only_cache else DESCRIPTIONS, 1):
            t = time.monotonic()
            out = subprocess.run([a.bin, "assist", "new", d, "--max-rounds", str(a.rounds), "-o", "json"],
                                 cwd=tmp, env=env, capture_output=True, text=True)
            took = time.monotonic() - t
            try:
                draft = json.loads(out.stdout)
            except json.JSONDecodeError:
                sys.exit(f"#{i}: not JSON (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
            agree = None
            if draft.get("yaml"):
                path = os.path.join(tmp, f"d{i}.yaml")
                with open(path, "w") as f:
                    f.write(draft["yaml"])
                v = subprocess.run([a.bin, "validate", path], capture_output=True, text=True)
                agree = (v.returncode == 0) == draft["valid"]
            rows.append((draft["valid"], draft["rounds"], draft.get("history", []), took, agree))
            print(f"{i:2}. {'valid  ' if draft['valid'] else 'INVALID'} drafts={draft['rounds']} "
                  f"errors/draft={draft.get('history')} {took:5.1f}s  {d}", flush=True)
    if rows:
        report(rows, a.rounds)
    counts = cache_hit_rate(a.bin, env)
    total = sum(counts.values())
    print()
    if total:
        print(f"llm task cache, 12 runs over 3 distinct prompts: requests {counts} -> "
              f"hit rate {100 * counts.get('cached', 0) / total:.0f}% (best possible 75%)")
    else:
        sys.exit(f"no llm requests counted: {counts}")


def report(rows, rounds):
    valid = [r for r in rows if r[0]]
    print()
    print(f"valid: {len(valid)}/{len(rows)} ({100 * len(valid) / len(rows):.0f}%) within {rounds} drafts")
    if valid:
        print(f"drafts taken by the valid ones: mean {statistics.mean(r[1] for r in valid):.2f}; "
              f"valid at the first draft: {sum(1 for r in valid if r[1] == 1)}, after repair: {sum(1 for r in valid if r[1] > 1)}")
    print(f"time per request: median {statistics.median(r[3] for r in rows):.1f}s, "
          f"max {max(r[3] for r in rows):.1f}s")
    print(f"verdict agrees with `harmonia validate`: {sum(1 for r in rows if r[4])}/{sum(1 for r in rows if r[4] is not None)}")
    if any(r[4] is False for r in rows):
        sys.exit("a draft's verdict disagrees with `harmonia validate`")


def cache_hit_rate(bin_path, env, runs=12):
    """Runs the llm workflow `runs` times on one server; the cached share of requests."""
    wf = """name: city-facts
inputs:
  type: object
  properties:
    city: {type: string}
tasks:
  fact:
    type: llm
    retry: {max_attempts: 3}
    with:
      prompt: "Name the country of ${ $inputs.city }."
      max_tokens: 30
      schema: {type: object, properties: {country: {type: string, maxLength: 30}}, required: [country]}
"""
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen([bin_path, "serve", "--port", "0", "--db", os.path.join(tmp, "h.db")],
                                  cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = None
            for line in server.stdout:
                if "listening on http://" in line:
                    url = line.split("listening on ")[1].split()[0]
                    break
            if not url:
                sys.exit("the server did not start")
            def call(method, path, body=None, ctype="application/json"):
                req = urllib.request.Request(url + path, method=method, data=body.encode() if body else None,
                                             headers={"Content-Type": ctype} if body else {})
                with urllib.request.urlopen(req, timeout=120) as r:
                    return r.read().decode()
            call("POST", "/api/workflows", wf, "application/yaml")
            cities = ["Oslo", "Lima", "Kyoto"]
            for i in range(runs):
                x = json.loads(call("POST", "/api/workflows/city-facts/execute",
                                    json.dumps({"inputs": {"city": cities[i % 3]}})))
                for _ in range(600):
                    st = json.loads(call("GET", f"/api/executions/{x['execution_id']}"))["status"]
                    if st in ("succeeded", "failed", "cancelled"):
                        break
                    time.sleep(0.1)
            counts = {}
            for line in call("GET", "/metrics").splitlines():
                if line.startswith("harmonia_llm_requests_total{"):
                    outcome = line.split('outcome="')[1].split('"')[0]
                    counts[outcome] = counts.get(outcome, 0) + float(line.split()[-1])
            return counts
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
