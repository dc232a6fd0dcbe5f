"""gis_core rows for tests, built through the models' validation."""

from __future__ import annotations

from gis_core.models import Region, RoadEdge, RoadNetworkVersion, RoadSpeedFactor
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


def make_band_factors(region, *, band: str, factor: float) -> RoadNetworkVersion:
    """Learned factors on the region's active version: every road class at ``factor`` times its all-day speed
    in ``band`` (and 1.0 all day), as ``calibrate_speeds`` would store them; returns the version."""
    version = RoadNetworkVersion.objects.get(region=region, is_active=True)
    classes = set(RoadEdge.objects.filter(version=version).values_list("highway", flat=True))
    for hour_band, f in (("all", 1.0), (band, factor)):
        rows = [
            RoadSpeedFactor(version=version, hour_band=hour_band, highway=highway, factor=f, observations=30,
                            median_speed_kph=20.0 * f, table_speed_kph=20.0, applied=True)
            for highway in classes
        ]  # fmt: skip
        for row in rows:
            row.full_clean()
        RoadSpeedFactor.objects.bulk_create(rows)
    return version
