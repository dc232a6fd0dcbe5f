"""Argument helpers shared by the import commands (a leading underscore keeps this out of `manage.py help`)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from gis_core.models import Region
from gis_core.selectors import region_by_slug_or_code


def region_or_error(slug_or_code: str) -> Region:
    """The region named by slug or Kemendagri code, or a CommandError listing the known ones."""
    region = region_by_slug_or_code(slug_or_code)
    if region is None:
        known = ", ".join(Region.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"unknown region {slug_or_code!r}; known regions: {known}")
    return region


def data_path(path: Path) -> Path:
    """A relative path that does not exist from here is read from SIAGA_DATA_DIR."""
    if not path.is_absolute() and not path.exists():
        return Path(settings.SIAGA_DATA_DIR) / path
    return path
