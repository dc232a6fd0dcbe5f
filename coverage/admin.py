from django.contrib import admin

from coverage.models import AgencyCoverageSettings, CoverageRun


@admin.register(CoverageRun)
class CoverageRunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "region", "label", "created_at", "duration_s", "network_version")
    list_filter = ("kind", "region")
    search_fields = ("label",)
    readonly_fields = (
        "region",
        "kind",
        "created_at",
        "created_by",
        "network_version",
        "inputs",
        "results",
        "duration_s",
    )


@admin.register(AgencyCoverageSettings)
class AgencyCoverageSettingsAdmin(admin.ModelAdmin):
    list_display = ("agency", "thresholds_s", "target_s")
