#!/usr/bin/env bash
# Serve Siaga: HTTP from gunicorn (WSGI, several worker processes and threads) on
# http://${SIAGA_HOST:-127.0.0.1}:${SIAGA_PORT:-8000}/, and the live console's WebSocket from Daphne (ASGI)
# on ${SIAGA_WS_PORT:-SIAGA_PORT+1} (ws://.../ws/regions/<slug>/); the console's page config tells the
# browser that port. Daphne alone ran every synchronous view on one thread (a trivial GET ~21 ms, and 20
# concurrent HTTP Basic logins queued one behind another); gunicorn's workers run them side by side.
# No setup and no data load: scripts/demo.sh does those, then ends here. The environment is read as by
# manage.py (DATABASE_URL, REDIS_URL, DJANGO_DEBUG, ...): a browser test serves its own test database with
# DATABASE_URL=postgis://postgres@127.0.0.1:5432/<test db> SIAGA_PORT=<free port> SIAGA_WS_PORT=<free port>.
# Static files are served by WhiteNoise (config/settings.py), with or without DJANGO_DEBUG.
# Beside them a job worker (manage.py procrastinate worker, every queue) computes the coverage and siting runs the
# planner page asks for, sends the outbound messages and runs the periodic jobs (jobs/, procrastinate).
# Stopping this script (TERM or INT) stops all three; if one exits, the others are stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
host="${SIAGA_HOST:-127.0.0.1}"
port="${SIAGA_PORT:-8000}"
export SIAGA_WS_PORT="${SIAGA_WS_PORT:-$((port + 1))}"
# No access log unless SIAGA_ACCESS_LOG names a file (or - for stdout): OsmAnd devices may send their
# secret in the query string (key=...), which an access log would keep.
access_log="${SIAGA_ACCESS_LOG:-/dev/null}"

# gthread: the heartbeat runs beside the request threads, so a slow routing or siting request does not
# get its worker killed; password hashing releases the GIL, so threads use both cores.
.venv/bin/gunicorn config.wsgi:application --bind "$host:$port" \
  --worker-class gthread --workers "${SIAGA_HTTP_WORKERS:-2}" --threads "${SIAGA_HTTP_THREADS:-4}" \
  --access-logfile "$access_log" &
http_pid=$!
.venv/bin/daphne --bind "$host" --port "$SIAGA_WS_PORT" --access-log "$access_log" config.asgi:application &
ws_pid=$!
# At a lower CPU priority: a dispatcher's request comes before a planner's coverage run on a busy machine.
nice -n 10 .venv/bin/python manage.py procrastinate worker --concurrency "${SIAGA_JOB_CONCURRENCY:-2}" &
jobs_pid=$!

stop() {
  kill -TERM "$http_pid" "$ws_pid" "$jobs_pid" 2>/dev/null || true
  wait "$http_pid" "$ws_pid" "$jobs_pid" 2>/dev/null || true
}
on_signal() {
  stop
  trap - TERM INT
  kill -TERM $$
}
trap on_signal TERM INT
status=0
wait -n "$http_pid" "$ws_pid" "$jobs_pid" || status=$?
stop
exit "$status"
