"""manage.py device_register: a device for a unit, its secret printed once with the apps' settings."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from factories.fleet import make_agency, make_device, make_unit

from fleet.errors import DeviceAuthError
from fleet.models import AuditEntry
from fleet.services.devices import device_authenticate

pytestmark = pytest.mark.django_db


def _register(*args: str) -> tuple[str, str]:
    """Run the command; its output and the secret it printed."""
    from io import StringIO

    out = StringIO()
    call_command("device_register", *args, stdout=out)
    text = out.getvalue()
    return text, re.search(r"only its hash is kept\): (\S+)", text).group(1)


def test_register_prints_a_working_secret_and_the_app_settings(jambi_region) -> None:
    unit = make_unit(agency=make_agency(region=jambi_region, code="psc119"), call_sign="PSC119-01")
    text, secret = _register("kota-jambi", "PSC119-01", "--server-url", "https://112.jambikota.example/")
    assert device_authenticate(identifier="psc119-01", secret=secret).unit_id == unit.pk
    assert f"https://112.jambikota.example/api/ingest/osmand?key={secret}" in text
    assert "device identifier psc119-01" in text
    assert AuditEntry.objects.filter(action="device.create").count() == 1
    # OwnTracks names a device user/device: the settings say which is which.
    text, _ = _register("15.71", "PSC119-01", "--identifier", "budi/hp-ambulans")
    assert "user budi, device id hp-ambulans" in text


def test_rotate_replaces_the_secret_and_mistakes_are_errors(jambi_region) -> None:
    unit = make_unit(agency=make_agency(region=jambi_region, code="damkar"), call_sign="DAMKAR-E1")
    make_device(unit=unit, identifier="damkar-e1", secret="old-secret")
    with pytest.raises(CommandError, match="already registered \\(unit DAMKAR-E1\\); pass --rotate"):
        _register("kota-jambi", "DAMKAR-E1")
    _, secret = _register("kota-jambi", "DAMKAR-E1", "--rotate")
    assert device_authenticate(identifier="damkar-e1", secret=secret).unit_id == unit.pk
    with pytest.raises(DeviceAuthError):
        device_authenticate(identifier="damkar-e1", secret="old-secret")
    with pytest.raises(CommandError, match="no unit 'NOPE-1' in kota-jambi; its units: DAMKAR-E1"):
        _register("kota-jambi", "NOPE-1")
    with pytest.raises(CommandError, match="has no device 'spare'; its devices: damkar-e1"):
        _register("kota-jambi", "DAMKAR-E1", "--identifier", "spare", "--rotate")
    with pytest.raises(CommandError, match="unknown region 'atlantis'"):
        _register("atlantis", "DAMKAR-E1")
