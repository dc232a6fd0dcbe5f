"""A server subprocess for one bench run: started on a free loopback port, awaited, stopped with its children."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    launch: Callable[[int], subprocess.Popen], *, probe_path: str, name: str, timeout_s: float = 30.0
) -> tuple[subprocess.Popen, int]:
    """``launch(port)`` (in its own session), then wait until ``GET probe_path`` gets any HTTP answer."""
    port = free_port()
    server = launch(port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", probe_path)  # any status proves Django answers
            conn.getresponse().read()
            conn.close()
            return server, port
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"{name} exited at start; see its output above") from None
            time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"{name} did not answer within {timeout_s:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server's whole process group: TERM, then KILL after 15 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
