"""The admin, for staff who are not superusers: their regions' rows only, in lists, pages and choices."""

from __future__ import annotations

import pytest
from django.test import Client
from factories.access import make_user
from factories.fleet import make_agency, make_device, make_station, make_unit
from factories.gis_core import make_region

from coverage.models import CoverageRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def centres():
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    rows = {}
    for region in (jambi, ambon):
        agency = make_agency(region=region, code=f"psc-{region.slug}", kind="ems")
        station = make_station(agency=agency, code=f"posko-{region.slug}", geom=(103.61, -1.61))
        unit = make_unit(agency=agency, call_sign=f"AMB-{region.slug}", home_station=station)
        device = make_device(unit=unit, identifier=f"dev-{region.slug}")
        run = CoverageRun.objects.create(region=region, kind="coverage", inputs={}, results={}, duration_s=1.0)
        rows[region.slug] = {"region": region, "agency": agency, "station": station, "unit": unit,
                             "device": device, "coveragerun": run}  # fmt: skip
    return rows


def _staff_client(username: str, *, regions, superuser: bool = False) -> Client:
    user = make_user(username, "admin", regions=regions)
    user.is_staff, user.is_superuser = True, superuser
    user.save()
    client = Client()
    client.force_login(user)
    return client


PAGES = {
    "agency": "/admin/fleet/agency/",
    "station": "/admin/fleet/station/",
    "unit": "/admin/fleet/unit/",
    "device": "/admin/fleet/device/",
    "coveragerun": "/admin/coverage/coveragerun/",
    "region": "/admin/gis_core/region/",
}


def test_a_region_admin_lists_and_opens_only_their_regions_rows(centres) -> None:
    client = _staff_client("jambi.admin", regions=[centres["kota-jambi"]["region"]])
    for name, url in PAGES.items():
        listing = client.get(url)
        assert listing.status_code == 200, name
        mine, theirs = centres["kota-jambi"][name], centres["kota-ambon"][name]
        assert f"/{mine.pk}/change/" in listing.content.decode(), name
        assert f"/{theirs.pk}/change/" not in listing.content.decode(), name
        assert client.get(f"{url}{mine.pk}/change/").status_code == 200, name
        # Another region's row answers as a missing one: the admin redirects with "doesn't exist".
        other = client.get(f"{url}{theirs.pk}/change/")
        assert other.status_code == 302, name
        assert client.get(f"{url}999999/change/")["Location"] == other["Location"], name
    # The sidebar's region filter names only the user's regions.
    assert "Kota Ambon" not in client.get(PAGES["unit"]).content.decode()


def test_a_region_admin_picks_only_their_regions_agencies_stations_and_units(centres) -> None:
    client = _staff_client("jambi.admin", regions=[centres["kota-jambi"]["region"]])
    unit_form = client.get("/admin/fleet/unit/add/").content.decode()
    assert "psc-kota-jambi" in unit_form
    assert "psc-kota-ambon" not in unit_form
    assert "posko-kota-ambon" not in unit_form
    agency_form = client.get("/admin/fleet/agency/add/").content.decode()
    assert "Kota Jambi" in agency_form
    assert "Kota Ambon" not in agency_form
    device_form = client.get("/admin/fleet/device/add/").content.decode()
    assert "AMB-kota-jambi" in device_form
    assert "AMB-kota-ambon" not in device_form


def test_a_superuser_sees_every_region(centres) -> None:
    client = _staff_client("root", regions=[], superuser=True)
    for name, url in PAGES.items():
        page = client.get(url).content.decode()
        for slug in ("kota-jambi", "kota-ambon"):
            assert f"/{centres[slug][name].pk}/change/" in page, (name, slug)
