"""Admin: local names a region admin adds by hand (they survive re-imports); imports are read-only.

Staff who are not superusers see and pick only their regions (``RegionScopedAdminMixin``)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from gazetteer.models import EntryKind, GazetteerImport, LocalName
from gazetteer.services import entry_areas_set
from gis_core.admin_scoping import RegionScopedAdminMixin


@admin.register(LocalName)
class LocalNameAdmin(RegionScopedAdminMixin, GISModelAdmin):
    """A posko, "Simpang Rimbo", a gang missing from OSM: a name and a point (or a line) on the map."""

    list_display = ("name", "region", "category", "kelurahan", "kecamatan")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "search_text")
    fields = ("region", "name", "alt_names", "category", "geom")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=EntryKind.LOCAL).select_related("region", "kelurahan")

    def save_model(self, request, obj, form, change) -> None:
        obj.kind = EntryKind.LOCAL
        obj.source_import = None
        obj.point = obj.geom if obj.geom.geom_type == "Point" else obj.geom.point_on_surface
        entry_areas_set(entry=obj)
        obj.full_clean()
        super().save_model(request, obj, form, change)


@admin.register(GazetteerImport)
class GazetteerImportAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ("region", "source", "source_kind", "imported_at", "is_active", "counts")
    list_filter = (("region", admin.RelatedOnlyFieldListFilter), "is_active")
    readonly_fields = ("region", "source", "source_kind", "imported_at", "is_active", "counts")

    def has_add_permission(self, request) -> bool:
        return False
