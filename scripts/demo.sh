#!/usr/bin/env bash
# Set up everything (idempotent), load the Kota Jambi demo and serve it on http://${SIAGA_HOST:-127.0.0.1}:${SIAGA_PORT:-8000}/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python manage.py load_demo
.venv/bin/python manage.py load_demo_fleet
.venv/bin/python manage.py coverage_demo
.venv/bin/python manage.py create_demo_users
exec bash scripts/serve.sh
