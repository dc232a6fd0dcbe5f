"""Fleet rows for tests: small helpers that build valid rows through ``full_clean()``.

Every helper takes keyword-only arguments and fills the rest with valid defaults, so a test names only
what it is about. Import them (``from factories.fleet import make_unit``) or use the ``fleet`` fixture.
"""

from __future__ import annotations

import itertools
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.gis.geos import Point
from django.utils import timezone

from factories.gis_core import make_region
from fleet.models import (
    Agency,
    AgencyKind,
    Capability,
    Device,
    PositionFix,
    Station,
    StationKind,
    Unit,
    UnitStatus,
    UnitType,
)
from incidents.models import Channel, Incident, IncidentType, IncidentTypeNeed

_seq = itertools.count(1)

# Kota Jambi city centre near the Batanghari riverfront (lon, lat), inside the 15.71 boundary.
JAMBI_CENTRE = (103.6131, -1.5913)


def _point(lonlat: tuple[float, float] | Point | None) -> Point | None:
    if lonlat is None or isinstance(lonlat, Point):
        return lonlat
    lon, lat = lonlat
    return Point(float(lon), float(lat), srid=4326)


def _saved(obj):
    obj.full_clean()
    obj.save()
    return obj


def make_capability(*, code: str, name: str | None = None) -> Capability:
    """The capability with this code, created if missing."""
    found = Capability.objects.filter(code=code).first()
    return found or _saved(Capability(code=code, name=name or code.replace("_", " ")))


def make_agency(
    *,
    region=None,
    code: str | None = None,
    name: str | None = None,
    kind: str = AgencyKind.EMS,
    response_target_s: int | None = 900,
    is_demo: bool = False,
    **handoff_fields,
) -> Agency:
    """An agency; ``region`` defaults to a Kota Jambi region (created if missing).

    ``handoff_fields``: ``duty_whatsapp``, ``handoff_webhook_url``, ``handoff_webhook_secret``.
    """
    if region is None:
        from gis_core.models import Region

        region = Region.objects.filter(code="15.71").first() or make_region()
    n = next(_seq)
    code = code or f"agency-{n}"
    return _saved(
        Agency(
            region=region,
            code=code,
            name=name or f"Agency {code}",
            kind=kind,
            response_target_s=response_target_s,
            is_demo=is_demo,
            **handoff_fields,
        )
    )


def make_station(
    *,
    agency: Agency | None = None,
    code: str | None = None,
    name: str | None = None,
    kind: str = StationKind.STANDBY,
    geom: tuple[float, float] | Point = JAMBI_CENTRE,
    facility=None,
) -> Station:
    """A station (a Point, lon/lat in EPSG:4326)."""
    agency = agency or make_agency()
    code = code or f"station-{next(_seq)}"
    return _saved(
        Station(
            agency=agency, code=code, name=name or f"Station {code}", kind=kind, geom=_point(geom), facility=facility
        )
    )


def make_unit_type(
    *, code: str | None = None, name: str | None = None, capabilities: list[str] = (), routing_profile: str = "car"
) -> UnitType:
    """A unit type with these capability codes (each created if missing), routed with ``routing_profile``."""
    code = code or f"type-{next(_seq)}"
    unit_type = _saved(UnitType(code=code, name=name or f"Type {code}", routing_profile=routing_profile))
    unit_type.capabilities.set([make_capability(code=c) for c in capabilities])
    return unit_type


def make_unit(
    *,
    agency: Agency | None = None,
    call_sign: str | None = None,
    unit_type: UnitType | None = None,
    capabilities: list[str] = ("als",),
    home_station: Station | None = None,
    status: str = UnitStatus.AVAILABLE,
    is_demo: bool = False,
    crew_whatsapp: str = "",
) -> Unit:
    """A unit; without ``unit_type`` a fresh type with ``capabilities`` is made."""
    agency = agency or (home_station.agency if home_station is not None else make_agency())
    unit_type = unit_type or make_unit_type(capabilities=list(capabilities))
    call_sign = call_sign or f"UNIT-{next(_seq)}"
    return _saved(
        Unit(
            agency=agency,
            call_sign=call_sign,
            unit_type=unit_type,
            home_station=home_station,
            status=status,
            is_demo=is_demo,
            crew_whatsapp=crew_whatsapp,
        )
    )


def make_device(
    *, unit: Unit | None = None, identifier: str | None = None, secret: str = "s3cret", fast_hash: bool = True
) -> Device:
    """A device bound to ``unit`` whose secret is ``secret`` (only its hash is stored).

    ``fast_hash`` uses the device-token hasher of ``fleet.services.devices`` (salted SHA-256, what
    ``device_create`` stores); False uses the project's password hasher (PBKDF2, ~0.5 s), which
    ``device_authenticate`` accepts too.
    """
    from fleet.services.devices import secret_hash

    unit = unit or make_unit()
    identifier = identifier or f"dev-{next(_seq)}"
    token_hash = secret_hash(secret) if fast_hash else make_password(secret)
    return _saved(Device(unit=unit, identifier=identifier, token_hash=token_hash))


def make_fix(
    *,
    unit: Unit,
    geom: tuple[float, float] | Point,
    recorded_at: datetime | None = None,
    is_valid: bool = True,
    set_last: bool = True,
    protocol: str = "test",
) -> PositionFix:
    """A stored fix for ``unit``; by default also made the unit's last known position.

    This bypasses the ingest service on purpose: dispatch tests need a unit *at* a position,
    not the validation rules (those are tested with the ingest code). A fix given a ``recorded_at``
    is received then too, as a valid fix from ingest is (``fleet.selectors.positions.received_window``).
    """
    point = _point(geom)
    fix = _saved(
        PositionFix(
            unit=unit,
            protocol=protocol,
            recorded_at=recorded_at or timezone.now(),
            lon=point.x,
            lat=point.y,
            geom=point,
            is_valid=is_valid,
        )
    )
    if recorded_at is not None:
        PositionFix.objects.filter(pk=fix.pk).update(received_at=recorded_at)
        fix.received_at = recorded_at
    if set_last and is_valid:
        unit.last_fix = fix
        unit.save(update_fields=["last_fix"])
    return fix


def make_incident_type(
    *,
    code: str | None = None,
    name: str | None = None,
    category: str = "other",
    needs: list[tuple[str, str, int]] = (),
    default_priority: int = 2,
) -> IncidentType:
    """An incident type with ``needs`` given as (agency_kind, capability code, count) tuples."""
    code = code or f"itype-{next(_seq)}"
    itype = _saved(
        IncidentType(code=code, name=name or f"Type {code}", category=category, default_priority=default_priority)
    )
    for agency_kind, capability, count in needs:
        _saved(
            IncidentTypeNeed(
                incident_type=itype, agency_kind=agency_kind, capability=make_capability(code=capability), count=count
            )
        )
    return itype


def make_incident(
    *,
    region=None,
    geom: tuple[float, float] | Point | None = JAMBI_CENTRE,
    incident_type: IncidentType | None = None,
    reference: str | None = None,
    channel: str = Channel.PHONE,
    received_at: datetime | None = None,
    **fields,
) -> Incident:
    """A report at ``geom`` (lon, lat); ``fields`` go straight to the model (priority, status, ...)."""
    if region is None:
        from gis_core.models import Region

        region = Region.objects.filter(code="15.71").first() or make_region()
    reference = reference or f"TST-{next(_seq):06d}"
    return _saved(
        Incident(
            region=region,
            reference=reference,
            channel=channel,
            geom=_point(geom),
            incident_type=incident_type,
            received_at=received_at or timezone.now(),
            **fields,
        )
    )
