#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, every test.
# Installs what the tests need when it is missing (cargo-nextest; Schemathesis, and
# the Python MCP SDK that the /mcp client tests drive, in virtualenvs under target/;
# the console's npm packages, and chromium for its end-to-end tests; the small
# language model and its server, started once for the assistant's tests; a
# PostgreSQL server on 127.0.0.1:5432 for the PostgreSQL and multi-node tests,
# started or installed when it is not up).
# The test runner's summary is the last thing it prints.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# A full disk fails the build deep inside some crate's build script, with a message
# that does not say so; say it first.
avail_kb="$(df -Pk . 2>/dev/null | awk 'NR==2 {print $4}')"
if [[ "$avail_kb" =~ ^[0-9]+$ ]] && (( avail_kb < 8 * 1024 * 1024 )); then
    echo "warning: only $((avail_kb / 1024)) MiB free here; the build and the tests need about 8 GiB" >&2
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "doc tests"
cargo test --workspace --locked --doc

step "API fuzzing: Schemathesis against /openapi.json (scripts/api-fuzz.sh)"
cargo build --workspace --locked --bins
target="${CARGO_TARGET_DIR:-target}"
if bash scripts/api-fuzz.sh "$target/debug/harmonia" >"$target/api-fuzz.log" 2>&1; then
    grep -E "generated|passed|warning|in [0-9.]+s =" "$target/api-fuzz.log" || true
else
    cat "$target/api-fuzz.log"
    echo "API fuzzing failed (full output above, also in $target/api-fuzz.log)"
    exit 1
fi

step "web console: types, unit tests, build freshness, end-to-end (scripts/ui-test.sh)"
bash scripts/ui-test.sh "$target/debug/harmonia"

# The real MCP client of crates/cli/tests/cli/mcp_client.rs (which fails under CI
# without it): PyPI's `mcp` 2.x in target/mcp-venv, made once.
mcp_venv=target/mcp-venv
if ! "$mcp_venv/bin/python" -c 'import mcp' >/dev/null 2>&1; then
    step "installing the Python MCP SDK into $mcp_venv"
    python3 -m venv "$mcp_venv"
    "$mcp_venv/bin/pip" install --quiet --disable-pip-version-check 'mcp==2.3.0'
fi

# One model server for the whole run (scripts/llm-server.sh: SmolLM2-135M behind an
# OpenAI-compatible endpoint on 127.0.0.1), stopped when the run ends.
step "starting the test language model (scripts/llm-server.sh)"
export HARMONIA_LLM_STATE="$target/llm-server.env"
llm_out="$(bash scripts/llm-server.sh start)"
echo "$llm_out" | tail -n 2
HARMONIA_TEST_LLM_URL="$(echo "$llm_out" | sed -n 's/^HARMONIA_TEST_LLM_URL=//p')"
export HARMONIA_TEST_LLM_URL
trap 'bash scripts/llm-server.sh stop >/dev/null 2>&1 || true' EXIT

# PostgreSQL on 127.0.0.1:5432 (scripts/postgres.sh): each test makes and drops its
# own database on it.
step "PostgreSQL for the store suite and the multi-node tests (scripts/postgres.sh)"
pg_out="$(bash scripts/postgres.sh)"
HARMONIA_TEST_PG_URL="$(echo "$pg_out" | sed -n 's/^HARMONIA_TEST_PG_URL=//p')"
export HARMONIA_TEST_PG_URL
echo "PostgreSQL answers: $HARMONIA_TEST_PG_URL"

if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install --locked cargo-nextest || true
fi

if cargo nextest --version >/dev/null 2>&1; then
    step "cargo nextest run"
    cargo nextest run --workspace --locked --profile ci
else
    step "cargo test (cargo-nextest is not available)"
    cargo test --workspace --locked --lib --bins --tests
fi
