"""gis_core rows for tests, built through the models' validation."""

from __future__ import annotations

from gis_core.models import Region


def make_region(*, code: str = "15.71", slug: str = "kota-jambi", name: str = "Kota Jambi", metric_srid: int = 32748):
    region = Region(code=code, slug=slug, name=name, metric_srid=metric_srid)
    region.full_clean()
    region.save()
    return region
