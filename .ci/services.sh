#!/usr/bin/env bash
# Make sure everything the test suite needs is installed and running: Debian packages from
# .ci/apt-packages.txt, PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Idempotent; safe to rerun.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

missing=()
while read -r pkg bin; do
  [ -z "${pkg:-}" ] || [ "${pkg:0:1}" = "#" ] && continue
  if ! command -v "$bin" >/dev/null 2>&1 && ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
done < "$here/apt-packages.txt"
if [ ${#missing[@]} -gt 0 ]; then
  echo "[services] installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "[services] could not install ${missing[*]}: install them with apt-get as root" >&2; exit 1; }
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "[services] starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  fi
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
  port_open 5432 || { echo "[services] PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
fi
# The tests connect as postgres over TCP without a password: make sure that role can do so.
if ! psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
  hba="$(as_root su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null || true)"
  if [ -n "$hba" ]; then
    echo "[services] allowing trust auth for postgres on loopback in $hba"
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
    as_root su postgres -c "psql -c 'select pg_reload_conf()'" >/dev/null
  fi
fi

if ! port_open 6379; then
  echo "[services] starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do port_open 6379 && break; sleep 1; done
  port_open 6379 || { echo "[services] Redis is not answering on 127.0.0.1:6379" >&2; exit 1; }
fi
echo "[services] PostgreSQL and Redis are up"
# The database the platform uses when DATABASE_URL points at this server (the tests create their own test_ copy).
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='pacs_trainer'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "create database pacs_trainer" >/dev/null
# axe-core for the accessibility audits of the browser tests (from the npm registry, kept under var/).
axe_dir="$(dirname "$here")/var/e2e"
if [ ! -f "$axe_dir/package/axe.min.js" ] && command -v npm >/dev/null; then
  mkdir -p "$axe_dir" && (cd "$axe_dir" && npm pack --silent axe-core@4 >/dev/null && tar xzf axe-core-*.tgz) \
    || echo "[services] could not fetch axe-core from npm; the accessibility audits will fail" >&2
fi
