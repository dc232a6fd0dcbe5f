"""Health and metrics: for the proxy, the orchestrators and Prometheus, not for people.

``/health/live`` and ``/health/ready`` are open to anonymous callers by design: the reverse proxy, a load
balancer and an orchestrator ask them with no account, and the answer holds no data (each check's name, whether
it passed, how long it took, how many regions' road networks are loaded). ``/metrics`` needs the scrape token.
"""

from __future__ import annotations

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.health import readiness
from ops.metrics import exposition
from ops.permissions import HoldsMetricsToken


class _Probe(APIView):
    # Open to the proxy and orchestrators, which send no credentials (see the module's docstring); no
    # authentication either, so a stray cookie or header cannot turn a probe into a 401.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)


class LiveView(_Probe):
    """200 as long as the process answers requests; touches no database."""

    def get(self, request):
        return Response({"status": "live"}, headers={"Cache-Control": "no-store"})


class ReadyView(_Probe):
    """200 when the database, Redis and every active region's routing engine are there, else 503."""

    def get(self, request):
        checks = readiness()
        ok = all(check.ok for check in checks)
        shown = {c.name: {"ok": c.ok, "took_ms": c.took_ms, **c.detail} for c in checks}
        body = {"status": "ready" if ok else "unavailable", "checks": shown}
        return Response(body, status=200 if ok else 503, headers={"Cache-Control": "no-store"})


class MetricsView(APIView):
    """Prometheus' text format; the scraper proves itself with the metrics token (``HoldsMetricsToken``)."""

    authentication_classes = ()
    permission_classes = (HoldsMetricsToken,)
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)  # the refusal; the metrics themselves are a plain response

    def get(self, request):
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
