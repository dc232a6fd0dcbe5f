#!/usr/bin/env bash
# Set up everything (idempotent), lint, and run the whole test suite against PostGIS.
# Extra arguments go to pytest. pytest's exit code passes through: 5 (no tests ran) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy gis_core/crs.py gis_core/metric_srid.py gis_core/routing/ fleet/ingest/ coverage/solvers.py gazetteer/normalize.py gis_core/time_zones.py  # the pure modules (STYLE.md); config in pyproject.toml
exec .venv/bin/python -m pytest "$@"
