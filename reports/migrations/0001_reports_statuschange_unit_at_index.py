"""An index the units' time per status needs: fleet_statuschange by (unit_id, at).

The status history is the incidents app's table (``incidents.StatusChange``) and has no index on time; a
year's report reads each unit's last change before the period, its changes inside it and its first after,
which without this index are whole-table scans (bench/reports.py). Plain SQL, so the incidents app's model
state is untouched; the index belongs in ``StatusChange.Meta.indexes`` once that app takes it over.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_statuschange_unit_at ON fleet_statuschange (unit_id, at, id)",
            "DROP INDEX IF EXISTS reports_statuschange_unit_at",
        )
    ]
