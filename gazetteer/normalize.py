"""Normalise Indonesian place names and queries to one search text (see docs ADDRESSES.md).

Pure: no Django, no database. The stored search text of every gazetteer entry and every query go
through :func:`normalize`, so "Jl. Sultan Thaha", "JLN sultan thaha" and "jalan Sultan Thaha" meet on
"jalan sultan thaha" before pg_trgm measures what is left (typos, dropped words).

The rules, in order:

1. Unicode compatibility form, accents dropped ("Café" -> "cafe"), lower case.
2. Punctuation and symbols become spaces ("Al-Ikhlas" -> "al ikhlas", "Jl." -> "jl"); letters and digits
   glued together are split ("SDN47" -> "sdn 47").
3. Old spelling to new: oe -> u, dj -> j, tj -> c ("Soemantri" -> "sumantri", "Djambi" -> "jambi").
4. Abbreviations to their full word (:data:`ABBREVIATIONS`): Jl/Jln -> jalan, Gg -> gang, Lrg/Lr -> lorong,
   Kel -> kelurahan, Kec -> kecamatan, Simp/Smp -> simpang, Mesjid -> masjid, RS -> rumah sakit, titles.
5. A school level followed by N or Negeri becomes one token ("SD N 47", "SD Negeri 47" -> "sdn 47").
6. Roman numerals become Arabic ("Lorong II" -> "lorong 2", "Simpang IV" -> "simpang 4"); leading zeros go.
"""

from __future__ import annotations

import re
import unicodedata

ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "jl": ("jalan",),
    "jln": ("jalan",),
    "jal": ("jalan",),
    "gg": ("gang",),
    "lrg": ("lorong",),
    "lr": ("lorong",),
    "kel": ("kelurahan",),
    "kec": ("kecamatan",),
    "ds": ("desa",),
    "kab": ("kabupaten",),
    "simp": ("simpang",),
    "perum": ("perumahan",),
    "komp": ("komplek",),
    "kompl": ("komplek",),
    "kompleks": ("komplek",),
    "mesjid": ("masjid",),
    "musholla": ("musala",),
    "mushola": ("musala",),
    "musholah": ("musala",),
    "mushalla": ("musala",),
    "rs": ("rumah", "sakit"),
    "rsu": ("rumah", "sakit", "umum"),
    "rsud": ("rumah", "sakit", "umum", "daerah"),
    "rsia": ("rumah", "sakit", "ibu", "anak"),
    "rsj": ("rumah", "sakit", "jiwa"),
    "pkm": ("puskesmas",),
    "jend": ("jenderal",),
    "jendral": ("jenderal",),
    "kapt": ("kapten",),
    "kol": ("kolonel",),
    "let": ("letnan",),
    "lt": ("letnan",),
    "mayjen": ("mayor", "jenderal"),
    "hj": ("hajjah",),
    "prof": ("profesor",),
    "dr": ("dokter",),
    "ir": ("insinyur",),
}
# "Smp." is also the SMP school level ("SMP N 7"), so only "simp" expands to simpang.

SCHOOL_LEVELS = frozenset({"sd", "smp", "sma", "smk", "mi", "mts", "ma"})
_NEGERI = frozenset({"n", "negeri"})
_ROMAN = re.compile(r"^(?=[ivx])(x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
_SPLIT_ALNUM = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"))


def fold(text: str) -> str:
    """Rules 1-2: compatibility form, no accents, lower case, punctuation as spaces, letters and digits apart."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    spaced = _NON_WORD.sub(" ", plain)
    return _SPLIT_ALNUM.sub(" ", spaced).strip()


def modern_spelling(token: str) -> str:
    """Rule 3: the pre-1972 spellings oe, dj and tj as u, j and c."""
    for old, new in _OLD_SPELLING:
        token = token.replace(old, new)
    return token


def roman_to_int(token: str) -> int | None:
    """Rule 6: the value of a Roman numeral from 1 to 39 written in lower case, else None."""
    if not token or not _ROMAN.match(token):
        return None
    total = 0
    for i, ch in enumerate(token):
        value = _ROMAN_VALUES[ch]
        following = _ROMAN_VALUES[token[i + 1]] if i + 1 < len(token) else 0
        total += -value if value < following else value
    return total


def _number(token: str) -> str:
    if token.isdigit():
        return str(int(token))
    roman = roman_to_int(token)
    return str(roman) if roman is not None else token


def tokens(text: str) -> list[str]:
    """The normalised words of a name or query (all rules)."""
    words: list[str] = []
    for raw in fold(text).split():
        words.extend(ABBREVIATIONS.get(modern_spelling(raw), (modern_spelling(raw),)))
    merged: list[str] = []
    for word in words:
        if word in _NEGERI and merged and merged[-1] in SCHOOL_LEVELS:
            merged[-1] += "n"
        else:
            merged.append(word)
    return [_number(word) for word in merged]


def normalize(text: str) -> str:
    """One search text for a name or a query: :func:`tokens` joined by single spaces."""
    return " ".join(tokens(text))
