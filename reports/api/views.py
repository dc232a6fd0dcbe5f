"""Thin views of the reports API: parse the region and period, call one selector or export, answer.

``GET /api/reports/period/?region=&period=2026-10`` (or ``&from=2026-01-01&to=2026-10-30``: local dates, both
included) is the period report as JSON; ``period.csv``, ``period.xlsx`` and ``period.pdf`` the same report
(with the SPM tables) as files; ``incidents.csv`` the period's reports one per row (callers' numbers only for
those who may see them, and then audited); ``spm/?agency=`` the SPM table of one agency as JSON.
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.authentication import ApiTokenAuthentication
from fleet.models import AgencyKind
from gis_core.api.authentication import BasicAuthentication
from gis_core.api.views import region_or_404
from gis_core.client_address import client_address
from gis_core.models import Region
from reports import services
from reports.api.permissions import CanReadReports, may_see_caller_phones
from reports.errors import ReportPeriodError
from reports.periods import Period, period_parse
from reports.selectors.maps import density_cell_m
from reports.selectors.period import period_report
from reports.selectors.spm import spm_table

PARAMETERS = [
    OpenApiParameter("region", str, required=True, description="region slug or Kemendagri code"),
    OpenApiParameter("period", str, description="2026-10 (a month), 2026-Q4 (a quarter) or 2026 (a year)"),
    OpenApiParameter("from", str, description="first local date of a range, 2026-01-01 (with to=)"),
    OpenApiParameter("to", str, description="last local date of a range, included"),
]


def region_of(request: Request) -> Region:
    """The region of ``?region=`` among the user's (another centre's is a 404); a missing or bad one a 400."""
    slug = request.query_params.get("region")
    if not slug:
        raise ReportPeriodError("name the region: ?region=kota-jambi")
    if len(slug) > 64:
        raise ReportPeriodError("region must be a slug or code such as kota-jambi")
    return region_or_404(slug, user=request.user)


def region_and_period(request: Request) -> tuple[Region, Period]:
    """The region (``?region=``, one of the user's: else 404) and the period read in its time zone (else 400)."""
    query = request.query_params
    region = region_of(request)
    period = period_parse(
        time_zone=region.time_zone, period=query.get("period"), first=query.get("from"), last=query.get("to")
    )
    return region, period


class ReportsAPIView(APIView):
    """A report reader's endpoint: HTTP Basic or a session (an API token only where a view names its scope)."""

    authentication_classes = (BasicAuthentication, SessionAuthentication, ApiTokenAuthentication)
    permission_classes = (CanReadReports,)


@extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
class PeriodReportView(ReportsAPIView):
    """GET: the period report (counts, outcomes and pranks, response times, units' time per status)."""

    required_scopes = {"GET": "kpis"}  # a provincial dashboard reads it like the KPIs

    def get(self, request: Request) -> Response:
        region, period = region_and_period(request)
        return Response(period_report(region=region, period=period))


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.BINARY})
class PeriodExportView(ReportsAPIView):
    """GET: the period report and the SPM tables as a file: CSV, XLSX or a printable PDF in Bahasa Indonesia."""

    kind = "csv"
    content_types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf",
    }

    def get(self, request: Request) -> HttpResponse:
        region, period = region_and_period(request)
        body = services.period_export(region=region, period=period, kind=self.kind)
        response = HttpResponse(body, content_type=self.content_types[self.kind])
        return _attachment(response, f"laporan-{region.slug}-{period.key}.{self.kind}")


@extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.BINARY})
class IncidentsCsvView(ReportsAPIView):
    """GET: the period's reports, one per row, for the centre's own analysis.

    Callers' numbers are in it only for a user who may see them (``may_see_caller_phones``), and then the
    export is recorded as a ``caller.read`` of each number in it before the first row is sent.
    """

    def get(self, request: Request) -> StreamingHttpResponse:
        region, period = region_and_period(request)
        with_phones = may_see_caller_phones(request.user, region)
        if with_phones:
            services.caller_phones_read_record(
                region=region, period=period, user=request.user, remote_addr=client_address(request)
            )
        rows = services.incidents_csv_lines(region=region, period=period, with_phones=with_phones)
        response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        return _attachment(response, f"data-laporan-{region.slug}-{period.key}.csv")


@extend_schema(
    parameters=[*PARAMETERS, OpenApiParameter("agency", str, description="fire (Damkar, default) or ems (PSC 119)")],
    responses={200: OpenApiTypes.OBJECT},
)
class SpmView(ReportsAPIView):
    """GET: the SPM table per kecamatan of one agency kind: events within the standard, p90, WMK population."""

    required_scopes = {"GET": "kpis"}

    def get(self, request: Request) -> Response:
        region, period = region_and_period(request)
        kind = request.query_params.get("agency", AgencyKind.FIRE)
        return Response(spm_table(region=region, period=period, kind=kind))


MAP_CONTENT_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "png": "image/png",
}
MAP_PARAMETERS = [
    OpenApiParameter("region", str, required=True, description="region slug or Kemendagri code"),
    OpenApiParameter("layer", str, description="GeoJSON only: which layer (one layer per GeoJSON file)"),
]


@extend_schema(
    parameters=[*MAP_PARAMETERS, OpenApiParameter("agency", str, description="fire (Damkar, default) or ems")],
    responses={200: OpenApiTypes.BINARY},
)
class CoverageMapView(ReportsAPIView):
    """GET: coverage, WMK zones and gaps of the fire (or EMS) stations for planners: GeoPackage (every layer:
    ``coverage_cells``, ``wmk_zones``, ``gaps_kecamatan``, ``gap_cells``, ``stations``), GeoJSON (``?layer=``,
    default ``coverage_cells``) or a PNG map. From the coverage engine at the SPM's WMK travel time."""

    fmt = "gpkg"
    throttle_scope = "coverage"  # one road search per station and an isochrone each

    def get(self, request: Request) -> HttpResponse:
        region = region_of(request)
        kind = request.query_params.get("agency", AgencyKind.FIRE)
        body = services.coverage_map_export(
            region=region, kind=kind, fmt=self.fmt, layer=request.query_params.get("layer")
        )
        response = HttpResponse(body, content_type=MAP_CONTENT_TYPES[self.fmt])
        return _attachment(response, f"cakupan-{kind}-{region.slug}.{self.fmt}")


@extend_schema(
    parameters=[*PARAMETERS, MAP_PARAMETERS[1],
                OpenApiParameter("cell_m", int, description="density grid cell side, metres (100-5000, default 500)")],
    responses={200: OpenApiTypes.BINARY},
)  # fmt: skip
class IncidentMapView(ReportsAPIView):
    """GET: the period's located reports (points with the data-out columns, no callers' numbers) and their
    density grid (reports per cell in the region's metric CRS) as GeoPackage, GeoJSON (``?layer=incidents`` or
    ``density``) or a PNG map."""

    fmt = "gpkg"

    def get(self, request: Request) -> HttpResponse:
        region, period = region_and_period(request)
        cell_m = density_cell_m(request.query_params.get("cell_m"))
        body = services.incident_map_export(
            region=region, period=period, cell_m=cell_m, fmt=self.fmt, layer=request.query_params.get("layer")
        )
        response = HttpResponse(body, content_type=MAP_CONTENT_TYPES[self.fmt])
        return _attachment(response, f"laporan-peta-{region.slug}-{period.key}.{self.fmt}")
