"""Vehicle profiles: which edges of one road network a vehicle may drive, how fast, and the rest on foot.

A profile is its own weights on the same network: the same nodes in the same order (so node times of
every profile line up), the edges it may not drive removed, the others timed by its own speed table,
and optionally (an emergency-vehicle rule, off by default) one-way streets driven against at a time
penalty. Built once per network version by the registry. Pure code: no Django, no settings.

Profiles (OSM tags as the importer keeps them on ``RoadEdge.tags``, see :data:`ROAD_TAG_KEYS`):

``car``
    A car-size ambulance: today's behaviour, unchanged. Every edge of the drive network, at the
    imported speed. Forbidden only what the importer now keeps for motorbikes alone (``footway``,
    ``path``, ``track``, ``pedestrian`` ways, ``motorcar=no``).
``fire_engine``
    A large fire engine: no ``track``/``path``/``footway``/``steps``/``pedestrian``, no ``service=alley``
    or driveway, no way narrower than ``min_width_m`` by ``width`` or ``maxwidth``, none where
    ``motorcar``/``motor_vehicle``/``access`` is ``no``; slower on small streets.
``motorbike``
    A motorbike ambulance: may also use ``path``/``footway``/``track``/``pedestrian`` ways tagged
    ``motorcycle=yes`` (``designated``, ``permissive``) and narrow gang; its own speed table.

Where a profile cannot drive the street a caller is on, :class:`OnFootAccess` finds the nearest point
it can reach (along the whole network's streets on foot, or straight to the nearest allowed road)
and the walk (or hose lay) from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis_core.routing.graph import RoadGraph, road_graph_from_arrays

CAR = "car"
FIRE_ENGINE = "fire_engine"
MOTORBIKE = "motorbike"
PROFILE_NAMES: tuple[str, ...] = (CAR, FIRE_ENGINE, MOTORBIKE)

# The OSM way tags the importer keeps on each edge for the profiles (``highway`` is a column of its own).
ROAD_TAG_KEYS: tuple[str, ...] = ("width", "maxwidth", "motorcar", "motor_vehicle", "motorcycle", "access", "service")

# Ways that are not roads for a car in OSM's implied access; kept by the importer only for motorbikes.
NOT_FOR_CARS = frozenset({"footway", "path", "track", "pedestrian", "steps", "cycleway", "bridleway"})
_YES = frozenset({"yes", "designated", "permissive"})
_NO = frozenset({"no"})
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|meter|metre|meters|metres)?\s*$")
_FEET = re.compile(r"^\s*(\d+)\s*'\s*(?:(\d+)\s*\")?\s*$")


@dataclass(frozen=True)
class VehicleProfile:
    """What one kind of vehicle may drive and how fast.

    Attributes
    ----------
    name : str
        One of :data:`PROFILE_NAMES`.
    forbidden_highways : frozenset of str
        Highway classes it may not drive, unless ``permit_key`` says otherwise.
    banned_by : tuple of str
        Tag keys whose ``no`` forbids the way (e.g. ``motorcar``), unless ``permit_key`` says otherwise.
    permit_key : str or None
        A tag key whose ``yes``/``designated``/``permissive`` opens a way otherwise forbidden (``motorcycle``).
    forbidden_service : frozenset of str
        ``service=*`` values it may not drive.
    min_width_m : float or None
        Ways tagged narrower than this (``width`` or ``maxwidth``), metres, are forbidden.
    speeds_kph : mapping of str to float
        Its own speed per highway class, km/h, used where the imported speed came from the class
        table (an OSM ``maxspeed`` is kept); the lowest over an edge's classes.
    max_speed_kph : float or None
        Never faster than this, km/h.
    against_oneway_factor : float or None
        Emergency rule, off (None) by default: a one-way street may be driven against, taking this
        many times its forward time.
    on_foot : bool
        Whether a caller on a street it cannot drive is reached on foot from the nearest point it can
        (:class:`OnFootAccess`); off for the car, whose answers stay as they were.
    """

    name: str
    forbidden_highways: frozenset[str] = NOT_FOR_CARS
    banned_by: tuple[str, ...] = ("motorcar", "motor_vehicle")
    permit_key: str | None = None
    forbidden_service: frozenset[str] = frozenset()
    min_width_m: float | None = None
    speeds_kph: Mapping[str, float] = field(default_factory=dict)
    max_speed_kph: float | None = None
    against_oneway_factor: float | None = None
    on_foot: bool = False

    @property
    def keeps_imported_times(self) -> bool:
        """True when every allowed edge keeps its imported travel time (no table, no cap)."""
        return not self.speeds_kph and self.max_speed_kph is None


# A large engine (10-16 t) is slower than a car where the street is small or crowded.
FIRE_ENGINE_SPEEDS_KPH = {
    "tertiary": 35.0, "tertiary_link": 25.0, "unclassified": 25.0, "residential": 25.0, "road": 25.0,
    "living_street": 10.0, "service": 10.0,
}  # fmt: skip
# A motorbike keeps its speed in gang and on the tracks and paths open to it.
MOTORBIKE_SPEEDS_KPH = {
    "residential": 30.0, "unclassified": 30.0, "living_street": 20.0, "service": 20.0,
    "track": 20.0, "path": 15.0, "footway": 12.0, "pedestrian": 12.0,
}  # fmt: skip


def vehicle_profile(
    name: str, *, fire_engine_min_width_m: float = 3.0, against_oneway_factor: float | None = None
) -> VehicleProfile:
    """The named profile with a deployment's options.

    Parameters
    ----------
    name : str
        One of :data:`PROFILE_NAMES`.
    fire_engine_min_width_m : float
        Narrowest way (``width``/``maxwidth``) a fire engine takes, metres.
    against_oneway_factor : float or None
        The emergency rule for this profile (see :class:`VehicleProfile`); None keeps it off.

    Raises
    ------
    ValueError
        An unknown name, or a factor that is not a finite number >= 1.
    """
    if against_oneway_factor is not None and not 1.0 <= against_oneway_factor < float("inf"):
        raise ValueError(f"against_oneway_factor must be a number >= 1, got {against_oneway_factor!r}")
    if name == CAR:
        profile = VehicleProfile(CAR)
    elif name == FIRE_ENGINE:
        profile = VehicleProfile(
            FIRE_ENGINE,
            banned_by=("motorcar", "motor_vehicle", "access"),
            forbidden_service=frozenset({"alley", "driveway", "parking_aisle"}),
            min_width_m=fire_engine_min_width_m,
            speeds_kph=FIRE_ENGINE_SPEEDS_KPH,
            max_speed_kph=60.0,
            on_foot=True,
        )
    elif name == MOTORBIKE:
        profile = VehicleProfile(
            MOTORBIKE,
            banned_by=("motorcycle", "motor_vehicle"),
            permit_key="motorcycle",
            speeds_kph=MOTORBIKE_SPEEDS_KPH,
            on_foot=True,
        )
    else:
        raise ValueError(f"unknown vehicle profile {name!r}; known: {', '.join(PROFILE_NAMES)}")
    return replace(profile, against_oneway_factor=against_oneway_factor)


def _values(tags: Mapping[str, object], key: str) -> set[str]:
    """The values of a tag, split where the importer joined several ways' values with ``;``."""
    value = tags.get(key)
    if value in (None, ""):
        return set()
    return {part.strip().lower() for part in str(value).split(";") if part.strip()}


def width_m(value: object) -> float | None:
    """Parse an OSM ``width``/``maxwidth``: ``"3"``, ``"2.5 m"``, ``"2,5"``, ``"7'6\\""``; the least of ``a;b``.

    Returns None for no tag or one that is not a length (``"default"``, ``"narrow"``).
    """
    if value in (None, ""):
        return None
    found = []
    for part in str(value).split(";"):
        if match := _NUMBER.match(part):
            found.append(float(match.group(1).replace(",", ".")))
        elif match := _FEET.match(part):
            found.append((int(match.group(1)) * 12 + int(match.group(2) or 0)) * 0.0254)
    return min(found) if found else None


def edge_allowed(profile: VehicleProfile, highway: str | None, tags: Mapping[str, object]) -> bool:
    """Whether ``profile`` may drive an edge of class ``highway`` (``a;b`` when merged) with these tags.

    A merged edge (several OSM ways) is forbidden when any of its ways' tags forbids it.
    """
    classes = {c.strip() for c in (highway or "").split(";") if c.strip()}
    if "steps" in classes:
        return False
    permitted = profile.permit_key is not None and bool(_values(tags, profile.permit_key) & _YES)
    if not permitted and any(_values(tags, key) & _NO for key in profile.banned_by):
        return False
    if profile.permit_key is not None and _values(tags, profile.permit_key) & _NO:
        return False
    if not permitted and classes & profile.forbidden_highways:
        return False
    if _values(tags, "service") & profile.forbidden_service:
        return False
    if profile.min_width_m is not None:
        widths = [w for w in (width_m(tags.get("width")), width_m(tags.get("maxwidth"))) if w is not None]
        if widths and min(widths) < profile.min_width_m:
            return False
    return True


def edge_speed_kph(profile: VehicleProfile, highway: str | None, imported_kph: float, speed_source: str) -> float:
    """The profile's speed on an edge, km/h, from the imported one and where it came from (``maxspeed``/table)."""
    speed = imported_kph
    if speed_source != "maxspeed":
        known = [profile.speeds_kph[c] for c in (highway or "").split(";") if c in profile.speeds_kph]
        speed = min(known) if known else speed
    if profile.max_speed_kph is not None:
        speed = min(speed, profile.max_speed_kph)
    return speed


@dataclass(frozen=True, eq=False)
class EdgeAttributes:
    """What the profiles read of each edge, in the graph's edge order.

    Attributes
    ----------
    tags : sequence of mapping
        The kept OSM tags (:data:`ROAD_TAG_KEYS`) of each edge; ``{}`` where none were kept.
    speed_kph : ndarray, shape (E,)
        The imported speed, km/h.
    speed_source : sequence of str
        ``maxspeed``, ``table`` or ``fallback``.
    """

    tags: Sequence[Mapping[str, object]]
    speed_kph: np.ndarray
    speed_source: Sequence[str]

    @classmethod
    def untagged(cls, graph: RoadGraph) -> EdgeAttributes:
        """No tags, speeds taken from the graph's times (a network imported before tags were kept)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(graph.edge_travel_time_s > 0, graph.edge_length_m / graph.edge_travel_time_s * 3.6, 30.0)
        return cls(tags=[{}] * graph.n_edges, speed_kph=speed, speed_source=["table"] * graph.n_edges)


def allowed_edges(graph: RoadGraph, attributes: EdgeAttributes, profile: VehicleProfile) -> np.ndarray:
    """Boolean mask, shape (E,): the edges ``profile`` may drive."""
    if len(attributes.tags) != graph.n_edges:
        raise ValueError(f"{len(attributes.tags)} edge attributes for {graph.n_edges} edges")
    return np.fromiter(
        (edge_allowed(profile, graph.edge_highway[i], attributes.tags[i]) for i in range(graph.n_edges)),
        dtype=bool,
        count=graph.n_edges,
    )


def profile_travel_times_s(graph: RoadGraph, attributes: EdgeAttributes, profile: VehicleProfile) -> np.ndarray:
    """Seconds to drive each edge in ``profile`` (every edge, allowed or not), shape (E,)."""
    if profile.keeps_imported_times:
        return graph.edge_travel_time_s
    speed = np.array(
        [
            edge_speed_kph(profile, graph.edge_highway[i], float(attributes.speed_kph[i]), attributes.speed_source[i])
            for i in range(graph.n_edges)
        ],
        dtype=np.float64,
    )
    times_s: np.ndarray = graph.edge_length_m / (speed / 3.6)
    return times_s


def profile_graph(graph: RoadGraph, attributes: EdgeAttributes, profile: VehicleProfile) -> RoadGraph:
    """The network as ``profile`` drives it: same nodes in the same order, forbidden edges removed.

    Parameters
    ----------
    graph : RoadGraph
        The whole network as imported; left unchanged (and returned as is when the profile drives
        all of it at the imported times with no emergency rule: the car's usual case).
    attributes : EdgeAttributes
        The edges' kept tags and imported speeds.
    profile : VehicleProfile

    Returns
    -------
    RoadGraph
        Allowed edges in their original order with the profile's travel times, ``edge_db_id``
        carried through; with ``against_oneway_factor``, a reversed copy of each allowed one-way edge
        appended (same ``edge_db_id``) at ``factor`` times its time.

    Raises
    ------
    ValueError
        The profile may drive no edge at all.
    """
    allowed = allowed_edges(graph, attributes, profile)
    times_s = profile_travel_times_s(graph, attributes, profile)
    if allowed.all() and profile.against_oneway_factor is None and times_s is graph.edge_travel_time_s:
        return graph
    keep = np.flatnonzero(allowed)
    if not len(keep):
        raise ValueError(f"the {profile.name} profile may drive no edge of this network")
    source, target = graph.edge_source[keep], graph.edge_target[keep]
    geometry, time_s = graph.edge_geometry_m[keep], times_s[keep]
    extra = np.array([], dtype=np.int64)
    if profile.against_oneway_factor is not None:
        extra = keep[graph.edge_twin[keep] < 0]
        extra = extra[graph.edge_source[extra] != graph.edge_target[extra]]
        source, target = (
            np.concatenate([source, graph.edge_target[extra]]),
            np.concatenate([target, graph.edge_source[extra]]),
        )
        geometry = np.concatenate([geometry, shapely.reverse(graph.edge_geometry_m[extra])])
        time_s = np.concatenate([time_s, times_s[extra] * profile.against_oneway_factor])
    order = np.concatenate([keep, extra])
    return road_graph_from_arrays(
        edge_source=source.astype(np.int64),
        edge_target=target.astype(np.int64),
        edge_travel_time_s=time_s,
        edge_length_m=graph.edge_length_m[order],
        metric_crs=graph.metric_crs,
        node_xy_m=graph.node_xy_m,
        edge_geometry_m=geometry,
        edge_name=[graph.edge_name[i] for i in order],
        edge_highway=[graph.edge_highway[i] for i in order],
        node_osm_id=graph.node_osm_id,
        node_db_id=graph.node_db_id,
        edge_db_id=None if graph.edge_db_id is None else graph.edge_db_id[order],
        reorder_nodes=False,
    )


@dataclass(frozen=True, eq=False)
class FootStop:
    """Where a vehicle stops for a caller it cannot drive to, and the walk (or hose lay) from there.

    Attributes
    ----------
    lonlat : tuple of float
        The stop, on a road the profile may drive, EPSG:4326.
    on_foot_m : float
        Walking distance from the stop to the caller, metres.
    """

    lonlat: tuple[float, float]
    on_foot_m: float


class OnFootAccess:
    """The last stretch on foot, for a profile that cannot drive every street of the network.

    Parameters
    ----------
    graph : RoadGraph
        The whole network as imported (every street may be walked).
    allowed : ndarray of bool, shape (E,)
        The edges of ``graph`` the profile may drive (:func:`allowed_edges`).
    speed_kph : float
        Walking (or hose-laying) speed, km/h.
    max_on_foot_m : float
        Farthest walk searched along the streets, metres.
    """

    def __init__(self, graph: RoadGraph, allowed: np.ndarray, *, speed_kph: float, max_on_foot_m: float):
        if not speed_kph > 0 or not max_on_foot_m >= 0:
            raise ValueError("speed_kph must be > 0 and max_on_foot_m >= 0")
        if len(allowed) != graph.n_edges:
            raise ValueError(f"{len(allowed)} allowed flags for {graph.n_edges} edges")
        self.graph = graph
        self.allowed = np.asarray(allowed, dtype=bool)
        self.speed_mps = speed_kph / 3.6
        self.max_on_foot_m = max_on_foot_m
        stop = np.zeros(graph.n_nodes, dtype=bool)
        stop[graph.edge_source[self.allowed]] = True
        stop[graph.edge_target[self.allowed]] = True
        self._stop_nodes = np.flatnonzero(stop)
        # Walking ignores one-way: undirected lengths, the shortest of parallel edges.
        a = np.minimum(graph.edge_source, graph.edge_target).astype(np.int64)
        b = np.maximum(graph.edge_source, graph.edge_target).astype(np.int64)
        order = np.lexsort((graph.edge_length_m, b, a))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
        pick = order[first]
        pick = pick[a[pick] != b[pick]]
        self._walk = csr_matrix(
            (np.maximum(graph.edge_length_m[pick], 1e-9), (a[pick], b[pick])), shape=(graph.n_nodes, graph.n_nodes)
        )

    def stop_for(
        self,
        *,
        edge: int,
        fraction: float,
        offset_m: float,
        straight_stop_lonlat: tuple[float, float],
        straight_m: float,
    ) -> FootStop | None:
        """The stop for a caller on edge ``edge`` of the whole network, or None when the profile may drive it.

        Parameters
        ----------
        edge, fraction, offset_m
            The caller snapped to the whole network: edge index, position along it, distance to it (m).
        straight_stop_lonlat, straight_m
            The nearest point of a road the profile may drive (EPSG:4326) and the straight distance to
            it, metres: the walk when the streets offer none shorter.

        Returns
        -------
        FootStop or None
            The stop with the shorter walk: along the streets to the nearest node of an allowed road,
            or straight to the nearest allowed road.
        """
        if self.allowed[edge]:
            return None
        best = FootStop(straight_stop_lonlat, straight_m)
        if not len(self._stop_nodes):
            return best
        length_m = float(self.graph.edge_length_m[edge])
        ends = [int(self.graph.edge_source[edge]), int(self.graph.edge_target[edge])]
        lead_m = np.array([fraction * length_m, (1.0 - fraction) * length_m]) + offset_m
        dist_m = dijkstra(self._walk, directed=False, indices=ends, limit=self.max_on_foot_m)
        walk_m = (dist_m[:, self._stop_nodes] + lead_m[:, None]).min(axis=0)
        at = int(np.argmin(walk_m))
        if walk_m[at] < best.on_foot_m:
            node = int(self._stop_nodes[at])
            lon, lat = self.graph.node_lonlat[node]
            best = FootStop((float(lon), float(lat)), float(walk_m[at]))
        return best
