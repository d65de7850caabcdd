#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests (the store
# suite on PostgreSQL, the multi-node tests), each of which makes its own database
# and drops it. In order: a server that already answers is used as it is; an
# installed cluster that is down is started; with none installed, Debian's package is
# installed and its cluster started, and local connections as `postgres` are trusted
# (a test server on a test machine only). Prints the admin URL the tests use as
# HARMONIA_TEST_PG_URL.
set -euo pipefail

host=127.0.0.1
port=5432
url="postgres://postgres@$host:$port/postgres"

answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$host" -p "$port"
    else
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
    fi
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

start_cluster() {
    # The first cluster on the port (Debian's layout: `pg_lsclusters`).
    local line version name
    line="$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p {print; exit}')"
    [ -n "$line" ] || return 1
    version="$(echo "$line" | awk '{print $1}')"
    name="$(echo "$line" | awk '{print $2}')"
    echo "starting PostgreSQL $version/$name" >&2
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2 || true
}

trust_local() {
    local hba
    hba="$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n 1)"
    [ -n "$hba" ] || return 0
    if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
        as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload >&2 || true
    fi
}

wait_until_it_answers() {
    for _ in $(seq 1 60); do
        answers && return 0
        sleep 0.5
    done
    return 1
}

if ! answers; then
    if ! command -v pg_lsclusters >/dev/null 2>&1 || ! start_cluster || ! wait_until_it_answers; then
        echo "installing PostgreSQL" >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
        start_cluster || true
        wait_until_it_answers || true
        trust_local
    fi
fi
if ! wait_until_it_answers; then
    echo "error: no PostgreSQL server answers on $host:$port" >&2
    exit 1
fi
echo "HARMONIA_TEST_PG_URL=$url"
