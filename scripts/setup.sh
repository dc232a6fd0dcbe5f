#!/usr/bin/env bash
# Idempotent setup on a fresh Debian/Ubuntu machine (or one already set up: then it changes nothing).
#   1. PostgreSQL with PostGIS 3 (only when DATABASE_URL is not set: then the local cluster is used),
#   2. the virtualenv in .venv with the project installed from the lock files (requirements/),
#   3. the database, the postgis extension and the migrations,
#   4. Redis for the live console's channel layer (only when REDIS_URL is not set: then a local one is used).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_install() {
  # apt-get update once per machine, then install what is missing.
  if [ ! -f /var/lib/apt/periodic/siaga-updated ]; then
    log "apt-get update"
    apt-get update -qq
    mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/siaga-updated
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
for pkg in libgdal32 libgeos-c1v5 libproj25; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ -z "${DATABASE_URL:-}" ]; then
  for pkg in postgresql-15 postgresql-15-postgis-3; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ -z "${REDIS_URL:-}" ]; then
  dpkg -s redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi
if [ -z "${SIAGA_MQTT_URL:-}" ]; then
  dpkg -s mosquitto >/dev/null 2>&1 || missing+=(mosquitto)  # OwnTracks phones in MQTT mode
fi
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
requirements="${SIAGA_REQUIREMENTS:-requirements/test.txt}"
if [ "$requirements" = requirements/test.txt ]; then
  dpkg -s chromium >/dev/null 2>&1 || missing+=(chromium)  # console end-to-end tests (Playwright drives it)
  dpkg -s nodejs >/dev/null 2>&1 || missing+=(nodejs)  # the live pages' version rule, run by tests/incidents/test_live_versions.py
fi
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 '; then
    log "creating PostgreSQL 15 cluster"
    pg_createcluster 15 main >/dev/null
  fi
  if ! pg_lsclusters -h | awk '$1 == 15 && $2 == "main" {print $4}' | grep -q online; then
    log "starting PostgreSQL 15"
    pg_ctlcluster --skip-systemctl-redirect 15 main start
  fi
fi

if [ -z "${REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  # Nothing persistent: the channel layer only relays live messages.
  log "starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi

if [ -z "${SIAGA_MQTT_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  # Debian's configuration: Mosquitto 2 with no listener defined serves localhost only, anonymous clients allowed.
  log "starting Mosquitto on 127.0.0.1:1883"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
# Install exactly the lock (requirements/, written by scripts/lock.sh): every version pinned, every file's
# hash checked, nothing resolved here. SIAGA_REQUIREMENTS=requirements/runtime.txt leaves the test tools out.
stamp=".venv/.siaga-installed"
want="$(cat pyproject.toml requirements/build.txt "$requirements" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing $requirements into .venv"
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/build.txt
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r "$requirements"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

# Outside debug Siaga refuses to start without a secret key; a machine that names none gets a random one of
# its own, readable by its owner only (never committed: .gitignore).
if [ -z "${DJANGO_SECRET_KEY:-}" ] && [ -z "${DJANGO_SECRET_KEY_FILE:-}" ] && [ ! -s .secret_key ]; then
  log "writing a new random secret key to .secret_key"
  (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > .secret_key)
fi

.venv/bin/python scripts/ensure_db.py
.venv/bin/python manage.py migrate --noinput -v 0
# STATIC_ROOT for a front server; WhiteNoise serves the apps' own files first, so it cannot go stale.
.venv/bin/python manage.py collectstatic --noinput -v 0
log "ready"
