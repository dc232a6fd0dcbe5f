"""The Indonesian catalogue: every console string translated, and the committed .mo built from the .po.

The .mo is committed (not built by setup) so a fresh checkout needs no GNU gettext; this test catches
a .po edited without running ``manage.py compilemessages -l id --ignore=.venv``.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from console.strings import JS_STRINGS

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr; an entry with a context (``pgettext``) is keyed ``context\x04msgid``, as in the .mo."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block, re.MULTILINE)
        if match and "#, fuzzy" not in block:
            msgid, msgstr = ("".join(re.findall(r'"(.*)"', group)) for group in match.groups())
            context = re.search(r'^msgctxt "(.*)"', block, re.MULTILINE)
            if msgid:
                key = msgid.replace('\\"', '"')
                entries[f"{context.group(1)}\x04{key}" if context else key] = msgstr.replace('\\"', '"')
    return entries


def test_every_string_has_an_indonesian_translation() -> None:
    entries = _po_entries(CATALOGUE / "django.po")
    untranslated = sorted(msgid for msgid, msgstr in entries.items() if not msgstr)
    assert not untranslated, f"translate these in locale/id/LC_MESSAGES/django.po: {untranslated}"
    with translation.override(None):  # the msgids themselves
        msgids = [str(text) for text in JS_STRINGS.values()]
    missing = sorted(msgid for msgid in msgids if msgid not in entries)
    assert not missing, f"run makemessages -l id: these script strings are not in the .po: {missing}"


def test_committed_mo_matches_the_po() -> None:
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = {m: s for m, s in _po_entries(CATALOGUE / "django.po").items() if compiled.gettext(m) != s}
    assert not stale, f"django.mo is out of date for {sorted(stale)[:5]}: run compilemessages -l id --ignore=.venv"


# ---------------------------------------------------------------- every label in the page's language


@pytest.fixture
def console_config(role_client, jambi_region):
    """``console_config("en")``: the dispatcher page's config in that language (Indonesian by default)."""
    from fleet.services.demo_fleet import capabilities_load
    from incidents.services.incident_types import incident_types_load

    capabilities_load()
    incident_types_load()
    client = role_client("dispatcher")

    def config(language: str = "id") -> dict:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client.get("/dispatch/").context["config"]

    return config


def test_the_dispatch_button_reads_kirim_in_indonesian(console_config) -> None:
    assert console_config()["strings"]["dispatch"] == "Kirim"
    assert console_config("en")["strings"]["dispatch"] == "Dispatch"


def test_capabilities_and_incident_types_are_named_in_the_page_language(console_config) -> None:
    indonesian, english = console_config(), console_config("en")
    caps = {c["code"]: c["name"] for c in indonesian["capabilities"]}
    assert caps["fire_engine"] == "mobil pemadam (pompa, selang, regu)"  # fixtures/capabilities.json name_id
    assert caps["water_tanker"].startswith("mobil tangki air")
    assert {c["code"]: c["name"] for c in english["capabilities"]}["bls"].startswith("basic life support")
    types = {t["code"]: t["name"] for t in indonesian["incident_types"]}
    assert (types["flood"], types["medical"]) == ("Banjir", "Gawat darurat medis")
    assert {t["code"]: t["name"] for t in english["incident_types"]}["flood"] == "Flood"
    # No label is a raw code, in either language.
    for config in (indonesian, english):
        assert not [c for c in config["capabilities"] if c["name"] == c["code"]]
        assert not [t for t in config["incident_types"] if t["name"] == t["code"]]


def test_the_report_form_strings_and_error_summaries_are_indonesian(console_config) -> None:
    config = console_config()
    assert config["strings"]["choose_type"] == "— pilih jenis —"
    assert config["errors"]["incident_type_missing"].startswith("Laporan belum punya jenis")
    # Any other refusal and a server failure still get a summary in the page's language (map.js api()).
    assert (config["errors"]["error"], config["errors"]["parse_error"]) == (
        "Permintaan ditolak", "Permintaan tidak dapat dibaca",
    )  # fmt: skip
    assert config["errors"]["server_error"].startswith("Server gagal")
    assert console_config("en")["errors"]["incident_type_missing"].startswith("The report has no type yet")


def test_no_emoji_glyph_is_left_in_the_console_scripts() -> None:
    scripts = Path(settings.BASE_DIR) / "console" / "static" / "console"
    # 📍 is an empty box where no emoji font is installed; the pin is an inline SVG (map.js PIN_SVG).
    offenders = [p.name for p in scripts.glob("*.js") if "\N{ROUND PUSHPIN}" in p.read_text(encoding="utf-8")]
    assert not offenders
    assert "<svg" in (scripts / "map.js").read_text(encoding="utf-8")
