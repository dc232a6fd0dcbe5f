#!/usr/bin/env bash
# Rewrite the lock files in requirements/ from pyproject.toml (setup.sh, CI and the image install only from them).
#   bash scripts/lock.sh              keep every pinned version, add or drop what pyproject.toml now asks for
#   bash scripts/lock.sh --upgrade    move every package to the newest release pyproject.toml allows
#   bash scripts/lock.sh --upgrade-package django   move one package (and what it needs)
# The locks are universal (Linux, macOS, Windows; x86_64 and arm64) for Python 3.11 and carry every
# file's sha256, so an install cannot take a file other than the one locked. uv resolves them; it runs
# from a throwaway virtualenv and is not needed to install. Commit the lock files with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install -q "uv==0.13.9"
uv="$tools/venv/bin/uv"
common=(--universal --python-version 3.11.5 --generate-hashes --quiet "$@")
"$uv" pip compile pyproject.toml "${common[@]}" -o requirements/runtime.txt
"$uv" pip compile pyproject.toml --extra test "${common[@]}" -o requirements/test.txt
"$uv" pip compile requirements/build.in "${common[@]}" -o requirements/build.txt
echo "requirements/ updated; review with: git diff --stat requirements/"
