"""API tokens of machine clients: stored as a hash, shown once, revocable, scoped, kept to their region."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_incident
from factories.gis_core import make_region
from rest_framework.test import APIClient

from access.checks import check_token_scopes_and_rates
from access.models import ApiToken
from access.selectors import regions_for_user
from access.services import api_token_create, api_token_revoke
from access.tokens import TokenUser
from coverage.models import CoverageRun, RunKind
from incidents.models import Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def jambi(db):
    return make_region()


@pytest.fixture
def ambon(db):
    return make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)


def _bearer(text: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return client


def _token(region, *scopes: str) -> str:
    return api_token_create(region=region, name="RSUD test", scopes=list(scopes)).text


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code, response.json()
    return response.json()["error"]["message"]


def _run(region) -> CoverageRun:
    run = CoverageRun(
        region=region, kind=RunKind.COVERAGE, inputs={"label": "test"}, results={"totals": {}}, duration_s=0.1
    )
    run.full_clean()
    run.save()
    return run


# -- stored as a hash, shown once ------------------------------------------------------------------


def test_only_the_hash_of_the_secret_is_stored(jambi) -> None:
    issued = api_token_create(region=jambi, name="RSUD Raden Mattaher", scopes=["eta"])
    prefix, secret = issued.text.removeprefix("siaga_").split("_", 1)
    token = ApiToken.objects.get()
    assert (token.prefix, len(secret)) == (prefix, 43)
    assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:  # no column of the row holds the secret or the token text
        cursor.execute("SELECT * FROM access_apitoken")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert secret not in row
    assert issued.text not in row
    assert api_token_create(region=jambi, name="again", scopes=["eta"]).text != issued.text


def test_the_admin_shows_the_token_once_after_saving_and_never_again(jambi) -> None:
    superuser = make_user("root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    browser = Client()
    browser.force_login(superuser)
    form = {"region": jambi.pk, "name": "Dinkes dashboard", "scopes": ["kpis", "read-incidents"]}
    response = browser.post("/admin/access/apitoken/add/", form, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"] if "siaga_" in str(m)]
    assert len(shown) == 1
    text = next(word for word in shown[0].split() if word.startswith("siaga_"))
    token = ApiToken.objects.get()
    assert (token.name, sorted(token.scopes), token.created_by) == (
        "Dinkes dashboard",
        ["kpis", "read-incidents"],
        superuser,
    )
    assert _bearer(text).get("/api/kpis/response/?region=kota-jambi").status_code == 200
    for page in ("/admin/access/apitoken/", f"/admin/access/apitoken/{token.pk}/change/"):
        body = browser.get(page).content.decode()
        assert token.prefix in body, page
        assert text not in body, page
        assert token.secret_sha256 not in body, page


def test_a_region_admin_makes_and_lists_only_their_regions_tokens(jambi, ambon) -> None:
    _token(ambon, "eta")
    admin = make_user("jambi-admin", "admin", regions=[jambi])
    admin.is_staff = True
    admin.save()
    browser = Client()
    browser.force_login(admin)
    refused = browser.post("/admin/access/apitoken/add/", {"region": ambon.pk, "name": "x", "scopes": ["eta"]})
    assert refused.status_code == 200
    assert "region" in refused.context["adminform"].form.errors
    made = browser.post("/admin/access/apitoken/add/", {"region": jambi.pk, "name": "RS", "scopes": ["eta"]})
    assert made.status_code == 302
    listing = browser.get("/admin/access/apitoken/")
    assert [t.region.slug for t in listing.context["cl"].result_list] == ["kota-jambi"]
    ambon_token = ApiToken.objects.get(region=ambon)
    assert browser.get(f"/admin/access/apitoken/{ambon_token.pk}/change/").status_code == 302  # not found: index

    dispatcher = make_user("jambi-staff-dispatcher", "dispatcher", regions=[jambi])
    dispatcher.is_staff = True
    dispatcher.save()
    browser.force_login(dispatcher)
    assert browser.get("/admin/access/apitoken/").status_code == 403


def test_the_admins_revoke_action_refuses_the_token_from_then_on(jambi) -> None:
    text = _token(jambi, "kpis")
    client = _bearer(text)
    assert client.get("/api/kpis/response/?region=kota-jambi").status_code == 200
    superuser = make_user("root")
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    browser = Client()
    browser.force_login(superuser)
    token = ApiToken.objects.get()
    browser.post("/admin/access/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in _error(client.get("/api/kpis/response/?region=kota-jambi"), 401, "credentials_invalid")
    assert browser.post(f"/admin/access/apitoken/{token.pk}/delete/").status_code == 403  # revoke, not delete


def test_the_commands_make_and_revoke_a_token(jambi) -> None:
    out, err = StringIO(), StringIO()
    call_command("api_token_create", region="15.71", name="RS", scopes="eta, kpis", stdout=out, stderr=err)
    text = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert text.startswith(f"siaga_{token.prefix}_")
    assert "only its hash" in err.getvalue()
    assert (token.scopes, token.created_by) == (["eta", "kpis"], None)
    assert _bearer(text).get("/api/kpis/response/?region=kota-jambi").status_code == 200
    with pytest.raises(CommandError, match="unknown scopes"):
        call_command("api_token_create", region="kota-jambi", name="RS", scopes="eta,write-all", stdout=StringIO())
    with pytest.raises(CommandError, match="unknown region"):
        call_command("api_token_create", region="atlantis", name="RS", scopes="eta", stdout=StringIO())
    call_command("api_token_revoke", token.prefix, stdout=StringIO())
    _error(_bearer(text).get("/api/kpis/response/?region=kota-jambi"), 401, "credentials_invalid")
    with pytest.raises(CommandError, match="no API token"):
        call_command("api_token_revoke", "00000000", stdout=StringIO())


# -- refused tokens ----------------------------------------------------------------------------------


def test_wrong_malformed_revoked_and_impossible_tokens_are_401s(jambi) -> None:
    text = _token(jambi, "kpis")
    good_prefix = text[: len("siaga_") + 9]
    revoked = api_token_create(region=jambi, name="old", scopes=["kpis"])
    api_token_revoke(token=revoked.token)
    cases = {
        "wrong secret": good_prefix + "A" * 43,
        "unknown prefix": "siaga_00000000_" + "A" * 43,
        "malformed": "not-a-token",
        "revoked": revoked.text,
        "NUL": text[:-1] + "\x00",
        "10,000 characters": "siaga_" + "a" * 10_000,
    }
    expected = {"wrong secret": "no such", "unknown prefix": "no such", "malformed": "siaga_<8 hex",
                "revoked": "revoked", "NUL": "NUL", "10,000 characters": "characters long"}  # fmt: skip
    for case, value in cases.items():
        response = _bearer(value).get("/api/kpis/response/?region=kota-jambi")
        assert expected[case] in _error(response, 401, "credentials_invalid"), case
        assert response["WWW-Authenticate"].startswith("Bearer"), case
    assert _bearer(text).get("/api/kpis/response/?region=kota-jambi").status_code == 200


# -- scopes: what a token may call ---------------------------------------------------------------------


def test_a_token_calls_only_what_its_scopes_name_and_never_writes(jambi) -> None:
    incident = make_incident(region=jambi, description="before")
    status_before = incident.status
    eta = _bearer(_token(jambi, "eta"))
    reader = _bearer(_token(jambi, "read-incidents"))
    # eta: the ETA endpoints get past the permission (no road network here: routing's own 4xx).
    body = {"region": "kota-jambi", "destination": [103.6, -1.61], "origins": [[103.59, -1.62]]}
    assert eta.post("/api/routing/eta/", body, format="json").status_code not in (401, 403)
    assert eta.post("/api/units/eta/", body, format="json").status_code not in (401, 403)
    assert "lacks the scope 'kpis'" in _error(
        eta.get("/api/kpis/response/?region=kota-jambi"), 403, "permission_denied"
    )
    for path in ("/api/routing/route/", "/api/routing/matrix/", "/api/coverage/surface/"):  # no scope names them
        _error(eta.post(path, body, format="json"), 403, "permission_denied")
    _error(eta.get("/api/incidents/?region=kota-jambi"), 403, "permission_denied")
    # read-incidents: the queue and the detail, read only.
    queue = reader.get("/api/incidents/?region=kota-jambi")
    assert [f["id"] for f in queue.json()["features"]] == [incident.pk]
    assert reader.get(f"/api/incidents/{incident.pk}/").json()["id"] == incident.pk
    writes = [
        reader.patch(f"/api/incidents/{incident.pk}/", {"description": "changed"}, format="json"),
        reader.post(f"/api/incidents/{incident.pk}/close/", {"outcome": "prank", "note": "x"}, format="json"),
        reader.post("/api/incidents/", {"region": "kota-jambi", "channel": "phone"}, format="json"),
        reader.post(f"/api/incidents/{incident.pk}/assignments/", {"unit_id": 1}, format="json"),
        reader.post("/api/callers/+6281200000000/flags/", {"kind": "flag", "reason": "x"}, format="json"),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    incident.refresh_from_db()
    assert (incident.description, incident.status, Incident.objects.count()) == ("before", status_before, 1)
    _error(reader.get(f"/api/incidents/{incident.pk}/assignments/"), 403, "permission_denied")  # no scope
    _error(reader.get("/api/callers/+6281200000000/"), 403, "permission_denied")  # callers: people only


def test_kpis_units_and_coverage_scopes(jambi) -> None:
    run = _run(jambi)
    client = _bearer(_token(jambi, "kpis", "read-units", "coverage"))
    assert client.get("/api/kpis/response/?region=kota-jambi").json()["region"] == "kota-jambi"
    assert client.get("/api/units/?region=kota-jambi").json()["type"] == "FeatureCollection"
    assert client.get("/api/stations/?region=15.71").status_code == 200
    assert [r["run_id"] for r in client.get("/api/coverage/runs/?region=kota-jambi").json()["results"]] == [run.pk]
    assert client.get(f"/api/coverage/runs/{run.pk}/").json()["run_id"] == run.pk
    _error(client.post("/api/coverage/report/", {"region": "kota-jambi"}, format="json"), 403, "permission_denied")


def test_a_token_request_names_its_region(jambi) -> None:
    client = _bearer(_token(jambi, "read-incidents", "read-units"))
    for path in ("/api/incidents/", "/api/units/"):
        assert "kota-jambi" in _error(client.get(path), 400, "invalid"), path


# -- another region through a token is a 404 ------------------------------------------------------------


def test_another_regions_work_through_a_token_is_a_404_like_an_unknown_one(jambi, ambon) -> None:
    ambon_incident = make_incident(region=ambon)
    ambon_run, jambi_run = _run(ambon), _run(jambi)
    client = _bearer(_token(jambi, "eta", "read-incidents", "read-units", "kpis", "coverage"))
    body = {"destination": [128.18, -3.69], "origins": [[128.17, -3.70]]}
    for region in ("kota-ambon", "81.71", "atlantis"):
        answers = [
            client.post("/api/routing/eta/", {**body, "region": region}, format="json"),
            client.post("/api/units/eta/", {**body, "region": region}, format="json"),
            client.get(f"/api/kpis/response/?region={region}"),
            client.get(f"/api/incidents/?region={region}"),
            client.get(f"/api/units/?region={region}"),
            client.get(f"/api/coverage/runs/?region={region}"),
        ]
        for response in answers:
            assert _error(response, 404, "not_found") == f"unknown region {region!r}", response.request
    # In the query and the body alike: the body cannot name another region behind the query's.
    mixed = client.post("/api/units/eta/?region=kota-jambi", {**body, "region": "kota-ambon"}, format="json")
    _error(mixed, 404, "not_found")
    for path in (
        f"/api/incidents/{ambon_incident.pk}/",
        f"/api/coverage/runs/{ambon_run.pk}/",
        f"/api/coverage/runs/{ambon_run.pk}/gaps.csv",
        f"/api/coverage/runs/{ambon_run.pk}/map.png",
        f"/api/coverage/runs/{jambi_run.pk}/compare/{ambon_run.pk}/",
        "/api/incidents/999999/",
    ):
        _error(client.get(path), 404, "not_found")


def test_a_token_sees_only_its_region(jambi, ambon) -> None:
    token = api_token_create(region=jambi, name="RS", scopes=["eta"]).token
    user = TokenUser(token)
    assert list(regions_for_user(user)) == [jambi]
    assert user.groups.count() == 0
    assert not user.has_perm("fleet.view_unit")


# -- last used -------------------------------------------------------------------------------------------


def test_last_used_at_is_written_at_most_once_a_minute(jambi) -> None:
    text = _token(jambi, "kpis")
    client = _bearer(text)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    before = timezone.now()
    client.get("/api/kpis/response/?region=kota-jambi")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert first >= before

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert client.get("/api/kpis/response/?region=kota-jambi").status_code == 200
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and "access_apitoken" in q["sql"]]
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    client.get("/api/kpis/response/?region=kota-jambi")
    token.refresh_from_db()
    assert token.last_used_at > first
    # A refused request (wrong secret) is no use of the token.
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=None)
    _bearer(text[:-4] + "AAAA").get("/api/kpis/response/?region=kota-jambi")
    token.refresh_from_db()
    assert token.last_used_at is None


# -- the views' scopes and rates are the real ones ----------------------------------------------------------


def test_the_schema_says_how_to_send_a_token(jambi) -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert {"apiToken": []} in schema["paths"]["/api/routing/eta/"]["post"]["security"]


def test_every_views_scopes_and_throttle_scope_exist() -> None:
    assert check_token_scopes_and_rates() == []


def test_the_check_catches_an_unknown_scope_and_a_writing_scope(monkeypatch) -> None:
    from incidents.api.dispatch_views import ResponseKpis
    from incidents.api.incident_views import IncidentDetail

    monkeypatch.setattr(ResponseKpis, "required_scopes", {"GET": "kpi"})
    monkeypatch.setattr(IncidentDetail, "required_scopes", {"GET": "read-incidents", "PATCH": "read-incidents"})
    ids = sorted(error.id for error in check_token_scopes_and_rates())
    assert ids == ["access.E001", "access.E002"]
