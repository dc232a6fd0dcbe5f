"""Secrets out of the stored copy of a request, everything else as it came.

A device may put its secret in the query string (``key=`` in Traccar Client's server URL), in a form
body, or in JSON. The raw-message store (``fleet.models.InboundMessage``) keeps the request as sent
but never a secret: the value of each secret-named field is replaced by ``***``, in place, so the rest
of the text stays byte for byte what the device sent (no re-encoding, no reordering).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

MASK = "***"
# Field names whose value is a credential, compared case-insensitively.
SECRET_NAMES = frozenset({"key", "secret", "password", "passwd", "pass", "token"})

_JSON_SECRET_RE = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_NAMES)) + r')"\s*:\s*)'
    r'("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false)',
    re.IGNORECASE,
)


def mask_query(text: str) -> str:
    """A query string or form body with the value of every secret-named key replaced by ``***``.

    Names are compared after percent-decoding (``%6Bey=`` is ``key`` to the parser that reads it).
    """
    if not text:
        return text
    parts = []
    for part in text.split("&"):
        name, sep, _value = part.partition("=")
        if sep and unquote_plus(name).strip().lower() in SECRET_NAMES:
            part = f"{name}={MASK}"
        parts.append(part)
    return "&".join(parts)


def mask_json(text: str) -> str:
    """A JSON document's text with the value of every secret-named member (at any depth) replaced by
    ``"***"``; the rest unchanged, even when the document does not parse."""
    return _JSON_SECRET_RE.sub(lambda match: f'{match.group(1)}"{MASK}"', text)


def mask_body(text: str, *, content_type: str) -> str:
    """A request body with its secrets masked: JSON when it says so or looks so, else a form body."""
    if "json" in content_type.lower() or text.lstrip()[:1] in {"{", "["}:
        return mask_json(text)
    return mask_query(text)
