#!/usr/bin/env bash
# The demo database (sandbox provider, demo data), served on http://127.0.0.1:$HTTP_PORT as
# admin / admin. A second run reuses the database and updates the add-on.
# DETACH=1 runs the server in the background (log: .cache/demo.log); `demo.sh stop` stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
PIDFILE="$CACHE/demo.pid"

if [ "${1:-}" = stop ]; then
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null && rm -f "$PIDFILE"
    exit 0
fi

place_demo_calls() {
    "$PY" -m odoo -d "$DB" --db-filter="^$DB\$" --http-port="$HTTP_PORT" --log-level=warn \
        > "$CACHE/demo-calls.log" 2>&1 &
    local server=$!
    for _ in $(seq 60); do
        curl -fso /dev/null "http://127.0.0.1:$HTTP_PORT/web/login" && break
        sleep 1
    done
    "$PY" "$ROOT/scripts/demo_calls.py" "$DB" "$HTTP_PORT" \
        || echo "[demo] the demo calls could not be placed (see $CACHE/demo-calls.log); the demo works without them" >&2
    kill "$server"
    wait "$server" 2>/dev/null || true
}

if db_exists "$DB"; then
    echo "[demo] updating builtin_telephony in $DB" >&2
    odoo -d "$DB" -u builtin_telephony --stop-after-init --log-level=warn
else
    echo "[demo] creating $DB with demo data" >&2
    # From scratch rather than from the test template: the demo wants the dependencies' demo
    # data too (leads and contacts to call).
    odoo -d "$DB" -i builtin_telephony,payment_demo --stop-after-init --log-level=warn
    # Webhooks are signed against the public URL: point it at this server, then place a few
    # calls through the sandbox's webhooks so that the demo has a call history.
    psql -Xqd "$DB" -c "UPDATE ir_config_parameter SET value = 'http://127.0.0.1:$HTTP_PORT' WHERE key = 'web.base.url'"
    place_demo_calls
fi

cmd=("$PY" -m odoo -d "$DB" --db-filter="^$DB\$" --http-port="$HTTP_PORT")
echo "[demo] serving $DB on http://127.0.0.1:$HTTP_PORT (login admin / admin)" >&2
if [ "${DETACH:-}" = 1 ]; then
    nohup "${cmd[@]}" > "$CACHE/demo.log" 2>&1 &
    echo $! > "$PIDFILE"
else
    exec "${cmd[@]}"
fi
