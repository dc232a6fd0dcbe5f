"""Every URL of the URLconf decides who may call it: a URL without a decision here fails the suite.

Each URL is called as anonymous, as a crew device (its own credentials in HTTP Basic: they open the ingest
endpoints only), as a logged-in user with no role, as a Jambi dispatcher, a Jambi PSC-119-only dispatcher,
a supervisor, a planner, a region admin, an Ambon dispatcher (the URLs name Jambi: past the role check, then
the 404 of an unknown region) and with an API token holding every scope (``TOKEN_FOR``: only reads, only by
the methods its views name). Roles are held per region (``access.models.Membership.role``).
A caller the URL is not for gets 401 or 403 (a page: the login redirect or 403); a caller it is for gets
past the permission check (any other status: 200, 400 for the empty request, 404 for the made-up object,
405 for a method the view does not take). Anonymous may get a 2xx only from ``OPEN``, each with its reason.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from factories.access import basic_header
from factories.fleet import make_agency, make_device, make_unit
from factories.gis_core import make_region

from fleet.actors import Actor

pytestmark = pytest.mark.django_db

ANON, DEVICE, NOROLE = "anonymous", "crew device", "no role"
DISPATCHER, PSC_DESK, SUPERVISOR = "dispatcher", "Jambi PSC-119-only dispatcher", "supervisor"
PLANNER, ADMIN, AMBON = "planner", "region admin", "Ambon dispatcher"
ROLES = (DISPATCHER, PSC_DESK, SUPERVISOR, PLANNER, ADMIN, AMBON)
ANY_ROLE = frozenset(ROLES)
DISPATCH = frozenset({DISPATCHER, PSC_DESK, SUPERVISOR, ADMIN, AMBON})
PLAN = frozenset({PLANNER, SUPERVISOR, ADMIN})
EVERYONE = frozenset({ANON, DEVICE, NOROLE, *ROLES})
# Each actor: (username, role in its region, region slug, agency codes it is limited to).
ACTORS = {
    NOROLE: ("no-role", "", "kota-jambi", ()),
    DISPATCHER: ("jambi.dispatcher", "dispatcher", "kota-jambi", ()),
    PSC_DESK: ("jambi.psc119", "dispatcher", "kota-jambi", ("psc119",)),
    SUPERVISOR: ("jambi.supervisor", "supervisor", "kota-jambi", ()),
    PLANNER: ("jambi.planner", "planner", "kota-jambi", ()),
    ADMIN: ("jambi.admin", "region_admin", "kota-jambi", ()),
    AMBON: ("ambon.dispatcher", "dispatcher", "kota-ambon", ()),
}

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
    "health-live": "the proxy and orchestrators probe with no account; the answer holds no data",
    "health-ready": "the proxy and orchestrators probe with no account; each check's name and pass/fail only",
    "handoff-agency-update": "an agency's own system: body signed with its secret (X-Siaga-Signature-256)",
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
    # ops: Prometheus alone, with the scrape token (SIAGA_METRICS_TOKEN); no person, role or API token.
    "metrics": frozenset(),
    "reports:page": ANY_ROLE,  # the supervisor's report page: every role that reads reports
    # gis_core: the shared map and routing, for every console role (the default permission).
    **dict.fromkeys(
        ["region-list", "region-detail", "kecamatan-list", "kelurahan-list", "locate", "eta", "route", "isochrone"],
        ANY_ROLE,
    ),
    "matrix": ANY_ROLE,
    # Live road closures: every console draws them; closing and lifting roads is dispatch work.
    "region-closures": ANY_ROLE,
    "closure-create": DISPATCH,
    "closure-lift": DISPATCH,
    # How wrong the ETAs were: planners judge the network, dispatchers their ETAs.
    "kpis-eta-accuracy": ANY_ROLE,
    "kpis-eta-accuracy-png": ANY_ROLE,
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
            "incident-handoffs",
            "handoff-update",
            "kpis-handoffs",
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
    # reports: the centre's period report, SPM tables and exports, for every role that reads reports.
    **dict.fromkeys(
        [
            "reports-period",
            "reports-period-csv",
            "reports-period-xlsx",
            "reports-period-pdf",
            "reports-incidents-csv",
            "reports-spm",
            *[f"reports-map-{kind}-{fmt}" for kind in ("coverage", "incidents") for fmt in ("gpkg", "geojson", "png")],
        ],
        ANY_ROLE,
    ),
}

# What an API token (every scope, its region Kota Jambi) reaches, by method: what the views' ``required_scopes``
# name (access.permissions). Never a write; every other URL refuses it (console pages send it to the login).
TOKEN = "API token"
TOKEN_FOR = {
    **dict.fromkeys(["eta", "units-eta"], frozenset({"post"})),  # ETAs: the question is a JSON body
    **dict.fromkeys(
        [
            "kpis-response",
            "kpis-handoffs",
            "incident-list",
            "incident-detail",
            "unit-list",
            "station-list",
            "coverage-runs",
        ],
        frozenset({"get"}),
    ),
    **dict.fromkeys(["kpis-eta-accuracy", "kpis-eta-accuracy-png"], frozenset({"get"})),
    **dict.fromkeys(["reports-period", "reports-spm"], frozenset({"get"})),  # the kpis scope: figures, no callers
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
    from django.contrib.auth.models import User

    from access.models import Scope
    from access.services import api_token_create, membership_grant

    regions = {
        "kota-jambi": make_region(),
        "kota-ambon": make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752),
    }
    psc = make_agency(region=regions["kota-jambi"], code="psc119", kind="ems")
    make_agency(region=regions["kota-jambi"], code="damkar", kind="fire")
    users = {}
    for actor, (username, role, slug, agencies) in ACTORS.items():
        user = User.objects.create_user(username=username, password="x", is_staff=role == "region_admin")
        membership_grant(user=user, region=regions[slug], role=role, agencies=[psc] if agencies else [])
        users[actor] = user
    token = api_token_create(region=regions["kota-jambi"], name="every scope", scopes=list(Scope.values)).text
    make_device(unit=make_unit(agency=psc), identifier="crew-1", secret="crew-secret")
    return {ANON: None, DEVICE: ("crew-1", "crew-secret"), **users, TOKEN: token}


def _client(user) -> Client:
    if isinstance(user, str):  # an API token
        return Client(HTTP_AUTHORIZATION=f"Bearer {user}")
    if isinstance(user, tuple):  # a crew device's identifier and secret, as its tracker sends them
        return Client(HTTP_AUTHORIZATION=basic_header(*user))
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _refused(response, *, page: bool) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 429 and response.json()["error"]["code"] == "login_locked":
        return True  # a crew device's credentials are no user's: after a few, django-axes locks the name out
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


# ---------------------------------------------------------------- writes on real objects

JAMBI = (103.6131, -1.6101)
JAMBI_PHONE = "+6281200000001"


@pytest.fixture
def jambi_work(callers):
    """Kota Jambi's work as its own staff made it: a report with an offer, a PSC 119 ambulance and a Damkar
    engine (busy on a second report), a flag on the caller."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone
    from factories.fleet import make_incident

    from fleet.models import Agency
    from incidents.models import LocationOffer
    from incidents.services.callers import caller_flag
    from incidents.services.dispatch import dispatch_assign

    psc, damkar = Agency.objects.get(code="psc119"), Agency.objects.get(code="damkar")
    ambulance = make_unit(agency=psc, call_sign="AMB-9", capabilities=["als"])
    engine = make_unit(agency=damkar, call_sign="DMK-1", capabilities=["fire_engine"])
    busy = make_unit(agency=damkar, call_sign="DMK-2", capabilities=["fire_engine"])
    incident = make_incident(region=psc.region, geom=JAMBI, caller_phone=JAMBI_PHONE)
    staff = callers[DISPATCHER]
    assignment = dispatch_assign(
        incident=make_incident(region=psc.region, geom=JAMBI), unit=busy, actor=Actor.person(staff)
    )
    offer = LocationOffer.objects.create(incident=incident, geom=Point(*JAMBI, srid=4326), received_at=timezone.now())
    flag = caller_flag(region=psc.region, phone=JAMBI_PHONE, reason="two silent calls", actor=Actor.person(staff))
    return {"incident": incident, "ambulance": ambulance, "engine": engine, "assignment": assignment,
            "offer": offer, "flag": flag}  # fmt: skip


def _state() -> tuple:
    """Everything a write below could change."""
    from coverage.models import CoverageRun
    from fleet.models import Unit
    from incidents.models import Assignment, CallerFlag, Incident

    return (
        sorted(Unit.objects.values_list("pk", "status")),
        sorted(Assignment.objects.values_list("pk", "status", "unit_id")),
        sorted((i.pk, i.status, i.priority, i.geom.coords if i.geom else None) for i in Incident.objects.all()),
        sorted(CallerFlag.objects.values_list("pk", "lifted_at")),
        CoverageRun.objects.count(),
    )


def test_cross_region_and_cross_agency_writes_are_404s_and_change_nothing(callers, jambi_work) -> None:
    from django.contrib.auth.models import User

    from access.services import membership_grant

    w = jambi_work
    ambon_supervisor = User.objects.create_user(username="ambon.supervisor", password="x")
    membership_grant(user=ambon_supervisor, region=callers[AMBON].memberships.get().region, role="supervisor")
    i, flag = w["incident"].pk, w["flag"].pk
    # (who, method, path, body, expected status): another centre's objects and regions, another agency's units.
    cases = [
        (AMBON, "post", "/api/incidents/", {"region": "kota-jambi", "channel": "phone", "incident_type": "x"}, 400),
        (AMBON, "post", f"/api/incidents/{i}/assignments/", {"unit_id": w["ambulance"].pk}, 404),
        (AMBON, "post", f"/api/units/{w['ambulance'].pk}/status/", {"status": "out_of_service"}, 404),
        (AMBON, "post", f"/api/assignments/{w['assignment'].pk}/cancel/", {"reason": "x"}, 404),
        (AMBON, "post", f"/api/incidents/{i}/close/", {"outcome": "prank", "note": "x"}, 404),
        (AMBON, "patch", f"/api/incidents/{i}/", {"priority": 1}, 404),
        (AMBON, "patch", f"/api/incidents/{i}/location/", {"location": list(JAMBI)}, 404),
        (AMBON, "post", f"/api/incidents/{i}/location-offers/{w['offer'].pk}/apply/", {}, 404),
        (AMBON, "post", f"/api/callers/{JAMBI_PHONE}/flags/?region=kota-jambi", {"kind": "block", "reason": "x"}, 404),
        (AMBON, "post", f"/api/callers/{JAMBI_PHONE}/flags/{flag}/lift/?region=kota-jambi", {"reason": "x"}, 404),
        ("ambon supervisor", "post", "/api/coverage/surface/", {"region": "kota-jambi", "cell_m": 500}, 400),
        (PSC_DESK, "post", f"/api/incidents/{i}/assignments/", {"unit_id": w["engine"].pk}, 404),
        (PSC_DESK, "post", f"/api/units/{w['engine'].pk}/status/", {"status": "out_of_service"}, 404),
        (PSC_DESK, "post", f"/api/assignments/{w['assignment'].pk}/cancel/", {"reason": "x"}, 404),
        (PLANNER, "post", f"/api/incidents/{i}/assignments/", {"unit_id": w["ambulance"].pk}, 403),
        (PLANNER, "post", f"/api/units/{w['ambulance'].pk}/status/", {"status": "out_of_service"}, 403),
    ]
    users = {**callers, "ambon supervisor": ambon_supervisor}
    before = _state()
    wrong = []
    for who, method, path, body, expected in cases:
        client = _client(users[who])
        response = getattr(client, method)(path, body, content_type="application/json")
        if response.status_code != expected:
            wrong.append(f"{method.upper()} {path} as {who}: {response.status_code}, not {expected}")
    assert not wrong, "\n".join(wrong)
    assert _state() == before
    # The PSC 119 desk sends its own agency's ambulance to the same report.
    sent = _client(callers[PSC_DESK]).post(
        f"/api/incidents/{i}/assignments/", {"unit_id": w["ambulance"].pk}, content_type="application/json"
    )
    assert sent.status_code == 201, sent.content
