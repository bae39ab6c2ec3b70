# shellcheck shell=bash
# PostgreSQL for development and tests. Sourced by setup.sh; defines ensure_postgres, which sets
# DB_HOST, DB_PORT, DB_USER (and DB_PASSWORD when the PG* variables give one).
#
# 1. If the server described by the usual PG* variables answers (and its role is not `postgres`,
#    which Odoo refuses), use it.
# 2. Otherwise run a private PostgreSQL cluster under .cache/pg: Unix socket in .cache/pg/run,
#    a free loopback port, owned by an unprivileged OS user (`postgres` when we are root).
#    Only this cluster is ever started or stopped by our scripts.

PG_DIR="$CACHE/pg"
PG_ROLE=odoo

pg_run_as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The postgres OS user must reach the cluster's folder, but a checkout may sit in a private
# folder (e.g. one made by `mktemp -d`, mode 0700). Let it through the folders on the way:
# traverse only (o+x), nothing becomes listable or readable.
allow_owner_to_reach() {
    local dir="$1"
    while [ "$dir" != / ]; do
        if ! runuser -u postgres -- test -x "$dir"; then
            echo "[setup] letting the postgres user traverse $dir (chmod o+x) to reach the cluster" >&2
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ensure_postgres() {
    local user=${PGUSER:-$(id -un)}
    if [ "$user" != postgres ] && [ "$user" != root ] \
        && psql -XAtqc 'select 1' -d "${PGDATABASE:-postgres}" >/dev/null 2>&1; then
        DB_HOST=${PGHOST:-/var/run/postgresql}; DB_PORT=${PGPORT:-5432}
        DB_USER=$user; DB_PASSWORD=${PGPASSWORD:-}
        return 0
    fi

    local data="$PG_DIR/data" run="$PG_DIR/run" port
    mkdir -p "$PG_DIR" "$run"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$PG_DIR" "$run"
        allow_owner_to_reach "$PG_DIR"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        echo "[setup] creating a private PostgreSQL cluster in $data" >&2
        pg_run_as_owner initdb -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! pg_run_as_owner pg_ctl -D "$data" status >/dev/null 2>&1; then
        port=$(cat "$PG_DIR/port" 2>/dev/null || true)
        if [ -z "$port" ] || ! "$PY" -c "import socket,sys; socket.socket().bind(('127.0.0.1', $port))" 2>/dev/null; then
            port=$(free_port)
        fi
        echo "$port" > "$PG_DIR/port"
        pg_run_as_owner pg_ctl -D "$data" -l "$PG_DIR/server.log" -w \
            -o "-k $run -p $port -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null
    fi
    port=$(cat "$PG_DIR/port")
    if ! psql -XAtq -h "$run" -p "$port" -U postgres -d postgres \
            -c "select 1 from pg_roles where rolname = '$PG_ROLE'" | grep -q 1; then
        psql -Xq -h "$run" -p "$port" -U postgres -d postgres -c "create role $PG_ROLE login superuser"
    fi
    DB_HOST=$run; DB_PORT=$port; DB_USER=$PG_ROLE; DB_PASSWORD=
}
