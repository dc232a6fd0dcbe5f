"""The Indonesian catalogue: every console string translated, and the committed .mo built from the .po.

The .mo is committed (not built by setup) so a fresh checkout needs no GNU gettext; this test catches
a .po edited without running ``manage.py compilemessages -l id --ignore=.venv``.
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from console.strings import JS_STRINGS

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"


def _po_entries(path: Path) -> dict[str, str]:
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block, re.MULTILINE)
        if match and "#, fuzzy" not in block:
            msgid, msgstr = ("".join(re.findall(r'"(.*)"', group)) for group in match.groups())
            if msgid:
                entries[msgid.replace('\\"', '"')] = msgstr.replace('\\"', '"')
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
