"""Who belongs to which centre: a user's membership of a region.

A membership is the one place that says which regions' work a user may see. Issue 11 extends this same
row with the role the user holds in the region and the agencies the user is limited to; the console's
global role groups (``access.roles``) stay until then.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from gis_core.models import Region


class Membership(models.Model):
    """A user is a member of a region (a 112 centre); at most one membership per user is the home region."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="memberships")
    is_home = models.BooleanField(default=False, help_text="The region the console opens on for this user")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "-is_home", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="access_membership_once_per_region"),
            models.UniqueConstraint(fields=["user"], condition=Q(is_home=True), name="access_one_home_region"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.region.name}" + (" (home)" if self.is_home else "")
