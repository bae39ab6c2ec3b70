#!/usr/bin/env bash
# `make stop`: stops what `make demo` / `make test` started and left running: the detached demo
# server and the private PostgreSQL cluster under .cache/pg (a server of the PG* variables is
# never ours to stop). Databases and the filestore stay; the next `make demo` starts them again.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
PG_DATA="$CACHE/pg/data"

if [ -f "$CACHE/demo.pid" ]; then
    kill "$(cat "$CACHE/demo.pid")" 2>/dev/null && echo "[stop] demo server stopped" >&2 || true
    rm -f "$CACHE/demo.pid"
fi
if [ -f "$PG_DATA/PG_VERSION" ]; then
    run() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
    if run pg_ctl -D "$PG_DATA" status >/dev/null 2>&1; then
        run pg_ctl -D "$PG_DATA" -m fast -w stop >/dev/null
        echo "[stop] private PostgreSQL cluster ($PG_DATA) stopped" >&2
    fi
fi
