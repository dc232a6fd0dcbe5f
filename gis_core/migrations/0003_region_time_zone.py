"""Region.time_zone: rows that exist get their province's zone (Kemendagri code), else Asia/Jakarta (WIB)."""

from django.db import migrations, models

import gis_core.models

# Frozen here rather than imported, so the migration means the same whatever the app's table becomes.
PROVINCE_ZONES = {
    "Asia/Pontianak": ("61", "62"),
    "Asia/Makassar": ("51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"),
    "Asia/Jayapura": ("81", "82", "91", "92", "93", "94", "95", "96"),
}


def zones_from_codes(apps, schema_editor):
    Region = apps.get_model("gis_core", "Region")
    for zone, provinces in PROVINCE_ZONES.items():
        for province in provinces:
            Region.objects.filter(models.Q(code=province) | models.Q(code__startswith=f"{province}.")).update(
                time_zone=zone
            )


class Migration(migrations.Migration):
    dependencies = [
        ("gis_core", "0002_region_whatsapp_phone_number_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="region",
            name="time_zone",
            field=models.CharField(
                default="Asia/Jakarta",
                help_text="IANA time zone of the centre: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura "
                "(WIT). Times are stored in UTC; the console shows them in this zone and KPIs count its local days.",
                max_length=64,
                validators=[gis_core.models.validate_time_zone],
            ),
            preserve_default=False,
        ),
        migrations.RunPython(zones_from_codes, migrations.RunPython.noop),
    ]
