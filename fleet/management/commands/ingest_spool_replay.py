"""Store the device messages spooled while the database was away (``fleet.services.spool``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from redis import RedisError

from fleet.services.spool import spool_replay


class Command(BaseCommand):
    help = (
        "Store the OwnTracks HTTP messages spooled in Redis while PostgreSQL was away, oldest first; each once. "
        "--follow keeps doing it every SIAGA_SPOOL_REPLAY_EVERY_S (the production stack runs it so)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--follow", action="store_true", help="run until stopped, replaying periodically")

    def handle(self, *args, follow: bool, **options) -> None:
        while True:
            close_old_connections()  # a long-running loop: drop a connection the database closed
            try:
                result = spool_replay()
            except RedisError as exc:
                self.stderr.write(f"the spool cannot be read: Redis is away ({type(exc).__name__})")
            else:
                if result.stored or result.already_stored or result.refused or result.left or not follow:
                    self.stdout.write(
                        f"stored {result.stored}, already stored {result.already_stored}, refused {result.refused}, "
                        f"left {result.left}"
                        + (" (the database is still away)" if result.database_away else "")
                        + (" (another replay is running)" if result.busy else "")
                    )
            if not follow:
                return
            time.sleep(settings.SIAGA_SPOOL_REPLAY_EVERY_S)
