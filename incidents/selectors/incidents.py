"""Reads over reports and callers: the dispatcher's queue, one report in full, a caller's history.

Recommendation and ETAs are ``incidents.selectors.recommend``, units on the board ``units``, KPIs
``kpis``; these are the reports. Every read a person
makes goes through the regions that person may see (``access.selectors.regions_for_user``): a report,
assignment or caller of another centre is not found, exactly as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from access.selectors import regions_for_user
from fleet.selectors.units import agencies_for_user
from gis_core.models import Region
from incidents.models import (
    Assignment,
    Caller,
    CallerFlag,
    Incident,
    IncidentStatus,
    LocationOffer,
    Outcome,
    WhatsAppMessage,
)
from incidents.representations import crew_messages_prefetch, handoffs_prefetch, incidents_loaded
from incidents.services.callers import caller_flags_active, caller_pranks_counted
from incidents.services.incidents import OPEN_STATUSES


def incidents_queue(
    *, user: Any, region: Region | None = None, statuses: list[str] | None = None
) -> QuerySet[Incident]:
    """Reports by status (default: every report not closed or cancelled), most urgent and oldest first.

    Parameters
    ----------
    user
        Only reports of the regions this user may see.
    region
        Only this region's reports (one of the user's; all of the user's regions when None).
    statuses
        ``IncidentStatus`` values to include.

    Returns
    -------
    QuerySet
        With what ``incidents.representations.incident_public`` reads loaded (type, areas, the pending
        location offers as ``pending_offers``, the assignments with their units).
    """
    queryset = Incident.objects.filter(status__in=statuses or list(OPEN_STATUSES), region__in=regions_for_user(user))
    if region is not None:
        queryset = queryset.filter(region=region)
    return incidents_loaded(queryset).order_by("priority", "received_at", "pk")


def incident_for_user(user: Any, *, pk: int, capability: str | None = None) -> Incident | None:
    """The report ``pk`` with its region if ``user`` may see its region (and, given ``capability``, an
    ``access.roles`` capability such as ``DISPATCH``, do that there), else None (as if it did not exist).

    Reports are not limited by agency: a member limited to agencies still sees every report of the region
    (the centre triages them all)."""
    regions = regions_for_user(user, capability=capability)
    return Incident.objects.select_related("region").filter(pk=pk, region__in=regions).first()


def assignment_for_user(user: Any, *, pk: int, capability: str | None = None) -> Assignment | None:
    """The assignment ``pk`` if ``user`` may see its report's region and its unit's agency (and, given
    ``capability``, do that there), else None (as if it did not exist)."""
    agencies = agencies_for_user(user, capability=capability)
    return Assignment.objects.filter(pk=pk, unit__agency__in=agencies).first()


def incident_detail(*, user: Any, pk: int) -> Incident | None:
    """One report of the user's regions with everything the detail view shows, in a fixed number of queries."""
    assignments = (
        Assignment.objects.select_related("unit__agency", "unit__unit_type", "capability")
        .prefetch_related(crew_messages_prefetch())
        .order_by("dispatched_at", "pk")
    )
    return (
        Incident.objects.select_related("region", "incident_type", "kecamatan", "kelurahan", "created_by")
        .prefetch_related(
            "incident_type__needs__capability",
            Prefetch("location_offers", queryset=LocationOffer.objects.select_related("applied_by")),
            Prefetch("assignments", queryset=assignments),
            Prefetch("whatsapp", queryset=WhatsAppMessage.objects.order_by("sent_at", "pk")),
            handoffs_prefetch(),
        )
        .filter(pk=pk, region__in=regions_for_user(user))
        .first()
    )


@dataclass
class CallerHistory:
    """A number's record: its reports (newest first), their outcomes, and its flags and blocks."""

    phone: str
    caller: Caller | None
    reports: list[Incident]
    report_count: int
    outcome_counts: dict[str, int]
    pranks_counted: int
    flags: list[CallerFlag]
    active_flags: list[CallerFlag]


def caller_history(*, region: Region, phone: str, limit: int = 50, at: datetime | None = None) -> CallerHistory:
    """The history of an E.164 number at one centre: up to ``limit`` newest reports of ``region``, counts
    per outcome, and the region's own flags on it (another centre's are neither shown nor applied).

    ``pranks_counted`` is the number of prank reports the policy counts now (in the window and since the
    last lift); ``active_flags`` are the flags and blocks in force at ``at``. The caller decides which
    region the person asking may see (``access.selectors.region_for_user``).
    """
    at = at or timezone.now()
    caller = Caller.objects.filter(region=region, phone=phone).first()
    reports = Incident.objects.filter(caller_phone=phone, region=region)
    counts = dict.fromkeys(Outcome.values, 0)
    for row in reports.values("outcome").annotate(n=Count("pk")):
        counts[row["outcome"]] = row["n"]
    recent = list(reports.select_related("incident_type").order_by("-received_at", "-pk")[:limit])
    if caller is None:
        return CallerHistory(phone, None, recent, sum(counts.values()), counts, 0, [], [])
    flags = list(caller.flags.select_related("created_by", "lifted_by").order_by("-created_at", "-pk"))
    active_ids = set(caller_flags_active(caller=caller, at=at).values_list("pk", flat=True))
    return CallerHistory(
        phone=phone,
        caller=caller,
        reports=recent,
        report_count=sum(counts.values()),
        outcome_counts=counts,
        pranks_counted=caller_pranks_counted(caller=caller, at=at).count(),
        flags=flags,
        active_flags=[f for f in flags if f.pk in active_ids],
    )


def statuses_parse(raw: str | None) -> list[str] | None:
    """``open,dispatched`` -> a list of statuses; ``all`` -> every status; None/empty -> None (the default).

    Raises ``ValueError`` naming the unknown status and the known ones.
    """
    if not raw:
        return None
    if raw.strip() == "all":
        return list(IncidentStatus.values)
    values = [v.strip() for v in raw.split(",") if v.strip()]
    unknown = [v for v in values if v not in IncidentStatus.values]
    if unknown:
        raise ValueError(f"unknown status {', '.join(unknown)}; use {', '.join(IncidentStatus.values)} or all")
    return values
