"""JSON layers for the console map that the public API does not serve."""

from __future__ import annotations

import json

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from access import roles
from access.selectors import region_for_user, regions_for_user
from gis_core.models import Region, RoadEdge


def road_features(*, region: Region) -> list[dict]:
    """The active network's streets as GeoJSON Features (EPSG:4326), one per street segment.

    A two-way street is two directed edges; it is drawn once, and its ``edge_ids`` name both so a
    what-if closure closes both directions.
    """
    rows = (
        RoadEdge.objects.filter(version__region=region, version__is_active=True)
        .annotate(geojson=AsGeoJSON("geom", precision=6))
        .order_by("id")
        .values_list("id", "source_id", "target_id", "highway", "name", "geojson")
    )
    by_pair: dict[tuple[int, int], dict] = {}
    for edge_id, source_id, target_id, highway, name, geojson in rows:
        key = (min(source_id, target_id), max(source_id, target_id))
        feature = by_pair.get(key)
        if feature is None:
            by_pair[key] = {
                "type": "Feature",
                "id": edge_id,
                "geometry": json.loads(geojson),
                "properties": {"edge_ids": [edge_id], "highway": highway, "name": name},
            }
        else:
            feature["properties"]["edge_ids"].append(edge_id)
    return list(by_pair.values())


@require_GET
def roads_geojson(request: HttpRequest, slug: str) -> JsonResponse:
    """GET: the region's active road network as a GeoJSON FeatureCollection (console users only)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": {"code": "not_authenticated", "message": "log in first"}}, status=401)
    if not roles.has_role(request.user):
        return JsonResponse({"error": {"code": "permission_denied", "message": "no console role"}}, status=403)
    region = region_for_user(request.user, slug_or_code=slug)
    if region is None:  # unknown or another centre's: the same answer, so it does not confirm the region exists
        known = ", ".join(r.slug for r in regions_for_user(request.user)) or "none"
        message = f"unknown region {slug!r}; your regions: {known}"
        return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)
    return JsonResponse({"type": "FeatureCollection", "features": road_features(region=region)})
