"""Walking the migration graph in tests of data migrations (``django_db(transaction=True)`` only)."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str | None]]) -> None:
    """Migrate to ``targets`` ((app, migration name), or (app, None): none of that app's)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_latest() -> None:
    """Every app at its newest migration again, as the tests that follow expect the schema."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
