#!/usr/bin/env bash
# The assistant's repair loop over 20 fixed descriptions with the small test model
# (see scripts/bench-assist.py). Builds the release binary unless HARMONIA_BIN is set,
# and starts the model server unless HARMONIA_TEST_LLM_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${HARMONIA_BIN:-target/release/harmonia}"
[ -n "${HARMONIA_BIN:-}" ] || cargo build --release --locked -p harmonia-cli
if [ -z "${HARMONIA_TEST_LLM_URL:-}" ]; then
    HARMONIA_TEST_LLM_URL="$(bash scripts/llm-server.sh start | sed -n 's/^HARMONIA_TEST_LLM_URL=//p')"
    export HARMONIA_TEST_LLM_URL
fi
exec python3 scripts/bench-assist.py --bin "$bin" "$@"
