"""Who may read a centre's reports, and who may see callers' numbers in them: the one place that decides.

Roles are held per region membership (``access.roles``): every role reads its centre's reports
(dispatcher, planner, supervisor, region admin); callers' numbers in the data-out CSV are for the roles
that dispatch there, as ``incidents`` shows a report's caller to them. The region itself is always resolved
through ``gis_core.api.views.region_or_404`` (another centre's is a 404).
"""

from __future__ import annotations

from typing import Any

from access import roles
from access.permissions import RolePermission


def may_read_reports(user: Any, region: Any = None) -> bool:
    """Whether ``user`` may read the period report, the SPM table and the exports of ``region`` (None: of
    any region they hold a role in; the view then resolves the region it names with the same check)."""
    return roles.may(user, roles.READ, region)


def may_see_caller_phones(user: Any, region: Any) -> bool:
    """Whether the data-out CSV of ``region`` may show callers' numbers: whoever may dispatch there; each
    such export is audited as ``caller.read``."""
    return roles.can_dispatch(user, region)


class CanReadReports(RolePermission):
    """Supervisors, dispatchers, planners and region admins of the centre: its reports and their exports."""

    message = "reading the centre's reports needs a role in its region: ask an administrator"

    def user_may(self, user) -> bool:
        return may_read_reports(user)
