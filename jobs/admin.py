"""Background jobs in the admin, read only: superusers see all; a region admin sees the jobs of their regions.

A job without a region (a command of no region, Siaga's own upkeep) is a superuser's only; another region's job
is missing from the list and its page answers as for a job that does not exist. This app imports no other, so
it asks the function ``SIAGA_REGIONS_ADMINISTERED_BY`` names (access's answer) which regions a user administers,
as ``gis_core.admin_scoping`` does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.utils.module_loading import import_string

from jobs.models import Job


def _regions_administered(user):
    return import_string(settings.SIAGA_REGIONS_ADMINISTERED_BY)(user)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "region", "state", "progress", "message", "created_by", "created_at", "finished_at")
    list_filter = ("state", "kind", ("region", admin.RelatedOnlyFieldListFilter))
    readonly_fields = [f.name for f in Job._meta.fields]

    def _may(self, request) -> bool:
        return request.user.is_superuser or _regions_administered(request.user).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(region__in=_regions_administered(request.user))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"no job {object_id}")  # another region's is the same 404 as one that never was

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_module_permission(self, request) -> bool:
        return self._may(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may(request)
