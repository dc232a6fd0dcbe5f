"""Versions of units and reports: they only grow, whoever writes, and REST and live messages show the same one.

A console applies a live message only when its version is higher than the one it shows
(``incidents/static/incidents/live_versions.js``); these tests hold the server to its half of that: every
change raises the version, in the transaction of the change, and the value the application writes is ignored.
The browser's half, with two servers and messages out of order, is in tests/console/test_console_e2e.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_device, make_incident, make_unit
from factories.gis_core import make_region

from fleet.actors import SYSTEM
from fleet.ingest.fix import CanonicalFix
from fleet.models import Unit, UnitStatus
from fleet.services.positions import position_record
from incidents.live.messages import incident_message, unit_message
from incidents.models import Incident
from incidents.services.dispatch import assignment_eta_refresh, dispatch_assign
from incidents.services.handoffs import handoff_create
from incidents.services.incidents import location_offer_create
from incidents.services.status import unit_status_set

CENTRE = (103.6131, -1.5913)  # Kota Jambi (lon, lat), inside the test region's kecamatan
RULE = Path(settings.BASE_DIR) / "incidents" / "static" / "incidents" / "live_versions.js"


def _unit_version(unit_id: int) -> int:
    return unit_message(unit_id, timezone.now())[1]["unit"]["version"]


def _incident_version(incident_id: int) -> int:
    return incident_message(incident_id, timezone.now())[1]["incident"]["version"]


@pytest.fixture
def jambi(db):
    return make_region()


@pytest.fixture
def unit(jambi):
    return make_unit(agency=make_agency(region=jambi), call_sign="AMB-07")


@pytest.mark.django_db
def test_every_change_of_a_unit_raises_the_version_rest_and_messages_show(client, jambi, unit) -> None:
    seen = [_unit_version(unit.pk)]
    unit_status_set(unit=unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=SYSTEM)
    seen.append(_unit_version(unit.pk))
    unit_status_set(unit=unit, to_status=UnitStatus.AVAILABLE, actor=SYSTEM)
    seen.append(_unit_version(unit.pk))
    device = make_device(unit=unit)
    fix = CanonicalFix(device_identifier=device.identifier, lon=CENTRE[0], lat=CENTRE[1],
                       recorded_at=timezone.now() - timedelta(seconds=5))  # fmt: skip
    position_record(device=device, fixes=[fix], protocol="osmand")
    seen.append(_unit_version(unit.pk))
    incident = make_incident(region=jambi, geom=CENTRE)
    dispatch_assign(incident=incident, unit=Unit.objects.get(pk=unit.pk))
    seen.append(_unit_version(unit.pk))
    assignment_eta_refresh(unit=Unit.objects.get(pk=unit.pk))  # the ETA the unit's message shows
    seen.append(_unit_version(unit.pk))
    assert seen == sorted(set(seen)), f"a change left the version where it was, or lowered it: {seen}"

    client.force_login(make_user("versions-dispatcher", "dispatcher", regions=[jambi]))
    features = client.get(f"/api/units/?region={jambi.slug}").json()["features"]
    [rest] = [f["properties"] for f in features if f["id"] == unit.pk]
    assert rest["version"] == seen[-1]  # REST and the live message compare like with like


@pytest.mark.django_db
def test_every_change_of_a_report_raises_its_version_rest_and_messages_show(client, jambi, unit) -> None:
    incident = make_incident(region=jambi, geom=CENTRE)
    seen = [_incident_version(incident.pk)]
    dispatch_assign(incident=incident, unit=unit)
    seen.append(_incident_version(incident.pk))
    unit_status_set(unit=unit, to_status=UnitStatus.EN_ROUTE, actor=SYSTEM)  # the assignment's phase stamp only
    seen.append(_incident_version(incident.pk))
    location_offer_create(incident=incident, location=CENTRE, received_at=timezone.now())
    seen.append(_incident_version(incident.pk))
    handoff_create(incident=incident, agency=make_agency(region=jambi, code="polresta", kind="police"))
    seen.append(_incident_version(incident.pk))
    assert seen == sorted(set(seen)), f"a change left the version where it was, or lowered it: {seen}"

    client.force_login(make_user("versions-dispatcher", "dispatcher", regions=[jambi]))
    assert client.get(f"/api/incidents/{incident.pk}/").json()["version"] == seen[-1]
    queue = client.get(f"/api/incidents/?region={jambi.slug}").json()["features"]
    assert [f["properties"]["version"] for f in queue if f["id"] == incident.pk] == [seen[-1]]


@pytest.mark.django_db
def test_the_database_keeps_the_version_whatever_the_application_writes(jambi, unit) -> None:
    before = Unit.objects.get(pk=unit.pk).revision
    Unit.objects.filter(pk=unit.pk).update(revision=0)  # a stale or wrong value from a process
    unit.save()  # the in-memory instance still holds the version it was read with
    assert Unit.objects.get(pk=unit.pk).revision == before + 2
    incident = make_incident(region=jambi)
    Incident.objects.filter(pk=incident.pk).update(revision=-5, description="x")
    assert Incident.objects.get(pk=incident.pk).revision == incident.revision + 1


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_waited_for_the_row_counts_from_the_committed_version(jambi) -> None:
    """Two processes change one unit at once: the second waits for the first's row lock and then counts from what
    it committed, so neither version is lost or repeated."""
    unit = make_unit(agency=make_agency(region=jambi))
    start = Unit.objects.get(pk=unit.pk).revision
    waiting = threading.Event()
    second_done: list[int] = []

    def second_process() -> None:
        try:
            with transaction.atomic():
                waiting.set()
                Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.OUT_OF_SERVICE)  # blocks on the lock
                second_done.append(Unit.objects.get(pk=unit.pk).revision)
        finally:
            close_old_connections()
            connection.close()

    with transaction.atomic():
        Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.RETURNING)  # holds the row until commit
        thread = threading.Thread(target=second_process)
        thread.start()
        waiting.wait(5)
        thread.join(0.5)
        assert thread.is_alive(), "the second writer should wait for the first one's row lock"
        first = Unit.objects.get(pk=unit.pk).revision
    thread.join(10)
    assert (first, second_done) == (start + 1, [start + 2])


@pytest.mark.parametrize(
    ("candidate", "shown", "fresh_read", "applied"),
    [
        ({"version": 5}, {"version": 4}, False, True),  # a newer message
        ({"version": 4}, {"version": 5}, False, False),  # an older message after a newer one
        ({"version": 5}, {"version": 5}, False, False),  # the same message again
        ({"version": 5}, {"version": 5}, True, True),  # a fresh read of what is shown (a fix's age moved on)
        ({"version": 4}, {"version": 5}, True, False),  # a read that began before a newer message came
        ({"version": 1}, None, False, True),  # nothing shown yet
        ({"id": 3}, {"version": 5}, False, True),  # a server without versions: as before, the candidate
        (None, {"version": 5}, True, False),
    ],
)
def test_the_pages_version_rule(candidate, shown, fresh_read, applied) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the pages' version rule: scripts/setup.sh installs Debian's nodejs")
    arguments = ", ".join(json.dumps(value) for value in (candidate, shown, fresh_read))
    script = f"const {{ newer }} = require({json.dumps(str(RULE))});"
    script += f"process.stdout.write(JSON.stringify(newer({arguments})));"
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=20, check=True)
    assert json.loads(result.stdout) is applied
