"""The address of the client a request came from, the same for the audit log, the rate limits and the login
lockout, behind the reverse proxy or without one.

``REMOTE_ADDR`` is the connecting peer: behind nginx, nginx itself. Each proxy in front appends the address it
was connected from to ``X-Forwarded-For``, so with ``SIAGA_NUM_PROXIES`` = N trusted proxies the last N entries
are theirs and the N-th from the end is the client as the outermost proxy saw it; whatever comes before it the
client may have written itself and is never read. With no proxy configured (0, the default) the header is ignored
altogether, so a client cannot choose its own address. A header with fewer entries than proxies (a request that
came round the proxy) or an entry that is no IP address falls back to ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings


def client_address_of(meta: Mapping[str, Any], *, num_proxies: int | None = None) -> str | None:
    """The client's IP address from a request's ``META`` (a WSGI environ or an ASGI scope's equivalent).

    Parameters
    ----------
    meta
        ``REMOTE_ADDR`` and ``HTTP_X_FORWARDED_FOR`` are read.
    num_proxies
        Trusted proxies in front that append to ``X-Forwarded-For``; ``settings.SIAGA_NUM_PROXIES`` when None.

    Returns
    -------
    str or None
        An IPv4 or IPv6 address in its text form; ``REMOTE_ADDR`` (None when unset) unless N proxies vouch for
        another.
    """
    remote = meta.get("REMOTE_ADDR") or None
    n = settings.SIAGA_NUM_PROXIES if num_proxies is None else num_proxies
    if n <= 0:
        return remote
    entries = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    entries = [entry for entry in entries if entry]
    if len(entries) < n:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-n]))
    except ValueError:
        return remote


def client_address(request: Any) -> str | None:
    """:func:`client_address_of` a Django or DRF request (django-axes calls it: ``AXES_CLIENT_IP_CALLABLE``)."""
    return client_address_of(request.META)
