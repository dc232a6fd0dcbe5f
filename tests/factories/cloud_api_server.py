"""A local stand-in for the WhatsApp Cloud API's send endpoint (and for an agency's webhook), over real HTTP.

It speaks the documented shapes (Meta's "Messages API"): ``POST /{version}/{phone-number-id}/messages`` with
``Authorization: Bearer <token>`` and a JSON body with ``messaging_product: "whatsapp"``, ``to`` and a
``type``; it answers 200 ``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages":
[{"id": "wamid..."}]}``, a wrong token 401 (error code 190), a malformed body 400 (code 100), and whatever a
test scripted next: ``rate_limit`` (400 with code 130429, the throughput limit),
``pair_rate_limit`` (400, 131056), ``too_many_calls`` (429, code 4, with Retry-After), ``server_error`` (500),
``invalid_recipient`` (400, 131030, permanent). Any other path is an agency's webhook: it records the request
and answers 200, or a scripted ``server_error``.

    with CloudApiServer(token="t") as server:
        settings.WHATSAPP_API_BASE_URL = server.base_url
        server.script.append("rate_limit")
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def _error(code: int, message: str, details: str, *, subcode: int | None = None) -> dict:
    error = {
        "message": f"(#{code}) {message}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AbCdEfGhIjKlMnOp",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


SCRIPTED: dict[str, tuple[int, dict, dict[str, str]]] = {
    "rate_limit": (400, _error(130429, "Rate limit hit", "Cloud API message throughput has been reached."), {}),
    "pair_rate_limit": (
        400,
        _error(131056, "(Business Account, Consumer Account) pair rate limit hit", "Too many messages to this user."),
        {},
    ),
    "too_many_calls": (429, _error(4, "Application request limit reached", "Too many calls."), {"Retry-After": "30"}),
    "server_error": (500, _error(2, "Service temporarily unavailable", "Temporary downtime."), {}),
    "invalid_recipient": (
        400,
        _error(131030, "Recipient phone number not in allowed list", "Add the number to the allowed list."),
        {},
    ),
}


@dataclass
class CloudApiServer:
    token: str = "test-access-token"
    received: list[Received] = field(default_factory=list)
    script: list[str] = field(default_factory=list)

    def __enter__(self) -> CloudApiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                server.received.append(got)
                status, body, headers = server.answer(got)
                raw = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, got: Received) -> tuple[int, dict, dict[str, str]]:
        parts = got.path.strip("/").split("/")
        is_send = len(parts) == 3 and parts[2] == "messages"
        if not is_send:  # an agency's webhook
            if self.script:
                return SCRIPTED[self.script.pop(0)]
            return 200, {"ok": True}, {}
        if got.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _error(190, "Invalid OAuth access token", "Access token is invalid or expired."), {}
        try:
            body = got.json()
        except ValueError:
            return 400, _error(100, "Invalid parameter", "The body is not JSON."), {}
        if (
            not isinstance(body, dict)
            or body.get("messaging_product") != "whatsapp"
            or not str(body.get("to") or "").isdigit()
            or body.get("type") not in {"template", "interactive", "text"}
            or body.get("type") not in body
        ):
            return 400, _error(100, "Invalid parameter", "messaging_product, to, type and its object are required."), {}
        if self.script:
            return SCRIPTED[self.script.pop(0)]
        to = body["to"]
        wamid = f"wamid.TEST{next(_ids):08d}"
        return (
            200,
            {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]},
            {},
        )

    def sends(self) -> list[Received]:
        """The requests to the send endpoint, oldest first."""
        return [r for r in self.received if r.path.endswith("/messages")]
