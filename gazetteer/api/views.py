"""Search and reverse geocoding over HTTP: parse and check the query string, call one selector, serialise.

Who may call: logged-in console users with the dispatcher or admin role (``CanSearchPlaces``); others get
401/403, an unknown region or another centre's 404 (the same answer).
"""

from __future__ import annotations

import math
import unicodedata

from django.http import HttpResponse
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.selectors import region_for_user
from gazetteer import selectors, tiles
from gazetteer.errors import GazetteerQueryError
from gazetteer.permissions import CanSearchPlaces
from gis_core.api.views import region_or_404

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
MAX_LIMIT = 50


class SearchView(APIView):
    """``GET ?q=&near=lon,lat&limit=``: ranked place suggestions (streets, landmarks, kelurahan, ...)."""

    permission_classes = (CanSearchPlaces,)

    def get(self, request: Request, slug: str) -> Response:
        region = region_or_404(slug, user=request.user)
        params = request.query_params
        query = _query(params.get("q"))
        near = _lonlat_pair(params.get("near"), name="near") if params.get("near") not in (None, "") else None
        limit = _limit(params.get("limit"))
        suggestions = selectors.places_search(region=region, query=query, near=near, limit=limit)
        return Response(
            {
                "query": query,
                "results": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "kind": s.kind,
                        "kelurahan": s.kelurahan,
                        "kecamatan": s.kecamatan,
                        "point": [round(s.lon, 7), round(s.lat, 7)],
                        "confidence": s.confidence,
                    }
                    for s in suggestions
                ],
            }
        )


class ReverseView(APIView):
    """``GET ?lon=&lat=``: the nearest named street, landmark, the kelurahan and kecamatan, and a display text."""

    permission_classes = (CanSearchPlaces,)

    def get(self, request: Request, slug: str) -> Response:
        region = region_or_404(slug, user=request.user)
        lon = _number(request.query_params.get("lon"), name="lon", low=-180, high=180)
        lat = _number(request.query_params.get("lat"), name="lat", low=-90, high=90)
        place = selectors.place_at(region=region, lon=lon, lat=lat)

        def named(p):
            return {"name": p.name, "distance_m": round(p.distance_m, 1)} if p else None

        def area(a):
            return {"code": a.code, "name": a.name} if a else None

        return Response(
            {
                "point": [lon, lat],
                "street": named(place.street),
                "landmark": named(place.landmark),
                "kelurahan": area(place.kelurahan),
                "kecamatan": area(place.kecamatan),
                "display": place.display,
            }
        )


class NamesTileView(APIView):
    """``GET .../names/{z}/{x}/{y}.mvt``: the region's street, landmark and area names as a vector tile.

    For the console map's labels without internet. Only a region the caller is a member of (another
    centre's is a 404, like one that does not exist).
    """

    permission_classes = (CanSearchPlaces,)

    def get(self, request: Request, slug: str, z: int, x: int, y: int) -> HttpResponse:
        region = region_for_user(request.user, slug_or_code=slug)
        if region is None:
            raise NotFound(f"no region of yours is called {slug!r}")
        if not tiles.MIN_ZOOM <= z <= tiles.MAX_ZOOM:
            raise GazetteerQueryError(f"name tiles are served from zoom {tiles.MIN_ZOOM} to {tiles.MAX_ZOOM}, not {z}")
        if not (x < 2**z and y < 2**z):
            raise GazetteerQueryError(f"tile {z}/{x}/{y} does not exist: x and y run from 0 to {2**z - 1} at zoom {z}")
        body = tiles.names_tile(region=region, z=z, x=x, y=y)
        response = HttpResponse(body, content_type="application/vnd.mapbox-vector-tile")
        response["Cache-Control"] = "private, max-age=300"  # names change only on a re-import or an admin edit
        return response


def _query(value: str | None) -> str:
    if value is None:
        raise GazetteerQueryError("q is required: the words the caller said, at least 2 characters")
    if len(value) > MAX_QUERY_CHARS:
        raise GazetteerQueryError(f"q is {len(value)} characters long; at most {MAX_QUERY_CHARS} are searched")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise GazetteerQueryError("q holds control characters (such as NUL or a tab); send only the words")
    value = value.strip()
    if len(value) < MIN_QUERY_CHARS:
        raise GazetteerQueryError(f"q needs at least {MIN_QUERY_CHARS} characters, got {len(value)}")
    return value


def _number(value: str | None, *, name: str, low: float, high: float) -> float:
    if value is None or value == "":
        raise GazetteerQueryError(f"{name} is required (degrees, EPSG:4326)")
    if len(value) > 32 or "\x00" in value:
        raise GazetteerQueryError(f"{name} is not a number of degrees")
    try:
        number = float(value)
    except ValueError:
        raise GazetteerQueryError(f"{name}={value!r} is not a number of degrees") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise GazetteerQueryError(f"{name}={value!r} must lie between {low} and {high} degrees")
    return number


def _lonlat_pair(value: str, *, name: str) -> tuple[float, float]:
    parts = value.split(",")
    if len(value) > 64 or len(parts) != 2:
        raise GazetteerQueryError(f"{name} must be 'lon,lat' in degrees (EPSG:4326), e.g. 103.61,-1.61")
    return (
        _number(parts[0].strip(), name=f"{name} lon", low=-180, high=180),
        _number(parts[1].strip(), name=f"{name} lat", low=-90, high=90),
    )


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return 10
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise GazetteerQueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {value[:20]!r}")
    return int(value)
