#!/bin/sh
# First start: make the cluster, the user (with its password) and the database; then run
# the server in the foreground, listening on every address (the compose network only).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    user="${POSTGRES_USER:-postgres}"
    database="${POSTGRES_DB:-$user}"
    password_file="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --username="$user" --pwfile="$password_file" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        pg_ctl --wait --silent --options="-c listen_addresses=''" start
        createdb --username="$user" "$database"
        pg_ctl --wait --silent stop
    fi
fi
exec postgres -c listen_addresses='*'
