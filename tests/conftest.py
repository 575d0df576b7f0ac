"""Shared fixtures: a real HTTP server on 127.0.0.1, tiny images, and a private data folder."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_length: int | None = None  # announce more than `body` to cut a transfer short
    content_type: str = "application/zip"
    stall: float = 0.0  # seconds to wait after sending half the body (to kill a client mid-transfer)


@dataclass
class LocalServer:
    """A threaded HTTP server on 127.0.0.1 answering only the routes a test adds."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url + path


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server_state: LocalServer

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, with_body: bool) -> None:
            if not self.path.endswith("/d2lft-stand-in.json"):  # asked of every server on 127.0.0.1 (rehearsals)
                server_state.hits.append(self.path)
            route = server_state.routes.get(self.path, Route(b"<html>404 Not Found</html>", 404, None, "text/html"))
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(route.content_length or len(route.body)))
            self.end_headers()
            if with_body:
                half = len(route.body) // 2 if route.stall else len(route.body)
                try:
                    self.wfile.write(route.body[:half])
                    self.wfile.flush()
                    time.sleep(route.stall)
                    self.wfile.write(route.body[half:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away
            self.close_connection = True

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_state = LocalServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point `D2LFT_DATA` at an empty temporary folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("D2LFT_DATA", str(folder))
    return folder


def make_image_folder(root: Path, counts: dict[str, int], size: tuple[int, int] = (40, 30), seed: int = 0) -> Path:
    """Write small random JPEGs into `root/<class>/<i>.jpg`; return `root`."""
    rng = np.random.default_rng(seed)
    for label, n in counts.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.jpg")
    return root
