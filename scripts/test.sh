#!/usr/bin/env bash
# Set up everything (idempotent), lint, and run the whole test suite against PostGIS.
# Extra arguments go to pytest. pytest's exit code passes through: 5 (no tests ran) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The pure modules (STYLE.md), then every app's services and selectors (Django-aware); config in pyproject.toml.
.venv/bin/mypy gis_core/crs.py gis_core/metric_srid.py gis_core/routing/ gis_core/closure_geojson.py fleet/ingest/ coverage/solvers.py gazetteer/normalize.py gis_core/time_zones.py \
  gis_core/services.py gis_core/selectors.py access/services.py access/selectors.py fleet/services/ fleet/selectors/ \
  incidents/services/ incidents/selectors/ gazetteer/services.py gazetteer/selectors.py coverage/services.py \
  coverage/selectors.py coverage/siting.py coverage/matrix.py coverage/population.py console/selectors.py console/services.py \
  fleet/actors.py ops/health.py ops/metrics.py gis_core/shared_versions.py gis_core/client_address.py \
  reports/periods.py reports/services.py reports/selectors/ reports/exports/geo.py reports/exports/map_png.py \
  jobs/services.py jobs/selectors.py jobs/tasks.py coverage/tasks.py gis_core/tasks.py gazetteer/tasks.py incidents/tasks.py fleet/tasks.py
exec .venv/bin/python -m pytest "$@"
