#!/usr/bin/env bash
# Makes sure the backends the tests use answer: PostgreSQL (127.0.0.1:5432, trust auth, database
# `test`) and Redis (127.0.0.1:6379), and that clamd is installed (upload tests start their own).
# Uses what runs already; otherwise starts the machine's own service, or installs the Debian
# packages and starts a throwaway instance under .rampart/services/.
# Addresses can be overridden with RAMPART_TEST_PG_URL / RAMPART_TEST_REDIS_URL (then nothing is started).
set -uo pipefail
cd "$(dirname "$0")/.."
STATE="$PWD/.rampart/services"
mkdir -p "$STATE"

log() { echo "[ensure-services] $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- ; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

ensure_postgres() {
  [ -n "${RAMPART_TEST_PG_URL:-}" ] && return 0
  port_open 5432 && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    log "starting the machine's PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do port_open 5432 && break; sleep 0.5; done
    port_open 5432 && { psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 || createdb -h 127.0.0.1 -U postgres test 2>/dev/null; return 0; }
  fi
  log "installing and starting a throwaway PostgreSQL"
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
  local bin; bin="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
  local data="$STATE/pg"
  local runas=""
  if [ "$(id -u)" = 0 ]; then id postgres >/dev/null 2>&1 || useradd -r postgres; chown -R postgres "$STATE"; runas="su postgres -s /bin/sh -c"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    if [ -n "$runas" ]; then $runas "$bin/initdb -D '$data' -A trust -U postgres" >/dev/null; else "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null; fi
  fi
  local start="$bin/pg_ctl -D '$data' -o '-c listen_addresses=127.0.0.1 -p 5432 -k /tmp' -l '$data/log' -w start"
  if [ -n "$runas" ]; then $runas "$start" >/dev/null; else sh -c "$start" >/dev/null; fi
  "$bin/createdb" -h 127.0.0.1 -U postgres test 2>/dev/null || true
  port_open 5432
}

ensure_redis() {
  [ -n "${RAMPART_TEST_REDIS_URL:-}" ] && return 0
  port_open 6379 && return 0
  command -v redis-server >/dev/null 2>&1 || { log "installing redis-server"; apt_install redis-server; }
  log "starting a throwaway Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir "$STATE" --logfile "$STATE/redis.log" >/dev/null
  for _ in $(seq 1 30); do port_open 6379 && return 0; sleep 0.2; done
  return 1
}

ok=0
ensure_postgres || { log "PostgreSQL is not available"; ok=1; }
ensure_redis || { log "Redis is not available"; ok=1; }
bash scripts/ensure-clamav.sh || { log "ClamAV (clamd) is not available"; ok=1; }
exit $ok
