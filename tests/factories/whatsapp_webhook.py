"""Signed WhatsApp webhook deliveries as Meta sends them: quick replies and delivery receipts.

A template's quick reply arrives as ``{"type": "button", "button": {"payload", "text"}, "context": {"from",
"id"}}``, an interactive reply button as ``{"type": "interactive", "interactive": {"type": "button_reply",
"button_reply": {"id", "title"}}}``; receipts as ``value.statuses[]``. Bodies are signed
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.utils import timezone

APP_SECRET = "meta-app-secret-for-tests"
PHONE_NUMBER_ID = "106540352242922"
URL = "/api/whatsapp/webhook/"


def button_reply(message_id: str, *, sender: str, payload: str, text: str, context_id: str = "wamid.CTX") -> dict:
    return {
        "context": {"from": "62741112112", "id": context_id},
        "from": sender.lstrip("+"),
        "id": message_id,
        "timestamp": str(int(timezone.now().timestamp())),
        "type": "button",
        "button": {"payload": payload, "text": text},
    }


def interactive_reply(message_id: str, *, sender: str, payload: str, title: str) -> dict:
    return {
        "from": sender.lstrip("+"),
        "id": message_id,
        "timestamp": str(int(timezone.now().timestamp())),
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": payload, "title": title}},
    }


def envelope(*messages: dict, statuses: list[dict] | None = None) -> bytes:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "62741112112", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Kru"}, "wa_id": m["from"]} for m in messages]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, body: bytes):
    """POST a signed delivery to the webhook."""
    return client.post(URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body))
