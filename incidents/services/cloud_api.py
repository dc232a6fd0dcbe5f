"""Outbound HTTP: the WhatsApp Cloud API send endpoint and agencies' webhooks, one request at a time.

The Cloud API (Meta's documentation, "Messages API"): ``POST {base}/{version}/{phone-number-id}/messages``
with ``Authorization: Bearer <access token>`` and a JSON body ``{"messaging_product": "whatsapp", "to",
"type": "template" | "interactive" | "text", ...}``. Accepted: 200 ``{"messaging_product": "whatsapp",
"contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}``. Refused: a 4xx/5xx
``{"error": {"message", "type", "code", "error_data": {"messaging_product", "details"}, "fbtrace_id"}}``;
the ``code`` says what to do (rate limits ``130429`` throughput, ``131056`` the same recipient too often,
``4`` and ``80007`` app or account call limits, ``1``/``2`` temporary service errors: retry later; anything
else is permanent). An agency's webhook is accepted by any 2xx; 429 and 5xx are retried.

This module builds the bodies and classifies answers; it does not touch the database
(``incidents.services.outbound`` queues, records and retries).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

# Cloud API error codes worth another try later (rate limits and temporary service errors).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131056})
# 131056: one message per 6 s to the same recipient; wait at least that long.
PAIR_RATE_LIMIT_CODE, PAIR_RATE_LIMIT_WAIT_S = 131056, 6.0
_KEPT_RESPONSE_CHARS = 4000
SIGNATURE_HEADER = "X-Siaga-Signature-256"


@dataclass(frozen=True)
class SendResult:
    """What one request gave: the HTTP status (None without an answer), the body, and the verdict."""

    http_status: int | None
    response_body: str
    ok: bool
    retry: bool
    error: str = ""
    provider_message_id: str | None = None
    retry_after_s: float | None = None


def whatsapp_template_body(*, to: str, template: str, parameters: list[str], button_payloads: list[str]) -> dict:
    """A template message: body parameters in order, and one payload per quick-reply button (index 0, 1, ...)."""
    components: list[dict] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    components += [
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": str(i),
            "parameters": [{"type": "payload", "payload": p}],
        }
        for i, p in enumerate(button_payloads)
    ]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": settings.WHATSAPP_TEMPLATE_LANGUAGE},
            "components": components,
        },
    }


def whatsapp_text_body(*, to: str, text: str) -> dict:
    """A free-form text (allowed within 24 hours of the recipient's own message: an answer to a reply)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": text[:4096]},
    }


def whatsapp_messages_url(phone_number_id: str) -> str:
    return f"{settings.WHATSAPP_API_BASE_URL}/{settings.WHATSAPP_API_VERSION}/{phone_number_id}/messages"


def webhook_signature(*, body: bytes, secret: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body under the agency's secret (as Meta signs its webhook)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def whatsapp_post(*, phone_number_id: str, body: dict) -> SendResult:
    """POST one message to the Cloud API and classify the answer."""
    token = settings.WHATSAPP_ACCESS_TOKEN
    if not token:
        return SendResult(None, "", ok=False, retry=True, error="WHATSAPP_ACCESS_TOKEN is not set")
    if not phone_number_id:
        return SendResult(
            None, "", ok=False, retry=True, error="the region has no WhatsApp phone number id (admin, Regions)"
        )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, text, retry_after_s, error = _post(whatsapp_messages_url(phone_number_id), encode(body), headers)
    if status is None:
        return SendResult(None, "", ok=False, retry=True, error=error)
    document = _json(text)
    if 200 <= status < 300:
        messages = document.get("messages") if isinstance(document, dict) else None
        wamid = (
            messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) else None
        )
        if not isinstance(wamid, str) or not wamid:
            return SendResult(status, text, ok=False, retry=True, error="accepted without a messages[0].id")
        return SendResult(status, text, ok=True, retry=False, provider_message_id=wamid[:128])
    code, message = _cloud_error(document)
    retry = status == 429 or status >= 500 or code in RETRYABLE_CODES
    if code == PAIR_RATE_LIMIT_CODE:
        retry_after_s = max(retry_after_s or 0.0, PAIR_RATE_LIMIT_WAIT_S)
    described = f"HTTP {status}" + (f", error {code}" if code is not None else "") + (f": {message}" if message else "")
    return SendResult(status, text, ok=False, retry=retry, error=described, retry_after_s=retry_after_s)


def webhook_post(*, url: str, body: dict, secret: str, delivery_id: int) -> SendResult:
    """POST a hand-off to an agency's own system, signed with its secret; any 2xx is accepted."""
    raw = encode(body)
    headers = {"Content-Type": "application/json", "X-Siaga-Delivery": str(delivery_id)}
    if secret:
        headers[SIGNATURE_HEADER] = webhook_signature(body=raw, secret=secret)
    status, text, retry_after_s, error = _post(url, raw, headers)
    if status is None:
        return SendResult(None, "", ok=False, retry=True, error=error)
    if 200 <= status < 300:
        return SendResult(status, text, ok=True, retry=False)
    retry = status == 429 or status >= 500 or status == 408
    return SendResult(status, text, ok=False, retry=retry, error=f"HTTP {status}", retry_after_s=retry_after_s)


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int | None, str, float | None, str]:
    """(status, body, Retry-After seconds, error): status None when no answer came (network, timeout)."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.SIAGA_OUTBOUND_TIMEOUT_S) as response:
            return response.status, _text(response.read()), None, ""
    except urllib.error.HTTPError as exc:
        return exc.code, _text(exc.read()), _retry_after(exc.headers.get("Retry-After")), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "", None, f"no answer from {url.split('?')[0]}: {exc}"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:_KEPT_RESPONSE_CHARS]


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _cloud_error(document: object) -> tuple[int | None, str]:
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    message = " — ".join(str(x) for x in (error.get("message"), details) if x)
    return (code if isinstance(code, int) else None), message[:500]


def _retry_after(raw: str | None) -> float | None:
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None
