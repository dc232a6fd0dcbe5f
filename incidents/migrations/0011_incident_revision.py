from django.db import migrations, models

# A report's revision: the version of what a console shows of it (incidents.representations.incident_public),
# bumped by the database on every UPDATE of the row (the function is fleet's, 0010_unit_revision). A change to
# its assignments, offers, hand-offs or their messages updates the row too (incidents.live.live_incident_changed).
FORWARD = """
CREATE TRIGGER fleet_incident_revision_bump
    BEFORE UPDATE ON fleet_incident
    FOR EACH ROW EXECUTE FUNCTION siaga_revision_bump();
"""
REVERSE = "DROP TRIGGER IF EXISTS fleet_incident_revision_bump ON fleet_incident;"


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_inbound_links_without_db_constraint"), ("fleet", "0012_unit_revision")]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="revision",
            field=models.BigIntegerField(default=1, editable=False),
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
