#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the test suite.
#   .ci/pg.sh start        prints the cluster's directory; its URL is in DIR/url
#   .ci/pg.sh stop DIR     stops the cluster and removes DIR
# Password authentication only (scram-sha-256, a generated password, no trust), a free port,
# the socket inside DIR. PostgreSQL refuses to run as root, so as root the cluster belongs to
# the `postgres` user that Debian's package creates.
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: $PG_BIN/initdb not found; install postgresql-15" >&2; exit 1; }
    local dir port password
    dir=$(mktemp -d "${TMPDIR:-/tmp}/bel-pg.XXXXXX")
    chmod 755 "$dir"
    password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" > "$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U bel --pwfile="$dir/pwfile" --auth=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm "$dir/pwfile"
    # Ask the kernel for a free loopback port.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # A test database only: durability is not needed, speed is.
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    printf 'postgresql+psycopg://bel:%s@127.0.0.1:%s/postgres\n' "$password" "$port" > "$dir/url"
    chmod 600 "$dir/url"
    echo "$dir"
}

stop() {
    local dir=${1:?usage: pg.sh stop DIR}
    [ -d "$dir/data" ] && as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
