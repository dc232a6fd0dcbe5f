"""Who may call the coverage API: planners (and admins) compute coverage, gaps, siting and what-ifs.

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from access import roles


class CanPlan(BasePermission):
    """Planners (and admins): coverage surfaces, reports, gaps, siting, live coverage, what-ifs, runs."""

    message = "this needs the planner role: ask an administrator"

    def has_permission(self, request, view) -> bool:
        return roles.can_plan(request.user)
