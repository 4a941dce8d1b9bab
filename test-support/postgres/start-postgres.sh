#!/bin/sh
# First start: a cluster with scram-sha-256 for every TCP client and the role and database asked
# for. Then postgres on all addresses (the container's network only), with the arguments given
# (e.g. `-c fsync=off` where durability does not matter), supervised: while /tmp/down exists it
# is not restarted, so a test takes the server down (`touch /tmp/down; pg_ctl stop`) and brings
# it back (`rm /tmp/down`) with the container, its address and its name kept.
set -eu
# POSTGRES_PASSWORD_FILE (a swarm or compose secret), as the official image reads it.
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE"); fi
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --username=postgres --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl --wait --silent --options="-c listen_addresses=''" start
  psql --quiet --username=postgres --set=ON_ERROR_STOP=1 --set=user="$POSTGRES_USER" --set=password="$POSTGRES_PASSWORD" --set=db="$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password') WHERE :'user' <> 'postgres' \gexec
SELECT format('ALTER ROLE postgres PASSWORD %L', :'password') WHERE :'user' = 'postgres' \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE :'db' <> 'postgres' \gexec
SQL
  pg_ctl --wait --silent stop
fi
pid=""
trap 'touch /tmp/down; [ -z "$pid" ] || { kill -INT "$pid"; wait "$pid"; }; exit 0' INT TERM
while :; do
  if [ -e /tmp/down ]; then sleep 0.2; continue; fi
  postgres -c listen_addresses='*' "$@" &
  pid=$!
  wait "$pid" || true
  pid=""
done
