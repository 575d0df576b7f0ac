"""The students' view: `make lab`'s JupyterLab from .venv serves the notebooks, and notebook 01 runs
through JupyterLab's own UI in headless Chromium.

Both start a JupyterLab server with folders of its own (runtime, config, data, settings), find the port it
really took in its runtime file (JupyterLab moves on when another process took the port first), ask it
directly, never through a proxy (see `_open`), and stop it whatever happens. The browser test serves a
temporary copy of `notebooks/` (JupyterLab's autosave must never touch the committed notebooks);
Playwright drives Debian's Chromium (no browser download), clicks Run > Run All Cells, waits until every
cell has run, and checks that no error appeared and every figure rendered. Screenshots go to
`build/screenshots/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import d2lft

NOTEBOOKS = d2lft.support.paths.REPO_ROOT / "notebooks"
NOTEBOOK = "01_hotdog_data.ipynb"
SHOTS = d2lft.support.paths.REPO_ROOT / "build" / "screenshots"
# Generous on purpose: a first start in a fresh .venv on a slow laptop, beside a worker training notebooks
# (here it answers within seconds). A deadline, not a speed test.
STARTUP_SECONDS = 240
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
]  # fmt: skip


# A server on this machine is asked directly, never through a proxy. (`urllib.request.urlopen` builds its
# opener once per process and keeps the proxies of that moment: after another test in the same worker had
# pointed the proxy variables at a closed port to play offline, every later urlopen to 127.0.0.1 was refused.)
_open = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, home: Path, token: str) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 serving `root`, with its runtime, config, data and settings under `home`;
    yields its base URL once it answers, and stops it afterwards, whatever happened."""
    port = _free_port()
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]  # fmt: skip
    if os.geteuid() == 0:  # JupyterLab refuses root unless told; `make lab` does the same
        cmd.append("--allow-root")
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no "Jupyter news?" toast over the screenshots
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings")}  # fmt: skip
    log = (home / "server.log").open("w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                # The port it really took: another process (a notebook kernel of the other test worker) may
                # have taken `port` first, and JupyterLab then moves on to the next. Its runtime file says.
                info = json.loads(next((home / "runtime").glob("jpserver-*.json")).read_text())
                base = f"http://127.0.0.1:{info['port']}"
                _open(f"{base}/api/status?token={token}", timeout=2).close()
                break
            except (OSError, StopIteration, ValueError):
                log.flush()
                said = (home / "server.log").read_text()[-3000:]
                assert server.poll() is None, f"JupyterLab stopped:\n{said}"
                assert time.monotonic() < deadline, f"JupyterLab did not answer within {STARTUP_SECONDS} s:\n{said}"
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.slow
def test_jupyterlab_serves_notebook_01(tmp_path: Path):
    token = "d2lft-test"
    headers = {"Authorization": f"token {token}"}
    with jupyterlab(NOTEBOOKS, tmp_path, token) as base:
        url = f"{base}/api/contents/{NOTEBOOK}"
        with _open(urllib.request.Request(url, headers=headers), timeout=10) as r:
            model = json.load(r)
        assert model["type"] == "notebook" and model["content"]["cells"]
        with _open(urllib.request.Request(f"{base}/lab", headers=headers), timeout=10) as r:
            assert b"JupyterLab" in r.read()
        with _open(urllib.request.Request(f"{base}/api/kernelspecs", headers=headers), timeout=10) as r:
            specs = json.load(r)["kernelspecs"]
    kernel = specs["python3"]["spec"]["argv"][0]  # "python" means the server's own interpreter
    assert kernel == "python" or Path(kernel).parent == Path(sys.executable).parent


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium where it can, as root)")
    return path


@pytest.mark.slow
def test_notebook_01_runs_in_jupyterlab_in_a_real_browser(tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = _chromium()
    root, token = tmp_path / "notebooks", "d2lft-browser"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    code_cells = sum(c["cell_type"] == "code" for c in json.loads((root / NOTEBOOK).read_text())["cells"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    with jupyterlab(root, tmp_path / "lab", token) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            # Ready means: the notebook's own cells are on the page (not the placeholder shown while it
            # loads) and the status bar reports the kernel idle ("Python 3 (ipykernel) | Idle").
            page.wait_for_function(
                f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {code_cells}",
                timeout=180_000,
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                ".some(e => /\\|\\s*Idle/.test(e.textContent))",
                timeout=180_000,
            )
            page.screenshot(path=str(SHOTS / "lab_01_opened.png"))
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            # Every code cell gets an execution count; '[*]' means still running.
            page.wait_for_function(
                f"""() => {{
                    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                        .map(e => e.textContent.trim());
                    return prompts.length === {code_cells} && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
                }}""",
                timeout=300_000,
            )
            errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
            stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            assert errors.count() == 0, errors.first.inner_text()
            assert stderr.count() == 0, stderr.first.inner_text()
            figures = page.locator(".jp-OutputArea-output img")
            assert figures.count() >= 5
            sizes = figures.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
            assert all(w > 100 and h > 50 for w, h in sizes), sizes
            page.screenshot(path=str(SHOTS / "lab_01_run.png"))
            gallery = page.locator(".jp-CodeCell", has_text="every view should differ").locator("img").first
            gallery.scroll_into_view_if_needed()
            gallery.screenshot(path=str(SHOTS / "augmentation_gallery.png"))
        finally:
            browser.close()
    assert (SHOTS / "lab_01_run.png").stat().st_size > 10_000
