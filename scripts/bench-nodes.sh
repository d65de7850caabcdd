#!/usr/bin/env bash
# Scale-out benchmark (scripts/bench-nodes.py): executions of 3 http tasks per second
# with 1, 2 and 3 `harmonia serve` nodes on one PostgreSQL database, one node on
# SQLite alongside as the baseline, and takeover times after SIGKILL. A release build;
# PostgreSQL on 127.0.0.1:5432 (started or installed by scripts/postgres.sh).
#
# Usage: scripts/bench-nodes.sh   (RUNS=3 EXECUTIONS=300 CLIENTS=12 TAKEOVERS=5 LEASE=10s)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p harmonia-cli --bin harmonia
bash scripts/postgres.sh >/dev/null
exec python3 scripts/bench-nodes.py "${CARGO_TARGET_DIR:-target}/release/harmonia"
