#!/usr/bin/env bash
# Start (or stop) the services the tests and the demo need, on loopback only:
#   - Docker Engine (dockerd), when it is not already answering
#   - a private PostgreSQL cluster "${SHIPRAIL_PG_CLUSTER:-shiprail}" on 127.0.0.1:${SHIPRAIL_PG_PORT:-55432}
# Writes .cache/services.env with SHIPRAIL_TEST_POSTGRES_URL for `make test`.
#
#   scripts/services.sh start | docker | stop | status
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache"
pg_port=${SHIPRAIL_PG_PORT:-55432}
pg_cluster=${SHIPRAIL_PG_CLUSTER:-shiprail}
mkdir -p "$cache"

say() { printf 'services: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

pg_version() {
  local v
  v=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -1)
  [ -n "$v" ] || die "PostgreSQL is not installed (scripts/install-tools.sh postgresql)"
  printf '%s' "$v"
}

start_docker() {
  if docker info >/dev/null 2>&1; then say "docker: already running"; return; fi
  command -v dockerd >/dev/null || die "dockerd is not installed (scripts/install-tools.sh docker.io)"
  say "docker: starting dockerd (log: .cache/dockerd.log)"
  setsid dockerd >"$cache/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && { say "docker: ready"; return; }; sleep 1; done
  tail -20 "$cache/dockerd.log" >&2
  die "dockerd did not become ready within 60 s"
}

start_postgres() {
  local version password_file password
  version=$(pg_version)
  # The cluster serves the whole machine, so its password lives with the cluster (root-only),
  # not in one checkout: every checkout that starts it gets the same password, and starting
  # it from a second checkout never locks out the first.
  password_file=${SHIPRAIL_PG_PASSWORD_FILE:-/etc/postgresql/$version/$pg_cluster/shiprail.password}
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$pg_cluster"; then
    say "postgres: creating cluster $version/$pg_cluster on port $pg_port"
    pg_createcluster "$version" "$pg_cluster" -p "$pg_port" >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v c="$pg_cluster" '$2==c {print $4}' | grep -qx online; then
    say "postgres: starting cluster $version/$pg_cluster"
    pg_ctlcluster "$version" "$pg_cluster" start
  else
    say "postgres: already running"
  fi
  if [ ! -s "$password_file" ] && [ -s "$cache/postgres.password" ]; then
    (umask 077; cp "$cache/postgres.password" "$password_file")   # keep an earlier checkout's
  fi
  [ -s "$password_file" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$password_file")
  password=$(cat "$password_file")
  runuser -u postgres -- psql -q -p "$pg_port" -v ON_ERROR_STOP=1 -v pw="$password" <<'SQL' >/dev/null
SELECT 'CREATE ROLE shiprail LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shiprail')\gexec
ALTER ROLE shiprail WITH LOGIN CREATEDB PASSWORD :'pw';
SELECT 'CREATE DATABASE shiprail_test OWNER shiprail' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'shiprail_test')\gexec
SQL
  (umask 077; printf 'SHIPRAIL_TEST_POSTGRES_URL=postgresql://shiprail:%s@127.0.0.1:%s/shiprail_test\n' \
    "$password" "$pg_port" >"$cache/services.env")
  say "postgres: ready on 127.0.0.1:$pg_port (URL in .cache/services.env)"
}

case "${1:-start}" in
  start) start_docker; start_postgres ;;
  docker) start_docker ;;
  stop)
    pg_ctlcluster "$(pg_version)" "$pg_cluster" stop 2>/dev/null || true
    say "postgres: stopped (dockerd is left running)" ;;
  status) docker info --format 'docker {{.ServerVersion}}' 2>/dev/null || say "docker: down"; pg_lsclusters ;;
  *) die "usage: $0 start|docker|stop|status" ;;
esac
