from django.db import migrations, models

# A unit's revision: the version of what a console shows of it (incidents.representations.unit_public). It must
# only grow, whichever API worker, Daphne or MQTT bridge wrote, so it is kept by PostgreSQL: every UPDATE of the
# row adds one to the committed value (OLD, read under the row lock the UPDATE holds; a writer that waited for the
# lock sees the row its predecessor committed), in the transaction that changes the row. A value set by the
# application is ignored. The function serves every table that keeps a revision (incidents' reports too).
FORWARD = """
CREATE OR REPLACE FUNCTION siaga_revision_bump() RETURNS trigger AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER fleet_unit_revision_bump
    BEFORE UPDATE ON fleet_unit
    FOR EACH ROW EXECUTE FUNCTION siaga_revision_bump();
"""
REVERSE = """
DROP TRIGGER IF EXISTS fleet_unit_revision_bump ON fleet_unit;
DROP FUNCTION IF EXISTS siaga_revision_bump();
"""


class Migration(migrations.Migration):
    dependencies = [("fleet", "0011_partition_history")]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="revision",
            field=models.BigIntegerField(default=1, editable=False),
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
