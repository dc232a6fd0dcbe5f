"""Place names of a region that callers use: streets, landmarks, kelurahan, kecamatan and local names.

Storage is EPSG:4326. An import writes a new :class:`GazetteerImport` and replaces the imported entries of
the region in one transaction (readers see the old set or the new one); local names added by an admin
(``kind=local``, no import) are never touched by an import.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db.models import Q

from gazetteer.normalize import normalize
from gis_core.models import Kecamatan, Kelurahan, Region


class EntryKind(models.TextChoices):
    STREET = "street", "street"
    LANDMARK = "landmark", "landmark"
    KELURAHAN = "kelurahan", "kelurahan"
    KECAMATAN = "kecamatan", "kecamatan"
    LOCAL = "local", "local name"


class GazetteerImport(models.Model):
    """One import of a region's gazetteer: where it came from and how many names of each kind it gave."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="gazetteer_imports")
    source = models.TextField(help_text="File path, place name or 'database' (the region's stored layers)")
    source_kind = models.CharField(max_length=16, help_text="pbf, osm, graphml, place or database")
    imported_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True, help_text="Names per kind")
    common_words = models.JSONField(
        default=list, blank=True, help_text="Normalised words in more than 1% of the names (jalan, gang, ...)"
    )

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(is_active=True), name="one_active_gazetteer_per_region"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.code} gazetteer v{self.pk}"


class GazetteerEntry(models.Model):
    """A name a caller would say, with its geometry and the kelurahan and kecamatan it lies in."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="gazetteer_entries")
    source_import = models.ForeignKey(
        GazetteerImport, null=True, blank=True, on_delete=models.CASCADE, related_name="entries",
        help_text="Empty for a local name added by hand",
    )  # fmt: skip
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    category = models.CharField(max_length=64, blank=True, help_text="OSM tag, e.g. amenity=place_of_worship")
    name = models.CharField(max_length=256)
    alt_names = models.JSONField(default=list, blank=True, help_text="alt_name, old_name, short_name")
    name_norm = models.CharField(max_length=512, editable=False)
    search_text = models.TextField(editable=False, help_text="Normalised name and alternative names")
    osm_ref = models.CharField(max_length=64, blank=True, help_text="osm:way/123, osm:node/5, or a code")
    geom = models.GeometryField(srid=4326, help_text="Street: MultiLineString; landmark: Point; area: polygon")
    point = models.PointField(srid=4326, help_text="Where a report goes by default (a street's middle)")
    kelurahan = models.ForeignKey(Kelurahan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kecamatan = models.ForeignKey(Kecamatan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "gazetteer entries"
        indexes = [
            GinIndex(fields=["search_text"], opclasses=["gin_trgm_ops"], name="gazetteer_search_trgm"),
            models.Index(fields=["region", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.kind}]"

    def clean(self) -> None:
        super().clean()
        if not normalize(self.name or ""):
            raise ValidationError({"name": "a name needs at least one letter or digit"})
        if not isinstance(self.alt_names, list) or not all(isinstance(a, str) for a in self.alt_names):
            raise ValidationError({"alt_names": "a list of names"})

    def save(self, *args, **kwargs) -> None:
        self.name_norm, self.search_text = search_texts(self.name, self.alt_names)
        if self.point is None and self.geom is not None:
            self.point = self.geom.point_on_surface if self.geom.geom_type != "Point" else self.geom
        super().save(*args, **kwargs)


def search_texts(name: str, alt_names: list[str]) -> tuple[str, str]:
    """``(name_norm, search_text)``: the normalised name, and it with the alternative names after it."""
    name_norm = normalize(name)
    others = [n for n in dict.fromkeys(normalize(a) for a in alt_names) if n and n != name_norm]
    return name_norm[:512], " | ".join([name_norm, *others])


class LocalName(GazetteerEntry):
    """Proxy for the admin: the names a region admin adds (a posko, "Simpang Rimbo", a gang)."""

    class Meta:
        proxy = True
        verbose_name = "local name"
