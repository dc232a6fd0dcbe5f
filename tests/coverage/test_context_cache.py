"""A region's coverage context is cached per process and rebuilt when its boundaries change in any process.

Its key holds every input read per call: the network version and the population (from the database) and the
boundaries' shared version (``gis_core.shared_versions``, bumped by whichever process changed them).
"""

from __future__ import annotations

import pytest

from coverage.context import coverage_context
from gis_core.models import Kecamatan
from gis_core.shared_versions import boundaries_version_name, shared_version_bump

pytestmark = pytest.mark.django_db


def test_a_boundary_change_made_elsewhere_rebuilds_the_context(tiny_region) -> None:
    first = coverage_context(region=tiny_region)
    assert coverage_context(region=tiny_region) is first  # cached
    # Another process renames a kecamatan (a raw write: no signal reaches this one) and bumps the version.
    Kecamatan.objects.filter(region=tiny_region, name="West").update(name="Barat")
    assert [row.name for row in coverage_context(region=tiny_region).kecamatan_rows] == ["West", "East"]
    shared_version_bump(boundaries_version_name(tiny_region.pk))
    rebuilt = coverage_context(region=tiny_region)
    assert rebuilt is not first
    assert [row.name for row in rebuilt.kecamatan_rows] == ["Barat", "East"]
