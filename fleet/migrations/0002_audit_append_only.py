from django.db import migrations

# The audit log is append-only in the database itself, not only by convention in Python: an UPDATE
# or DELETE of a row raises, whoever issues it. TRUNCATE (test teardown, a deliberate purge by a DBA)
# is not a row-level event and stays possible.
FORWARD = """
CREATE OR REPLACE FUNCTION fleet_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'fleet_auditentry is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER fleet_auditentry_append_only
    BEFORE UPDATE OR DELETE ON fleet_auditentry
    FOR EACH ROW EXECUTE FUNCTION fleet_audit_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS fleet_auditentry_append_only ON fleet_auditentry;
DROP FUNCTION IF EXISTS fleet_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("fleet", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
