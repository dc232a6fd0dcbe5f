"""load_demo: one command loads a whole region from SIAGA_DATA_DIR, and running it again changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from gis_core.models import Facility, Kecamatan, Kelurahan, Region, RoadNetworkVersion

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        Kecamatan.objects.count(),
        Kelurahan.objects.count(),
        Facility.objects.count(),
        RoadNetworkVersion.objects.count(),
    )


def test_load_demo_loads_kota_jambi_and_is_idempotent(data_dir, capsys) -> None:
    call_command("load_demo")
    # SOURCES.md: 11 kecamatan, 68 kelurahan, 39 OSM health facilities + 1 Damkar HQ candidate.
    assert _counts() == (1, 11, 68, 40, 1)
    jambi = Region.objects.get(slug="kota-jambi")
    assert (jambi.code, jambi.metric_srid) == ("15.71", 32748)
    assert jambi.population == 635101  # the newest city total in population_jambi_partial.csv (mid-2024)
    assert Kecamatan.objects.get(name="Alam Barajo").population == 110377
    assert RoadNetworkVersion.objects.get(is_active=True).node_count == 490
    call_command("load_demo")
    assert _counts() == (1, 11, 68, 40, 1)
    assert "already the active network" in capsys.readouterr().out


def test_load_demo_loads_ambon_without_roads(data_dir) -> None:
    call_command("load_demo", "kota-ambon")
    ambon = Region.objects.get(slug="kota-ambon")
    assert ambon.kecamatan.count() == 5
    assert Kelurahan.objects.filter(kecamatan__region=ambon).count() == 50
    assert not RoadNetworkVersion.objects.filter(region=ambon).exists()


def test_load_demo_refuses_an_unknown_region() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'atlantis'"):
        call_command("load_demo", "atlantis")
