"""`make lab`'s server: JupyterLab from .venv starts on 127.0.0.1 and serves notebook 01."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import d2lft

NOTEBOOKS = d2lft.paths.REPO_ROOT / "notebooks"
# A first start in a fresh .venv, beside a test worker training notebooks on a slow laptop, can take a
# minute or more (seen: over 60 s on a 2-core machine with make test in parallel). A deadline, not a speed test.
STARTUP_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_jupyterlab_serves_notebook_01(tmp_path: Path):
    port, token = _free_port(), "d2lft-test"
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={NOTEBOOKS}",
    ]
    if os.geteuid() == 0:  # JupyterLab refuses root unless told; `make lab` does the same
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers=headers), timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, f"JupyterLab did not answer within {STARTUP_SECONDS} s"
                time.sleep(0.5)
        url = f"{base}/api/contents/01_hotdog_data.ipynb"
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            model = json.load(r)
        assert model["type"] == "notebook" and model["content"]["cells"]
        with urllib.request.urlopen(urllib.request.Request(f"{base}/lab", headers=headers), timeout=10) as r:
            assert b"JupyterLab" in r.read()
        with urllib.request.urlopen(
            urllib.request.Request(f"{base}/api/kernelspecs", headers=headers), timeout=10
        ) as r:
            specs = json.load(r)["kernelspecs"]
        kernel = specs["python3"]["spec"]["argv"][0]  # "python" means the server's own interpreter
        assert kernel == "python" or Path(kernel).parent == Path(sys.executable).parent
    finally:
        server.terminate()
        server.wait(timeout=20)
