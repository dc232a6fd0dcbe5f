"""How wrong the ETAs were: ``/api/kpis/eta-accuracy/`` as JSON and as a PNG chart.

Any console role reads them (planners judge the network, dispatchers their own ETAs), and an API token
with the ``kpis`` scope, in its own region.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.authentication import ApiTokenAuthentication
from fleet.api.permissions import CanSeeFleet
from gis_core.api.authentication import BasicAuthentication
from gis_core.models import Region
from incidents.api import dispatch_serializers as s
from incidents.api.dispatch_views import kpi_window
from incidents.charts import eta_accuracy_png
from incidents.selectors.eta_accuracy import EtaAccuracy, eta_accuracy


def _report(request: Request) -> tuple[Region, datetime, datetime, EtaAccuracy]:
    region, since, until, query = kpi_window(request, s.EtaAccuracyQuerySerializer)
    return region, since, until, eta_accuracy(region=region, since=since, until=until, group_by=query["group_by"])


class _KpiView(APIView):
    authentication_classes = (BasicAuthentication, SessionAuthentication, ApiTokenAuthentication)
    permission_classes = (CanSeeFleet,)
    required_scopes = {"GET": "kpis"}


@extend_schema(parameters=[s.EtaAccuracyQuerySerializer], responses={200: OpenApiTypes.OBJECT})
class EtaAccuracyView(_KpiView):
    """GET: the error of the ETAs given at dispatch (median, bias, p90 of |error|) per agency, road class,
    hour of day, kecamatan, profile, or month/week for the trend."""

    def get(self, request: Request) -> Response:
        return Response(_report(request)[3])


@extend_schema(parameters=[s.EtaAccuracyQuerySerializer], responses={(200, "image/png"): OpenApiTypes.BINARY})
class EtaAccuracyChart(_KpiView):
    """GET: the same figures as a PNG chart, for a report or a slide."""

    def get(self, request: Request) -> HttpResponse:
        region, since, until, report = _report(request)
        since, until = timezone.localtime(since, region.zone), timezone.localtime(until, region.zone)
        title = (
            f"{region.name}: ETA error by {report['group_by']}, {since:%Y-%m-%d} to {until:%Y-%m-%d} "
            f"({report['overall']['n']} arrivals)"
        )
        return HttpResponse(eta_accuracy_png(report, title=title), content_type="image/png")
