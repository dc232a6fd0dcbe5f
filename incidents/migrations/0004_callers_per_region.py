"""Callers belong to a region: a number's flags, blocks and prank count are each centre's own.

Before, one row per number served every centre. Each existing caller becomes one row per region the
number reported to (the first keeps the row and its id), each with a copy of the flags it had, so what
was in force anywhere stays in force there. A number that never reported (flagged before it called)
gets a row in every region, as its flag applied everywhere until now.
"""

from django.db import migrations

FLAG_FIELDS = (
    "kind", "reason", "created_at", "created_by_id", "expires_at", "lifted_at", "lifted_by_id", "lift_reason",
)  # fmt: skip


def callers_per_region(apps, schema_editor):
    Caller = apps.get_model("incidents", "Caller")
    CallerFlag = apps.get_model("incidents", "CallerFlag")
    Incident = apps.get_model("incidents", "Incident")
    Region = apps.get_model("gis_core", "Region")
    all_regions = list(Region.objects.order_by("pk").values_list("pk", flat=True))
    for caller in Caller.objects.filter(region__isnull=True).order_by("pk"):
        regions = sorted(set(Incident.objects.filter(caller_phone=caller.phone).values_list("region_id", flat=True)))
        regions = regions or all_regions
        if not regions:  # no region on this server at all: nothing a caller could belong to
            caller.delete()
            continue
        first, *others = regions
        flags = list(CallerFlag.objects.filter(caller=caller).values(*FLAG_FIELDS))
        for region_id in others:
            copy = Caller.objects.create(region_id=region_id, phone=caller.phone)
            Caller.objects.filter(pk=copy.pk).update(first_seen_at=caller.first_seen_at)
            for flag in flags:
                created_at = flag.pop("created_at")
                row = CallerFlag.objects.create(caller=copy, **flag)
                CallerFlag.objects.filter(pk=row.pk).update(created_at=created_at)
                flag["created_at"] = created_at
        caller.region_id = first
        caller.save(update_fields=["region"])


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_caller_region")]

    operations = [migrations.RunPython(callers_per_region, migrations.RunPython.noop)]
