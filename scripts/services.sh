#!/usr/bin/env bash
# Start or stop the local servers the tests need, on loopback:
#   - an Elasticsearch-compatible server (PyPI noida-db, pinned in pyproject.toml)
#   - PostgreSQL and MariaDB (Debian packages), started by hand without systemd.
# Idempotent: a server already answering on its port is reused. Where each one listens
# is written to .services.env as shell-sourceable KEY=value lines.
#
#   scripts/services.sh up | down | status
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
ENV_FILE="$ROOT/.services.env"
LOCAL="$ROOT/.local"
# PostgreSQL and MariaDB run as their own system users, which may not be able to enter the
# checkout (CI clones under /root); their data lives under a world-traversable runtime dir.
RUNTIME="${SLUICE_SERVICES_DIR:-/tmp/sluice-services-$(id -u)}"

ES_PORT="${SLUICE_ES_PORT:-39200}"
PG_PORT="${SLUICE_PG_PORT:-35432}"
MYSQL_PORT="${SLUICE_MYSQL_PORT:-33306}"
DB_USER=sluice
DB_PASS=sluice
DB_NAME=sluice
TIMEOUT="${SLUICE_SERVICES_TIMEOUT:-60}"

APT_PACKAGES=(postgresql mariadb-server stunnel4 nginx-light gnome-keyring dbus
              librsvg2-bin openssl curl)

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Wait until "$@" succeeds, or fail after $TIMEOUT seconds naming the server and its log.
wait_for() {
    local name="$1" logfile="$2"; shift 2
    local deadline=$((SECONDS + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "$name did not become healthy within ${TIMEOUT}s; last lines of $logfile:"
            tail -n 20 "$logfile" >&2 || true
            exit 1
        fi
        sleep 0.3
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_debian_packages() {
    local missing=()
    local p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root; then
        die "missing Debian packages: ${missing[*]} — install them: sudo apt-get install ${missing[*]}"
    fi
    log "installing Debian packages: ${missing[*]}"
    # Packages must not start their own daemons (no systemd here; ports are ours to choose).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null >/dev/null
    rm -f /usr/sbin/policy-rc.d
}

pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
    echo "$d"
}

# Run a command as the PostgreSQL owner: the postgres user under root, else ourselves.
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---------------------------------------------------------------- Elasticsearch stand-in
es_up() {
    if curl -fsS "http://127.0.0.1:$ES_PORT/" 2>/dev/null | grep -q '"number"'; then
        log "Elasticsearch-compatible server already up on :$ES_PORT"; return 0
    fi
    port_open "$ES_PORT" && die "port $ES_PORT is taken by something that is not Elasticsearch; set SLUICE_ES_PORT"
    # Run the packaged binary itself (not the Python wrapper) so its pid is the server's.
    local bin
    bin=$("$VENV/bin/python" -c "from importlib.resources import files; print(files('noida_db') / 'noida-db')" 2>/dev/null) \
        || die "noida-db is not installed in $VENV — run 'make install' first"
    chmod +x "$bin"
    mkdir -p "$LOCAL/noida"
    log "starting noida-db (Elasticsearch 8.15 emulator) on 127.0.0.1:$ES_PORT"
    nohup "$bin" start --only elasticsearch --host 127.0.0.1 --elasticsearch-port "$ES_PORT" \
        --data-dir "$LOCAL/noida/data" </dev/null >"$LOCAL/noida/server.log" 2>&1 &
    echo $! > "$LOCAL/noida/pid"
    wait_for "Elasticsearch-compatible server" "$LOCAL/noida/server.log" \
        curl -fsS "http://127.0.0.1:$ES_PORT/_cluster/health"
}

es_down() {
    if [ -f "$LOCAL/noida/pid" ]; then
        kill "$(cat "$LOCAL/noida/pid")" 2>/dev/null || true
        rm -f "$LOCAL/noida/pid"
    fi
}

# ---------------------------------------------------------------- PostgreSQL
pg_ready() {
    PGPASSWORD="$DB_PASS" psql -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" \
        -tAc 'select 1' 2>/dev/null | grep -q 1
}

pg_up() {
    if pg_ready; then log "PostgreSQL already up on :$PG_PORT"; return 0; fi
    port_open "$PG_PORT" && die "port $PG_PORT is taken by another server; set SLUICE_PG_PORT"
    local bin data="$RUNTIME/pg"
    bin=$(pg_bin)
    mkdir -p "$RUNTIME"; chmod 755 "$RUNTIME"
    if is_root; then mkdir -p "$data" && chown postgres:postgres "$data"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initialising PostgreSQL cluster in $data"
        as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale \
            </dev/null >"$RUNTIME/pg-initdb.log" 2>&1 || { cat "$RUNTIME/pg-initdb.log" >&2; exit 1; }
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t "$TIMEOUT" \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $data -c fsync=off -c full_page_writes=off" \
        start </dev/null >/dev/null 2>&1 || { tail -n 20 "$data/server.log" >&2; exit 1; }
    local q=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
    "${q[@]}" -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
            CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASS';
        END IF; END \$\$;" </dev/null >/dev/null
    "${q[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" </dev/null | grep -q 1 \
        || "${q[@]}" -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" </dev/null >/dev/null
    # Password auth for everyone but the local superuser, so wrong-password tests are real.
    printf 'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\nlocal all all trust\n' \
        > "$RUNTIME/pg_hba.conf.new"
    if is_root; then chown postgres "$RUNTIME/pg_hba.conf.new"; fi
    as_pg cp "$RUNTIME/pg_hba.conf.new" "$data/pg_hba.conf"
    as_pg "$bin/pg_ctl" -D "$data" reload </dev/null >/dev/null 2>&1
    wait_for PostgreSQL "$data/server.log" pg_ready
}

pg_down() {
    local data="$RUNTIME/pg"
    [ -f "$data/postmaster.pid" ] || return 0
    as_pg "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop </dev/null >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- MariaDB
mysql_ready() {
    mariadb --protocol=tcp -h 127.0.0.1 -P "$MYSQL_PORT" -u "$DB_USER" -p"$DB_PASS" "$DB_NAME" \
        -Nse 'select 1' 2>/dev/null | grep -q 1
}

mysql_up() {
    if mysql_ready; then log "MariaDB already up on :$MYSQL_PORT"; return 0; fi
    port_open "$MYSQL_PORT" && die "port $MYSQL_PORT is taken by another server; set SLUICE_MYSQL_PORT"
    local data="$RUNTIME/mariadb" user_opt=() admin
    local sock="$data/mariadb.sock"
    mkdir -p "$RUNTIME"; chmod 755 "$RUNTIME"
    if is_root; then
        mkdir -p "$data" && chown mysql:mysql "$data"; user_opt=(--user=mysql); admin=root
    else
        mkdir -p "$data"; admin="$(id -un)"
    fi
    if [ ! -d "$data/mysql" ]; then
        log "initialising MariaDB in $data"
        mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$data" --skip-test-db \
            </dev/null >"$RUNTIME/mariadb-install.log" 2>&1 \
            || { cat "$RUNTIME/mariadb-install.log" >&2; exit 1; }
    fi
    log "starting MariaDB on 127.0.0.1:$MYSQL_PORT"
    nohup mariadbd --no-defaults "${user_opt[@]}" --datadir="$data" --port="$MYSQL_PORT" \
        --bind-address=127.0.0.1 --socket="$sock" --pid-file="$data/mariadb.pid" \
        --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --log-error="$data/mariadb.err" \
        </dev/null >"$RUNTIME/mariadb.out" 2>&1 &
    wait_for MariaDB "$data/mariadb.err" mariadb-admin --socket="$sock" -u "$admin" ping
    # Anonymous users shadow 'sluice'@'%' for local logins: drop them. Users may already exist.
    mariadb --socket="$sock" -u "$admin" </dev/null >/dev/null <<SQL
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    wait_for MariaDB "$data/mariadb.err" mysql_ready
}

mysql_down() {
    local pidfile="$RUNTIME/mariadb/mariadb.pid"
    [ -f "$pidfile" ] || return 0
    kill "$(cat "$pidfile")" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do [ -f "$pidfile" ] || break; sleep 0.2; done
}

write_env() {
    cat > "$ENV_FILE" <<ENV
SLUICE_ES_URL=http://127.0.0.1:$ES_PORT
SLUICE_PG_URL=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME
SLUICE_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MYSQL_PORT/$DB_NAME
ENV
    log "wrote $ENV_FILE"
}

case "${1:-up}" in
    up)
        ensure_debian_packages
        es_up; pg_up; mysql_up
        write_env ;;
    down)
        es_down; pg_down; mysql_down
        rm -f "$ENV_FILE"; log "stopped" ;;
    status)
        curl -fsS "http://127.0.0.1:$ES_PORT/" >/dev/null 2>&1 && echo "elasticsearch: up :$ES_PORT" || echo "elasticsearch: down"
        pg_ready && echo "postgresql: up :$PG_PORT" || echo "postgresql: down"
        mysql_ready && echo "mariadb: up :$MYSQL_PORT" || echo "mariadb: down" ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
