"""Once created the console's global role groups; roles are per region now (``access.models.Membership.role``,
converted by ``access.0003``), so a new database gets no groups. Kept as a node of the migration graph."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
