"""Coverage and siting runs as background jobs: queued by the API with their run, computed by a job worker.

:func:`coverage_run_enqueue` stores the run (no results yet) and its :class:`jobs.models.Job` and defers
:func:`coverage_run_job` in one transaction; the API answers 202 with the run's URL. A worker (any process of
``manage.py procrastinate worker`` on any host) takes the job, computes the run through the same services a
command uses, reporting their steps as the job's progress, and fills the run in. A run that cannot be
computed (no station on the network, too large, a siting the network cannot reach) ends failed with the
service's own message and code.
"""

from __future__ import annotations

from typing import Any

import shapely
from django.db import transaction
from procrastinate.contrib.django import app
from shapely.geometry import mapping, shape

from coverage import services, siting
from coverage.context import coverage_request_check
from coverage.models import CoverageRun, RunKind
from coverage.selectors import SourceSpec
from fleet.actors import Actor
from gis_core.errors import DomainError
from gis_core.models import Region
from jobs.models import Job
from jobs.services import Progress, job_enqueue, job_run, retry_when_stalled

QUEUE = "coverage"


def _json_ready(value: Any) -> Any:
    if isinstance(value, SourceSpec):
        return services.spec_data(value)
    if isinstance(value, shapely.Geometry):
        return mapping(value)
    if isinstance(value, tuple | list):
        return [_json_ready(v) for v in value]
    return value


def coverage_run_enqueue(*, kind: str, data: dict, actor: Actor) -> CoverageRun:
    """Store a run of ``kind`` asked for with the validated request ``data`` and queue its job.

    Parameters
    ----------
    kind
        A :class:`~coverage.models.RunKind` (``mclp``/``lscp`` from a siting request's ``model``).
    data
        The endpoint's validated input (``region`` a Region, ``spec`` a SourceSpec, points as (lon, lat)).
    actor
        Who asked; the worker computes and audits the run as them.

    Returns
    -------
    CoverageRun
        Queued: ``results`` empty, ``job`` queued.

    Raises
    ------
    CoverageTooLargeError
        Before anything is stored, when the grid would have too many cells (the request's 400).
    """
    region: Region = data["region"]
    coverage_request_check(region=region, cell_m=data["cell_m"])
    params = {key: _json_ready(value) for key, value in data.items() if key != "region"}
    with transaction.atomic():
        job = job_enqueue(
            task=coverage_run_job,
            kind=f"coverage.{kind}",
            region=region,
            created_by=actor.person_user,
            params={"remote_addr": actor.remote_addr},
        )
        run = CoverageRun(
            region=region,
            kind=kind,
            label=data.get("label", ""),
            created_by=actor.person_user,
            inputs={"request": params},
            job=job,
        )
        run.full_clean()
        run.save()
    return run


def _spec(data: dict) -> SourceSpec:
    return SourceSpec(**{**data, "points": tuple(tuple(p) for p in data.get("points") or ())})


def _points(points: list | None) -> list[tuple[float, float]] | None:
    return None if points is None else [(float(p[0]), float(p[1])) for p in points]


def coverage_run_compute(run: CoverageRun, *, actor: Actor, progress: Progress | None = None) -> CoverageRun:
    """Compute the queued ``run`` from the request it stored, through the services of its kind."""
    request = dict(run.inputs["request"])
    factory = progress.factory if progress is not None else None
    common = {"region": run.region, "cell_m": request["cell_m"], "label": request["label"], "actor": actor, "run": run,
              "profile": request.get("profile"), "hour_band": request.get("hour_band")}  # fmt: skip
    if run.kind in {RunKind.SURFACE, RunKind.COVERAGE, RunKind.GAPS}:
        return services.coverage_run_create(
            spec=_spec(request["spec"]),
            kind=run.kind,
            thresholds_s=request.get("thresholds_s"),
            target_s=request.get("target_s"),
            progress=factory,
            **common,
        )
    if run.kind in {RunKind.MCLP, RunKind.LSCP}:
        return siting.coverage_siting_run(
            model=run.kind,
            spec=_spec(request["spec"]),
            k=request.get("k"),
            required_share=request.get("required_share"),
            threshold_s=request.get("threshold_s"),
            candidates=_points(request.get("candidates")),
            n_candidates=request["n_candidates"],
            time_limit_s=request.get("time_limit_s"),
            progress=factory,
            **common,
        )
    if run.kind == RunKind.LIVE:
        return services.coverage_live_run(
            agencies=request["agencies"],
            unit_types=request["unit_types"],
            threshold_s=request.get("threshold_s"),
            max_moves=request["max_moves"],
            progress=factory,
            **common,
        )
    close_near = request.get("close_near")
    return services.coverage_whatif_run(
        spec=_spec(request["spec"]),
        close_edge_ids=request["close_edge_ids"],
        close_near=shape(close_near) if close_near else None,
        close_tolerance_m=request["close_tolerance_m"],
        add_points=_points(request.get("add_stations")) or (),
        thresholds_s=request.get("thresholds_s"),
        target_s=request.get("target_s"),
        progress=factory,
        **common,
    )


@retry_when_stalled  # the result is written in one transaction at the end: a rerun stores it once
@app.task(queue=QUEUE, name="coverage.run")
def coverage_run_job(job_id: int) -> None:
    """Compute the coverage run of job ``job_id`` (a worker's entry point)."""

    def body(job: Job, progress: Progress) -> str:
        run = CoverageRun.objects.select_related("region", "created_by").get(job=job)
        actor = Actor.person(run.created_by, remote_addr=job.params.get("remote_addr"))
        coverage_run_compute(run, actor=actor, progress=progress)
        return f"/api/coverage/runs/{run.pk}/"

    job_run(job_id, body, expected=(DomainError,))
