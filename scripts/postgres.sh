#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the test suite, under .run/pg (git-ignored).
#
#   scripts/postgres.sh start   install Debian's postgresql if needed, init and start the cluster
#                               (idempotent), create role "portal" and database "portal_test";
#                               prints the SQLAlchemy URL on stdout (everything else goes to stderr)
#   scripts/postgres.sh url     print the URL
#   scripts/postgres.sh stop    stop the cluster (the data stays until `make clean`)
#   scripts/postgres.sh status
#
# It listens on 127.0.0.1 only, port 55432 (PORTAL_PG_PORT to change; if that port is taken by
# something else, e.g. another checkout's cluster, the next free port is used and remembered),
# no Unix socket, and trusts loopback connections: it is for tests only, never for real data.
# Durability is switched off (fsync, synchronous_commit, full_page_writes) to make tests fast.
# As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd -P)"

ROLE=portal
DB=portal_test
BASE_PORT="${PORTAL_PG_PORT:-55432}"
PGROOT="$REPO/.run/pg"
say() { printf 'postgres: %s\n' "$*" >&2; }

find_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; fi
}

as_owner() {   # run a command as the cluster's OS user
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data directory. As root it must be reachable by the postgres user: when the checkout sits
# somewhere postgres cannot enter (e.g. under /root), the cluster lives in /tmp and .run/pg points
# there.
resolve_root() {
    if [ -L "$PGROOT" ]; then PGROOT="$(readlink -f "$PGROOT")"; return; fi
    [ -d "$PGROOT" ] && return
    mkdir -p "$REPO/.run"
    if [ "$(id -u)" -eq 0 ]; then
        mkdir -p "$PGROOT"
        chown postgres: "$PGROOT"
        if ! runuser -u postgres -- test -w "$PGROOT"; then
            rmdir "$PGROOT"
            local alt
            alt="/tmp/portal-pg-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
            mkdir -p "$alt"; chown postgres: "$alt"; chmod 700 "$alt"
            ln -s "$alt" "$REPO/.run/pg"
            PGROOT="$alt"
            say "cluster in $alt (the checkout is not reachable by the postgres user)"
        fi
    else
        mkdir -p "$PGROOT"
    fi
}

DATA() { echo "$PGROOT/data"; }

port_file() { echo "$PGROOT/port"; }
current_port() { cat "$(port_file)" 2>/dev/null || echo "$BASE_PORT"; }
url() { echo "postgresql+psycopg://$ROLE@127.0.0.1:$(current_port)/$DB"; }

port_free() {  # nothing accepts connections on 127.0.0.1:$1
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() {
    local bindir="$1"
    [ -f "$(DATA)/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$(DATA)" status >/dev/null 2>&1
}

psql_admin() {  # superuser session over TCP (trust); -X ignores any ~/.psqlrc
    local bindir="$1"; shift
    as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(current_port)" \
        -U postgres -d postgres "$@"
}

init_cluster() {
    local bindir="$1" ver
    ver="$(basename "$(dirname "$bindir")")"
    if [ -f "$(DATA)/PG_VERSION" ] && [ "$(cat "$(DATA)/PG_VERSION")" != "$ver" ]; then
        say "cluster made by PostgreSQL $(cat "$(DATA)/PG_VERSION"), binaries are $ver: recreating"
        rm -rf "$(DATA)"
    fi
    [ -f "$(DATA)/PG_VERSION" ] && return
    say "initialising a test cluster (PostgreSQL $ver) in $(DATA)"
    rm -rf "$(DATA)"
    as_owner mkdir -p "$(DATA)" "$PGROOT/log"
    as_owner "$bindir/initdb" -D "$(DATA)" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$PGROOT/initdb.log" 2>&1 \
        || { cat "$PGROOT/initdb.log" >&2; exit 1; }
    as_owner tee "$(DATA)/pg_hba.conf" >/dev/null <<'HBA'
# Test cluster: TCP from loopback only, no password. Nothing else may connect.
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  trust
HBA
    as_owner tee -a "$(DATA)/postgresql.conf" >/dev/null <<'CONF'

# --- scripts/postgres.sh: throw-away test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 64MB
log_min_messages = warning
CONF
}

start() {
    local bindir
    bindir="$(find_bindir)"
    if [ -z "$bindir" ]; then
        scripts/install-system-deps.sh postgres
        bindir="$(find_bindir)"
        [ -n "$bindir" ] || { say "PostgreSQL binaries not found after install"; exit 1; }
    fi
    resolve_root
    init_cluster "$bindir"

    if ! is_running "$bindir"; then
        local port="$BASE_PORT" tries=0
        while ! port_free "$port"; do
            port=$((port + 1)); tries=$((tries + 1))
            [ "$tries" -lt 50 ] || { say "no free port from $BASE_PORT"; exit 1; }
        done
        [ "$port" = "$BASE_PORT" ] || say "port $BASE_PORT is taken, using $port"
        echo "$port" > "$(port_file)"
        as_owner "$bindir/pg_ctl" -D "$(DATA)" -l "$PGROOT/log/postgres.log" -o "-p $port" \
            -w -t 60 start >/dev/null \
            || { tail -n 30 "$PGROOT/log/postgres.log" >&2; exit 1; }
        say "started on 127.0.0.1:$port"
    fi

    # Role and database, created once; the role may create databases for isolated test runs.
    if [ "$(psql_admin "$bindir" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
        psql_admin "$bindir" -c "CREATE ROLE $ROLE LOGIN CREATEDB"
    fi
    if [ "$(psql_admin "$bindir" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
        psql_admin "$bindir" -c "CREATE DATABASE $DB OWNER $ROLE"
    fi
    # Tests drop their databases WITH (FORCE), which must end any session in them, including an
    # autovacuum worker's (a superuser's): allow the role to, and keep autovacuum off in this
    # throw-away cluster so it does not wander into databases that live for a second.
    psql_admin "$bindir" -qc "GRANT pg_signal_backend TO $ROLE" >/dev/null
    if [ "$(psql_admin "$bindir" -tAc "SHOW autovacuum")" != off ]; then
        psql_admin "$bindir" -qc "ALTER SYSTEM SET autovacuum = off" >/dev/null
        psql_admin "$bindir" -qc "SELECT pg_reload_conf()" >/dev/null
    fi
    url
}

stop() {
    local bindir
    bindir="$(find_bindir)"
    [ -n "$bindir" ] || return 0
    [ -e "$PGROOT" ] || return 0
    resolve_root
    if is_running "$bindir"; then
        as_owner "$bindir/pg_ctl" -D "$(DATA)" -m fast -w stop >/dev/null
        say "stopped"
    fi
}

status() {
    local bindir
    bindir="$(find_bindir)"
    if [ -n "$bindir" ] && [ -e "$PGROOT" ] && { resolve_root; is_running "$bindir"; }; then
        echo "running: $(url)"
    else
        echo "not running"; return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) [ -e "$PGROOT" ] && resolve_root; url ;;
    status) status ;;
    *) echo "usage: $0 {start|stop|url|status}" >&2; exit 2 ;;
esac
