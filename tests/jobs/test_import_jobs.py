"""Road and gazetteer imports as jobs: ``--background`` queues them, a worker runs them with progress, and a file
that cannot be imported ends the job failed with the importer's reason."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from factories.gis_core import make_region

from gazetteer.models import GazetteerImport
from gis_core.models import RoadNetworkVersion
from jobs.models import Job, JobState


def _queued(command: str, *args: str) -> Job:
    out = StringIO()
    call_command(command, *args, "--background", stdout=out)
    assert "follow it with: manage.py job_status" in out.getvalue()
    assert not RoadNetworkVersion.objects.exists()  # nothing imported in the command itself
    job = Job.objects.get()
    assert job.state == JobState.QUEUED
    return job


def test_a_road_import_in_the_background_runs_on_a_worker(run_queued, data_dir) -> None:
    region = make_region()
    job = _queued("import_roads", "kota-jambi", "--file", str(data_dir / "jambi" / "roads_main_jambi_osm.graphml"))
    assert (job.kind, job.region_id) == ("gis_core.import_roads", region.pk)
    assert run_queued(queues=["imports"]) == {"succeeded": 1}
    job.refresh_from_db()
    assert (job.state, job.progress, job.message) == (JobState.SUCCEEDED, 1.0, "done")
    version = RoadNetworkVersion.objects.get(region=region, is_active=True)
    assert version.node_count > 400  # data/SOURCES.md: 490 nodes, the largest component kept
    assert job.result_url == "/api/regions/kota-jambi/"
    out = StringIO()
    call_command("job_status", str(job.pk), stdout=out)
    assert "succeeded" in out.getvalue()
    assert "100.0%" in out.getvalue()


def test_a_road_import_that_cannot_be_read_fails_with_the_reason(run_queued, data_dir) -> None:
    make_region()
    job = _queued("import_roads", "kota-jambi", "--file", str(data_dir / "SOURCES.md"))
    run_queued(queues=["imports"])
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "SOURCES.md" in job.error
    assert job.error_code == "import_invalid"
    assert not RoadNetworkVersion.objects.exists()
    out = StringIO()
    call_command("job_status", stdout=out)
    assert "import_invalid" in out.getvalue()


def test_a_missing_file_is_refused_before_anything_is_queued(run_queued) -> None:
    make_region()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_roads", "kota-jambi", "--file", "/nowhere/roads.graphml", "--background")
    assert not Job.objects.exists()


def test_a_gazetteer_import_in_the_background(run_queued, data_dir) -> None:
    make_region()
    call_command("import_roads", "kota-jambi", "--file", str(data_dir / "jambi" / "roads_main_jambi_osm.graphml"),
                 verbosity=0)  # fmt: skip
    out = StringIO()
    call_command("import_gazetteer", "kota-jambi", "--from-database", "--background", stdout=out)
    job = Job.objects.get(kind="gazetteer.import")
    assert run_queued(queues=["imports"]) == {"succeeded": 1}
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert GazetteerImport.objects.get(region__slug="kota-jambi", is_active=True).counts
