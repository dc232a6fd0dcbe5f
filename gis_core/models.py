"""Geography of a region: boundaries, facilities and versioned road networks.

Storage is EPSG:4326 throughout; metric work happens in the region's own projected CRS
(``Region.metric_srid``), never in degrees.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models import Extent
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection
from django.db.models import Q

from gis_core.metric_srid import metric_srid_problems
from gis_core.time_zones import time_zone_problems


def validate_time_zone(value: str) -> None:
    problems = time_zone_problems(value)
    if problems:
        raise ValidationError(problems)


class Region(models.Model):
    """A city served by one 112 centre (Kota Jambi, Kota Ambon, ...)."""

    code = models.CharField(max_length=16, unique=True, help_text="Kemendagri code, e.g. 15.71")
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    metric_srid = models.PositiveIntegerField(help_text="Projected CRS for metric work, e.g. 32748 (UTM 48S)")
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA time zone of the centre: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT). "
        "Times are stored in UTC; the console shows them in this zone and KPIs count its local days.",
    )
    population = models.PositiveIntegerField(null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    population_source = models.TextField(blank=True)
    whatsapp_phone_number_id = models.CharField(
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[0-9]+$", "a WhatsApp phone number id is digits only, e.g. 106540352242922")],
        verbose_name="WhatsApp phone number id",
        help_text="The Cloud API's phone_number_id of the centre's WhatsApp business number (Meta's WhatsApp "
        "Manager, API setup); deliveries to that number become this region's reports. Empty: none.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def zone(self) -> ZoneInfo:
        """The region's time zone (``time_zone`` as a ``ZoneInfo``)."""
        return ZoneInfo(self.time_zone)

    def clean_fields(self, exclude=None) -> None:
        # Empty is "no number" (NULL), so that many regions can be without one under the unique constraint.
        if isinstance(self.whatsapp_phone_number_id, str):
            self.whatsapp_phone_number_id = self.whatsapp_phone_number_id.strip() or None
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        """Refuse a ``metric_srid`` that cannot measure the region (see :mod:`gis_core.metric_srid`).

        Checked against the extent of the region's kecamatan once they are imported; before that only
        the CRS itself (known, projected, metres, and known to PostGIS, which transforms with it too).
        """
        super().clean()
        if self.metric_srid is None:
            return  # the field's own validation reports it
        problems = metric_srid_problems(self.metric_srid, self.kecamatan_extent_lonlat())
        if not problems and not connection.ops.spatial_ref_sys().objects.filter(srid=self.metric_srid).exists():
            problems = [f"EPSG:{self.metric_srid} is not in PostGIS's spatial_ref_sys table"]
        if problems:
            raise ValidationError({"metric_srid": problems})

    def kecamatan_extent_lonlat(self) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` of the region's kecamatan in EPSG:4326, or None before they exist."""
        if self.pk is None:
            return None
        return Kecamatan.objects.filter(region_id=self.pk).aggregate(extent=Extent("geom"))["extent"]


class PopulationKind(models.TextChoices):
    OFFICIAL = "official", "official (BPS census or projection, Dukcapil)"
    ESTIMATED = "estimated", "estimated or unverified"


class AdminArea(models.Model):
    """Fields shared by kecamatan and kelurahan: Kemendagri code as natural key, polygon, people."""

    code = models.CharField(max_length=24, unique=True, help_text="Kemendagri code")
    name = models.CharField(max_length=128)
    geom = models.MultiPolygonField(srid=4326)
    area_m2 = models.FloatField(help_text="Area in the region's metric CRS, m²")
    population = models.PositiveIntegerField(null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    population_source = models.TextField(blank=True)
    population_kind = models.CharField(max_length=16, choices=PopulationKind.choices, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Kecamatan(AdminArea):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kecamatan")

    class Meta(AdminArea.Meta):
        verbose_name_plural = "kecamatan"


class Kelurahan(AdminArea):
    """A kelurahan, or a desa / negeri where the area is rural (Ambon has both)."""

    kecamatan = models.ForeignKey(Kecamatan, on_delete=models.CASCADE, related_name="kelurahan")
    kind = models.CharField(max_length=16, default="kelurahan", help_text="kelurahan, desa or negeri")

    class Meta(AdminArea.Meta):
        verbose_name_plural = "kelurahan"


class FacilityKind(models.TextChoices):
    HOSPITAL = "hospital", "hospital"
    PUSKESMAS = "puskesmas", "puskesmas"
    CLINIC = "clinic", "clinic"
    FIRE_STATION = "fire_station", "fire station"
    OTHER = "other", "other"


class Facility(models.Model):
    """A hospital, puskesmas, fire station or other fixed place, keyed by OSM id or own code."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="facilities")
    ref = models.CharField(max_length=64, help_text="osm:node/123, osm:way/456, or the source's own code")
    name = models.CharField(max_length=256)
    kind = models.CharField(max_length=16, choices=FacilityKind.choices)
    geom = models.PointField(srid=4326)
    source = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["region", "name"]
        verbose_name_plural = "facilities"
        constraints = [models.UniqueConstraint(fields=["region", "ref"], name="facility_region_ref_unique")]

    def __str__(self) -> str:
        return f"{self.name} [{self.kind}]"


class RoadNetworkVersion(models.Model):
    """One import of a region's drivable road network; exactly one version per region is active."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="network_versions")
    source = models.TextField(help_text="File path or place name the network came from")
    source_kind = models.CharField(max_length=16, help_text="graphml, osm, pbf, place or graph")
    imported_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)
    node_count = models.PositiveIntegerField(default=0)
    edge_count = models.PositiveIntegerField(default=0)
    dropped_node_count = models.PositiveIntegerField(default=0)
    dropped_edge_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True, help_text="What was dropped and why, speeds used")

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(is_active=True), name="one_active_network_per_region"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.code} network v{self.pk} ({self.node_count} nodes)"


class RoadNode(models.Model):
    version = models.ForeignKey(RoadNetworkVersion, on_delete=models.CASCADE, related_name="nodes")
    osm_id = models.BigIntegerField(null=True, blank=True)
    geom = models.PointField(srid=4326)

    class Meta:
        indexes = [models.Index(fields=["version", "osm_id"])]


class RoadEdge(models.Model):
    """A directed drivable edge; a two-way street is two edges."""

    version = models.ForeignKey(RoadNetworkVersion, on_delete=models.CASCADE, related_name="edges")
    source = models.ForeignKey(RoadNode, on_delete=models.CASCADE, related_name="out_edges")
    target = models.ForeignKey(RoadNode, on_delete=models.CASCADE, related_name="in_edges")
    osm_way_id = models.BigIntegerField(null=True, blank=True)
    highway = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=256, blank=True)
    oneway = models.BooleanField(default=False)
    length_m = models.FloatField()
    speed_kph = models.FloatField()
    speed_source = models.CharField(max_length=16, help_text="maxspeed (OSM tag) or table")
    travel_time_s = models.FloatField()
    geom = models.LineStringField(srid=4326)
    tags = models.JSONField(
        default=dict,
        blank=True,
        help_text="OSM tags the vehicle profiles read (width, maxwidth, motorcar, motor_vehicle, motorcycle, "
        "access, service); values of merged ways joined with ';'",
    )

    class Meta:
        indexes = [models.Index(fields=["version"])]


class RoadSpeedFactor(models.Model):
    """A speed factor learned from the crews' GPS tracks, stored with the network version it calibrated.

    ``factor`` multiplies the edge's table speed (``RoadEdge.speed_kph``, which a calibrated version keeps
    as the source had it, while its ``travel_time_s`` is the calibrated one). A row with ``edge`` is that
    edge's own factor; without, its road class's (``highway``). ``hour_band`` is a band of the region's
    local day (``gis_core.routing.speed_learning.HOUR_BANDS``) or ``all``; ``applied`` says whether
    ``observations`` reached the minimum the calibration asked for, so the factor replaced the table.
    """

    version = models.ForeignKey(RoadNetworkVersion, on_delete=models.CASCADE, related_name="speed_factors")
    hour_band = models.CharField(max_length=8, help_text="00-06, 06-10, 10-16, 16-20, 20-24 (local) or all")
    highway = models.CharField(max_length=64, blank=True)
    edge = models.ForeignKey(RoadEdge, null=True, blank=True, on_delete=models.CASCADE, related_name="speed_factors")
    factor = models.FloatField(help_text="median observed speed over table speed")
    observations = models.PositiveIntegerField(help_text="edge passes behind the factor")
    median_speed_kph = models.FloatField()
    table_speed_kph = models.FloatField()
    applied = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["version", "hour_band"])]

    def __str__(self) -> str:
        what = f"edge {self.edge_id}" if self.edge_id else self.highway or "unclassified"
        return f"{what} {self.hour_band}: x{self.factor:.2f} ({self.observations})"


class ClosureMode(models.TextChoices):
    CLOSED = "closed", "closed"
    SLOW = "slow", "passable with care (slowed)"


class ClosureSource(models.TextChoices):
    DRAWN = "drawn", "drawn on the map"
    UPLOADED = "uploaded", "uploaded GeoJSON"
    STREETS = "streets", "streets picked"


class RoadClosure(models.Model):
    """A live closure of a region's roads (disaster mode): a flood area, or streets, closed or slowed.

    Region data that routing reads: from ``starts_at`` until ``ends_at`` or until lifted, the region's engine
    (``gis_core.routing.registry.engine_for``) is the active network without the edges it covers (``closed``)
    or with their travel times multiplied by ``slow_factor`` (``slow``). ``geom`` is EPSG:4326: a
    MultiPolygon (an area: every edge crossing it) or a MultiLineString (streets: the edges running along it).
    The geometry, not edge ids, is what is kept, so a closure still applies after a network re-import.
    Written only by ``incidents.services.closures`` (audited); gis_core reads it.
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="road_closures")
    geom = models.GeometryField(srid=4326, help_text="MultiPolygon (an area) or MultiLineString (streets)")
    mode = models.CharField(max_length=8, choices=ClosureMode.choices, default=ClosureMode.CLOSED)
    slow_factor = models.FloatField(null=True, blank=True, help_text="travel time multiplier of a slow closure (> 1)")
    reason = models.CharField(max_length=500)
    source = models.CharField(max_length=16, choices=ClosureSource.choices)
    edge_ids = models.JSONField(default=list, blank=True, help_text="the RoadEdge ids picked (streets), as given")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="lifted automatically then; empty: until lifted")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lift_reason = models.CharField(max_length=500, blank=True, help_text="why it was lifted; 'ended' at ends_at")
    start_announced = models.BooleanField(default=False, help_text="its start was sent to the consoles")

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["region", "lifted_at"], name="roadclosure_region_lifted")]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode="closed", slow_factor__isnull=True) | Q(mode="slow", slow_factor__gt=1),
                name="roadclosure_slow_factor_with_mode",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="roadclosure_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region.code} closure {self.pk}: {self.reason[:40]}"
