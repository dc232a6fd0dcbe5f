"""The browser tests' second client: calls to a served demo's API as the demo dispatcher (HTTP Basic)."""

from __future__ import annotations

import base64
import json
import urllib.request


def demo_api(server: str, method: str, path: str, body: dict | None = None) -> dict:
    """One JSON call to ``server`` as the demo dispatcher, as another console would make it."""
    request = urllib.request.Request(
        server + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "Authorization": "Basic " + base64.b64encode(b"dispatcher:demo-dispatcher").decode()},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
