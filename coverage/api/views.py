"""Coverage endpoints: thin views that validate, call one service, and serialise a stored run."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from shapely.geometry import mapping

from coverage import render, selectors, services, siting
from coverage.api import serializers as s
from coverage.api.permissions import CanPlan
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
    return {
        "run_id": run.pk,
        "kind": run.kind,
        "region": run.region.slug,
        "created_at": run.created_at,
        "duration_s": run.duration_s,
        "label": run.label,
        "links": {
            "self": f"/api/coverage/runs/{run.pk}/",
            "map_png": f"/api/coverage/runs/{run.pk}/map.png",
            "gaps_csv": f"/api/coverage/runs/{run.pk}/gaps.csv",
        },
    }


def _coverage_run(request: Request, kind: str) -> CoverageRun:
    data = _valid(s.CoverageInputSerializer, request)
    return services.coverage_run_create(
        region=data["region"],
        spec=data["spec"],
        kind=kind,
        thresholds_s=data.get("thresholds_s"),
        target_s=data.get("target_s"),
        cell_m=data["cell_m"],
        label=data["label"],
        actor=Actor.of_request(request),
    )


class SurfaceView(PlannerAPIView):
    """Travel time from the nearest source to every grid cell and kelurahan, as GeoJSON (seconds)."""

    throttle_scope = "coverage"

    @extend_schema(request=s.CoverageInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        run = _coverage_run(request, RunKind.SURFACE)
        shapes = selectors.kelurahan_shapes_lonlat(region=run.region)
        kelurahan = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": mapping(shapes[row["code"]]), "properties": row}
                for row in run.results["kelurahan"]
                if row["code"] in shapes
            ],
        }
        return Response(
            {
                **_head(run),
                "thresholds_s": run.results["thresholds_s"],
                "sources": run.inputs["sources"],
                "sources_dropped": run.inputs["sources_dropped"],
                "grid": render.cell_features(run.results),
                "kelurahan": kelurahan,
            },
            status=201,
        )


class CoverageReportView(PlannerAPIView):
    """Coverage per kecamatan at each threshold: people and area within reach, people outside, worst places."""

    throttle_scope = "coverage"

    @extend_schema(request=s.CoverageInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        run = _coverage_run(request, RunKind.COVERAGE)
        keys = ("thresholds_s", "thresholds_from", "target_s", "totals", "kecamatan", "provenance")
        return Response(
            {
                **_head(run),
                **{k: run.results[k] for k in keys},
                "sources": run.inputs["sources"],
                "sources_dropped": run.inputs["sources_dropped"],
            },
            status=201,
        )


class GapsView(PlannerAPIView):
    """Kecamatan and grid cells ranked by people beyond the target; CSV and PNG under the run's links."""

    throttle_scope = "coverage"

    @extend_schema(request=s.CoverageInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        run = _coverage_run(request, RunKind.GAPS)
        return Response(
            {**_head(run), "gaps": run.results["gaps"], "provenance": run.results["provenance"]}, status=201
        )


class SitingView(PlannerAPIView):
    """New sites: MCLP (k sites covering the most people) or LSCP (fewest sites for a share), existing kept."""

    throttle_scope = "siting"

    @extend_schema(request=s.SitingInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.SitingInputSerializer, request)
        run = siting.coverage_siting_run(
            region=data["region"],
            model=data["model"],
            spec=data["spec"],
            k=data.get("k"),
            required_share=data.get("required_share"),
            threshold_s=data.get("threshold_s"),
            candidates=data.get("candidates"),
            n_candidates=data["n_candidates"],
            cell_m=data["cell_m"],
            time_limit_s=data.get("time_limit_s"),
            label=data["label"],
            actor=Actor.of_request(request),
        )
        results = {k: v for k, v in run.results.items() if k not in {"cells", "grid"}}
        return Response({**_head(run), **results, "existing": run.inputs["existing"]}, status=201)


class LiveView(PlannerAPIView):
    """Coverage now from available units, what dispatches left uncovered, and move-up suggestions."""

    throttle_scope = "coverage"

    @extend_schema(request=s.LiveInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.LiveInputSerializer, request)
        run = services.coverage_live_run(
            region=data["region"],
            agencies=data["agencies"],
            unit_types=data["unit_types"],
            threshold_s=data.get("threshold_s"),
            max_moves=data["max_moves"],
            cell_m=data["cell_m"],
            label=data["label"],
            actor=Actor.of_request(request),
        )
        now = run.results["now"]
        return Response(
            {
                **_head(run),
                "target_s": run.results["target_s"],
                "totals": now["totals"],
                "kecamatan": now["kecamatan"],
                "stations_staffed_totals": run.results["stations_staffed_totals"],
                "uncovered_by_dispatch_population": run.results["uncovered_by_dispatch_population"],
                "available_units": run.results["available_units"],
                "moveups": run.results["moveups"],
            },
            status=201,
        )


class WhatIfView(PlannerAPIView):
    """Coverage before and after closing roads or bridges and/or adding stations (live network untouched)."""

    throttle_scope = "coverage"

    @extend_schema(request=s.WhatIfInputSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.WhatIfInputSerializer, request)
        run = services.coverage_whatif_run(
            region=data["region"],
            spec=data["spec"],
            close_edge_ids=data["close_edge_ids"],
            close_near=data.get("close_near"),
            close_tolerance_m=data["close_tolerance_m"],
            add_points=data.get("add_stations") or (),
            thresholds_s=data.get("thresholds_s"),
            target_s=data.get("target_s"),
            cell_m=data["cell_m"],
            label=data["label"],
            actor=Actor.of_request(request),
        )
        results = {k: v for k, v in run.results.items() if k not in {"cells_after", "grid"}}
        return Response({**_head(run), **results}, status=201)


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
    """One stored run: its inputs and its results, as computed."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}

    def get(self, request: Request, run_id: int) -> Response:
        run = _run_or_404(request, run_id)
        return Response({**_head(run), "inputs": run.inputs, "results": run.results})


class RunCompareView(PlannerAPIView):
    """People within each threshold per kecamatan: run ``other`` minus run ``run_id``."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun, "other_id": CoverageRun}

    def get(self, request: Request, run_id: int, other_id: int) -> Response:
        run_a, run_b = _run_or_404(request, run_id), _run_or_404(request, other_id)
        return Response(services.coverage_runs_compare(run_a=run_a, run_b=run_b))


class RunGapsCsvView(PlannerAPIView):
    """The run's gap ranking as CSV."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}

    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _run_or_404(request, run_id)
        response = HttpResponse(render.gaps_csv(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coverage-gaps-{run.region.slug}-{run.pk}.csv"'
        return response


class RunMapView(PlannerAPIView):
    """The run's travel-time map as a PNG (kecamatan outlines, cells coloured by seconds to the nearest source)."""

    required_scopes = {"GET": "coverage"}
    scoped_objects = {"run_id": CoverageRun}
    throttle_scope = "coverage"  # drawing the PNG

    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _run_or_404(request, run_id)
        kecamatan, _, _ = selectors.admin_area_rows(region=run.region)
        return HttpResponse(render.coverage_map_png(run, kecamatan), content_type="image/png")
