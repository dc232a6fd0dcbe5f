"""Rate limits of the expensive endpoints (routing, unit ETAs, recommendations, coverage runs, siting).

A view opts in with ``throttle_scope`` (``"routing"``, ``"coverage"``, ...); its rate is
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]`` (settings, ``SIAGA_RATE_<SCOPE>``), counted per API
token, else per user. Every client address has one more budget over all expensive endpoints together
(``"address"``), so many accounts or tokens behind one address cannot take the server either. Counts live
in the default cache (Redis, shared by every worker). A refusal is a 429 ``rate_limited`` with
``retry_after_s`` and ``Retry-After``. A view without ``throttle_scope`` is not limited here.

When the cache cannot be reached the request goes on (and a warning is logged): losing the limit for a
while is better than refusing a 112 centre's ETAs.
"""

from __future__ import annotations

import logging
import math

from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from access.errors import RateLimitedError
from access.tokens import api_token_of
from gis_core.client_address import client_address

log = logging.getLogger(__name__)

ADDRESS_SCOPE = "address"


class _ScopedThrottle(SimpleRateThrottle):
    """DRF's fixed-window count over the view's ``throttle_scope``, raising the project's 429."""

    def __init__(self) -> None:  # the rate depends on the view: read in allow_request
        pass

    def rate_scope(self, view) -> str | None:
        raise NotImplementedError

    def get_rate(self) -> str:
        # Read now, not at import as DRF does, so a changed setting is the rate of the next request.
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"no rate for throttle scope {self.scope!r} in DEFAULT_THROTTLE_RATES")
        return rates[self.scope]

    def allow_request(self, request, view) -> bool:
        view_scope = getattr(view, "throttle_scope", None)
        if not view_scope:
            return True
        self.scope = self.rate_scope(view)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            allowed = super().allow_request(request, view)
        except (RedisError, OSError) as exc:
            log.warning("rate limit of %s not checked: the cache is unreachable (%s)", view_scope, exc)
            return True
        if not allowed:
            retry_after_s = max(1, math.ceil(self.wait() or 1))
            raise RateLimitedError(
                f"too many requests {self.who(request)} ({self.rate}): try again in {retry_after_s} s",
                retry_after_s=retry_after_s,
            )
        return True

    def who(self, request) -> str:
        raise NotImplementedError

    def get_ident(self, request) -> str:
        # The client's address as the audit log and the login lockout take it (gis_core.client_address), not DRF's
        # own reading of X-Forwarded-For.
        return client_address(request) or ""


class CallerRateThrottle(_ScopedThrottle):
    """Per API token, else per logged-in user, else per address, at the rate of the view's scope."""

    def rate_scope(self, view) -> str:
        return view.throttle_scope

    def get_cache_key(self, request, view) -> str:
        token = api_token_of(request.user)
        if token is not None:
            ident = f"token-{token.pk}"
        elif request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return f"siaga-throttle:{self.scope}:{ident}"

    def who(self, request) -> str:
        return "from this API token" if api_token_of(request.user) is not None else "from this account"


class AddressRateThrottle(_ScopedThrottle):
    """Per client address, over every expensive endpoint together (``DEFAULT_THROTTLE_RATES["address"]``)."""

    def rate_scope(self, view) -> str:
        return ADDRESS_SCOPE

    def get_cache_key(self, request, view) -> str:
        return f"siaga-throttle:{ADDRESS_SCOPE}:{self.get_ident(request)}"

    def who(self, request) -> str:
        return "from this address"
