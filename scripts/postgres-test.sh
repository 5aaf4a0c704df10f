#!/usr/bin/env bash
# The stats collector's store tests against a real PostgreSQL server (cli/tests/collector.rs,
# module on_postgres): a throw-away cluster in a temporary folder, on a free loopback port with
# its socket in that folder, trust authentication on loopback only; stopped and removed on exit.
#
# Needs, and installs when missing (or fails naming it): Debian's `postgresql` (initdb, pg_ctl
# under /usr/lib/postgresql/<major>/bin). PostgreSQL refuses to run as root: as root the cluster
# belongs to the `postgres` user the package creates (runuser), otherwise to the caller.
#
# Usage: scripts/postgres-test.sh            (all PostgreSQL tests)
#        scripts/postgres-test.sh deletion   (those whose name contains it)
#        KEEP_WORK=1 scripts/postgres-test.sh (keep the cluster folder and its log)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
die() { echo "postgres-test: FAILED: $*" >&2; exit 1; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN=$(pg_bin)
if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
    command -v apt-get >/dev/null || die "initdb is missing and apt-get is not there to install postgresql"
    echo "installing PostgreSQL: apt-get install -y postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
        || die "apt-get install postgresql failed"
    BIN=$(pg_bin)
fi
[[ -n "$BIN" && -x "$BIN/initdb" && -x "$BIN/pg_ctl" ]] \
    || die "initdb or pg_ctl missing under /usr/lib/postgresql/*/bin after apt-get install postgresql"

AS=()
OWNER=$(id -un)
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to run the server as (the postgresql package creates it)"
    AS=(runuser -u postgres --)
    OWNER=postgres
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/liveship-postgres.XXXXXX")
DATA="$WORK/data"
started=0
cleanup() {
    if [[ $started == 1 ]]; then
        "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "cluster folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
chown "$OWNER" "$WORK"
chmod 700 "$WORK"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== PostgreSQL $("$BIN/postgres" --version | grep -o '[0-9][0-9.]*' | head -n 1): cluster in $WORK, port $PORT"
"${AS[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; die "initdb"; }
"${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 30 \
    -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$WORK/server.log" >&2; die "pg_ctl start"; }
started=1

echo "== collector tests on PostgreSQL"
# --workspace, as scripts/test.sh builds: the same features, so the build is reused, not redone.
LIVESHIP_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PORT/postgres" \
    cargo test --workspace --test collector -- --ignored --skip ingest_rate "${1:-on_postgres::}" \
    || { tail -n 30 "$WORK/server.log" >&2; die "collector tests on PostgreSQL"; }
