"""Who may read a centre's reports, and who may see callers' numbers in them: the one place to adapt.

Roles are ``access.roles``' (for now Django groups held across every region the user is a member of);
when roles move onto each region membership, :func:`may_read_reports` and :func:`may_see_caller_phones`
take the region and ask ``access.roles`` about that membership, and nothing else in this app changes.
The region itself is always resolved through ``gis_core.api.views.region_or_404`` (another centre's is a 404).
"""

from __future__ import annotations

from typing import Any

from access import roles
from access.permissions import RolePermission

# Supervisors read their centre's reports too once access has such a role (issue 11's roles per membership).
READER_ROLES = frozenset({roles.DISPATCHER, roles.PLANNER, roles.ADMIN, getattr(roles, "SUPERVISOR", roles.ADMIN)})


def may_read_reports(user: Any, region: Any = None) -> bool:
    """Whether ``user`` may read the period report, the SPM table and the exports (of ``region``)."""
    return bool(roles.roles_of(user) & READER_ROLES)


def may_see_caller_phones(user: Any, region: Any = None) -> bool:
    """Whether the data-out CSV may show callers' numbers: whoever may read a report in full (dispatchers,
    admins), as ``incidents`` shows a report's caller to them; each such export is audited as ``caller.read``."""
    return roles.can_dispatch(user)


class CanReadReports(RolePermission):
    """Supervisors, dispatchers, planners and admins of the centre: its reports and their exports."""

    message = "reading the centre's reports needs a supervisor, dispatcher, planner or admin role: ask an administrator"

    def user_may(self, user) -> bool:
        return may_read_reports(user)
