#!/usr/bin/env bash
# The console's time to interactive on a full store: a release server on a fresh
# SQLite file, filled through the API with N executions (default 100,000; one in 50
# failed) and a 10,000-item fan-out, then Debian's chromium loads the executions list
# and the fan-out's page RUNS times each (default 5) and prints the medians, with the
# list's API call alone as the baseline.
# Usage: scripts/bench-ui.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"

# HARMONIA_BIN: a binary already built (default: build the release one).
if [ -z "${HARMONIA_BIN:-}" ]; then
    cargo build --release --locked -p harmonia-cli --bin harmonia
fi
bin="$(realpath "${HARMONIA_BIN:-${CARGO_TARGET_DIR:-target}/release/harmonia}")"
(cd ui && npm ci --no-audit --no-fund --loglevel=error)

work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

db="$work/bench.db"
token="$("$bin" token create --db "$db" --role admin --name bench 2>/dev/null | grep -o 'hm_[0-9a-f]*')"
"$bin" serve --db "$db" --port 0 >"$work/server.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
    url="$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | sed 's/listening on //' || true)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; exit 1; }

echo "filling $url with $n executions"
seeded="$(node ui/bench/seed.mjs "$url" "$token" "$n")"
echo "$seeded"
fanout="$(echo "$seeded" | sed 's/.*"fanout":"\([^"]*\)".*/\1/')"
echo "database: $(du -h "$db" | cut -f1)"

cd ui
HARMONIA_BENCH_URL="$url" HARMONIA_BENCH_TOKEN="$token" HARMONIA_BENCH_FANOUT="$fanout" HARMONIA_BENCH_N="$n" \
    npx playwright test -c playwright.bench.config.ts --reporter=line
