"""Who belongs to which centre: a user's membership of a region; machine clients' API tokens.

A membership is the one place that says what a user may do in a region: its ``role`` (what the user may
do there, ``access.roles``) and its ``agencies`` (the agencies whose units the user sees and sends there;
none named: all of the region's). A membership without a role grants nothing.

``agencies`` names ``fleet.Agency`` by string: a relation between tables, resolved by the app registry.
access's code never imports fleet (floor 3 stands on access, floor 2); it reads only the agency ids of the
relation's through table (``access.selectors.agency_limits_for_user``) and fleet's selectors filter by them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from gis_core.models import Region


class Role(models.TextChoices):
    """What a member does in a region; what each may do is ``access.roles.ROLE_CAPABILITIES``."""

    DISPATCHER = "dispatcher", "call taker / dispatcher: takes reports, dispatches, changes unit status"
    PLANNER = "planner", "planner: reads the region, computes coverage and siting; does not dispatch"
    SUPERVISOR = "supervisor", "supervisor: reads everything of the region, dispatches and plans"
    REGION_ADMIN = "region_admin", "region admin: all of the above, the region's API tokens and /admin/"


class Membership(models.Model):
    """A user is a member of a region (a 112 centre) with a role there, optionally limited to agencies;
    at most one membership per user is the home region."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=16, choices=Role.choices, blank=True, help_text="What the user may do here (none: nothing)"
    )
    agencies = models.ManyToManyField(
        "fleet.Agency",
        blank=True,
        related_name="memberships",
        help_text="Only these agencies' units are seen and sent (a PSC 119 desk); none: every agency of the region",
    )
    is_home = models.BooleanField(default=False, help_text="The region the console opens on for this user")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "-is_home", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="access_membership_once_per_region"),
            models.UniqueConstraint(fields=["user"], condition=Q(is_home=True), name="access_one_home_region"),
        ]

    def __str__(self) -> str:
        role = f" as {self.role}" if self.role else " (no role)"
        return f"{self.user} in {self.region.name}{role}" + (" (home)" if self.is_home else "")


class Scope(models.TextChoices):
    """What an API token may call: the one list of scopes (views name theirs in ``required_scopes``).

    Every scope reads; no scope writes (no report, dispatch or status change comes from a machine client).
    """

    ETA = "eta", "eta: road ETAs to a point (/api/routing/eta/, /api/units/eta/)"
    READ_INCIDENTS = "read-incidents", "read-incidents: the report queue and a report's detail"
    READ_UNITS = "read-units", "read-units: the units and stations layers"
    KPIS = "kpis", "kpis: response-time KPIs (/api/kpis/response/)"
    COVERAGE = "coverage", "coverage: the stored coverage runs, their gaps and maps"


class ApiToken(models.Model):
    """A machine client's credential (a hospital system asking ETAs, a provincial dashboard reading KPIs).

    Only the SHA-256 of the secret is stored; ``prefix`` (public, in the token itself) finds the row. The
    secret is shown once, when the token is made (``access.services.api_token_create``). A token belongs to
    one region and reads only what its ``scopes`` name there; revoking keeps the row (who made it, when it
    was last used).
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="Who uses it, e.g. 'RSUD Raden Mattaher: ETA lookup'")
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="Public part of the token")
    secret_sha256 = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=32, choices=Scope.choices), help_text="What the token may read")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="api_tokens_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["region__code", "-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}, {self.region.slug})" + (" revoked" if self.revoked_at else "")

    def clean(self) -> None:
        if not self.scopes:
            raise ValidationError({"scopes": "name at least one scope"})
        unknown = sorted(set(self.scopes) - set(Scope.values))
        if unknown:
            raise ValidationError({"scopes": f"unknown scopes {unknown}; known: {', '.join(Scope.values)}"})
        if len(set(self.scopes)) != len(self.scopes):
            raise ValidationError({"scopes": "a scope is named twice"})
