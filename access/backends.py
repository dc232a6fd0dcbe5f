"""/admin/ permissions of a region admin: the model permissions of Siaga's own apps, from the membership role.

A staff user who is a region admin (``access.roles.REGION_ADMIN``) somewhere may open /admin/ and edit the
tables of ``access.roles.ADMIN_APPS``; every model admin there limits the rows to the regions they
administer (``gis_core.admin_scoping``, ``gis_core.selectors.regions_administered``). Users stay with
superusers; memberships and jobs of the admin's regions are allowed by their own model admins
(``access/admin.py``, ``jobs/admin.py``). This backend authenticates nobody (``authenticate`` is not
defined): it only answers permission questions, next to Django's ``ModelBackend``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import Permission

from access import roles

_CACHE = "_siaga_region_admin_perm_cache"


class RegionAdminBackend(BaseBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or not user_obj.is_staff or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, _CACHE):
            perms: set[str] = set()
            if roles.can_administer(user_obj):
                rows = Permission.objects.filter(content_type__app_label__in=roles.ADMIN_APPS)
                pairs = rows.values_list("content_type__app_label", "codename")
                perms = {f"{app}.{codename}" for app, codename in pairs}
            setattr(user_obj, _CACHE, perms)
        return getattr(user_obj, _CACHE)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return any(perm.partition(".")[0] == app_label for perm in self.get_all_permissions(user_obj))
