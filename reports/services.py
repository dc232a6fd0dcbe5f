"""Writes and file-making of the reports app: the exports, and the audit of callers' numbers shown in them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.utils import timezone, translation

from coverage.selectors import admin_area_rows
from fleet.models import ActorKind, AuditEntry
from gis_core.models import Region
from reports.errors import ReportError
from reports.exports.geo import layer_geojson, layers_gpkg
from reports.exports.map_png import coverage_png, incidents_png
from reports.exports.pdf import tables_pdf
from reports.exports.spm_tables import spm_export_tables
from reports.exports.spreadsheet import tables_csv, tables_xlsx
from reports.exports.tables import Table, period_tables
from reports.periods import Period
from reports.selectors.incident_rows import COLUMNS, PHONE_COLUMN, caller_phones_of_period, incident_rows
from reports.selectors.maps import Layer, coverage_layers, incident_layers
from reports.selectors.period import period_report
from reports.selectors.spm import KINDS as SPM_KINDS
from reports.selectors.spm import spm_table

AUDIT_BATCH = 2000


def export_tables(*, region: Region, period: Period) -> list[Table]:
    """The period report's tables (and the SPM tables), in the active language."""
    report = period_report(region=region, period=period)
    spm = [spm_table(region=region, period=period, kind=kind) for kind in SPM_KINDS]
    return period_tables(report) + spm_export_tables(spm)


def period_export(*, region: Region, period: Period, kind: str) -> bytes | str:
    """The period report as ``csv``, ``xlsx`` or ``pdf``; the PDF is always in Bahasa Indonesia.

    Parameters
    ----------
    kind
        ``csv`` (text, UTF-8 with a byte order mark), ``xlsx`` or ``pdf`` (bytes).
    """
    now = timezone.localtime(timezone.now(), region.zone)
    if kind == "pdf":
        with translation.override("id"):
            tables = export_tables(region=region, period=period)
            title = f"Laporan Layanan 112 {region.name}"
            footer = f"Siaga 112, dibuat {now:%d-%m-%Y %H:%M} {period_zone(period)}"
            return tables_pdf(tables, title=title, subtitle=f"Periode: {period.label_id()}", footer=footer)
    tables = export_tables(region=region, period=period)
    heading = [f"{region.name}: {period.label_id()} ({period.first.isoformat()} - {period.last.isoformat()})"]
    heading.append(f"Siaga 112, {now.isoformat(timespec='minutes')}")
    return tables_csv(tables, heading=heading) if kind == "csv" else tables_xlsx(tables, heading=heading)


def period_zone(period: Period) -> str:
    from gis_core.time_zones import zone_label

    return zone_label(period.time_zone, at=period.since)["abbreviation"]


def incidents_csv_lines(*, region: Region, period: Period, with_phones: bool) -> Iterator[str]:
    """The data-out CSV line by line (a header, then one report per line), for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield "\ufeff" + line([*COLUMNS, *([PHONE_COLUMN] if with_phones else [])])
    for row in incident_rows(region_id=region.pk, period=period, with_phones=with_phones):
        yield line(row)


def caller_phones_read_record(*, region: Region, period: Period, user: Any, remote_addr: str | None) -> int:
    """Audit a data-out CSV that shows callers' numbers: one ``caller.read`` per number in it, as a read of
    a caller's record is audited (``incidents.services.callers.caller_read_record``), so "who saw this number"
    finds the export too. Written before the file is sent. Returns how many numbers were recorded."""
    phones = caller_phones_of_period(region_id=region.pk, period=period)
    token = getattr(user, "api_token", None)
    label = user.get_username() if getattr(user, "is_authenticated", False) else ""
    data = {"via": "report_export", "region": region.slug, "period": period.key}
    if token is not None:
        data |= {"api_token": token.prefix, "api_token_name": token.name}
    entries = (
        AuditEntry(
            action="caller.read",
            actor_kind=ActorKind.SYSTEM if token is not None else ActorKind.DISPATCHER,
            actor_user=user if getattr(user, "pk", None) and token is None else None,
            actor_label=label,
            remote_addr=remote_addr,
            object_type="region",
            object_id=str(region.pk),
            data={"phone": phone, **data},
        )
        for phone in phones
    )
    AuditEntry.objects.bulk_create(entries, batch_size=AUDIT_BATCH)
    return len(phones)


COVERAGE_LAYERS = ("coverage_cells", "wmk_zones", "gaps_kecamatan", "gap_cells", "stations")
INCIDENT_LAYERS = ("incidents", "density")
MAP_FORMATS = ("gpkg", "geojson", "png")
_AGENCY_WORD = {"fire": "Damkar", "ems": "PSC 119"}


def _one_layer(layers: list[Layer], name: str | None, names: tuple[str, ...]) -> Layer:
    name = name or names[0]
    if name not in names:
        raise ReportError(f"layer must be one of {', '.join(names)}, not {name[:40]!r}")
    return next(layer for layer in layers if layer.name == name)


def coverage_map_export(*, region: Region, kind: str, fmt: str, layer: str | None = None) -> bytes:
    """Coverage, WMK zones and gaps of ``kind``'s stations as ``gpkg`` (every layer), ``geojson`` (``layer``,
    default ``coverage_cells``) or a ``png`` map (``reports.selectors.maps``)."""
    maps = coverage_layers(region=region, kind=kind)
    if fmt == "gpkg":
        return layers_gpkg(maps.layers)
    if fmt == "geojson":
        return layer_geojson(_one_layer(maps.layers, layer, COVERAGE_LAYERS))
    title = f"Cakupan {_AGENCY_WORD.get(kind, kind)} {region.name}: WMK {maps.travel_s / 60:.0f} menit"
    return coverage_png(maps, title=title)


def incident_map_export(*, region: Region, period: Period, cell_m: int, fmt: str, layer: str | None = None) -> bytes:
    """The period's reports (points) and their density grid as ``gpkg``, ``geojson`` (``layer``, default
    ``incidents``) or a ``png`` map."""
    layers = incident_layers(region=region, period=period, cell_m=cell_m)
    if fmt == "gpkg":
        return layers_gpkg(layers)
    if fmt == "geojson":
        return layer_geojson(_one_layer(layers, layer, INCIDENT_LAYERS))
    kecamatan = admin_area_rows(region=region)[0]  # the outlines, in the region's metric CRS
    title = f"Laporan 112 {region.name}: {period.label_id()} (sel {cell_m} m)"
    return incidents_png(layers, kecamatan, title=title)
