"""Road imports as background jobs (``import_roads ... --background``): the importer's steps as progress.

gis_core imports no app but ``jobs``, the floor below it, which knows none.
"""

from __future__ import annotations

from pathlib import Path

from procrastinate.contrib.django import app

from gis_core.errors import DomainError
from gis_core.importers.roads import import_roads
from gis_core.models import Region
from jobs.models import Job
from jobs.services import Progress, job_enqueue, job_run, retry_when_stalled

QUEUE = "imports"


def import_roads_enqueue(
    *,
    region: Region,
    path: Path | None,
    place: str | None,
    speeds_kph: dict[str, float],
    keep_versions: int,
    clip_buffer_m: float | None,
) -> Job:
    """Queue a road import with what ``import_roads`` takes; a worker on a host that reads ``path`` runs it."""
    params = {
        "path": None if path is None else str(Path(path).resolve()),
        "place": place,
        "speeds_kph": dict(speeds_kph),
        "keep_versions": keep_versions,
        "clip_buffer_m": clip_buffer_m,
    }
    return job_enqueue(task=import_roads_job, kind="gis_core.import_roads", region=region, params=params)


@retry_when_stalled  # the result is written in one transaction at the end: a rerun stores it once
@app.task(queue=QUEUE, name="gis_core.import_roads")
def import_roads_job(job_id: int) -> None:
    """Import the road network of job ``job_id`` (a worker's entry point)."""

    def body(job: Job, progress: Progress) -> str:
        params = job.params
        assert job.region is not None
        import_roads(
            region=job.region,
            path=Path(params["path"]) if params["path"] else None,
            place=params["place"],
            speeds_kph=params["speeds_kph"],
            keep_versions=params["keep_versions"],
            clip_buffer_m=params["clip_buffer_m"],
            on_step=progress,
        )
        return f"/api/regions/{job.region.slug}/"  # the region's answer names its active network version

    job_run(job_id, body, expected=(DomainError, ValueError, OSError))
