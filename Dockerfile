# The Siaga app image: Debian bookworm's GDAL/GEOS/PROJ (what GeoDjango loads), nginx (the production profile's
# proxy, scripts/serve-production.sh) and the project in .venv,
# installed from the runtime lock only (requirements/runtime.txt: no test tools, no browser).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgdal32 libgeos-c1v5 libproj25 nginx \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV SIAGA_REQUIREMENTS=requirements/runtime.txt
RUN python -m venv .venv \
 && .venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/build.txt \
 && .venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/runtime.txt \
 && .venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation -e . \
 && cat pyproject.toml requirements/build.txt requirements/runtime.txt | sha256sum | cut -d' ' -f1 > .venv/.siaga-installed
# The demo data is the repository's own data/ (copied above); SIAGA_DATA_DIR defaults to it.
# Outside debug a secret key is required: pass DJANGO_SECRET_KEY, or the demo's setup writes a random one.
ENV SIAGA_HOST=0.0.0.0 SIAGA_PORT=8000
EXPOSE 8000 8001
CMD ["bash", "scripts/demo.sh"]
