"""Production is the default: debug off unless asked for, no fallback secret outside debug, static files served.

Each case starts a fresh interpreter, since settings are read once per process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REAL_KEY = "k" * 50


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SIAGA_HTTPS"))}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW = "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY)"


def test_debug_is_off_unless_asked_for():
    result = _run(SHOW, DJANGO_SECRET_KEY=REAL_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", REAL_KEY]


def test_without_a_secret_key_the_server_refuses_to_start_outside_debug(tmp_path: Path):
    result = _run(SHOW, DJANGO_SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "no secret key" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_public_development_key_is_for_debug_only(tmp_path: Path):
    result = _run(SHOW, DJANGO_DEBUG="1", DJANGO_SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode == 0, result.stderr
    debug, key = result.stdout.split()
    assert debug == "True"
    assert "insecure" in key


def test_the_key_file_setup_writes_is_read(tmp_path: Path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("f" * 40 + "\n")
    result = _run(SHOW, DJANGO_SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "f" * 40]


def test_a_short_key_is_refused(tmp_path: Path):
    result = _run(SHOW, DJANGO_SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "shorter than 32 characters" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_debug_value_that_is_not_a_boolean_is_refused(value: str):
    result = _run(SHOW, DJANGO_DEBUG=value, DJANGO_SECRET_KEY=REAL_KEY)
    assert result.returncode != 0
    assert "is not a boolean" in result.stderr


def test_deploy_security_checks_are_clean_behind_tls():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "SIAGA_HTTPS": "1",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_turns_on_secure_cookies_and_hsts():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    assert _run(code, DJANGO_SECRET_KEY=REAL_KEY, SIAGA_HTTPS="1").stdout.split() == ["True", "True", "True"]
    assert _run(code, DJANGO_SECRET_KEY=REAL_KEY).stdout.split() == ["False", "False", "False"]


def test_static_files_are_served_with_debug_off(client):
    assert settings.DEBUG is False
    response = client.get("/static/console/dispatcher.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_the_against_oneway_rule_names_known_profiles_and_factors_of_at_least_one():
    show = "import django; django.setup(); from django.conf import settings as s; print(s.SIAGA_AGAINST_ONEWAY_FACTORS)"
    good = _run(show, DJANGO_SECRET_KEY=REAL_KEY, SIAGA_AGAINST_ONEWAY_FACTORS='{"fire_engine": 2}')
    assert good.stdout.strip() == "{'fire_engine': 2.0}", good.stderr
    bad = _run(show, DJANGO_SECRET_KEY=REAL_KEY, SIAGA_AGAINST_ONEWAY_FACTORS='{"tank": 0.5}')
    assert bad.returncode != 0
    assert "must be a JSON object {profile: factor >= 1}" in bad.stderr


def test_the_recommendation_max_eta_is_read_and_refused_when_not_a_useful_time():
    show = "import django; django.setup(); from django.conf import settings as s; print(s.SIAGA_RECOMMEND_MAX_ETA_S)"
    assert _run(show, DJANGO_SECRET_KEY=REAL_KEY).stdout.strip() == "1800.0"
    good = _run(show, DJANGO_SECRET_KEY=REAL_KEY, SIAGA_RECOMMEND_MAX_ETA_S="2400")
    assert good.stdout.strip() == "2400.0", good.stderr
    for value in ("0", "-5", "nan", "thirty"):
        bad = _run(show, DJANGO_SECRET_KEY=REAL_KEY, SIAGA_RECOMMEND_MAX_ETA_S=value)
        assert bad.returncode != 0, value
        assert "SIAGA_RECOMMEND_MAX_ETA_S" in bad.stderr, value
