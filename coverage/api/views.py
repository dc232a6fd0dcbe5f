"""Coverage endpoints: thin views that validate and queue a run (202), or serialise a stored one."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from shapely.geometry import mapping

from coverage import render, selectors, services, tasks
from coverage.api import serializers as s
from coverage.api.permissions import CanPlan
from coverage.errors import CoverageRunNotReadyError
from coverage.models import CoverageRun, RunKind
from fleet.actors import Actor
from gis_core.api.views import region_or_404


class PlannerAPIView(APIView):
    """A planner's endpoint: HTTP Basic, a session or an API token (the API's defaults), and the planner role
    (a token only on the stored runs: ``required_scopes``)."""

    permission_classes = (CanPlan,)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _run_or_404(request: Request, run_id: int) -> CoverageRun:
    """The stored run of one of the user's regions; another centre's is the same 404 as a missing one."""
    run = selectors.coverage_run_for_user(request.user, pk=run_id)
    if run is None:
        raise NotFound(f"no coverage run {run_id}; list them at /api/coverage/runs/")
    return run


def _head(run: CoverageRun) -> dict:
    job = run.job if run.job_id else None
    return {
        "run_id": run.pk,
        "url": f"/api/coverage/runs/{run.pk}/",
        "kind": run.kind,
        "region": run.region.slug,
        "created_at": run.created_at,
        "duration_s": run.duration_s,
        "label": run.label,
        # What it routed on (empty until computed): the vehicle profile, the hour band ("all": all-day weights).
        "profile": run.profile or None,
        "hour_band": run.hour_band or None,
        "network_version": run.network_version_id,
        "state": run.state,
        "progress": round(job.progress, 3) if job else 1.0,
        "message": job.message if job else "",
        "error": job.as_dict()["error"] if job else None,
        "links": {
            "self": f"/api/coverage/runs/{run.pk}/",
            "map_png": f"/api/coverage/runs/{run.pk}/map.png",
            "gaps_csv": f"/api/coverage/runs/{run.pk}/gaps.csv",
        },
    }


def _surface(run: CoverageRun) -> dict:
    shapes = selectors.kelurahan_shapes_lonlat(region=run.region)
    kelurahan = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(shapes[row["code"]]), "properties": row}
            for row in run.results["kelurahan"]
            if row["code"] in shapes
        ],
    }
    return {
        "thresholds_s": run.results["thresholds_s"],
        "sources": run.inputs["sources"],
        "sources_dropped": run.inputs["sources_dropped"],
        "grid": render.cell_features(run.results),
        "kelurahan": kelurahan,
    }


def _coverage(run: CoverageRun) -> dict:
    keys = ("thresholds_s", "thresholds_from", "target_s", "totals", "kecamatan", "provenance")
    return {
        **{k: run.results[k] for k in keys},
        "sources": run.inputs["sources"],
        "sources_dropped": run.inputs["sources_dropped"],
    }


def _gaps(run: CoverageRun) -> dict:
    return {"gaps": run.results["gaps"], "provenance": run.results["provenance"]}


def _siting(run: CoverageRun) -> dict:
    results = {k: v for k, v in run.results.items() if k not in {"cells", "grid"}}
    return {**results, "existing": run.inputs["existing"]}


def _live(run: CoverageRun) -> dict:
    now = run.results["now"]
    return {
        "target_s": run.results["target_s"],
        "totals": now["totals"],
        "kecamatan": now["kecamatan"],
        "stations_staffed_totals": run.results["stations_staffed_totals"],
        "uncovered_by_dispatch_population": run.results["uncovered_by_dispatch_population"],
        "available_units": run.results["available_units"],
        "moveups": run.results["moveups"],
    }


def _whatif(run: CoverageRun) -> dict:
    return {k: v for k, v in run.results.items() if k not in {"cells_after", "grid"}}


# What each kind of run answers once computed: the figures its page shows (grids as GeoJSON, no raw cells).
ANSWERS = {
    RunKind.SURFACE: _surface,
    RunKind.COVERAGE: _coverage,
    RunKind.GAPS: _gaps,
    RunKind.MCLP: _siting,
    RunKind.LSCP: _siting,
    RunKind.LIVE: _live,
    RunKind.WHATIF: _whatif,
}


def _answer(run: CoverageRun) -> dict:
    """The figures of the run's kind; a run stored without them (by hand, or by an older release) has none."""
    try:
        return ANSWERS[run.kind](run)
    except KeyError:
        return {}


def _queued(request: Request, kind: str, data: dict) -> Response:
    """202 Accepted: the run is stored and its job queued; its URL (``Location``, ``url``) shows it."""
    run = tasks.coverage_run_enqueue(kind=kind, data=data, actor=Actor.of_request(request))
    head = _head(run)
    return Response(head, status=202, headers={"Location": request.build_absolute_uri(head["url"])})


class _RunCreateView(PlannerAPIView):
    """POST queues a run of ``kind`` computed by a job worker: 202 with its URL, which shows its state and
    progress and, once computed, its figures; a run that cannot be computed ends ``failed`` with the reason."""

    throttle_scope = "coverage"
    kind: str = RunKind.COVERAGE
    input_serializer: type[serializers.Serializer] = s.CoverageInputSerializer

    def post(self, request: Request) -> Response:
        data = _valid(self.input_serializer, request)
        return _queued(request, data.pop("model", None) or self.kind, data)


class SurfaceView(_RunCreateView):
    """Travel time from the nearest source to every grid cell and kelurahan, as GeoJSON (seconds)."""

    kind = RunKind.SURFACE

    @extend_schema(request=s.CoverageInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


class CoverageReportView(_RunCreateView):
    """Coverage per kecamatan at each threshold: people and area within reach, people outside, worst places."""

    kind = RunKind.COVERAGE

    @extend_schema(request=s.CoverageInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


class GapsView(_RunCreateView):
    """Kecamatan and grid cells ranked by people beyond the target; CSV and PNG under the run's links."""

    kind = RunKind.GAPS

    @extend_schema(request=s.CoverageInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


class SitingView(_RunCreateView):
    """New sites: MCLP (k sites covering the most people) or LSCP (fewest sites for a share), existing kept."""

    throttle_scope = "siting"
    input_serializer = s.SitingInputSerializer

    @extend_schema(request=s.SitingInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


class LiveView(_RunCreateView):
    """Coverage now from available units, what dispatches left uncovered, and move-up suggestions."""

    kind = RunKind.LIVE
    input_serializer = s.LiveInputSerializer

    @extend_schema(request=s.LiveInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


class WhatIfView(_RunCreateView):
    """Coverage before and after closing roads or bridges and/or adding stations (live network untouched)."""

    kind = RunKind.WHATIF
    input_serializer = s.WhatIfInputSerializer

    @extend_schema(request=s.WhatIfInputSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        return super().post(request)


def _done_or_409(run: CoverageRun) -> CoverageRun:
    if not run.is_done:
        raise CoverageRunNotReadyError(
            f"coverage run {run.pk} is {run.state}: its figures are there once it has succeeded "
            f"(follow /api/coverage/runs/{run.pk}/)"
        )
    return run


class RunListView(PlannerAPIView):
    """Stored runs of the user's regions, newest first (inputs only); filter by ``region`` slug and ``kind``."""

    required_scopes = {"GET": "coverage"}

    @extend_schema(parameters=[OpenApiParameter("region", str), OpenApiParameter("kind", str)], responses={200: dict})
    def get(self, request: Request) -> Response:
        slug, kind = request.query_params.get("region"), request.query_params.get("kind")
        if kind and kind not in RunKind.values:
            raise serializers.ValidationError({"kind": f"unknown kind {kind!r}; one of {', '.join(RunKind.values)}"})
        region = region_or_404(slug, user=request.user) if slug else None
        runs = selectors.coverage_runs(user=request.user, region=region, kind=kind)[:100]
        return Response({"results": [{**_head(run), "inputs": run.inputs} for run in runs]})


class RunDetailView(PlannerAPIView):
    """One stored run: its state and progress (``queued``, ``running``, ``succeeded``, ``failed`` with its
    ``error``), and once computed the figures its kind answers, its inputs and its results."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}

    def get(self, request: Request, run_id: int) -> Response:
        run = _run_or_404(request, run_id)
        if not run.is_done:
            return Response({**_head(run), "inputs": run.inputs, "results": None})
        return Response({**_head(run), **_answer(run), "inputs": run.inputs, "results": run.results})


class RunCompareView(PlannerAPIView):
    """People within each threshold per kecamatan: run ``other`` minus run ``run_id``."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun, "other_id": CoverageRun}

    def get(self, request: Request, run_id: int, other_id: int) -> Response:
        run_a, run_b = _done_or_409(_run_or_404(request, run_id)), _done_or_409(_run_or_404(request, other_id))
        return Response(services.coverage_runs_compare(run_a=run_a, run_b=run_b))


class RunGapsCsvView(PlannerAPIView):
    """The run's gap ranking as CSV."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}

    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _done_or_409(_run_or_404(request, run_id))
        response = HttpResponse(render.gaps_csv(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coverage-gaps-{run.region.slug}-{run.pk}.csv"'
        return response


class RunMapView(PlannerAPIView):
    """The run's travel-time map as a PNG (kecamatan outlines, cells coloured by seconds to the nearest source)."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}
    throttle_scope = "coverage"  # drawing the PNG

    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _done_or_409(_run_or_404(request, run_id))
        kecamatan, _, _ = selectors.admin_area_rows(region=run.region)
        return HttpResponse(render.coverage_map_png(run, kecamatan), content_type="image/png")
