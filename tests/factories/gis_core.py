"""gis_core rows for tests, built through the models' validation."""

from __future__ import annotations

from gis_core.models import Region
from gis_core.time_zones import WIB, zone_for_code


def make_region(
    *,
    code: str = "15.71",
    slug: str = "kota-jambi",
    name: str = "Kota Jambi",
    metric_srid: int = 32748,
    time_zone: str | None = None,
):
    # Without a zone: the province's (81.71 Ambon is WIT), and WIB for the made-up codes (99.xx) tests use.
    zone = time_zone or zone_for_code(code) or WIB
    region = Region(code=code, slug=slug, name=name, metric_srid=metric_srid, time_zone=zone)
    region.full_clean()
    region.save()
    return region
