"""load_demo_fleet: the Kota Jambi demo fleet from fixtures/, labelled demo, idempotent, needing load_demo first."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from fleet.models import Agency, Capability, Device, Station, Unit, UnitType
from fleet.services.demo_fleet import JAMBI_FLEET_PATH, DemoFleetError, capabilities_load, demo_fleet_load
from fleet.services.devices import device_authenticate
from incidents.models import IncidentType

pytestmark = pytest.mark.django_db


@pytest.fixture
def jambi_loaded(data_dir):
    call_command("load_demo")


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Capability, UnitType, Agency, Station, Unit, Device))


def test_loads_the_demo_fleet_labelled_demo_and_idempotent(jambi_loaded, capsys) -> None:
    call_command("load_demo_fleet")
    # fixtures/capabilities.json: 10 capabilities, 11 unit types; demo_fleet_jambi.json: 7 agencies,
    # 11 stations, 16 units (3 PSC 119, 5 Damkar, 2 BPBD, 3 police, 1 each Satpol PP, Dinsos, DLHP), 16 devices.
    assert _counts() == (10, 11, 7, 11, 16, 16)
    n_types = IncidentType.objects.count()
    assert n_types > 0, "the incident-type table is loaded between capabilities and the fleet"
    for model in (Agency, Station, Unit):
        assert not model.objects.filter(is_demo=False).exists()
    assert all("(demo" in name for name in Agency.objects.values_list("name", flat=True))
    assert all("(demo" in name for name in Station.objects.values_list("name", flat=True))
    psc = Agency.objects.get(code="psc119")
    assert (psc.kind, psc.response_target_s) == ("ems", 900)
    assert psc.units.count() == 3  # the 3 PSC 119 ambulances the city reports
    assert Agency.objects.get(code="damkar").response_target_s == 900  # SPM: 15 minutes for fire
    hq = Station.objects.get(agency__code="damkar", code="mako")
    # jambi/fire_station_jambi_unverified.csv: lat -1.619313, lon 103.595769.
    assert (hq.geom.x, hq.geom.y) == (103.595769, -1.619313)
    assert "unverified" in hq.name
    assert set(Unit.objects.filter(home_station=hq).values_list("unit_type__code", flat=True)) == {
        "fire_engine",
        "water_tanker",
        "rescue_vehicle",
    }
    # The engines and the tanker are routed as large fire engines; the PSC 119 ambulances as cars.
    profiles = dict(Unit.objects.values_list("call_sign", "unit_type__routing_profile"))
    assert (profiles["DAMKAR-E1"], profiles["DAMKAR-T1"], profiles["PSC119-01"]) == (
        "fire_engine",
        "fire_engine",
        "car",
    )
    mattaher = Station.objects.get(agency=psc, code="rsud-raden-mattaher")
    assert mattaher.facility is not None
    assert mattaher.facility.name == "RSUD Raden Mattaher Jambi"
    assert hq.facility is not None
    assert hq.facility.kind == "fire_station"
    capsys.readouterr()

    call_command("load_demo_fleet")
    assert _counts() == (10, 11, 7, 11, 16, 16)
    assert IncidentType.objects.count() == n_types
    out = capsys.readouterr().out
    assert "units: 0 created, 0 updated, 16 unchanged" in out
    assert "devices: 0 created, 0 updated, 16 unchanged" in out


def test_demo_devices_authenticate_with_the_documented_secret_and_store_only_hashes(jambi_loaded) -> None:
    call_command("load_demo_fleet")
    spec = json.loads(JAMBI_FLEET_PATH.read_text())
    unit_spec = spec["agencies"][0]["units"][0]
    secret = unit_spec["device"]["secret"]
    device = device_authenticate(identifier=unit_spec["device"]["identifier"], secret=secret)
    assert device.unit.call_sign == unit_spec["call_sign"]
    assert secret not in device.token_hash
    assert all(d.unit.devices.count() == 1 for d in Device.objects.select_related("unit"))


def test_existing_device_keeps_a_rotated_secret_unless_reset(jambi_loaded) -> None:
    from fleet.services.devices import device_secret_rotate

    call_command("load_demo_fleet")
    device = Device.objects.get(identifier="demo-damkar-e1")
    new = device_secret_rotate(device=device)
    call_command("load_demo_fleet")
    assert device_authenticate(identifier="demo-damkar-e1", secret=new) == device
    call_command("load_demo_fleet", "--reset-secrets")
    assert device_authenticate(identifier="demo-damkar-e1", secret="demo-secret-damkar-e1") == device


def test_without_the_region_the_command_says_to_run_load_demo(db) -> None:
    with pytest.raises(CommandError, match=r"run manage\.py load_demo kota-jambi first"):
        call_command("load_demo_fleet")
    assert not Unit.objects.exists()


def test_a_wrong_entry_writes_nothing(jambi_loaded, tmp_path) -> None:
    capabilities_load()
    spec = json.loads(JAMBI_FLEET_PATH.read_text())
    spec["agencies"][1]["units"][0]["unit_type"] = "hovercraft"
    spec["agencies"][2]["stations"][0]["lonlat"] = [-1.6, 103.62, 0]
    bad = tmp_path / "fleet.json"
    bad.write_text(json.dumps(spec))
    with pytest.raises(DemoFleetError) as info:
        demo_fleet_load(path=bad)
    assert "unknown unit type 'hovercraft'" in str(info.value)
    assert "lonlat must be [lon, lat]" in str(info.value)
    assert not Agency.objects.exists()


def test_fleet_before_capabilities_is_refused(jambi_loaded) -> None:
    with pytest.raises(DemoFleetError, match=r"load fixtures/capabilities\.json first"):
        demo_fleet_load()


def test_capabilities_match_the_incident_type_table() -> None:
    # Every capability the incident-type table needs exists in fixtures/capabilities.json.
    caps = {c["code"] for c in json.loads((JAMBI_FLEET_PATH.parent / "capabilities.json").read_text())["capabilities"]}
    types_path = JAMBI_FLEET_PATH.parent / "incident_types.json"
    if not types_path.exists():
        pytest.fail(f"{types_path} is missing (it comes with the incident-type table)")
    needed = {n["capability"] for t in json.loads(types_path.read_text())["types"] for n in t["needs"]}
    assert needed <= caps, needed - caps
