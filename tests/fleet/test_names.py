"""Names in both languages: capabilities, unit types and incident types carry ``name`` (English) and
``name_id`` (Bahasa Indonesia), from the fixture tables and, for rows loaded before, from migration 0004."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from fleet.models import Capability, UnitType
from fleet.services.demo_fleet import capabilities_load
from incidents.models import IncidentType
from incidents.services.incident_types import incident_types_load

pytestmark = pytest.mark.django_db
FIXTURES = Path(settings.BASE_DIR) / "fixtures"
names_migration = importlib.import_module("fleet.migrations.0004_names_in_two_languages")


def test_every_row_of_the_tables_has_both_names() -> None:
    capabilities_load()
    incident_types_load()
    for model in (Capability, UnitType, IncidentType):
        rows = list(model.objects.values_list("code", "name", "name_id"))
        assert rows, f"{model.__name__}: nothing loaded from fixtures/"
        assert not [code for code, name, name_id in rows if not name or not name_id], model.__name__
    # The English name is English only (it used to read "Flood (banjir)").
    assert IncidentType.objects.get(code="flood").name == "Flood"
    assert IncidentType.objects.get(code="flood").name_id == "Banjir"
    assert Capability.objects.get(code="fire_engine").name_id.startswith("mobil pemadam")


def test_the_name_follows_the_language() -> None:
    capabilities_load()
    engine = Capability.objects.get(code="fire_engine")
    with translation.override("id"):
        assert engine.name_in() == "mobil pemadam (pompa, selang, regu)"
    with translation.override("en"):
        assert engine.name_in() == "fire engine (pump, hose, crew)"
    assert engine.name_in("en-us") == engine.name
    untranslated = Capability(code="drone", name="drone survey")
    assert untranslated.name_in("id") == "drone survey"  # no Indonesian name yet: the English one, never empty


def test_the_migration_fills_the_known_codes_and_keeps_edits() -> None:
    shipped = IncidentType.objects.create(code="flood", name="Flood (banjir)", category="disaster")
    edited = IncidentType.objects.create(code="medical", name="Medis (edited in the admin)", category="medical")
    own = IncidentType.objects.create(code="fire_house", name="House fire", name_id="Kebakaran!", category="fire")
    unknown = IncidentType.objects.create(code="volcano", name="Volcano", category="disaster")
    cap = Capability.objects.create(
        code="bls", name="basic life support (stretcher, oxygen, first aid; patient transport)"
    )
    # The models as migration 0004 saw them (the incident types lived in fleet then; same tables).
    state = MigrationLoader(connection).project_state(("fleet", "0004_names_in_two_languages"))
    names_migration.fill_names(state.apps, None)
    for row in (shipped, edited, own, unknown, cap):
        row.refresh_from_db()
    assert (shipped.name, shipped.name_id) == ("Flood", "Banjir")
    assert (edited.name, edited.name_id) == ("Medis (edited in the admin)", "Gawat darurat medis")
    assert (own.name, own.name_id) == ("House fire", "Kebakaran!")  # an Indonesian name already set is kept
    assert (unknown.name, unknown.name_id) == ("Volcano", "")
    assert cap.name_id == "bantuan hidup dasar (tandu, oksigen, P3K; angkut pasien)"


def test_the_migration_and_the_fixtures_agree() -> None:
    capabilities = json.loads((FIXTURES / "capabilities.json").read_text())
    types = json.loads((FIXTURES / "incident_types.json").read_text())["types"]
    assert {c["code"]: (c["name"], c["name_id"]) for c in capabilities["capabilities"]} == names_migration.CAPABILITIES
    assert {t["code"]: (t["name"], t["name_id"]) for t in capabilities["unit_types"]} == names_migration.UNIT_TYPES
    shipped = {code: (english, indonesian) for code, (_, english, indonesian) in names_migration.INCIDENT_TYPES.items()}
    assert {t["code"]: (t["name"], t["name_id"]) for t in types} == shipped
