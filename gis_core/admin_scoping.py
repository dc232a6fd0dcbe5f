"""The admin's region scoping: staff who are not superusers see and pick only their regions' rows.

A model admin names how its rows reach a region (``region_path``, e.g. ``"agency__region"``) and, for its
foreign keys to other region-bound tables, how their rows do (``choice_region_paths``); a foreign key to
``Region`` itself is limited without being named. Another region's row is then missing from the list and
its change page answers as for a row that does not exist (the admin looks objects up through
``get_queryset``). Which regions a user administers is the access app's answer
(``gis_core.selectors.regions_administered``: a region admin's, ``access.selectors.regions_administered_by``),
so the geography's admins here and the apps above use the one mixin. Region list filters should be
``admin.RelatedOnlyFieldListFilter`` so the sidebar names only regions the user sees.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpRequest

from gis_core.models import Region
from gis_core.selectors import regions_administered


class RegionScopedAdminMixin:
    """Put before ``admin.ModelAdmin`` (or an inline) in the bases; superusers keep seeing every region."""

    region_path: ClassVar[str] = "region"
    choice_region_paths: ClassVar[dict[str, str]] = {}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.region_path}__in": regions_administered(request.user)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if not request.user.is_superuser:
            mine = regions_administered(request.user)
            if db_field.related_model is Region:
                kwargs["queryset"] = mine
            elif db_field.name in self.choice_region_paths:
                path = self.choice_region_paths[db_field.name]
                kwargs["queryset"] = db_field.related_model._default_manager.filter(**{f"{path}__in": mine})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
