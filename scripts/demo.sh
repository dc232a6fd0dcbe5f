#!/usr/bin/env bash
# Set up everything (idempotent), load the Kota Jambi and Kota Ambon demo and serve it on
# http://${SIAGA_HOST:-127.0.0.1}:${SIAGA_PORT:-8000}/
# Two centres on one server: jambi.dispatcher sees only Jambi, ambon.dispatcher only Ambon (WIT; no roads in
# data/, so its routing answers "no road network"); dispatcher, planner and admin are members of both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python manage.py load_demo kota-jambi
.venv/bin/python manage.py load_demo kota-ambon
.venv/bin/python manage.py load_demo_fleet
.venv/bin/python manage.py load_demo_fleet --file fixtures/demo_fleet_ambon.json
.venv/bin/python manage.py coverage_demo
.venv/bin/python manage.py create_demo_users
exec bash scripts/serve.sh
