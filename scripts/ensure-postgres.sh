#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for user `postgres`, as the server
# tests need. Where one already runs (trust auth, as on our build machines) it does nothing.
# Otherwise it starts the installed cluster, or installs Debian's postgresql, creates a
# cluster, and gives user postgres the password "postgres" (DATABASE_URL carries it; trust
# ignores it).
set -euo pipefail

HOST=127.0.0.1
PORT=5432
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$HOST" -p "$PORT"
    else
        (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
    fi
}

wait_ready() {
    for _ in $(seq 1 60); do
        ready && return 0
        sleep 0.5
    done
    echo "PostgreSQL did not answer on $HOST:$PORT within 30 s" >&2
    return 1
}

if ready; then
    exit 0
fi

installed_now=no
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "installing PostgreSQL from Debian's packages"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
    installed_now=yes
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ ! -d "/etc/postgresql/$version/main" ]; then
    $SUDO pg_createcluster "$version" main
    installed_now=yes
fi

echo "starting PostgreSQL $version"
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
wait_ready

if [ "$installed_now" = yes ]; then
    $SUDO -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" ||
        su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
fi
