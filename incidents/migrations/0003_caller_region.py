"""Callers get a region (filled by 0004, required from 0005)."""

from django.db import migrations, models
from django.db.models import deletion


class Migration(migrations.Migration):
    dependencies = [
        ("gis_core", "0003_region_time_zone"),
        ("incidents", "0002_incident_address_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="caller",
            name="region",
            field=models.ForeignKey(
                null=True, on_delete=deletion.PROTECT, related_name="callers", to="gis_core.region"
            ),
        ),
        migrations.AlterField(
            model_name="caller", name="phone", field=models.CharField(help_text="E.164", max_length=32)
        ),
        # The rows are split in a migration of their own: PostgreSQL refuses to alter a table in the
        # transaction that just wrote rows pointing at it.
    ]
