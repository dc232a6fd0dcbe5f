"""Who wrote a report's address: a person, or reverse geocoding of its location.

Every address stored before this was typed by a person (nothing reverse geocoded), so those become
``person``; a report without an address gets none.
"""

from django.db import migrations, models


def addresses_by_persons(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Incident.objects.exclude(address_text="").update(address_source="person")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="address_source",
            field=models.CharField(
                blank=True,
                choices=[("person", "given by a person"), ("reverse", "reverse geocoded from the location")],
                help_text="who wrote address_text; a reverse-geocoded address follows the location, a person's never",
                max_length=16,
            ),
        ),
        migrations.RunPython(addresses_by_persons, migrations.RunPython.noop),
    ]
