#!/usr/bin/env bash
# Idempotent set-up shared by `make demo` and `make test`:
#   1. a Python virtualenv (.venv) that sees Odoo 18.0 and the add-on's pinned dependencies;
#   2. the npm dev tools (Prism and Twilio's OpenAPI spec) in ./node_modules;
#   3. a PostgreSQL server: the one the PG* variables point at if it answers, else a private
#      cluster under .cache/pg owned by an unprivileged OS user;
#   4. an Odoo configuration file, .cache/odoo.conf.
# Everything it creates lives in git-ignored folders of the project.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
VENV="$ROOT/.venv"
PYTHON_BIN=${PYTHON:-python3}
ODOO_GIT_URL=https://github.com/odoo/odoo.git
# Where a machine keeps an Odoo 18.0 source tree when Odoo is not pip-installable (see README).
ODOO_LOCAL=${ODOO_LOCAL:-/opt/odoo-18.0}
HTTP_PORT=${HTTP_PORT:-8069}
mkdir -p "$CACHE"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root_apt() {
    # Debian packages the Python wheels or the browser tests need; only when missing.
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing Debian packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
    else
        log "please install these Debian packages: ${missing[*]}"
    fi
}

# --- 1. Python -----------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    # --system-site-packages: an Odoo 18.0 already importable by this Python is reused as is.
    "$PYTHON_BIN" -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# cbor2 (an Odoo requirement) only builds with setuptools<81; PIP_CONSTRAINT reaches the
# isolated build environments too.
echo 'setuptools<81' > "$CACHE/build-constraints.txt"
export PIP_CONSTRAINT="$CACHE/build-constraints.txt"

# pip, quietly. The virtualenv sees the system Python's packages (for an Odoo installed there),
# so pip's resolver lists conflicts among system packages Odoo never imports (awscli, moto...) as
# "ERROR" lines although the install succeeded: keep them in a log and say so in one line. The
# warnings about find-links folders some machines' pip configuration lists are dropped.
pip_install() {
    local log="$CACHE/pip-conflicts.log"
    "$PY" -m pip install -q "$@" 2> >(grep -v "^WARNING: Location" \
        | awk -v logfile="$log" '
            /^ERROR: pip.s dependency resolver does not currently take into account/ { conflicts = 1; print > logfile; next }
            conflicts && / requires .*, but you have .* which is incompatible\.$/ { print > logfile; n++; next }
            { conflicts = 0; print > "/dev/stderr" }
            END { if (n) printf "[setup] pip noted %d version conflicts among the system Python'"'"'s own packages (not used by Odoo): see %s\n", n, logfile > "/dev/stderr" }')
}

odoo_version() { "$PY" -c 'import odoo.release as r; print("%s.%s" % r.version_info[:2])' 2>/dev/null || true; }

ODOO_SRC=""
if [ -n "${ODOO_SOURCE:-}" ]; then
    if [ -d "$ODOO_SOURCE" ]; then
        ODOO_SRC=$(cd "$ODOO_SOURCE" && pwd)
    else
        ODOO_SRC="$CACHE/odoo-src"
        [ -d "$ODOO_SRC/odoo" ] || git clone -q --depth 1 --branch 18.0 "$ODOO_SOURCE" "$ODOO_SRC"
    fi
elif [ "$(odoo_version)" != "18.0" ] && [ -f "$ODOO_LOCAL/odoo/release.py" ]; then
    # An Odoo 18.0 source tree unpacked on this machine (no registry serves Odoo here).
    ODOO_SRC="$ODOO_LOCAL"
elif [ "$(odoo_version)" != "18.0" ]; then
    ODOO_SRC="$CACHE/odoo-src"
    if [ ! -d "$ODOO_SRC/odoo" ]; then
        log "cloning Odoo 18.0 from $ODOO_GIT_URL"
        git clone -q --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_SRC"
    fi
fi

if [ -n "$ODOO_SRC" ]; then
    # Make this source tree the `odoo` the virtualenv imports, and install its requirements.
    site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    if [ "$(cat "$site/odoo-source.pth" 2>/dev/null)" != "$ODOO_SRC" ]; then
        as_root_apt libldap2-dev libsasl2-dev libpq-dev
        log "installing Odoo's requirements from $ODOO_SRC"
        pip_install -r "$ODOO_SRC/requirements.txt"
        echo "$ODOO_SRC" > "$site/odoo-source.pth"
    fi
fi
[ "$(odoo_version)" = "18.0" ] || { log "Odoo 18.0 is not importable; set ODOO_SOURCE"; exit 1; }

if ! cmp -s "$ROOT/requirements.txt" "$VENV/.requirements.txt"; then
    log "installing the add-on's Python dependencies"
    pip_install -r "$ROOT/requirements.txt"
    cp "$ROOT/requirements.txt" "$VENV/.requirements.txt"
fi

# Odoo's add-ons: a nightly/packaged tree keeps them all in odoo/addons; a git checkout keeps
# the applications in addons/.
ODOO_PKG=$("$PY" -c 'import odoo, os; print(os.path.dirname(odoo.__file__))')
ADDONS_PATH="$ODOO_PKG/addons"
if [ ! -d "$ODOO_PKG/addons/crm" ] && [ -d "$ODOO_PKG/../addons/crm" ]; then
    ADDONS_PATH="$(cd "$ODOO_PKG/../addons" && pwd),$ADDONS_PATH"
fi
ADDONS_PATH="$ROOT,$ADDONS_PATH"

# --- 2. npm dev tools ------------------------------------------------------------------------
if ! cmp -s "$ROOT/package-lock.json" "$ROOT/node_modules/.installed-package-lock.json"; then
    log "installing npm dev tools (Prism, Twilio's OpenAPI spec)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$ROOT/package-lock.json" "$ROOT/node_modules/.installed-package-lock.json"
fi

# --- 3. PostgreSQL ---------------------------------------------------------------------------
# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"
ensure_postgres

# --- 4. Odoo configuration -------------------------------------------------------------------
cat > "$CACHE/odoo.conf" <<EOF
[options]
addons_path = $ADDONS_PATH
data_dir = $CACHE/data
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = ${DB_PASSWORD:-False}
http_interface = 127.0.0.1
http_port = $HTTP_PORT
admin_passwd = admin
without_demo = False
EOF
cat > "$CACHE/env.sh" <<EOF
export PY="$PY"
export ODOO_RC="$CACHE/odoo.conf"
export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$DB_USER"
EOF
[ -n "${DB_PASSWORD:-}" ] && echo "export PGPASSWORD='$DB_PASSWORD'" >> "$CACHE/env.sh"
log "ready: Odoo $(odoo_version) ($ODOO_PKG), PostgreSQL on $DB_HOST:$DB_PORT as $DB_USER"
