"""Make an API token for a machine client of a region and print it (the only time it is shown)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.models import Scope
from access.services import api_token_create
from gis_core.selectors import region_by_slug_or_code


class Command(BaseCommand):
    help = (
        "Make an API token for another system (a hospital asking ETAs, a dashboard reading KPIs) and print it "
        "once: only its hash is kept. Scopes: " + ", ".join(Scope.values) + "."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="slug or Kemendagri code, e.g. kota-jambi")
        parser.add_argument("--name", required=True, help='who uses it, e.g. "RSUD Raden Mattaher ETA"')
        parser.add_argument("--scopes", required=True, help="comma-separated, e.g. eta,kpis")

    def handle(self, *args, region: str, name: str, scopes: str, **options) -> None:
        found = region_by_slug_or_code(region)
        if found is None:
            raise CommandError(f"unknown region {region!r}: give its slug or Kemendagri code")
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            issued = api_token_create(region=found, name=name, scopes=wanted)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        token = issued.token
        self.stderr.write(
            f"Made API token {token.prefix} ({token.name!r}, {found.slug}, scopes {', '.join(token.scopes)}). "
            "It is printed below, once: store it now (only its hash is kept)."
        )
        self.stdout.write(issued.text)
