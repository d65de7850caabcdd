#!/usr/bin/env bash
# The web console's tests: type check, unit tests (vitest), that the committed build
# in ui/dist is what the sources build to, and the end-to-end tests (Playwright
# driving Debian's chromium against a real `harmonia serve`).
# Usage: scripts/ui-test.sh [path/to/harmonia]   (default: target/debug/harmonia)
# Installs what it needs when missing: the npm packages (npm ci), and chromium from
# Debian's packages when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/harmonia}")"

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
    else
        echo "the web console's tests need Node.js 20 and npm: install them (apt-get install nodejs npm)" >&2
        exit 1
    fi
fi
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium (Debian's package) for the end-to-end tests"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    else
        echo "the end-to-end tests need chromium at $chromium: apt-get install chromium, or set CHROMIUM" >&2
        exit 1
    fi
fi

cd ui
npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit
npx vitest run

# The binary embeds ui/dist: it must be what these sources build to.
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
npx vite build --outDir "$fresh" --emptyOutDir --logLevel warn
if ! diff -r "$fresh" dist >/dev/null; then
    diff -r "$fresh" dist | head -20 >&2 || true
    echo "ui/dist is stale: run \`npm --prefix ui run build\` and commit ui/dist" >&2
    exit 1
fi
gz=$(cat dist/assets/*.js dist/assets/*.css | gzip -9 | wc -c)
echo "console bundle: $((gz / 1024)) KiB gzipped in all (limit 500 KiB)"
if [ "$gz" -gt $((500 * 1024)) ]; then
    echo "the console's bundle is over 500 KiB gzipped" >&2
    exit 1
fi

HARMONIA_BIN="$bin" CHROMIUM="$chromium" npx playwright test
