# The Siaga app image: Debian bookworm's GDAL/GEOS/PROJ (what GeoDjango loads) and the project in .venv.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgdal32 libgeos-c1v5 libproj25 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir -e '.[test]' \
 && sha256sum pyproject.toml | cut -d' ' -f1 > .venv/.siaga-installed
# The demo data is the repository's own data/ (copied above); SIAGA_DATA_DIR defaults to it.
ENV SIAGA_HOST=0.0.0.0 SIAGA_PORT=8000
EXPOSE 8000 8001
CMD ["bash", "scripts/demo.sh"]
