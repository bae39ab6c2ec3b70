#!/usr/bin/env bash
# Regenerate the translation template i18n/builtin_telephony.pot from the code, as Odoo exports
# it (installed in a scratch database, then `--i18n-export`), and merge it into every i18n/*.po
# (scripts/i18n_merge.py). Translate the terms it reports as untranslated, then run
# tests/test_translations.py.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

db="${I18N_DB:-telephony_i18n}"
template=$(base_template "$(manifest_depends),payment_demo")
create_db "$db" "$template"
trap 'drop_db "$db"' EXIT
echo "[i18n] installing builtin_telephony in $db" >&2
odoo -d "$db" -i builtin_telephony --without-demo=all --stop-after-init --log-level=warn
odoo -d "$db" --i18n-export=builtin_telephony/i18n/builtin_telephony.pot \
    --modules=builtin_telephony --log-level=warn
"$PY" scripts/i18n_merge.py
