"""Gazetteer imports as background jobs (``import_gazetteer ... --background``): the import's lines as progress."""

from __future__ import annotations

from pathlib import Path

from procrastinate.contrib.django import app

from gazetteer.services import gazetteer_build_from_region, gazetteer_import
from gis_core.errors import DomainError
from gis_core.models import Region
from jobs.models import Job
from jobs.services import Progress, job_enqueue, job_run, retry_when_stalled

QUEUE = "imports"
# The import's steps in order (what ``gazetteer_import`` says), so its progress moves on with each.
_STEPS = ("reading streets", "reading landmarks", "downloading", "merging street segments")


def gazetteer_import_enqueue(*, region: Region, path: Path | None, place: str | None, from_database: bool) -> Job:
    """Queue a gazetteer import with what ``import_gazetteer`` takes."""
    params = {
        "path": None if path is None else str(Path(path).resolve()),
        "place": place,
        "from_database": from_database,
    }
    return job_enqueue(task=gazetteer_import_job, kind="gazetteer.import", region=region, params=params)


@retry_when_stalled  # the result is written in one transaction at the end: a rerun stores it once
@app.task(queue=QUEUE, name="gazetteer.import")
def gazetteer_import_job(job_id: int) -> None:
    """Import the gazetteer of job ``job_id`` (a worker's entry point)."""

    def body(job: Job, progress: Progress) -> str:
        params, region = job.params, job.region
        assert region is not None

        def say(line: str) -> None:
            done = next((i + 1 for i, step in enumerate(_STEPS) if line.startswith(step)), 0)
            progress(done / (len(_STEPS) + 1), line)

        if params["from_database"]:
            progress(0.1, "names from the stored roads, facilities and areas")
            gazetteer_build_from_region(region=region)
        else:
            gazetteer_import(
                region=region,
                path=Path(params["path"]) if params["path"] else None,
                place=params["place"],
                say=say,
            )
        return f"/api/regions/{region.slug}/search/"

    job_run(job_id, body, expected=(DomainError, ValueError, OSError))
