"""Load a whole region (boundaries, population, facilities, roads) from SIAGA_DATA_DIR in one call."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.facilities import import_facilities
from gis_core.importers.population import import_population
from gis_core.importers.roads import import_roads
from gis_core.models import Region, RoadNetworkVersion

REGIONS_FILE = Path(settings.BASE_DIR) / "fixtures" / "regions.json"


def known_regions() -> dict[str, dict]:
    """Region definitions from ``fixtures/regions.json``, by slug."""
    return {k: v for k, v in json.loads(REGIONS_FILE.read_text()).items() if not k.startswith("_")}


def region_load(*, slug: str, reload_roads: bool = False, say: Callable[[str], None] = print) -> Region:
    """Create or update a region and import its data; re-running it changes nothing.

    Parameters
    ----------
    slug
        A key of ``fixtures/regions.json``, e.g. ``kota-jambi``.
    reload_roads
        Import the road file again even when the active network already came from it.
    say
        Where progress lines go.
    """
    spec = known_regions()[slug]
    folder = Path(settings.SIAGA_DATA_DIR) / spec["dir"]
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} not found: set SIAGA_DATA_DIR to the folder holding {spec['dir']}/")
    region, _ = Region.objects.update_or_create(
        code=spec["code"],
        defaults={
            "slug": slug,
            "name": spec["name"],
            "metric_srid": spec["metric_srid"],
            "time_zone": spec["time_zone"],
        },
    )
    region.full_clean()
    for level in ("kecamatan", "kelurahan"):
        _say(say, import_boundaries(region=region, path=folder / spec[level], level=level))
    _say(say, import_population(region=region, path=folder / spec["population"]))
    for facility in spec["facilities"]:
        _say(say, import_facilities(region=region, path=folder / facility["file"], kind=facility.get("kind")))
    if spec["roads"]:
        road_file = folder / spec["roads"]
        active = RoadNetworkVersion.objects.filter(region=region, is_active=True).first()
        if reload_roads or active is None or active.source != str(road_file):
            version = import_roads(region=region, path=road_file)
            say(f"{road_file.name}: network version {version.pk}, {version.node_count} nodes")
        else:
            say(f"{road_file.name}: already the active network (version {active.pk})")
    return region


def _say(say: Callable[[str], None], summary) -> None:
    for line in summary.lines():
        say(line)
