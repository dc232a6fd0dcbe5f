"""Response-time KPIs: per report, received to first unit on scene, and its phases, grouped.

Mean, 90th percentile and share within target per agency, priority, kecamatan, or the region's local
day or month (DOMAIN.md: that is how the standards are written), with targets per agency and priority:
a report is judged on its first arriving agency's target for the report's priority (``ResponseTarget``),
else that agency's own target (``Agency.response_target_s``), else the default for the agency's kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Prefetch
from django.utils import timezone

from fleet.models import Agency, AgencyKind
from gis_core.models import Region
from incidents.models import Assignment, AssignmentStatus, Handoff, HandoffStatus, Incident

# Response targets when an agency sets none, seconds (DOMAIN.md: SPM fire 15 min; PSC 119 services
# locally quote 15 min). Other kinds have no published target: their share within target is null.
DEFAULT_TARGET_S: dict[str, int] = {AgencyKind.FIRE: 900, AgencyKind.EMS: 900}

GROUP_BY = ("agency", "priority", "kecamatan", "day", "month")


def check_window(group_by: str, choices: tuple[str, ...], since: datetime, until: datetime) -> None:
    """Refuse a grouping outside ``choices`` or an empty window, naming the values (the views turn it into a 400)."""
    if group_by not in choices:
        raise ValueError(f"group_by must be one of {', '.join(choices)}, not {group_by!r}")
    if since >= until:
        raise ValueError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")


PHASES = ("received_to_dispatched_s", "dispatched_to_en_route_s", "en_route_to_on_scene_s")


def percentile_linear(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks.

    Same as numpy's default method and PostgreSQL's ``percentile_cont(q / 100)``: sorted values
    v[0..n-1], position h = (n - 1) q / 100, result v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]).
    """
    arr = np.asarray(list(values), dtype=float)
    return None if arr.size == 0 else float(np.percentile(arr, q))


def response_kpis(*, region: Region, since: datetime, until: datetime, group_by: str = "agency") -> dict:
    """Response times of the reports received in [since, until), grouped.

    A report's response time is ``received_at`` to the first unit's ``on_scene_at``; grouped by
    agency, it is to that agency's first unit on scene (so each agency is judged on its own units).
    The phases are those of the same first-arriving assignment: received -> dispatched,
    dispatched -> en route, en route -> on scene (a phase with a missing timestamp is left out of
    that phase's figures). Reports no unit reached are counted but have no response time.

    The 90th percentile is the linear-interpolation percentile (:func:`percentile_linear`, as
    PostgreSQL ``percentile_cont(0.9)``). ``share_within_target`` is the share of responded reports
    at or under their target: the first-arriving agency's target for the report's priority, else its
    ``response_target_s``, else :data:`DEFAULT_TARGET_S` for its kind (grouped by agency: that
    agency's). Reports with no applicable target are left out of the share. An agency group's
    ``target_s`` is the agency's general target and ``target_by_priority_s`` its overrides.

    Parameters
    ----------
    region
        The region whose reports count.
    since, until
        Window on ``Incident.received_at``, timezone-aware; ``until`` excluded.
    group_by
        ``agency``, ``priority``, ``kecamatan``, or ``day`` / ``month``: the calendar day (``2026-12-03``)
        or month (``2026-12``) of ``received_at`` in the region's time zone, so Ambon's days begin at
        00:00 WIT, not at the server's or UTC midnight.

    Returns
    -------
    dict
        ``region``, ``time_zone`` (the region's, that days and months are counted in), ``group_by``,
        ``since``, ``until``, ``percentile_method`` and ``groups``: per group ``key``,
        ``label``, ``target_s``, ``reports``, ``responded``, ``response_s`` and each phase as
        ``{mean, p90, n}`` in seconds, and ``share_within_target``.
    """
    check_window(group_by, GROUP_BY, since, until)
    incidents = list(
        Incident.objects.filter(region=region, received_at__gte=since, received_at__lt=until)
        .select_related("kecamatan")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.exclude(status=AssignmentStatus.CANCELLED, on_scene_at__isnull=True)
                .select_related("unit__agency")
                .prefetch_related("unit__agency__priority_targets")
                .order_by("on_scene_at", "dispatched_at", "pk"),
            )
        )
    )
    samples: dict[tuple, list[dict]] = defaultdict(list)
    labels: dict[tuple, tuple[str, int | None, dict[int, int] | None]] = {}
    for incident in incidents:
        for key, label, sample in _report_samples(incident, group_by, zone=region.zone):
            samples[key].append(sample)
            labels.setdefault(key, label)
    groups = [_summary(key, labels[key], rows) for key, rows in samples.items()]
    groups.sort(key=lambda g: (g["key"] is None, str(g["key"])))
    return {
        "region": region.slug,
        "time_zone": region.time_zone,
        "group_by": group_by,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "percentile_method": "linear interpolation (numpy default, PostgreSQL percentile_cont)",
        "groups": groups,
    }


def _target_s(agency: Agency, priority: int | None = None) -> int | None:
    """The agency's target for reports of ``priority``, else its own, else its kind's default (seconds)."""
    by_priority = _by_priority(agency)
    if priority in by_priority:
        return by_priority[priority]
    return agency.response_target_s if agency.response_target_s is not None else DEFAULT_TARGET_S.get(agency.kind)


def _by_priority(agency: Agency) -> dict[int, int]:
    return {t.priority: t.target_s for t in agency.priority_targets.all()}  # prefetched


def _sample(incident: Incident, first: Assignment | None) -> dict:
    if first is None or first.on_scene_at is None:
        return {"response_s": None, "target_s": None}
    received = incident.received_at

    def span(a, b):
        return None if a is None or b is None else (b - a).total_seconds()

    return {
        "response_s": span(received, first.on_scene_at),
        "received_to_dispatched_s": span(received, first.dispatched_at),
        "dispatched_to_en_route_s": span(first.dispatched_at, first.en_route_at),
        "en_route_to_on_scene_s": span(first.en_route_at, first.on_scene_at),
        "target_s": _target_s(first.unit.agency, incident.priority),
    }


def _report_samples(incident: Incident, group_by: str, *, zone: ZoneInfo):
    assignments = list(incident.assignments.all())  # on_scene_at ascending, nulls last
    if group_by == "agency":
        by_agency: dict[int, list[Assignment]] = defaultdict(list)
        for a in assignments:
            by_agency[a.unit.agency_id].append(a)
        for rows in by_agency.values():
            agency = rows[0].unit.agency
            yield (agency.code,), (agency.name, _target_s(agency), _by_priority(agency)), _sample(incident, rows[0])
        return
    sample = _sample(incident, assignments[0] if assignments else None)
    if group_by == "priority":
        yield (incident.priority,), (incident.get_priority_display(), None, None), sample
    elif group_by in ("day", "month"):
        day = timezone.localtime(incident.received_at, zone).date().isoformat()
        period = day if group_by == "day" else day[:7]
        yield (period,), (period, None, None), sample
    else:
        kec = incident.kecamatan
        yield (kec.code if kec else None,), (kec.name if kec else "no kecamatan", None, None), sample


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _stats(values: list[float]) -> dict:
    return {
        "n": len(values),
        "mean": round(float(np.mean(values)), 1) if values else None,
        "p90": _round1(percentile_linear(values, 90)),
    }


def _summary(key: tuple, label: tuple[str, int | None, dict[int, int] | None], rows: list[dict]) -> dict:
    responded = [r for r in rows if r["response_s"] is not None]
    judged = [r for r in responded if r["target_s"] is not None]
    within = sum(1 for r in judged if r["response_s"] <= r["target_s"])
    out = {
        "key": key[0],
        "label": label[0],
        "target_s": label[1],
        **({"target_by_priority_s": label[2]} if label[2] is not None else {}),
        "reports": len(rows),
        "responded": len(responded),
        "response_s": _stats([r["response_s"] for r in responded]),
        "share_within_target": round(within / len(judged), 4) if judged else None,
        "judged_against_target": len(judged),
    }
    for phase in PHASES:
        out[phase] = _stats([r[phase] for r in responded if r.get(phase) is not None])
    return out


def handoff_kpis(*, region: Region, since: datetime, until: datetime) -> dict:
    """Hand-off times per agency for the hand-offs created in [since, until): how fast each agency answers.

    ``ack_s`` is sent -> acknowledged (seconds; hand-offs never sent or not yet acknowledged are left out of
    it), with the mean and the linear-interpolation 90th percentile (:func:`percentile_linear`);
    ``unacknowledged`` counts those sent and not acknowledged (yet), ``escalated`` those that were escalated.

    Returns
    -------
    dict
        ``region, since, until, groups: [{key (agency code), label (name), agency_kind, handoffs, sent,
        acknowledged, unacknowledged, escalated, ack_s {n, mean, p90}}]`` sorted by agency code.
    """
    rows = (
        Handoff.objects.filter(incident__region=region, created_at__gte=since, created_at__lt=until)
        .select_related("agency")
        .order_by("agency__code", "pk")
    )
    groups: dict[str, dict] = {}
    for h in rows:
        g = groups.setdefault(
            h.agency.code,
            {"key": h.agency.code, "label": h.agency.name, "agency_kind": h.agency.kind, "rows": []},
        )
        g["rows"].append(h)
    waiting = (HandoffStatus.PENDING, HandoffStatus.SENT)
    out = []
    for g in groups.values():
        legs = g.pop("rows")
        acks = [(h.acknowledged_at - h.sent_at).total_seconds() for h in legs if h.sent_at and h.acknowledged_at]
        out.append(
            {
                **g,
                "handoffs": len(legs),
                "sent": sum(1 for h in legs if h.sent_at is not None),
                "acknowledged": sum(1 for h in legs if h.acknowledged_at is not None),
                "unacknowledged": sum(1 for h in legs if h.sent_at is not None and h.status in waiting),
                "escalated": sum(1 for h in legs if h.escalated_at is not None),
                "ack_s": _stats(acks),
            }
        )
    return {
        "region": region.slug,
        "time_zone": region.time_zone,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "percentile_method": "linear interpolation (numpy default, PostgreSQL percentile_cont)",
        "groups": out,
    }
