# shellcheck shell=bash
# Sourced by the scripts that run Odoo once setup.sh has written .cache/env.sh.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
# shellcheck source=/dev/null
source "$CACHE/env.sh"

odoo() { "$PY" -m odoo "$@"; }

db_exists() { [ "$(psql -XAtqd postgres -c "select 1 from pg_database where datname = '$1'")" = 1 ]; }

drop_db() {
    db_exists "$1" || return 0
    psql -Xqd postgres -c "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$1'" >/dev/null
    dropdb "$1"
    rm -rf "$CACHE/data/filestore/$1"
}

# A database with the add-on's dependencies installed, reused as a template: installing crm,
# mail and payment takes minutes, the add-on itself seconds. Keyed on the dependency list and
# the Odoo version, so a change of either builds a new one.
base_template() {
    local deps="$1" key
    key=$(printf '%s %s' "$deps" "$("$PY" -c 'import odoo.release as r; print(r.serie, r.version)')" | md5sum | cut -c1-8)
    local name="telephony_base_$key"
    if ! db_exists "$name"; then
        echo "[db] building template $name with: $deps" >&2
        odoo -d "$name" -i "$deps" --without-demo=all --stop-after-init --log-level=warn \
            || { drop_db "$name"; return 1; }
    fi
    echo "$name"
}

# create_db NAME TEMPLATE: a new database copied from TEMPLATE, filestore included.
create_db() {
    drop_db "$1"
    createdb -T "$2" "$1"
    if [ -d "$CACHE/data/filestore/$2" ]; then
        mkdir -p "$CACHE/data/filestore"
        cp -r "$CACHE/data/filestore/$2" "$CACHE/data/filestore/$1"
    fi
}

# The modules the add-on depends on, read from its manifest, plus those the tests/demo use.
manifest_depends() {
    "$PY" -c "import ast; print(','.join(ast.literal_eval(open('$ROOT/builtin_telephony/__manifest__.py').read())['depends']))"
}
