"""Who may call the coverage API: planners (and admins) compute coverage, gaps, siting and what-ifs.

HTTP Basic or a session authenticates the user; the roles are ``access.roles``'.
"""

from __future__ import annotations

from access import roles
from access.permissions import RolePermission


class CanPlan(RolePermission):
    """Planners, supervisors and region admins: coverage surfaces, reports, gaps, siting, live coverage,
    what-ifs, runs (a computation names its region with ``RegionField(capability="plan")``)."""

    message = "this needs the planner, supervisor or region admin role in a region: ask an administrator"

    def user_may(self, user) -> bool:
        return roles.can_plan(user)
