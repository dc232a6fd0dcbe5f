"""What a locked-out log-in is told: django-axes counts failures (settings ``AXES_*``), this says when to retry.

The API's HTTP Basic (``gis_core.api.authentication``) and the console's login page (``console.lockout``)
both answer with it, in the request's language.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.utils.translation import gettext as _


def lockout_message(request) -> tuple[str, int | None]:
    """The message for a locked-out user name and the seconds until the lock ends (None: only an admin)."""
    cool_off = get_cool_off(request)
    retry_after_s = math.ceil(cool_off.total_seconds()) if cool_off else None
    if retry_after_s:
        minutes = math.ceil(retry_after_s / 60)
        message = _("Too many failed log-ins for this user name: try again in %(minutes)d minutes.") % {
            "minutes": minutes
        }
    else:
        message = _("Too many failed log-ins for this user name: ask an administrator to unlock it.")
    return message, retry_after_s
