"""Reads of the incident-type table as one region sees it: the shared table with the region's overrides.

A region may override a shared type (``RegionIncidentType``): not offer it, give it another default priority,
or list needs of its own, which then replace the shared needs there. A region without an override of a
type sees the shared row as it is. Recommendation (``incidents.selectors.recommend.incident_needs``), the
console's type list and a new report's default priority read the region's table through this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Value

from gis_core.models import Region
from incidents.models import IncidentType, IncidentTypeNeed, RegionIncidentType, RegionIncidentTypeNeed


@dataclass(frozen=True)
class RegionalType:
    """A type as a region's call takers are offered it."""

    code: str
    name: str
    category: str
    default_priority: int
    overridden: bool


@dataclass(frozen=True)
class TypeNeed:
    """One need of a type in a region: ``count`` units of ``agency_kind`` with ``capability`` (a code)."""

    agency_kind: str
    capability: str
    count: int
    optional: bool
    from_region: bool  # the region's own need (an override), not the shared table's


def incident_types_for_region(*, region: Region) -> list[RegionalType]:
    """The types ``region`` offers, by category then code, each with the region's default priority; names in
    the active language (``name_in``)."""
    overrides = {o.incident_type_id: o for o in RegionIncidentType.objects.filter(region=region)}
    out = []
    for itype in IncidentType.objects.order_by("category", "code"):
        override = overrides.get(itype.pk)
        if override is not None and not override.offered:
            continue
        priority = override.default_priority if override and override.default_priority else itype.default_priority
        out.append(RegionalType(itype.code, itype.name_in(), itype.category, priority, override is not None))
    return out


def default_priority_in_region(*, incident_type: IncidentType, region: Region) -> int:
    """The default priority of ``incident_type`` in ``region``: the override's, else the shared one."""
    override = RegionIncidentType.objects.filter(region=region, incident_type=incident_type).first()
    if override is not None and override.default_priority:
        return override.default_priority
    return incident_type.default_priority


def incident_type_offered(*, incident_type: IncidentType, region: Region) -> bool:
    """Whether ``region``'s call takers may pick ``incident_type`` (no override that turns it off)."""
    return not RegionIncidentType.objects.filter(region=region, incident_type=incident_type, offered=False).exists()


def incident_type_needs(*, incident_type_id: int, region_id: int) -> list[TypeNeed]:
    """What a report of type ``incident_type_id`` needs in region ``region_id``: the region's own needs when
    its override lists any, else the shared ones (one query: both tables' rows, the region's kept if any)."""
    columns = ("agency_kind", "capability__code", "count", "optional", "pk", "from_region")
    own = (
        RegionIncidentTypeNeed.objects.filter(
            override__region_id=region_id, override__incident_type_id=incident_type_id
        )
        .annotate(from_region=Value(True))
        .values_list(*columns)
    )
    shared = (
        IncidentTypeNeed.objects.filter(incident_type_id=incident_type_id)
        .annotate(from_region=Value(False))
        .values_list(*columns)
    )
    rows = sorted(own.union(shared, all=True), key=lambda row: (not row[5], row[4]))
    needs = [TypeNeed(kind, code, count, optional, from_region) for kind, code, count, optional, _, from_region in rows]
    if any(need.from_region for need in needs):
        return [need for need in needs if need.from_region]
    return needs
