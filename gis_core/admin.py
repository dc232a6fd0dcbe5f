"""Admin for the geography tables: read and correct names and figures; geometry comes from the importers.

Staff who are not superusers see only their regions' rows (``RegionScopedAdminMixin``)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from gis_core.admin_scoping import RegionScopedAdminMixin
from gis_core.models import Facility, Kecamatan, Kelurahan, Region, RoadClosure, RoadNetworkVersion


@admin.register(Region)
class RegionAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    region_path = "pk"
    list_display = (
        "code", "name", "slug", "metric_srid", "time_zone", "whatsapp_phone_number_id", "population", "population_year"
    )  # fmt: skip
    search_fields = ("code", "name", "slug", "whatsapp_phone_number_id")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Kecamatan)
class KecamatanAdmin(RegionScopedAdminMixin, GISModelAdmin):
    list_display = ("code", "name", "region", "area_m2", "population", "population_year", "population_kind")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "population_kind")
    search_fields = ("code", "name")
    list_select_related = ("region",)


@admin.register(Kelurahan)
class KelurahanAdmin(RegionScopedAdminMixin, GISModelAdmin):
    region_path = "kecamatan__region"
    choice_region_paths = {"kecamatan": "region"}
    list_display = ("code", "name", "kind", "kecamatan", "area_m2", "population", "population_year")
    list_filter = (("kecamatan__region", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("code", "name", "kecamatan__name")
    list_select_related = ("kecamatan",)
    raw_id_fields = ("kecamatan",)


@admin.register(Facility)
class FacilityAdmin(RegionScopedAdminMixin, GISModelAdmin):
    list_display = ("name", "kind", "region", "ref", "source")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("name", "ref")
    list_select_related = ("region",)


@admin.register(RoadNetworkVersion)
class RoadNetworkVersionAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "region", "is_active", "source_kind", "node_count", "edge_count", "imported_at")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "is_active", "source_kind")
    search_fields = ("source",)
    list_select_related = ("region",)
    readonly_fields = ("imported_at",)


@admin.register(RoadClosure)
class RoadClosureAdmin(RegionScopedAdminMixin, GISModelAdmin):
    """Read only: closures are made and lifted from the dispatch console or the API (audited, announced live)."""

    list_display = ("pk", "region", "mode", "slow_factor", "reason", "source", "starts_at", "ends_at", "lifted_at")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "mode", "source")
    search_fields = ("reason",)
    list_select_related = ("region",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
