"""Coverage runs stored with their inputs and results, and coverage settings per agency."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from fleet.models import Agency
from gis_core.models import Region, RoadNetworkVersion

DEFAULT_THRESHOLDS_S = (480, 600, 900)


class RunKind(models.TextChoices):
    SURFACE = "surface", "travel-time surface"
    COVERAGE = "coverage", "coverage per kecamatan"
    GAPS = "gaps", "gap report"
    MCLP = "mclp", "siting: k new sites (MCLP)"
    LSCP = "lscp", "siting: fewest sites (LSCP)"
    LIVE = "live", "live coverage and move-up"
    WHATIF = "whatif", "what-if: closures and added stations"


class CoverageRun(models.Model):
    """One coverage computation: what was asked (``inputs``) and what came out (``results``), as JSON.

    ``inputs`` holds the request as validated (region, sources, thresholds, cell size, candidates, closures)
    plus the resolved source points, so a run can be read back and compared without recomputing.

    A run asked for over the API is computed by a job worker (``coverage/tasks.py``): it is stored first
    with its ``job`` (``jobs.Job``: queued, running with its progress, succeeded or failed with the reason)
    and no ``results``, which the worker fills in. A run computed by a command has no job.
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="coverage_runs")
    kind = models.CharField(max_length=16, choices=RunKind.choices)
    label = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    network_version = models.ForeignKey(
        RoadNetworkVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What it routed on: the vehicle profile (gis_core.routing.profiles; the run's units' by default) and
    # the hour band of learned speeds, "all" for the network's all-day weights (the default for planning).
    profile = models.CharField(max_length=32, blank=True, help_text="vehicle profile routed; empty until computed")
    hour_band = models.CharField(
        max_length=8, blank=True, help_text="hour band of learned speeds routed on (00-06 ... 20-24), or all"
    )
    inputs = models.JSONField()
    results = models.JSONField(null=True, blank=True, help_text="empty until the run's job has computed it")
    duration_s = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="coverage_run"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["region", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.region.slug})"

    @property
    def state(self) -> str:
        """The job's state; a run without a job was computed where it was asked for (a command)."""
        return self.job.state if self.job_id else "succeeded"

    @property
    def is_done(self) -> bool:
        return self.state == "succeeded"


class AgencyCoverageSettings(models.Model):
    """Coverage thresholds of one agency (defaults: 8, 10 and 15 minutes; target: the agency's response target)."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="coverage_settings")
    thresholds_s = ArrayField(
        models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4 * 3600)]),
        size=10,
        default=list,
        help_text="travel-time thresholds in seconds reported per kecamatan, e.g. 480, 600, 900",
    )
    target_s = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4 * 3600)],
        help_text="travel-time target in seconds for gap reports and siting, e.g. 900 (SPM fire, 15 minutes)",
    )

    class Meta:
        verbose_name_plural = "agency coverage settings"

    def __str__(self) -> str:
        return f"{self.agency}: {self.thresholds_s} s, target {self.target_s} s"
