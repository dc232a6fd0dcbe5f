"""Crew devices: their credentials and authentication.

Each device has its own secret, bound to one unit. The secret is generated here (256 bits from
``secrets``), shown once, and only its hash is stored.

The hash is a salted SHA-256 through a ``django.contrib.auth.hashers`` hasher made for this, not the
project's password hasher. A device secret is a random 256-bit token, not a password a person chose:
nobody can guess it, so a deliberately slow key-derivation function (PBKDF2 with a million rounds,
about half a second) protects nothing and would cap ingest at a few requests per second per core.
Tokens of this kind are stored the same way by django-rest-knox and GitHub. The hasher is *not*
added to ``PASSWORD_HASHERS``, so a user password can never end up hashed with it. A ``token_hash``
made with any registered hasher (e.g. set through ``make_password`` by hand) still verifies.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import partial

from django.contrib.auth.hashers import BasePasswordHasher, check_password, mask_hash
from django.db import connection, transaction
from django.utils.crypto import constant_time_compare

from fleet.actors import SYSTEM, Actor
from fleet.errors import DeviceAuthError, DeviceInactiveError, DeviceUnitMismatchError, UnknownDeviceError  # noqa: F401
from fleet.models import Agency, Device, Unit
from fleet.services.audit import audit_record
from gis_core.credentials import credential_check

SECRET_BYTES = 32


class DeviceSecretHasher(BasePasswordHasher):
    """Salted SHA-256 for high-entropy device tokens (see the module docstring for why not PBKDF2)."""

    algorithm = "siaga_device_sha256"

    def salt(self) -> str:
        return secrets.token_hex(8)

    def encode(self, password: str, salt: str) -> str:
        # What BasePasswordHasher._check_encode_args checks (a private method the type stubs do not know).
        if password is None:
            raise TypeError("password must be provided.")
        if not salt or "$" in salt:
            raise ValueError("salt must be provided and cannot contain $.")
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"]),
            "hash": mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None


_HASHER = DeviceSecretHasher()
# Verified against when the identifier is unknown, so both answers cost the same.
_DUMMY_HASH = _HASHER.encode("unknown-device", "0000000000000000")


def secret_hash(secret: str) -> str:
    """The stored form of a device secret."""
    return _HASHER.encode(secret, _HASHER.salt())


def device_secret_matches(*, secret: str, token_hash: str) -> bool:
    """Whether ``secret`` is the one ``token_hash`` (a ``Device.token_hash``) was made from; no query."""
    return _secret_matches(secret, token_hash)


def _secret_matches(secret: str, encoded: str) -> bool:
    if encoded.startswith(f"{DeviceSecretHasher.algorithm}$"):
        return _HASHER.verify(secret, encoded)
    return check_password(secret, encoded)


@transaction.atomic
def device_create(*, unit: Unit, identifier: str, actor: Actor = SYSTEM) -> tuple[Device, str]:
    """Register a crew device for a unit and generate its secret.

    Parameters
    ----------
    unit
        The unit the device reports for; it can report for no other.
    identifier
        What the device sends as its id: Traccar Client's device identifier, or OwnTracks'
        ``user/device`` (as in its MQTT topic ``owntracks/user/device``).
    actor
        Who registered it, for the audit log.

    Returns
    -------
    tuple
        ``(device, secret)``. The secret is returned this once and never stored: configure it in the
        app now (HTTP Basic password, or ``key=`` in the Traccar Client server URL).
    """
    secret = secrets.token_urlsafe(SECRET_BYTES)
    device = Device(unit=unit, identifier=identifier.strip(), token_hash=secret_hash(secret))
    device.full_clean()
    device.save()
    audit_record(
        action="device.create",
        actor=actor,
        obj=device,
        data={"unit_id": unit.pk, "identifier": device.identifier},
    )
    return device, secret


@transaction.atomic
def device_secret_rotate(*, device: Device, actor: Actor = SYSTEM) -> str:
    """Give a device a new secret (the old one stops working at once) and return it, once."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    device.token_hash = secret_hash(secret)
    device.save(update_fields=["token_hash"])
    audit_record(
        action="device.secret_rotate",
        actor=actor,
        obj=device,
    )
    # Every process's remembered hash for spooling (fleet.services.spool) gives way to the new one.
    transaction.on_commit(partial(_credential_changed, device.identifier, device.token_hash))
    return secret


def _credential_changed(identifier: str, token_hash: str | None) -> None:
    from fleet.services.spool import credential_changed  # the spool stands on this module

    credential_changed(identifier=identifier, token_hash=token_hash)


def device_deactivated(*, device: Device) -> None:
    """Tell every process that ``device`` may no longer send, not even spooled while the database is away."""
    transaction.on_commit(partial(_credential_changed, device.identifier, None))


def device_authenticate(*, identifier: str, secret: str | None) -> Device:
    """The active device with this identifier whose secret matches.

    Parameters
    ----------
    identifier
        The device's identifier as the request named it.
    secret
        The secret it presented (HTTP Basic password or ``key``), or None when it presented none.

    Returns
    -------
    Device
        With ``unit`` and the unit's agency loaded (one query).

    Raises
    ------
    UnknownDeviceError
        No device has this identifier.
    DeviceAuthError
        No secret, or a wrong one.
    DeviceInactiveError
        The secret is right but the device was deactivated.
    gis_core.credentials.CredentialsInvalidError
        The identifier or secret holds what no device has (a NUL, which PostgreSQL refuses; control
        characters; over 1,024 characters): a 401 before any query.
    """
    credential_check(identifier, name="the device identifier")
    if secret:
        credential_check(secret, name="the device secret")
    device = _device_with_unit(identifier)
    if device is None:
        _HASHER.verify(secret or "", _DUMMY_HASH)
        raise UnknownDeviceError(f"unknown device {identifier!r}: register it for a unit first")
    if not secret:
        raise DeviceAuthError(
            f"device {identifier!r} sent no secret: use HTTP Basic auth (password = the device secret) or key=<secret>"
        )
    if not _secret_matches(secret, device.token_hash):
        raise DeviceAuthError(f"wrong secret for device {identifier!r}")
    if not device.is_active:
        raise DeviceInactiveError(f"device {identifier!r} is deactivated")
    return device


def device_for_broker(*, identifier: str) -> Device:
    """The active device with this identifier, for messages a broker has already authenticated.

    An MQTT broker checks the publisher's password and, with a per-user topic ACL (Mosquitto's
    ``pattern write owntracks/%u/#``), that it publishes only under its own name: the topic is the
    credential, so no device secret is checked here.

    Raises
    ------
    UnknownDeviceError, DeviceInactiveError, gis_core.credentials.CredentialsInvalidError
    """
    credential_check(identifier, name="the device identifier")
    device = _device_with_unit(identifier)
    if device is None:
        raise UnknownDeviceError(f"unknown device {identifier!r}: register it for a unit first")
    if not device.is_active:
        raise DeviceInactiveError(f"device {identifier!r} is deactivated")
    return device


# Device, unit and agency in one hand-written join (every device request runs it). The ORM's
# select_related query says the same but costs more CPU to build than the database needs to answer it.
# None of the three models has a field that needs a converter (geometry, JSON), so rows go to from_db as read.
_JOINED = ((Device, "d"), (Unit, "u"), (Agency, "a"))
_JOINED_FIELDS = [[f.attname for f in model._meta.concrete_fields] for model, _ in _JOINED]
_DEVICE_SQL = (
    "SELECT "
    + ", ".join(f'{alias}."{f.column}"' for (model, alias) in _JOINED for f in model._meta.concrete_fields)
    + f' FROM "{Device._meta.db_table}" d JOIN "{Unit._meta.db_table}" u ON u.id = d.unit_id'
    + f' JOIN "{Agency._meta.db_table}" a ON a.id = u.agency_id WHERE d.identifier = %s'
)


def _device_with_unit(identifier: str) -> Device | None:
    with connection.cursor() as cursor:
        cursor.execute(_DEVICE_SQL, [identifier])
        row = cursor.fetchone()
    if row is None:
        return None
    parts, start = [], 0
    for names in _JOINED_FIELDS:
        parts.append(row[start : start + len(names)])
        start += len(names)
    device_names, unit_names, agency_names = _JOINED_FIELDS
    device = Device.from_db(connection.alias, device_names, parts[0])
    unit = Unit.from_db(connection.alias, unit_names, parts[1])
    unit.agency = Agency.from_db(connection.alias, agency_names, parts[2])
    device.unit = unit
    return device
