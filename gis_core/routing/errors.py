"""Named errors of the routing package.

Every error raised on purpose by :mod:`gis_core.routing` derives from :class:`RoutingError`, so the
API layer can map the whole family to one JSON error shape. Messages are written for a person: they
name the offending point and the number that was out of bounds.
"""

from __future__ import annotations

from gis_core.errors import DomainError


class RoutingError(DomainError):
    """Base class of all routing errors."""

    code = "routing_error"


class InvalidPointError(RoutingError, ValueError):
    """A point is not a valid (lon, lat) pair: not finite, or outside [-180, 180] x [-90, 90]."""

    code = "invalid_point"


class OutsideNetworkError(RoutingError):
    """A point lies farther from the nearest road than the engine's ``max_access_m``.

    Attributes
    ----------
    label : str
        How the message names the point: ``"origin"``, ``"destination"``, ``"point #3"``.
    index : int or None
        Position of the point in the caller's sequence, when it came in one.
    lon, lat : float
        The point, in EPSG:4326.
    offset_m : float
        Straight-line distance from the point to the nearest road, in metres.
    max_access_m : float
        The limit that was exceeded, in metres.
    """

    code = "outside_network"

    def __init__(
        self,
        *,
        label: str,
        lon: float,
        lat: float,
        offset_m: float,
        max_access_m: float,
        index: int | None = None,
    ):
        self.label = label
        self.index = index
        self.lon = lon
        self.lat = lat
        self.offset_m = offset_m
        self.max_access_m = max_access_m
        super().__init__(
            f"{label} ({lon:.6f}, {lat:.6f}) is {offset_m:.0f} m from the nearest road; "
            f"the limit is {max_access_m:.0f} m"
        )


class NoRouteError(RoutingError):
    """No path exists from the origin to the destination (for example a one-way dead end)."""

    http_status, code = 422, "no_route"


class TooManyPointsError(RoutingError, ValueError):
    """A batch holds more points than the engine accepts in one call."""

    code = "too_many_points"


class UnknownEdgeError(RoutingError, ValueError):
    """An edge named by id or index (for a closure) is not part of the network."""

    code = "unknown_edge"


class RegionCrsInvalidError(RoutingError):
    """The region's ``metric_srid`` cannot measure its network: unknown, geographic, not metres, or another area's.

    A configuration fault, not bad input: callers that go on without a travel time (a dispatch's ETA)
    treat it like any routing error; the API answers 409 until an administrator fixes the region.

    Attributes
    ----------
    srid : int
        The offending EPSG code.
    problems : list of str
        Each reason, written for a person (``gis_core.metric_srid.metric_srid_problems``).
    """

    http_status, code = 409, "region_crs_invalid"

    def __init__(self, message: str, *, srid: int, problems: list[str]) -> None:
        self.srid = srid
        self.problems = problems
        super().__init__(message)


class NoNetworkError(RoutingError):
    """The region has no active road network yet."""

    http_status, code = 409, "no_network"
