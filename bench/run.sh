#!/usr/bin/env bash
# `make bench`: a fresh database with the add-on (no demo data), then every bench/bench_*.py
# against it, each printing its figures and its ratio to the reference measured in the same run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
cd "$ROOT"

BENCH_DB=${BENCH_DB:-telephony_bench}
export BENCH_DB
template=$(base_template "$(manifest_depends),payment_demo")
create_db "$BENCH_DB" "$template"
echo "[bench] installing builtin_telephony in $BENCH_DB" >&2
odoo -d "$BENCH_DB" -i builtin_telephony,payment_demo --without-demo=all --stop-after-init --log-level=warn

status=0
for script in bench/bench_*.py; do
    echo "== $script"
    "$PY" "$script" --db "$BENCH_DB" || status=1
done
exit $status
