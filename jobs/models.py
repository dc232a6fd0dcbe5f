"""A background job as a person follows it: what it is, where, how far it got, how it ended.

The queue itself is procrastinate's (``procrastinate_jobs``, in this database): it holds the task and its
arguments, and a worker takes it with ``SELECT ... FOR UPDATE SKIP LOCKED``. A :class:`Job` is the record a
person reads while it runs (a coverage run's state and progress, an import's failure): one row per job that
someone asked for. Jobs Siaga runs for itself (an outbound message, the retention sweep) have none: their
own rows (the outbound queue) say how they went.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


FINISHED = (JobState.SUCCEEDED, JobState.FAILED)


class Job(models.Model):
    """One job asked for by a person or a command; ``error`` says why a failed one failed, in words to act on.

    ``region`` is a table relation declared by name (``"gis_core.Region"``): this app imports no other, so
    the apps above it (coverage, gis_core's imports, the gazetteer) can all record their jobs here.
    """

    kind = models.CharField(max_length=40, help_text="what runs, e.g. coverage.surface, gis_core.import_roads")
    region = models.ForeignKey("gis_core.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.FloatField(default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    message = models.CharField(max_length=200, blank=True, help_text="the step it is at, or how it ended")
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True, help_text="why it failed, for the person who asked")
    result_url = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="what was asked, as the task reads it")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue_job_id = models.BigIntegerField(null=True, blank=True, help_text="procrastinate's job id")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict:
        """The job's one public shape (the coverage run answer embeds it)."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "state": self.state,
            "progress": round(self.progress, 3),
            "message": self.message,
            "error": {"code": self.error_code, "message": self.error} if self.state == JobState.FAILED else None,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }
