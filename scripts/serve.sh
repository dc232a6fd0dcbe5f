#!/usr/bin/env bash
# Serve Siaga over HTTP and WebSocket (the live console) with Daphne, the ASGI server, on
# http://${SIAGA_HOST:-127.0.0.1}:${SIAGA_PORT:-8000}/ (WebSocket: ws://.../ws/regions/<slug>/).
# No setup and no data load: scripts/demo.sh does those, then ends here. The environment is read as
# by manage.py (DATABASE_URL, REDIS_URL, DJANGO_DEBUG, ...): a browser test serves its own test
# database with DATABASE_URL=postgis://postgres@127.0.0.1:5432/<test db> SIAGA_PORT=<free port>.
# Static files come from the apps (Django's ASGIStaticFilesHandler) while DJANGO_DEBUG is on.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
# No access log unless SIAGA_ACCESS_LOG names a file (or - for stdout): OsmAnd devices may send their
# secret in the query string (key=...), which an access log would keep.
exec .venv/bin/daphne --bind "${SIAGA_HOST:-127.0.0.1}" --port "${SIAGA_PORT:-8000}" \
  --access-log "${SIAGA_ACCESS_LOG:-/dev/null}" config.asgi:application
