"""Revoke an API token by its prefix (the 8 hex characters after ``siaga_``) or its whole text."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.models import ApiToken
from access.services import api_token_revoke
from access.tokens import token_parse


class Command(BaseCommand):
    help = "Revoke an API token: its requests are refused (401) from now on. The row stays, with its history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token", help="the token's prefix (as the admin lists it) or the whole token")

    def handle(self, *args, token: str, **options) -> None:
        parsed = token_parse(token.strip())
        prefix = parsed.prefix if parsed is not None else token.strip()
        found = ApiToken.objects.select_related("region").filter(prefix=prefix).first()
        if found is None:
            raise CommandError(f"no API token with prefix {prefix!r} (the admin lists them, under Access)")
        already = found.revoked_at is not None
        api_token_revoke(token=found)
        when = f"{found.revoked_at:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(f"{found} {'was already revoked' if already else 'revoked'} ({when}).")
