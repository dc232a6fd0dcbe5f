"""The period's reports one per row, for the data-out CSV: streamed from a server-side cursor.

Times are written in the region's zone with their offset (``2026-10-01T00:30:00+07:00``). A report's
response is to its first unit on scene by the KPI rules (``reports.selectors.response``); dispatches
cancelled before arrival are counted apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection

from incidents.models import IncidentType
from reports.periods import Period

SQL = """
WITH period_reports AS (
    SELECT * FROM fleet_incident
    WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s
), first_unit AS (
    SELECT DISTINCT ON (a.incident_id) a.incident_id, a.on_scene_at, ag.code AS agency
    FROM fleet_assignment a
    JOIN period_reports r ON r.id = a.incident_id
    JOIN fleet_unit u ON u.id = a.unit_id
    JOIN fleet_agency ag ON ag.id = u.agency_id
    WHERE NOT (a.status = 'cancelled' AND a.on_scene_at IS NULL)
    ORDER BY a.incident_id, a.on_scene_at ASC NULLS LAST, a.dispatched_at, a.id
), dispatches AS (
    SELECT a.incident_id, min(a.dispatched_at) AS first_dispatched_at, count(*) AS dispatches,
           count(*) FILTER (WHERE a.status = 'cancelled' AND a.on_scene_at IS NULL) AS cancelled
    FROM fleet_assignment a JOIN period_reports r ON r.id = a.incident_id
    GROUP BY a.incident_id
)
SELECT r.reference, r.received_at, r.channel, r.incident_type_id, r.priority, k.code, k.name, kel.name,
       r.status, r.outcome, r.closed_at, d.first_dispatched_at, f.on_scene_at,
       extract(epoch FROM f.on_scene_at - r.received_at), f.agency, coalesce(d.dispatches, 0),
       coalesce(d.cancelled, 0), round(ST_X(r.geom)::numeric, 6), round(ST_Y(r.geom)::numeric, 6), r.caller_phone
FROM period_reports r
LEFT JOIN first_unit f ON f.incident_id = r.id
LEFT JOIN dispatches d ON d.incident_id = r.id
LEFT JOIN gis_core_kecamatan k ON k.id = r.kecamatan_id
LEFT JOIN gis_core_kelurahan kel ON kel.id = r.kelurahan_id
ORDER BY r.received_at, r.id
"""

COLUMNS = (
    "reference", "received_at", "channel", "incident_type", "incident_type_name", "priority", "kecamatan_code",
    "kecamatan", "kelurahan", "status", "outcome", "closed_at", "first_dispatched_at", "first_on_scene_at",
    "response_s", "first_on_scene_agency", "dispatches", "dispatches_cancelled", "lon", "lat",
)  # fmt: skip
PHONE_COLUMN = "caller_phone"


def incident_rows(*, region_id: int, period: Period, with_phones: bool) -> Iterator[list]:
    """Each report of the period as a list in :data:`COLUMNS` order (and its caller's number when ``with_phones``)."""
    zone = ZoneInfo(period.time_zone)
    types = {t.pk: (t.code, t.name_in()) for t in IncidentType.objects.all()}

    def local(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).isoformat()

    params: dict[str, int | datetime] = {"region": region_id, "since": period.since, "until": period.until}
    with connection.chunked_cursor() as cursor:
        cursor.execute(SQL, params)
        while chunk := cursor.fetchmany(2000):
            for row in chunk:
                (ref, received, channel, type_id, priority, kec_code, kec, kel, status, outcome, closed,
                 dispatched, on_scene, response_s, agency, n, cancelled, lon, lat, phone) = row  # fmt: skip
                code, name = types.get(type_id, ("", ""))
                out = [
                    ref, local(received), channel, code, name, priority, kec_code or "", kec or "", kel or "",
                    status, outcome, local(closed), local(dispatched), local(on_scene),
                    "" if response_s is None else round(float(response_s), 1), agency or "", n, cancelled,
                    "" if lon is None else lon, "" if lat is None else lat,
                ]  # fmt: skip
                if with_phones:
                    out.append(phone)
                yield out


def caller_phones_of_period(*, region_id: int, period: Period) -> list[str]:
    """The distinct callers' numbers of the period's reports (what a data-out CSV with numbers shows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT caller_phone FROM fleet_incident WHERE region_id = %s AND received_at >= %s"
            " AND received_at < %s AND caller_phone <> '' ORDER BY 1",
            [region_id, period.since, period.until],
        )
        return [row[0] for row in cursor.fetchall()]
