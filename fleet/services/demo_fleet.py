"""Capabilities, unit types and a region's demo fleet, loaded from ``fixtures/``; re-running changes nothing.

``capabilities_load`` reads ``fixtures/capabilities.json`` (shared by every region), ``demo_fleet_load``
a region's demo fleet (``fixtures/demo_fleet_jambi.json``): agencies, stations, units and one device
per unit. Rows are matched on their natural keys (capability and unit-type code; agency code per
region; station code per agency; call sign per agency; device identifier). The whole file is checked
first and nothing is written when any entry is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction

from fleet.models import Agency, Capability, Device, RoutingProfile, Station, Unit, UnitType
from fleet.services.devices import secret_hash
from gis_core.models import Facility, Region

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CAPABILITIES_PATH = FIXTURES / "capabilities.json"
JAMBI_FLEET_PATH = FIXTURES / "demo_fleet_jambi.json"


class DemoFleetError(Exception):
    """The fixture is wrong, or what it needs (the region, capabilities) is not loaded."""


@dataclass
class LoadSummary:
    """What a load did, per kind of row: codes created, updated and left unchanged."""

    name: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, state: str) -> None:
        per_kind = self.counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})
        per_kind[state] += 1

    def lines(self) -> list[str]:
        out = [
            f"{self.name}: {kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for kind, c in self.counts.items()
        ]
        return out + [f"{self.name}: {note}" for note in self.notes]


def _read(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise DemoFleetError(f"{path} not found") from exc
    except json.JSONDecodeError as exc:
        raise DemoFleetError(f"{path} is not valid JSON: {exc}") from exc


def _upsert(model, lookup: dict, values: dict, summary: LoadSummary, kind: str):
    """Create or update one row through ``full_clean()``; count what happened."""
    obj = model.objects.filter(**lookup).first()
    state = "created" if obj is None else "unchanged"
    if obj is None:
        obj = model(**lookup, **values)
    for name, value in values.items():
        if state == "unchanged" and getattr(obj, name) != value:
            setattr(obj, name, value)
            state = "updated"
        elif state == "updated":
            setattr(obj, name, value)
    if state != "unchanged":
        try:
            obj.full_clean()
        except ValidationError as exc:
            raise DemoFleetError(f"{kind} {lookup}: {exc.messages}") from exc
        obj.save()
    summary.count(kind, state)
    return obj


def _names(entry: dict) -> dict:
    """A table row's names: ``name`` (English) and ``name_id`` (Bahasa Indonesia, empty when not given)."""
    return {"name": entry["name"], "name_id": str(entry.get("name_id") or "").strip()}


def capabilities_load(*, path: Path | str = CAPABILITIES_PATH) -> LoadSummary:
    """Create or update capabilities and unit types (a type's capabilities become the file's list).

    Parameters
    ----------
    path
        ``{"capabilities": [{"code", "name", "name_id"}], "unit_types": [{"code", "name", "name_id",
        "capabilities": [code], "routing_profile"?}]}``; ``name`` is English, ``name_id`` Bahasa Indonesia
        (optional); ``routing_profile`` ``car`` (the default), ``fire_engine`` or ``motorbike``.
    """
    data = _read(Path(path))
    caps = data.get("capabilities") or []
    types = data.get("unit_types") or []
    codes = {c.get("code") for c in caps}
    errors = [f"unit type {t.get('code')!r}: unknown capability {c!r}" for t in types for c in t.get("capabilities", [])
              if c not in codes]  # fmt: skip
    if errors:
        raise DemoFleetError(f"{path}: " + "; ".join(errors))
    summary = LoadSummary("capabilities")
    with transaction.atomic():
        by_code = {c["code"]: _upsert(Capability, {"code": c["code"]}, _names(c), summary, "capabilities")
                   for c in caps}  # fmt: skip
        for t in types:
            values = {**_names(t), "routing_profile": t.get("routing_profile") or RoutingProfile.CAR}
            unit_type = _upsert(UnitType, {"code": t["code"]}, values, summary, "unit types")
            wanted = {by_code[c].pk for c in t["capabilities"]}
            if set(unit_type.capabilities.values_list("pk", flat=True)) != wanted:
                unit_type.capabilities.set(wanted)
    return summary


def demo_fleet_load(
    *, path: Path | str = JAMBI_FLEET_PATH, region: Region | None = None, reset_secrets: bool = False
) -> LoadSummary:
    """Create or update a region's demo agencies, stations, units and devices.

    Parameters
    ----------
    path
        The fleet file (see ``fixtures/demo_fleet_jambi.json``; points are [lon, lat], EPSG:4326).
    region
        The region to load into; by default the one the file names (its slug), which must exist.
    reset_secrets
        Set each existing device's secret back to the file's demo secret (new devices always get it).

    Raises
    ------
    DemoFleetError
        The region is not loaded, the capabilities are missing, or an entry is wrong.
    """
    path = Path(path)
    data = _read(path)
    if region is None:
        region = Region.objects.filter(slug=data.get("region")).first()
        if region is None:
            raise DemoFleetError(
                f"region {data.get('region')!r} is not loaded; run manage.py load_demo {data.get('region') or ''} first"
            )
    unit_types = {t.code: t for t in UnitType.objects.all()}
    _check(path, data, unit_types)
    facilities = {f.ref: f for f in Facility.objects.filter(region=region)}
    summary = LoadSummary(f"demo fleet {region.slug}")
    with transaction.atomic():
        for a in data["agencies"]:
            agency = _upsert(Agency, {"region": region, "code": a["code"]},
                             {"name": a["name"], "kind": a["kind"], "response_target_s": a.get("response_target_s"),
                              "is_demo": True}, summary, "agencies")  # fmt: skip
            stations = {s["code"]: _station(agency, s, facilities, summary) for s in a.get("stations", [])}
            for u in a.get("units", []):
                values = {"unit_type": unit_types[u["unit_type"]], "home_station": stations.get(u.get("home_station")),
                          "is_demo": True}  # fmt: skip
                unit = _upsert(Unit, {"agency": agency, "call_sign": u["call_sign"]}, values, summary, "units")
                if u.get("device"):
                    _device(unit, u["device"], summary, reset_secrets=reset_secrets)
    return summary


def _check(path: Path, data: dict, unit_types: dict[str, UnitType]) -> None:
    errors = []
    if not unit_types:
        raise DemoFleetError("no unit types loaded: load fixtures/capabilities.json first (capabilities_load)")
    for a in data.get("agencies") or []:
        station_codes = {s.get("code") for s in a.get("stations", [])}
        for s in a.get("stations", []):
            lonlat = s.get("lonlat")
            if not (
                isinstance(lonlat, list) and len(lonlat) == 2 and -180 <= lonlat[0] <= 180 and -90 <= lonlat[1] <= 90
            ):
                errors.append(f"station {a.get('code')}/{s.get('code')}: lonlat must be [lon, lat], got {lonlat!r}")
        for u in a.get("units", []):
            if u.get("unit_type") not in unit_types:
                errors.append(f"unit {u.get('call_sign')}: unknown unit type {u.get('unit_type')!r}")
            if u.get("home_station") and u["home_station"] not in station_codes:
                errors.append(f"unit {u.get('call_sign')}: no station {u['home_station']!r} in agency {a.get('code')}")
            device = u.get("device") or {}
            if device and not (device.get("identifier") and device.get("secret")):
                errors.append(f"unit {u.get('call_sign')}: a device needs an identifier and a secret")
    if not data.get("agencies"):
        errors.append("no agencies")
    if errors:
        raise DemoFleetError(f"{path}: " + "; ".join(errors))


def _station(agency: Agency, s: dict, facilities: dict[str, Facility], summary: LoadSummary) -> Station:
    ref = s.get("facility_ref")
    facility = facilities.get(ref) if isinstance(ref, str) and ref else None
    if s.get("facility_ref") and facility is None:
        summary.notes.append(f"station {agency.code}/{s['code']}: facility {s['facility_ref']} not loaded, not linked")
    lon, lat = s["lonlat"]
    station = Station.objects.filter(agency=agency, code=s["code"]).first()
    values = {"name": s["name"], "kind": s["kind"], "facility": facility, "is_demo": True}
    # Compare the point by value; a GEOS object never equals a freshly built one by identity.
    if station is None or (station.geom.x, station.geom.y) != (float(lon), float(lat)):
        values["geom"] = Point(float(lon), float(lat), srid=4326)
    return _upsert(Station, {"agency": agency, "code": s["code"]}, values, summary, "stations")


def _device(unit: Unit, spec: dict, summary: LoadSummary, *, reset_secrets: bool) -> Device:
    device = Device.objects.filter(identifier=spec["identifier"]).first()
    values: dict = {"unit": unit}
    if device is None or reset_secrets:
        values["token_hash"] = _secret_hash(spec["secret"])
    return _upsert(Device, {"identifier": spec["identifier"]}, values, summary, "devices")


def _secret_hash(secret: str) -> str:
    """The device-secret hash ``fleet.services.devices`` verifies (salted SHA-256 for tokens)."""
    return secret_hash(secret)
