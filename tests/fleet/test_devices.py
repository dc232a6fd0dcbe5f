"""Device credentials: creation, authentication, rotation, and what each failure says."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.hashers import make_password
from factories.fleet import make_device, make_unit

from fleet.errors import DeviceAuthError, DeviceInactiveError, UnknownDeviceError
from fleet.models import AuditEntry, Device
from fleet.services.devices import DeviceSecretHasher, device_authenticate, device_create, device_secret_rotate

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_once_and_stores_only_its_hash() -> None:
    unit = make_unit()
    device, secret = device_create(unit=unit, identifier=" psc119-amb-01 ")
    assert device.identifier == "psc119-amb-01"
    assert len(secret) >= 40  # token_urlsafe(32): 32 random bytes as 43 base64url characters
    stored = Device.objects.get(pk=device.pk).token_hash
    assert secret not in stored
    assert stored.startswith(f"{DeviceSecretHasher.algorithm}$")
    assert device_authenticate(identifier="psc119-amb-01", secret=secret) == device
    entry = AuditEntry.objects.get(action="device.create")
    assert (entry.object_type, entry.object_id, entry.data["unit_id"]) == ("device", str(device.pk), unit.pk)


def test_two_devices_get_different_secrets_and_salts() -> None:
    unit = make_unit()
    a, secret_a = device_create(unit=unit, identifier="a")
    b, secret_b = device_create(unit=unit, identifier="b")
    assert secret_a != secret_b
    assert a.token_hash.split("$")[1] != b.token_hash.split("$")[1]  # different salts
    with pytest.raises(DeviceAuthError, match="wrong secret for device 'b'"):
        device_authenticate(identifier="b", secret=secret_a)


def test_authentication_failures_say_what_is_wrong() -> None:
    device, secret = device_create(unit=make_unit(), identifier="amb-1")
    with pytest.raises(UnknownDeviceError, match="unknown device 'amb-9'"):
        device_authenticate(identifier="amb-9", secret=secret)
    with pytest.raises(DeviceAuthError, match="sent no secret: use HTTP Basic auth"):
        device_authenticate(identifier="amb-1", secret=None)
    with pytest.raises(DeviceAuthError, match="wrong secret"):
        device_authenticate(identifier="amb-1", secret="guess")
    Device.objects.filter(pk=device.pk).update(is_active=False)
    with pytest.raises(DeviceInactiveError, match="deactivated"):
        device_authenticate(identifier="amb-1", secret=secret)


def test_rotation_invalidates_the_old_secret() -> None:
    device, old = device_create(unit=make_unit(), identifier="amb-1")
    new = device_secret_rotate(device=device)
    with pytest.raises(DeviceAuthError):
        device_authenticate(identifier="amb-1", secret=old)
    assert device_authenticate(identifier="amb-1", secret=new) == device
    assert AuditEntry.objects.filter(action="device.secret_rotate", object_id=str(device.pk)).exists()


def test_a_hash_from_any_registered_hasher_still_verifies() -> None:
    # The shared test factory stores an MD5 hash through make_password; set by hand in the admin it
    # would be the default PBKDF2 hash.
    device = make_device(identifier="legacy", secret="s3cret")
    assert device_authenticate(identifier="legacy", secret="s3cret") == device
    Device.objects.filter(pk=device.pk).update(token_hash=make_password("pbkdf2-secret"))
    assert device_authenticate(identifier="legacy", secret="pbkdf2-secret") == device


def test_device_hasher_is_salted_sha256_and_never_a_user_password_hasher(settings) -> None:
    hasher = DeviceSecretHasher()
    encoded = hasher.encode("x" * 43, "abcd")
    # Independent computation: sha256 over "salt$secret", as the module docstring specifies.
    assert encoded == f"{hasher.algorithm}$abcd${hashlib.sha256(('abcd$' + 'x' * 43).encode()).hexdigest()}"
    assert hasher.verify("x" * 43, encoded)
    assert not hasher.verify("y" * 43, encoded)
    assert hasher.safe_summary(encoded)["algorithm"] == DeviceSecretHasher.algorithm
    # Not registered: make_password/check_password for people can never pick it.
    assert not any("DeviceSecretHasher" in name for name in settings.PASSWORD_HASHERS)
