"""Every URL of the URLconf decides who may call it: a URL without a decision here fails the suite.

Each URL is called as anonymous, as a logged-in user with no role, as a dispatcher, a planner and an admin,
and with an API token holding every scope (``TOKEN_FOR``: only reads, only by the methods its views name).
A caller the URL is not for gets 401 or 403 (a page: the login redirect or 403); a caller it is for gets
past the permission check (any other status: 200, 400 for the empty request, 404 for the made-up object,
405 for a method the view does not take). Anonymous may get a 2xx only from ``OPEN``, each with its reason.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from factories.access import make_user
from factories.gis_core import make_region

pytestmark = pytest.mark.django_db

ANON, NOROLE, DISPATCHER, PLANNER, ADMIN = "anonymous", "no role", "dispatcher", "planner", "admin"
ROLES = (DISPATCHER, PLANNER, ADMIN)
ANY_ROLE = frozenset(ROLES)
DISPATCH = frozenset({DISPATCHER, ADMIN})
PLAN = frozenset({PLANNER, ADMIN})
EVERYONE = frozenset({ANON, NOROLE, *ROLES})

# Open to anyone, with who proves what: these answer anonymous callers by design.
OPEN = {
    "console:login": "the login form",
    "console:logout": "logging out ends whatever session there is",
    "schema": "the API's shape, no data (SPECTACULAR_SETTINGS)",
    "docs": "the API's docs page, no data",
    "set_language": "the language switch of the login page",
    "ingest-osmand": "devices: each request proves itself with its device secret",
    "ingest-owntracks": "devices: device secret (HTTP Basic or key)",
    "ingest-batch": "devices: device secret",
    "ingest-status": "devices: device secret",
    "whatsapp-webhook": "Meta: signed body (X-Hub-Signature-256) or the verify token",
    "crew:page": "the crew page's shell: no data; what it shows it reads with its crew session token",
    "crew:manifest": "the crew page's web app manifest: no data",
    "crew:sw": "the crew page's service worker: no data",
    "crew-pair": "crew phones: the one-time pairing token in the body",
    "crew-state": "crew phones: the crew session token (Bearer crew_...); any other caller is a 401",
}

# Who each URL (by name) is for. The device and webhook URLs refuse a person without their proof, so
# they are listed as open: what they check is tested with their protocols (tests/fleet).
FOR = {
    **dict.fromkeys(OPEN, EVERYONE),
    "console:home": ANY_ROLE,
    "console:dispatch": DISPATCH,
    "console:plan": PLAN,
    "console:roads": ANY_ROLE,
    # gis_core: the shared map and routing, for every console role (the default permission).
    **dict.fromkeys(
        ["region-list", "region-detail", "kecamatan-list", "kelurahan-list", "locate", "eta", "route", "isochrone"],
        ANY_ROLE,
    ),
    "matrix": ANY_ROLE,
    # fleet: the units layer is on every role's map; everything else is the dispatcher's.
    "unit-list": ANY_ROLE,
    "station-list": ANY_ROLE,
    **dict.fromkeys(
        [
            "units-eta",
            "unit-status",
            "incident-recommendations",
            "incident-assignments",
            "assignment-cancel",
            "kpis-response",
            "unit-positions",
            "incident-list",
            "incident-detail",
            "incident-location",
            "incident-location-offer-apply",
            "incident-close",
            "caller-detail",
            "caller-flag-create",
            "caller-flag-lift",
        ],
        DISPATCH,
    ),
    # crew: making a phone's pairing link is the dispatcher's (and the region admin's).
    "crew-pairing-create": DISPATCH,
    # gazetteer: placing a report is the dispatcher's.
    "gazetteer-search": DISPATCH,
    "gazetteer-reverse": DISPATCH,
    "gazetteer-names": DISPATCH,
    # coverage: the planner's.
    **dict.fromkeys(
        [
            "coverage-surface",
            "coverage-report",
            "coverage-gaps",
            "coverage-siting",
            "coverage-live",
            "coverage-whatif",
            "coverage-runs",
            "coverage-run",
            "coverage-run-compare",
            "coverage-run-gaps-csv",
            "coverage-run-map",
        ],
        PLAN,
    ),
}

# What an API token (every scope, its region Kota Jambi) reaches, by method: what the views' ``required_scopes``
# name (access.permissions). Never a write; every other URL refuses it (console pages send it to the login).
TOKEN = "API token"
TOKEN_FOR = {
    **dict.fromkeys(["eta", "units-eta"], frozenset({"post"})),  # ETAs: the question is a JSON body
    **dict.fromkeys(
        ["kpis-response", "incident-list", "incident-detail", "unit-list", "station-list", "coverage-runs"],
        frozenset({"get"}),
    ),
    **dict.fromkeys(
        ["coverage-run", "coverage-run-compare", "coverage-run-gaps-csv", "coverage-run-map"], frozenset({"get"})
    ),
}

# The admin site has its own staff login and is tested in tests/console/test_console_roles.py.
SKIP_NAMESPACES = {"admin"}
PARAMS = {"slug": "kota-jambi", "pk": 999999, "run_id": 999999, "other_id": 999998, "unit_id": 999999}
PARAMS |= {"offer_id": 999999, "flag_id": 999999, "phone": "+6281200000000", "format": "json"}
PARAMS |= {"z": 15, "x": 0, "y": 0}


def _urls() -> list[tuple[str, str]]:
    """(name, concrete path) of every named URL outside the skipped namespaces."""
    found: list[tuple[str, str]] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIP_NAMESPACES:
                    continue
                inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found.append((name, _concrete(prefix + str(entry.pattern))))

    walk(get_resolver(), "", None)
    return found


def _concrete(pattern: str) -> str:
    import re

    path = pattern.replace("^", "").replace("$", "").replace("/?", "/")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(PARAMS[m.group(1)]), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(PARAMS[m.group(1)]), path)
    path = path.replace("\\.", ".")
    return "/" + path


def test_every_url_has_a_decision() -> None:
    names = {name for name, _ in _urls()}
    assert names - FOR.keys() == set(), "a URL without a decision: add it to FOR (and OPEN with a reason)"
    assert FOR.keys() - names == set(), "a decision for a URL that no longer exists"
    assert TOKEN_FOR.keys() - names == set(), "a token's URL that no longer exists"


@pytest.fixture
def callers(db) -> dict[str, Client]:
    """The user of each caller (None: anonymous); each request logs in afresh, as console:logout ends a session."""
    from access.models import Scope
    from access.services import api_token_create

    region = make_region()
    users = {role: make_user(role.replace(" ", "-"), *([] if role == NOROLE else [role])) for role in (NOROLE, *ROLES)}
    token = api_token_create(region=region, name="every scope", scopes=list(Scope.values)).text
    return {ANON: None, **users, TOKEN: token}


def _client(user) -> Client:
    if isinstance(user, str):  # an API token
        return Client(HTTP_AUTHORIZATION=f"Bearer {user}")
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _refused(response, *, page: bool) -> bool:
    if response.status_code in (401, 403):
        return True
    # A console page sends anonymous callers to the login form.
    return page and response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_each_url_answers_only_the_callers_it_is_for(callers: dict, method: str) -> None:
    wrong: list[str] = []
    for name, path in _urls():
        page = not path.startswith("/api/")
        for caller, user in callers.items():
            extra = {"content_type": "application/json"} if method == "post" else {}
            response = getattr(_client(user), method)(path, **extra)
            if response.status_code == 405:
                continue  # not this URL's method; the other one is checked
            assert response.status_code < 500, f"{method.upper()} {path} as {caller}: {response.status_code}"
            allowed = method in TOKEN_FOR.get(name, ()) or name in OPEN if caller == TOKEN else caller in FOR[name]
            if allowed and _refused(response, page=page) and name not in OPEN:
                wrong.append(f"{method.upper()} {path} ({name}) refused {caller}: {response.status_code}")
            if not allowed and not _refused(response, page=page):
                wrong.append(f"{method.upper()} {path} ({name}) let {caller} in: {response.status_code}")
            if caller == ANON and 200 <= response.status_code < 300 and name not in OPEN:
                wrong.append(f"{method.upper()} {path} ({name}) answered anonymous with {response.status_code}")
    assert not wrong, "\n".join(wrong)
