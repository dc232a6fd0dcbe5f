"""The units' time per status reads the status history from its index alone.

``reports_statuschange_unit_at`` (0001) gave each unit's changes in time order, but every change still cost a
visit to the table, whose rows of one unit lie scattered among all units' changes: on a Jakarta-sized year
(1.7 million changes) the planner preferred a bitmap scan and a sort per unit. The same key with the statuses
included lets the per-unit scans of ``reports.selectors.unit_time`` be index-only (half the time in
bench/reports.py). Built concurrently, so a centre's live status changes are not blocked while it builds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("reports", "0001_reports_statuschange_unit_at_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reports_statuschange_unit_at_status"
            " ON fleet_statuschange (unit_id, at, id) INCLUDE (to_status, from_status)",
            "DROP INDEX CONCURRENTLY IF EXISTS reports_statuschange_unit_at_status",
        ),
        migrations.RunSQL(
            "DROP INDEX CONCURRENTLY IF EXISTS reports_statuschange_unit_at",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reports_statuschange_unit_at ON fleet_statuschange (unit_id, at, id)",
        ),
    ]
