#!/usr/bin/env bash
# The whole test suite on a fresh database: the add-on is installed from scratch on a copy of a
# template holding its dependencies, then pytest (with pytest-odoo) runs every test, tours
# included, against it. Extra arguments go to pytest (e.g. a test file or -k).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

template=$(base_template "$(manifest_depends),payment_demo")
create_db "$TEST_DB" "$template"
echo "[test] installing builtin_telephony in $TEST_DB" >&2
odoo -d "$TEST_DB" -i builtin_telephony,payment_demo --without-demo=all --stop-after-init --log-level=warn

# A copy of the freshly installed database for the uninstall test (a database cannot be copied
# while the test run is connected to it).
create_db "${TEST_DB}_uninstall" "$TEST_DB"
export TELEPHONY_UNINSTALL_DB="${TEST_DB}_uninstall"

# Chromium for the tours (HttpCase.start_tour); Odoo finds it on PATH.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

exec "$PY" -m pytest -p no:cacheprovider --odoo-database="$TEST_DB" --odoo-http \
    --odoo-log-level=warn "${@:-builtin_telephony/tests}"
