from django.contrib import admin

from coverage.models import AgencyCoverageSettings, CoverageRun
from gis_core.admin_scoping import RegionScopedAdminMixin


@admin.register(CoverageRun)
class CoverageRunAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Staff who are not superusers see their regions' runs only."""

    list_display = ("id", "kind", "region", "label", "created_at", "duration_s", "network_version", "profile")
    list_filter = ("kind", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("label",)
    readonly_fields = (
        "region",
        "kind",
        "created_at",
        "created_by",
        "network_version",
        "profile",
        "hour_band",
        "inputs",
        "results",
        "duration_s",
        "job",
    )


@admin.register(AgencyCoverageSettings)
class AgencyCoverageSettingsAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    region_path = "agency__region"
    choice_region_paths = {"agency": "region"}
    list_display = ("agency", "thresholds_s", "target_s")
