"""Register a crew device for a unit (or give an existing one a new secret) and print how to set it up."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.models import Device, Unit
from fleet.services.devices import device_create, device_secret_rotate
from gis_core.management.commands._common import region_or_error


class Command(BaseCommand):
    help = (
        "Register a crew phone or tracker for a unit and print its secret once, with the settings for "
        "Traccar Client, OwnTracks and the batch endpoint. --rotate gives an existing device a new secret "
        "(the old one stops working at once). Only the secret's hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi")
        parser.add_argument("call_sign", help="the unit's call sign, e.g. PSC119-01")
        parser.add_argument(
            "--identifier",
            help="what the device sends as its id (Traccar Client's device identifier, or OwnTracks' "
            "user/device); default: the call sign in lower case",
        )
        parser.add_argument("--rotate", action="store_true", help="new secret for the unit's existing device")
        parser.add_argument(
            "--server-url",
            default="https://siaga.example",
            help="this server's public address, for the printed settings",
        )

    def handle(self, *args, region: str, call_sign: str, identifier: str | None, rotate: bool, server_url: str,
               **options) -> None:  # fmt: skip
        region_obj = region_or_error(region)
        unit = Unit.objects.filter(agency__region=region_obj, call_sign=call_sign).first()
        if unit is None:
            known = ", ".join(Unit.objects.filter(agency__region=region_obj).values_list("call_sign", flat=True))
            raise CommandError(f"no unit {call_sign!r} in {region_obj.slug}; its units: {known or 'none yet'}")
        identifier = (identifier or call_sign.lower()).strip()
        if rotate:
            device = Device.objects.filter(unit=unit, identifier=identifier).first()
            if device is None:
                devices = ", ".join(unit.devices.values_list("identifier", flat=True)) or "none"
                raise CommandError(f"unit {call_sign} has no device {identifier!r}; its devices: {devices}")
            secret = device_secret_rotate(device=device)
        else:
            taken = Device.objects.filter(identifier=identifier).select_related("unit").first()
            if taken is not None:
                raise CommandError(
                    f"device {identifier!r} is already registered (unit {taken.unit.call_sign}); pass --rotate for a "
                    "new secret, or choose another --identifier"
                )
            try:
                device, secret = device_create(unit=unit, identifier=identifier)
            except ValidationError as exc:
                raise CommandError(f"device {identifier!r}: {'; '.join(exc.messages)}") from exc
        base = server_url.rstrip("/")
        action = "new secret for" if rotate else "registered"
        self.stdout.write(self.style.SUCCESS(f"{action} device {device.identifier!r} of unit {unit.call_sign}"))
        self.stdout.write(f"  secret (shown this once; only its hash is kept): {secret}")
        self.stdout.write(f"  Traccar Client: device identifier {device.identifier}, server URL")
        self.stdout.write(f"    {base}/api/ingest/osmand?key={secret}")
        if "/" in device.identifier:
            user, name = device.identifier.split("/", 1)
            self.stdout.write(
                f"  OwnTracks (HTTP mode): URL {base}/api/ingest/owntracks, user {user}, device id {name}, "
                "password = the secret"
            )
        else:
            self.stdout.write(
                "  OwnTracks: register the phone as --identifier <user>/<device> (its MQTT topic's names)"
            )
        self.stdout.write(f"  batch or crew status: HTTP Basic {device.identifier}:<secret> to {base}/api/ingest/batch")
