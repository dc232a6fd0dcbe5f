"""The repository carries its own demo and test data (data/, described in data/SOURCES.md), and stays small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What the demo and the tests need today is 6.9 MB (17 files); the limit leaves room for a small
# addition but refuses a re-downloaded extract or a database dump.
MAX_FOLDER_BYTES = 8 * 1024 * 1024


@pytest.fixture
def files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def test_the_data_folder_stays_under_its_size_limit(files: list[Path]) -> None:
    total = sum(p.stat().st_size for p in files)
    assert 0 < total <= MAX_FOLDER_BYTES, f"data/ holds {total:,} bytes; the limit is {MAX_FOLDER_BYTES:,}"


def test_every_data_file_is_described_with_its_source_and_licence(data_dir: Path, files: list[Path]) -> None:
    sources = (data_dir / "SOURCES.md").read_text()
    table = sources[sources.index("## Files") : sources.index("## What this data is not")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for path in files:
        relative = path.relative_to(data_dir).as_posix()
        # A row names the file in its first cell (a row may name two files of one folder).
        row = next((r for r in rows if f"`{relative}`" in r.split("|")[1] or f"`{path.name}`" in r.split("|")[1]), None)
        assert row is not None, f"{relative} is not in data/SOURCES.md's table of files"
        licence = row.rstrip(" |").rsplit("|", 1)[1].strip()
        assert licence, f"{relative} has no licence or attribution in data/SOURCES.md"


def test_the_demo_regions_name_only_files_in_the_folder(data_dir: Path) -> None:
    regions = json.loads((data_dir.parent / "fixtures" / "regions.json").read_text())
    for slug, spec in regions.items():
        if slug.startswith("_"):
            continue
        named = [spec["kecamatan"], spec["kelurahan"], spec["population"], *(f["file"] for f in spec["facilities"])]
        named += [spec["roads"]] if spec["roads"] else []
        for name in named:
            assert (data_dir / spec["dir"] / name).is_file(), f"{slug}: {spec['dir']}/{name} is not in data/"


def test_siaga_data_dir_defaults_to_the_repositorys_folder(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SIAGA_DATA_DIR"}
    env.setdefault("DJANGO_SECRET_KEY", "test-only-key-" + "x" * 40)
    code = "import django; django.setup(); from django.conf import settings; print(settings.SIAGA_DATA_DIR)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == data_dir
