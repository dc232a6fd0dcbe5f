"""Every caller has its region now (0004): required, and a number once per region."""

from django.db import migrations, models
from django.db.models import deletion


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_callers_per_region")]

    operations = [
        migrations.AlterField(
            model_name="caller",
            name="region",
            field=models.ForeignKey(on_delete=deletion.PROTECT, related_name="callers", to="gis_core.region"),
        ),
        migrations.AddConstraint(
            model_name="caller",
            constraint=models.UniqueConstraint(fields=("region", "phone"), name="caller_region_phone_unique"),
        ),
    ]
