"""Per-region incident types: a region's override of a shared type wins there; elsewhere the shared row holds.

Ambon sends a robbery to Polresta, Kodim and Satpol PP; Jambi keeps the shared table (the police alone).
Ambon does not take "forest fire" reports and answers a robbery at priority 1.
"""

from __future__ import annotations

import pytest
from django.test import Client
from factories.access import make_user
from factories.fleet import make_capability, make_incident, make_incident_type
from factories.gis_core import make_region
from rest_framework.test import APIClient

from incidents.models import RegionIncidentType, RegionIncidentTypeNeed
from incidents.selectors.incident_types import incident_type_needs, incident_types_for_region
from incidents.selectors.recommend import incident_needs

pytestmark = pytest.mark.django_db

AMBON_CENTRE = (128.1814, -3.6954)


@pytest.fixture
def table():
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    robbery = make_incident_type(code="robbery", category="security", needs=[("police", "patrol", 1)])
    forest = make_incident_type(code="forest_fire", category="fire", needs=[("fire", "fire_engine", 1)])
    override = RegionIncidentType.objects.create(region=ambon, incident_type=robbery, default_priority=1)
    for kind, capability, count in (("police", "patrol", 2), ("military", "patrol", 1), ("civil", "patrol", 1)):
        RegionIncidentTypeNeed.objects.create(
            override=override, agency_kind=kind, capability=make_capability(code=capability), count=count
        )
    RegionIncidentType.objects.create(region=ambon, incident_type=forest, offered=False)
    return {"jambi": jambi, "ambon": ambon, "robbery": robbery, "forest": forest}


def test_needs_come_from_the_regions_override_else_the_shared_table(table) -> None:
    robbery = table["robbery"]
    ambon = incident_needs(incident=make_incident(region=table["ambon"], geom=AMBON_CENTRE, incident_type=robbery))
    assert [(n.agency_kind, n.capability, n.count) for n in ambon] == [
        ("police", "patrol", 2), ("military", "patrol", 1), ("civil", "patrol", 1),
    ]  # fmt: skip
    jambi = incident_needs(incident=make_incident(region=table["jambi"], incident_type=robbery))
    assert [(n.agency_kind, n.capability, n.count) for n in jambi] == [("police", "patrol", 1)]
    # An override without needs of its own keeps the shared needs (it changes only what it names).
    forest = incident_type_needs(incident_type_id=table["forest"].pk, region_id=table["ambon"].pk)
    assert [(n.agency_kind, n.from_region) for n in forest] == [("fire", False)]


def test_the_regions_type_list_leaves_out_what_it_does_not_take_and_uses_its_priority(table) -> None:
    ambon = {t.code: t.default_priority for t in incident_types_for_region(region=table["ambon"])}
    jambi = {t.code: t.default_priority for t in incident_types_for_region(region=table["jambi"])}
    assert (ambon, jambi) == ({"robbery": 1}, {"forest_fire": 2, "robbery": 2})


def test_a_report_gets_the_regions_priority_and_a_type_it_does_not_take_is_refused(table) -> None:
    api = APIClient()
    api.force_authenticate(make_user("ambon.desk", "dispatcher", regions=[table["ambon"]]))
    report = {"region": "kota-ambon", "channel": "phone", "location": list(AMBON_CENTRE)}
    created = api.post("/api/incidents/", {**report, "incident_type": "robbery"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["priority"] == 1
    refused = api.post("/api/incidents/", {**report, "incident_type": "forest_fire"}, format="json")
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["code"] == "unknown_incident_type"
    assert "known types: robbery" in refused.json()["error"]["message"]


def test_the_console_lists_the_regions_types(table, client) -> None:
    user = make_user("ambon.dispatcher", "dispatcher", regions=[table["ambon"]])
    client.force_login(user)
    types = client.get("/dispatch/").context["config"]["incident_types"]
    assert [(t["code"], t["default_priority"]) for t in types] == [("robbery", 1)]


def test_a_region_admin_edits_only_their_regions_overrides_and_reads_the_shared_table(table) -> None:
    admin = Client()
    admin.force_login(make_user("jambi.admin", "admin", regions=[table["jambi"]], staff=True))
    ambon_override = RegionIncidentType.objects.get(region=table["ambon"], incident_type=table["robbery"])
    listing = admin.get("/admin/incidents/regionincidenttype/")
    assert listing.status_code == 200
    assert f"/{ambon_override.pk}/change/" not in listing.content.decode()
    assert admin.get(f"/admin/incidents/regionincidenttype/{ambon_override.pk}/change/").status_code == 302
    add = admin.get("/admin/incidents/regionincidenttype/add/")
    assert add.status_code == 200
    choices = add.context["adminform"].form.fields["region"].queryset
    assert list(choices) == [table["jambi"]]
    assert admin.get("/admin/incidents/incidenttype/").status_code == 200  # the shared table: read
    assert admin.get("/admin/incidents/incidenttype/add/").status_code == 403  # changed by superusers only
