"""Every domain error class of the project (``gis_core.errors.DomainError`` and its subclasses), for the
tests that check each error code has a status and a console string."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from gis_core.errors import DomainError

ROOT = Path(__file__).resolve().parents[1]


def _project_apps() -> tuple[str, ...]:
    """The installed apps that live in this repository (a new app is covered without editing a list)."""
    from django.apps import apps

    return tuple(c.name for c in apps.get_app_configs() if Path(c.path).resolve().parent == ROOT)


APPS = _project_apps()


def domain_error_classes() -> list[type[DomainError]]:
    """Import every module of the apps (migrations and commands aside), then list the subclasses."""
    for package in APPS:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if ".migrations." not in info.name and ".management." not in info.name:
                importlib.import_module(info.name)
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.split(".")[0] in APPS:
                found.append(sub)
            pending.append(sub)
    return found
